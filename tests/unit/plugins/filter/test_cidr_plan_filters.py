# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planner's filters, through the FilterModule Ansible loads."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.filter.cidr_plan import FilterModule
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic

FILTERS = FilterModule().filters()


@pytest.mark.parametrize(
    'network, bits, index, expected',
    [
        ('10.0.0.0/16', 8, 3, '10.0.3.0/24'),
        ('10.0.0.0/16', 8, 255, '10.0.255.0/24'),
        ('192.168.0.0/16', 2, 1, '192.168.64.0/18'),
        ('fd00:10::/48', 16, 2, 'fd00:10:0:2::/64'),
        ('10.0.0.0/24', 0, 0, '10.0.0.0/24'),
    ],
)
def test_cidr_block(network, bits, index, expected):
    assert FILTERS['cidr_block'](network, bits, index) == expected


@pytest.mark.parametrize(
    'args, fragment',
    [
        (('10.0.0.0/16', 8, 256), '256'),
        (('10.0.0.0/16', 17, 0), '/33'),
        (('10.0.4.0/20', 4, 0), '10.0.4.0/20'),
        (('10.0.0.0/16', 'x', 0), "'x'"),
        (('10.0.0.0/16', 8, 'two'), "'two'"),
    ],
)
def test_cidr_block_errors_name_the_value(args, fragment):
    with pytest.raises(AnsibleFilterError, match='cidr_block') as exc:
        FILTERS['cidr_block'](*args)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    'iface, host, expected',
    [
        (0, 0, '192.168.0.0/24'),
        (1, 0, '192.168.64.0/24'),
        (0, 1, '192.168.1.0/24'),
        (1, 1, '192.168.65.0/24'),
        (3, 63, '192.168.255.0/24'),
    ],
)
def test_multinic_pod_block_matches_published_layout(iface, host, expected):
    assert FILTERS['multinic_pod_block']('192.168.0.0/16', 2, 6, iface, host) == expected


def test_multinic_pod_block_host_past_the_last_block():
    with pytest.raises(AnsibleFilterError, match='64'):
        FILTERS['multinic_pod_block']('192.168.0.0/16', 2, 6, 0, 64)


def test_filter_and_planner_agree():
    """The filter is the same math as the planner: every planned block is the filter's block."""
    hosts = [
        {
            'name': 'h%d' % n,
            'interfaces': [
                {'name': 'eth1', 'address': '10.0.1.%d/24' % n},
                {'name': 'eth2', 'address': '10.0.2.%d/24' % n},
            ],
        }
        for n in range(1, 20)
    ]
    plan = plan_multinic('10.64.0.0/12', 3, 5, hosts)['plan']
    for iface in plan['interfaces']:
        for entry in iface['hosts']:
            assert (
                FILTERS['multinic_pod_block']('10.64.0.0/12', 3, 5, iface['index'], entry['index']) == entry['pod_cidr']
            )
    assert FILTERS['multinic_host_blocks'](plan, 'h3') == {
        'eth1': FILTERS['multinic_pod_block']('10.64.0.0/12', 3, 5, 0, 2),
        'eth2': FILTERS['multinic_pod_block']('10.64.0.0/12', 3, 5, 1, 2),
    }


def test_multinic_host_blocks_unknown_host():
    plan = plan_multinic('10.64.0.0/12', 3, 5, [{'name': 'a', 'interfaces': [{'name': 'e', 'address': '10.0.1.1/24'}]}])
    with pytest.raises(AnsibleFilterError, match="'nobody'"):
        FILTERS['multinic_host_blocks'](plan['plan'], 'nobody')
    with pytest.raises(AnsibleFilterError, match='interfaces'):
        FILTERS['multinic_host_blocks']({'nodes': []}, 'a')


def test_ovnk_subnets_filter():
    parsed = FILTERS['ovnk_subnets']('10.128.0.0/16/24,fd00:10:128::/48')
    assert parsed == [{'cidr': '10.128.0.0/16', 'host_length': 24}, {'cidr': 'fd00:10:128::/48', 'host_length': 64}]
    with pytest.raises(AnsibleFilterError, match='10.128.0.0/16/24'):
        FILTERS['ovnk_subnets']('10.128.0.0/16/24', 'layer2')


@pytest.mark.parametrize(
    'cidrs, reserved, expected',
    [
        (['198.18.1.0/24', '198.18.2.0/24'], None, []),
        (['198.18.1.0/24', '198.18.1.128/25'], None, ['198.18.1.0/24', '198.18.1.128/25']),
        (['198.18.1.0/24', '10.128.4.0/24'], {'pod_network': '10.128.0.0/14'}, ['10.128.4.0/24', '10.128.0.0/14']),
        ('198.18.1.0/24,fd00::/64', ['fd00::/48'], ['fd00::/64', 'fd00::/48']),
        # Reserved networks overlapping each other are the cluster's business, not a planning error.
        (['198.18.1.0/24'], ['10.0.0.0/8', '10.1.0.0/16'], []),
    ],
)
def test_cidr_overlaps(cidrs, reserved, expected):
    assert FILTERS['cidr_overlaps'](cidrs, reserved) == expected


def test_cidr_overlaps_bad_cidr():
    with pytest.raises(AnsibleFilterError, match="'198.18.1.1/24'"):
        FILTERS['cidr_overlaps'](['198.18.1.1/24'])


def test_multinic_pod_block_refuses_an_ipv6_subnet():
    with pytest.raises(
        AnsibleFilterError, match=r"subnet fd00:10::/48 is IPv6: Multi-NIC CNI's subnet supports IPv4 only"
    ):
        FILTERS['multinic_pod_block']('fd00:10::/48', 2, 6, 0, 0)
