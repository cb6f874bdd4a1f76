# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cidr_plan module as Ansible runs it: arguments in, JSON out, through AnsibleModule."""

import pytest

from ansible_collections.netplumb.multihome.plugins.modules import cidr_plan

PUBLISHED_HOSTS = [
    {
        'name': 'host1',
        'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}, {'name': 'eth2', 'address': '10.0.2.5/24'}],
    },
    {
        'name': 'host2',
        'interfaces': [{'name': 'eth1', 'address': '10.0.1.6/24'}, {'name': 'eth2', 'address': '10.0.2.6/24'}],
    },
]


def pod_blocks(plan):
    return {(h['name'], h['interface']): h['pod_cidr'] for i in plan['interfaces'] for h in i['hosts']}


@pytest.mark.parametrize('check_mode', [False, True])
def test_published_example_through_the_module(run_module, check_mode):
    failed, result = run_module(
        cidr_plan,
        {
            'subnet': '192.168.0.0/16',
            'interface_block': 2,
            'host_block': 6,
            'hosts': PUBLISHED_HOSTS,
            '_ansible_check_mode': check_mode,
        },
    )
    assert not failed, result
    assert result['changed'] is False
    assert pod_blocks(result['plan']) == {
        ('host1', 'eth1'): '192.168.0.0/24',
        ('host1', 'eth2'): '192.168.64.0/24',
        ('host2', 'eth1'): '192.168.1.0/24',
        ('host2', 'eth2'): '192.168.65.0/24',
    }
    assert result['routes'] == {}
    # The summary is for people: every block must be in it.
    text = '\n'.join(result['summary'])
    for cidr in ('192.168.0.0/24', '192.168.64.0/24', '192.168.1.0/24', '192.168.65.0/24'):
        assert cidr in text


def test_l3_routes_reach_the_summary(run_module):
    failed, result = run_module(
        cidr_plan,
        {
            'subnet': '192.168.0.0/16',
            'interface_block': 2,
            'host_block': 6,
            'vlan_mode': 'l3',
            'hosts': PUBLISHED_HOSTS,
        },
    )
    assert not failed, result
    assert {'dst': '192.168.1.0/24', 'via': '10.0.1.6', 'dev': 'eth1'} in result['routes']['host1']
    assert '192.168.1.0/24 via 10.0.1.6 dev eth1' in '\n'.join(result['summary'])


def test_previous_plan_round_trips_through_json(run_module):
    args = {'subnet': '192.168.0.0/16', 'hosts': PUBLISHED_HOSTS}
    first = run_module(cidr_plan, args)[1]
    # host1 leaves: host2 keeps its blocks, and they are not handed to anyone else.
    second = run_module(cidr_plan, dict(args, hosts=PUBLISHED_HOSTS[1:], previous=first['plan']))[1]
    assert pod_blocks(second['plan']) == {('host2', 'eth1'): '192.168.1.0/24', ('host2', 'eth2'): '192.168.65.0/24'}


@pytest.mark.parametrize(
    'args, fragments',
    [
        ({'subnet': '10.0.4.0/20', 'hosts': PUBLISHED_HOSTS}, ['10.0.4.0/20', 'not a network address']),
        ({'hosts': PUBLISHED_HOSTS}, ['multinic_blocks', 'subnet']),
        ({'scheme': 'node_subnets', 'nodes': ['a']}, ['node_subnets', 'subnets']),
        ({'scheme': 'network_ranges', 'networks': [{'name': 'a', 'prefix': 24}]}, ['network_ranges', 'supernet']),
        (
            {'subnet': '192.168.0.0/16', 'hosts': PUBLISHED_HOSTS, 'reserved': ['192.168.64.0/20']},
            ['192.168.64.0/20', '192.168.64.0/24'],
        ),
    ],
)
def test_bad_input_fails_naming_the_value(run_module, args, fragments):
    failed, result = run_module(cidr_plan, args)
    assert failed
    assert 'plan' not in result
    for fragment in fragments:
        assert fragment in result['msg']


def test_node_subnets_take_node_names_from_hosts(run_module):
    failed, result = run_module(
        cidr_plan, {'scheme': 'node_subnets', 'subnets': '10.128.0.0/16/24', 'hosts': PUBLISHED_HOSTS}
    )
    assert not failed, result
    assert [n['name'] for n in result['plan']['nodes']] == ['host1', 'host2']
    assert [n['subnets'] for n in result['plan']['nodes']] == [['10.128.0.0/24'], ['10.128.1.0/24']]


def test_network_ranges_through_the_module(run_module):
    failed, result = run_module(
        cidr_plan,
        {
            'scheme': 'network_ranges',
            'supernet': '198.18.0.0/16',
            'networks': [{'name': 'storage', 'prefix': 24}, {'name': 'replication', 'prefix': 24}],
        },
    )
    assert not failed, result
    assert [(n['name'], n['range']) for n in result['plan']['networks']] == [
        ('storage', '198.18.0.0/24'),
        ('replication', '198.18.1.0/24'),
    ]
