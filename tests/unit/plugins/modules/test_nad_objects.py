# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nad_objects module as Ansible runs it: arguments in, JSON out, through AnsibleModule."""

import json

import pytest

from ansible_collections.netplumb.multihome.plugins.modules import nad_objects

PLAN = {
    'supernet': '198.18.32.0/20',
    'networks': [
        {
            'name': 'storage-net',
            'range': '198.18.32.0/24',
            'range_start': '198.18.32.1',
            'range_end': '198.18.32.254',
            'nodes': [],
        },
        {
            'name': 'repl-net',
            'range': '198.18.33.0/24',
            'range_start': '198.18.33.1',
            'range_end': '198.18.33.254',
            'nodes': [],
        },
    ],
}

NETWORKS = [
    {'name': 'storage-net', 'type': 'macvlan', 'master': 'ens1f0', 'mode': 'bridge', 'ipam': {'from_plan': True}},
    {
        'name': 'tenant-l2',
        'type': 'ovn-k8s-cni-overlay',
        'namespaces': ['team-a', 'team-b'],
        'topology': 'layer2',
        'subnets': '198.18.64.0/24',
    },
]


@pytest.mark.parametrize('check_mode', [False, True])
def test_builds_the_objects(run_module, check_mode):
    failed, result = run_module(
        nad_objects,
        {
            'networks': NETWORKS,
            'defaults': {'namespace': 'aistore', 'mtu': 9000},
            'plan': PLAN,
            '_ansible_check_mode': check_mode,
        },
    )
    assert not failed, result
    assert result['changed'] is False
    objects = result['objects']
    assert [(o['state'], o['object']['metadata']['namespace'], o['object']['metadata']['name']) for o in objects] == [
        ('present', 'aistore', 'storage-net'),
        ('present', 'team-a', 'tenant-l2'),
        ('present', 'team-b', 'tenant-l2'),
    ]
    storage = json.loads(objects[0]['object']['spec']['config'])
    assert storage['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.32.0/24',
        'range_start': '198.18.32.1',
        'range_end': '198.18.32.254',
    }
    assert storage['mtu'] == 9000
    tenant = json.loads(objects[2]['object']['spec']['config'])
    assert tenant['netAttachDefName'] == 'team-b/tenant-l2' and tenant['mtu'] == 9000
    text = '\n'.join(result['summary'])
    assert 'aistore/storage-net' in text and 'team-b/tenant-l2' in text


def test_legacy_variables_are_added_after_the_networks(run_module):
    failed, result = run_module(
        nad_objects,
        {
            'plan': {'plan': PLAN},
            'legacy': {
                'network_attachment': 'storage-net,repl-net',
                'network_interface': 'ens1f0,ens1f1',
                'attachment_namespace': 'aistore',
                'template': {'ipam': {'type': 'whereabouts', 'from_plan': True}},
            },
        },
    )
    assert not failed, result
    confs = [json.loads(o['object']['spec']['config']) for o in result['objects']]
    assert [(c['name'], c['type'], c['master'], c['mode'], c['ipam']['range']) for c in confs] == [
        ('storage-net', 'macvlan', 'ens1f0', 'bridge', '198.18.32.0/24'),
        ('repl-net', 'macvlan', 'ens1f1', 'bridge', '198.18.33.0/24'),
    ]


@pytest.mark.parametrize(
    'args, fragments',
    [
        # The old playbook's bug: one hard-coded range for every NAD.
        (
            {
                'legacy': {
                    'network_attachment': 'a,b',
                    'network_interface': 'ens1f0,ens1f1',
                    'attachment_namespace': 'aistore',
                    'template': {'ipam': {'type': 'whereabouts', 'range': '198.18.32.0/24'}},
                }
            },
            ["network 'a' (networks[0]) whereabouts range 198.18.32.0/24 overlaps network 'b' (networks[1])"],
        ),
        (
            {'legacy': {'network_attachment': 'a,b', 'network_interface': 'ens1f0', 'attachment_namespace': 'aistore'}},
            ['2 names', '1 interfaces'],
        ),
        ({'networks': [dict(NETWORKS[0], namespace='aistore', master='eth0;reboot')], 'plan': PLAN}, ["'eth0;reboot'"]),
        ({'networks': [dict(NETWORKS[0], namespace='aistore')]}, ['needs a plan']),
        ({'networks': [dict(NETWORKS[1], network_name='default')]}, ["network_name 'default' is reserved"]),
        # The module's whereabouts_namespace defaults to upstream's kube-system.
        (
            {
                'networks': [
                    {
                        'name': 'r',
                        'namespace': 'ais',
                        'type': 'macvlan',
                        'master': 'nic2',
                        'ipam': {'type': 'whereabouts', 'range': '198.18.33.0/24', 'node_slice_size': '/28'},
                    }
                ]
            },
            ["network 'r' (networks[0]): node_slice_size /28 in namespace ais", 'expected namespace kube-system'],
        ),
    ],
)
def test_bad_input_fails_naming_the_value(run_module, args, fragments):
    failed, result = run_module(nad_objects, args)
    assert failed
    assert result['msg'].startswith('nad_objects: ')
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']


def test_missing_legacy_keys_are_refused_by_the_argument_spec(run_module):
    failed, result = run_module(nad_objects, {'legacy': {'network_attachment': 'a'}})
    assert failed
    assert 'network_interface' in result['msg'] and 'attachment_namespace' in result['msg']


def test_an_empty_whereabouts_namespace_skips_the_node_slice_check(run_module):
    network = {
        'name': 'r',
        'namespace': 'ais',
        'type': 'macvlan',
        'master': 'nic2',
        'ipam': {'type': 'whereabouts', 'range': '198.18.33.0/24', 'node_slice_size': '/28'},
    }
    failed, result = run_module(nad_objects, {'networks': [network], 'whereabouts_namespace': ''})
    assert not failed, result
    assert [o['object']['metadata']['namespace'] for o in result['objects']] == ['ais']


def test_nothing_to_do_is_an_empty_list(run_module):
    failed, result = run_module(nad_objects, {})
    assert not failed
    assert result['objects'] == [] and result['summary'] == [] and result['changed'] is False
