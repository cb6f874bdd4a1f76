# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Multi-NIC CNI block planner.

Expected values come from the published Multi-NIC CNI example or are worked
out here from the layout rules (interface index i -> i-th /(prefix +
interface_block) block of the subnet, host index h -> h-th /(prefix +
interface_block + host_block) block of that), using ``ipaddress.subnets`` as an
independent oracle.
"""

import copy
import ipaddress
import random

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic


def make_hosts(*specs):
    """``('host1', ['10.0.1.5/24', ...])`` -> host dicts with NICs eth1, eth2, ..."""
    return [
        {
            'name': name,
            'interfaces': [{'name': 'eth%d' % (num + 1), 'address': address} for num, address in enumerate(addresses)],
        }
        for name, addresses in specs
    ]


def two_hosts():
    return make_hosts(('host1', ['10.0.1.5/24', '10.0.2.5/24']), ('host2', ['10.0.1.6/24', '10.0.2.6/24']))


def oracle_block(network, extra_bits, index):
    """The index-th subnet, by enumerating ipaddress.subnets (small cases only)."""
    net = ipaddress.ip_network(network)
    for num, sub in enumerate(net.subnets(prefixlen_diff=extra_bits)):
        if num == index:
            return str(sub)
    raise AssertionError('no block %d in %s' % (index, network))


def by_master(result):
    return dict((entry['master_net'], entry) for entry in result['plan']['interfaces'])


def host_indexes(entry):
    return dict((host['name'], host['index']) for host in entry['hosts'])


def pod_of(result, master_net, host):
    for entry in result['plan']['interfaces']:
        if entry['master_net'] == master_net:
            for row in entry['hosts']:
                if row['name'] == host:
                    return row['pod_cidr']
    return None


def single_net_hosts(names, net='10.0.1'):
    return make_hosts(*[(name, ['%s.%d/24' % (net, num + 10)]) for num, name in enumerate(names)])


# ---------------------------------------------------------------------------
# The published example and the result shape
# ---------------------------------------------------------------------------


def test_published_example():
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts())
    assert result == {
        'plan': {
            'interfaces': [
                {
                    'index': 0,
                    'master_net': '10.0.1.0/24',
                    'vlan_cidr': '192.168.0.0/18',
                    'hosts': [
                        {
                            'name': 'host1',
                            'index': 0,
                            'interface': 'eth1',
                            'host_ip': '10.0.1.5',
                            'pod_cidr': '192.168.0.0/24',
                        },
                        {
                            'name': 'host2',
                            'index': 1,
                            'interface': 'eth1',
                            'host_ip': '10.0.1.6',
                            'pod_cidr': '192.168.1.0/24',
                        },
                    ],
                },
                {
                    'index': 1,
                    'master_net': '10.0.2.0/24',
                    'vlan_cidr': '192.168.64.0/18',
                    'hosts': [
                        {
                            'name': 'host1',
                            'index': 0,
                            'interface': 'eth2',
                            'host_ip': '10.0.2.5',
                            'pod_cidr': '192.168.64.0/24',
                        },
                        {
                            'name': 'host2',
                            'index': 1,
                            'interface': 'eth2',
                            'host_ip': '10.0.2.6',
                            'pod_cidr': '192.168.65.0/24',
                        },
                    ],
                },
            ]
        },
        'routes': {},
    }


def test_published_example_with_master_nets_given():
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), master_nets=['10.0.1.0/24', '10.0.2.0/24'])
    assert pod_of(result, '10.0.1.0/24', 'host1') == '192.168.0.0/24'
    assert pod_of(result, '10.0.2.0/24', 'host1') == '192.168.64.0/24'
    assert pod_of(result, '10.0.1.0/24', 'host2') == '192.168.1.0/24'
    assert pod_of(result, '10.0.2.0/24', 'host2') == '192.168.65.0/24'


def test_result_is_plain_json_types():
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), vlan_mode='l3')

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str  # pylint: disable=unidiomatic-typecheck
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            assert type(value) in (str, int), value  # pylint: disable=unidiomatic-typecheck

    walk(result)


def test_inputs_are_not_modified():
    hosts = two_hosts()
    first = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    hosts_copy = copy.deepcopy(hosts)
    previous = copy.deepcopy(first['plan'])
    plan_multinic('192.168.0.0/16', 2, 6, hosts[:1], previous=previous)
    assert hosts == hosts_copy
    assert previous == first['plan']


@pytest.mark.parametrize(
    'subnet, interface_block, host_block, vlan_index, host_index',
    [
        ('192.168.0.0/16', 2, 6, 3, 63),
        ('10.0.0.0/8', 3, 13, 5, 4000),
        ('10.0.0.0/8', 0, 24, 0, 0),
        ('10.0.0.0/8', 24, 0, 0, 0),
        ('172.16.0.0/12', 4, 4, 15, 7),
    ],
)
def test_block_layout_matches_subnets_enumeration(subnet, interface_block, host_block, vlan_index, host_index):
    """Bit layout: vlan block = vlan_index-th split of subnet, pod = host_index-th split of that."""
    nets = ['10.%d.0.0/16' % num for num in range(vlan_index + 1)]
    previous = {
        'interfaces': [{'index': vlan_index, 'master_net': nets[-1], 'hosts': [{'name': 'h', 'index': host_index}]}]
    }
    hosts = make_hosts(('h', ['10.%d.0.9/16' % vlan_index]))
    result = plan_multinic(subnet, interface_block, host_block, hosts, master_nets=nets, previous=previous)
    entry = by_master(result)[nets[-1]]
    assert entry['index'] == vlan_index
    assert entry['hosts'][0]['index'] == host_index
    # arithmetic: block n of a /p network split by b bits starts at base + n * 2^(32 - p - b)
    base = ipaddress.ip_network(subnet)
    vlan_prefix = base.prefixlen + interface_block
    vlan = ipaddress.ip_network((int(base.network_address) + vlan_index * 2 ** (32 - vlan_prefix), vlan_prefix))
    pod_prefix = vlan_prefix + host_block
    pod = ipaddress.ip_network((int(vlan.network_address) + host_index * 2 ** (32 - pod_prefix), pod_prefix))
    assert entry['vlan_cidr'] == str(vlan)
    assert entry['hosts'][0]['pod_cidr'] == str(pod)
    # and the same by enumeration where that is small enough
    if interface_block <= 8:
        assert entry['vlan_cidr'] == oracle_block(subnet, interface_block, vlan_index)
    if host_block <= 13:
        assert entry['hosts'][0]['pod_cidr'] == oracle_block(str(vlan), host_block, host_index)


# ---------------------------------------------------------------------------
# IPv6
# ---------------------------------------------------------------------------


def test_an_ipv6_subnet_is_refused():
    # Multi-NIC CNI's subnet and IPAM are IPv4 only: the plan stops before cutting blocks nothing would accept.
    hosts = make_hosts(('a', ['fd00:1::5/64', 'fd00:2::5/64']), ('b', ['fd00:1::6/64', 'fd00:2::6/64']))
    with pytest.raises(PlanError) as err:
        plan_multinic('fd00:10::/48', 2, 8, hosts)
    assert str(err.value).startswith("subnet fd00:10::/48 is IPv6: Multi-NIC CNI's subnet supports IPv4 only")


def test_ipv6_host_ip_is_compressed():
    # The pod subnet is IPv4; a host network (master net) may be IPv6.
    hosts = make_hosts(('a', ['FD00:0001:0000:0000:0000:0000:0000:0005/64']))
    result = plan_multinic('192.168.0.0/16', 0, 8, hosts)
    entry = result['plan']['interfaces'][0]
    assert entry['master_net'] == 'fd00:1::/64'
    assert entry['hosts'][0]['host_ip'] == 'fd00:1::5'


def test_nic_networks_may_be_another_version_than_the_subnet():
    hosts = make_hosts(('a', ['fd00:1::5/64']), ('b', ['fd00:1::6/64']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, vlan_mode='l3')
    assert pod_of(result, 'fd00:1::/64', 'b') == '192.168.1.0/24'
    assert result['routes']['a'] == [{'dst': '192.168.1.0/24', 'via': 'fd00:1::6', 'dev': 'eth1'}]


def test_ipv6_exclude_is_ignored_for_an_ipv4_subnet():
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), exclude=['fd00::/8', '::/0'])
    assert pod_of(result, '10.0.1.0/24', 'host2') == '192.168.1.0/24'


# ---------------------------------------------------------------------------
# Addresses: fast path and exact path agree
# ---------------------------------------------------------------------------


def test_netmask_notation_and_spaces_are_accepted():
    # what ipaddress accepts is accepted, and gives the same networks as the canonical form
    hosts = make_hosts(('a', ['10.0.1.5/255.255.255.0', ' 10.0.2.5/24 ', '10.0.3.5/024']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    nets = by_master(result)
    assert sorted(nets) == ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']
    assert nets['10.0.1.0/24']['hosts'][0]['host_ip'] == '10.0.1.5'
    assert nets['10.0.2.0/24']['hosts'][0]['host_ip'] == '10.0.2.5'
    assert nets['10.0.3.0/24']['hosts'][0]['host_ip'] == '10.0.3.5'


@pytest.mark.parametrize(
    'address',
    [
        '10.0.1.256/24',
        '10.0.01.5/24',
        '10.0.1.5/33',
        '10.0.1/24',
        '10.0.1.5',
        '10.0.1.5/',
        'eth1',
        '1.2.3.4.5/24',
        '10.0.1.5/24/24',
    ],
)
def test_malformed_nic_addresses(address):
    hosts = make_hosts(('a', [address]))
    with pytest.raises(PlanError, match=r"host a interface eth1 address '%s' is not" % address.replace('.', r'\.')):
        plan_multinic('192.168.0.0/16', 2, 6, hosts)


@pytest.mark.parametrize('main_ip', ['10.1.1', '10.1.1.256', '010.1.1.1', 'fd00::zz'])
def test_malformed_main_ip(main_ip):
    hosts = [{'name': 'a', 'main_ip': main_ip, 'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}]}]
    with pytest.raises(PlanError, match=r"host a main_ip '%s' is not a valid IP address" % main_ip.replace('.', r'\.')):
        plan_multinic('192.168.0.0/16', 2, 6, hosts)


def test_valid_main_ip_is_accepted():
    hosts = [
        {'name': 'a', 'main_ip': '172.16.0.1', 'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}]},
        {'name': 'b', 'main_ip': 'fd00::1', 'interfaces': [{'name': 'eth1', 'address': '10.0.1.6/24'}]},
    ]
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    assert host_indexes(result['plan']['interfaces'][0]) == {'a': 0, 'b': 1}


# ---------------------------------------------------------------------------
# L3 routes
# ---------------------------------------------------------------------------


def expected_routes(result, with_nics):
    """Routes worked out from the plan: every ordered pair of hosts sharing an interface."""
    routes = dict((name, []) for name in with_nics)
    for entry in sorted(result['plan']['interfaces'], key=lambda e: e['index']):
        rows = sorted(entry['hosts'], key=lambda h: h['index'])
        for local in rows:
            for peer in rows:
                if peer['name'] != local['name']:
                    routes[local['name']].append(
                        {'dst': peer['pod_cidr'], 'via': peer['host_ip'], 'dev': local['interface']}
                    )
    return routes


@pytest.mark.parametrize('vlan_mode', ['l3', 'l3s'])
def test_l3_routes(vlan_mode):
    hosts = make_hosts(
        ('h1', ['10.0.1.1/24', '10.0.2.1/24']),
        ('h2', ['10.0.1.2/24', '10.0.2.2/24']),
        ('h3', ['10.0.1.3/24']),
        ('h4', ['10.0.2.4/24']),
        ('h5', ['10.0.3.5/24']),
    )
    hosts.append({'name': 'h6', 'interfaces': []})
    hosts[1]['interfaces'][1]['name'] = 'ens2'
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, vlan_mode=vlan_mode)
    routes = result['routes']
    # h6 has no NIC: no routes entry; h5 is alone on 10.0.3.0/24: an empty list.
    assert sorted(routes) == ['h1', 'h2', 'h3', 'h4', 'h5']
    assert routes['h5'] == []
    per_interface = [len(entry['hosts']) for entry in result['plan']['interfaces']]
    assert per_interface == [3, 3, 1]
    assert sum(len(r) for r in routes.values()) == sum(n * (n - 1) for n in per_interface) == 12
    pods = dict(
        ((row['name'], entry['master_net']), row) for entry in result['plan']['interfaces'] for row in entry['hosts']
    )
    for local, rows in routes.items():
        for route in rows:
            peer = [key for key, row in pods.items() if row['pod_cidr'] == route['dst']]
            assert len(peer) == 1
            peer_name, master = peer[0]
            assert peer_name != local
            assert route['via'] == pods[(peer_name, master)]['host_ip']
            assert ipaddress.ip_address(route['via']) in ipaddress.ip_network(master)
            assert route['dev'] == pods[(local, master)]['interface']
    assert routes['h2'] == [
        {'dst': '192.168.0.0/24', 'via': '10.0.1.1', 'dev': 'eth1'},
        {'dst': '192.168.2.0/24', 'via': '10.0.1.3', 'dev': 'eth1'},
        {'dst': '192.168.64.0/24', 'via': '10.0.2.1', 'dev': 'ens2'},
        {'dst': '192.168.66.0/24', 'via': '10.0.2.4', 'dev': 'ens2'},
    ]
    assert routes == expected_routes(result, ['h1', 'h2', 'h3', 'h4', 'h5'])


def test_l2_has_no_routes_and_plan_equals_l3_plan():
    l2 = plan_multinic('192.168.0.0/16', 2, 6, two_hosts())
    l3 = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), vlan_mode='l3')
    assert isinstance(l2['routes'], dict) and not l2['routes']
    assert l2['plan'] == l3['plan']
    assert plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), vlan_mode=None) == l2


def test_l3_routes_order_follows_interface_then_peer_index():
    # host z is planned first on 10.0.2.0/24 (master_nets order puts that network first).
    hosts = make_hosts(
        ('a', ['10.0.1.1/24', '10.0.2.1/24']),
        ('z', ['10.0.1.9/24', '10.0.2.9/24']),
        ('m', ['10.0.1.5/24', '10.0.2.5/24']),
    )
    previous = {
        'interfaces': [{'master_net': '10.0.2.0/24', 'hosts': [{'name': 'z', 'index': 0}, {'name': 'a', 'index': 5}]}]
    }
    result = plan_multinic(
        '192.168.0.0/16', 2, 6, hosts, master_nets=['10.0.2.0/24', '10.0.1.0/24'], previous=previous, vlan_mode='l3'
    )
    assert host_indexes(by_master(result)['10.0.2.0/24']) == {'z': 0, 'a': 5, 'm': 6}
    assert [(r['dev'], r['via']) for r in result['routes']['m']] == [
        ('eth2', '10.0.2.9'),
        ('eth2', '10.0.2.1'),
        ('eth1', '10.0.1.1'),
        ('eth1', '10.0.1.9'),
    ]


# ---------------------------------------------------------------------------
# Master nets
# ---------------------------------------------------------------------------


def test_master_nets_omitted_uses_first_seen_order():
    hosts = make_hosts(('h1', ['10.0.2.5/24']), ('h2', ['10.0.3.6/24', '10.0.1.6/24', '10.0.2.6/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    assert [(e['index'], e['master_net'], e['vlan_cidr']) for e in result['plan']['interfaces']] == [
        (0, '10.0.2.0/24', '192.168.0.0/18'),
        (1, '10.0.3.0/24', '192.168.64.0/18'),
        (2, '10.0.1.0/24', '192.168.128.0/18'),
    ]
    assert host_indexes(by_master(result)['10.0.2.0/24']) == {'h1': 0, 'h2': 1}


def test_master_nets_order_decides_vlan_cidr():
    forward = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), master_nets=['10.0.1.0/24', '10.0.2.0/24'])
    swapped = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), master_nets=['10.0.2.0/24', '10.0.1.0/24'])
    assert by_master(forward)['10.0.1.0/24']['vlan_cidr'] == '192.168.0.0/18'
    assert by_master(swapped)['10.0.1.0/24']['vlan_cidr'] == '192.168.64.0/18'
    assert by_master(swapped)['10.0.2.0/24']['vlan_cidr'] == '192.168.0.0/18'
    assert pod_of(swapped, '10.0.2.0/24', 'host2') == '192.168.1.0/24'
    assert pod_of(swapped, '10.0.1.0/24', 'host1') == '192.168.64.0/24'
    assert [e['master_net'] for e in swapped['plan']['interfaces']] == ['10.0.2.0/24', '10.0.1.0/24']


def test_master_nets_may_be_wider_than_the_nic_prefix_and_unused_ones_are_listed():
    hosts = make_hosts(('h1', ['10.0.1.5/24', '10.1.7.5/26']), ('h2', ['10.0.200.6/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, master_nets='10.0.0.0/16, 10.1.0.0/16, 10.2.0.0/16')
    nets = by_master(result)
    assert host_indexes(nets['10.0.0.0/16']) == {'h1': 0, 'h2': 1}
    assert host_indexes(nets['10.1.0.0/16']) == {'h1': 0}
    assert nets['10.2.0.0/16'] == {
        'index': 2,
        'master_net': '10.2.0.0/16',
        'vlan_cidr': '192.168.128.0/18',
        'hosts': [],
    }


def test_master_nets_of_mixed_prefix_lengths():
    nets = ['10.0.1.0/24', '10.1.0.0/16', '10.0.2.0/25', 'fd00:1::/64']
    hosts = make_hosts(('h1', ['10.0.2.100/25', '10.1.3.3/16', 'fd00:1::1/64', '10.0.1.1/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, master_nets=nets)
    assert [(e['master_net'], e['hosts'][0]['interface']) for e in result['plan']['interfaces']] == [
        ('10.0.1.0/24', 'eth4'),
        ('10.1.0.0/16', 'eth2'),
        ('10.0.2.0/25', 'eth1'),
        ('fd00:1::/64', 'eth3'),
    ]


# ---------------------------------------------------------------------------
# Exclude and allocation order
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('master_nets', [['10.0.1.0/24', '10.0.2.0/24'], None])
def test_an_interface_index_excluded_whole_is_skipped(master_nets):
    # Multi-NIC CNI (NewCIDR, CheckIfTabuIndex): 192.168.0.0/18 is index 0's whole vlan block, so the master
    # nets take indexes 1 and 2, whether listed or derived from the NICs.
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), exclude=['192.168.0.0/18'], master_nets=master_nets)
    assert [(e['index'], e['master_net'], e['vlan_cidr']) for e in result['plan']['interfaces']] == [
        (1, '10.0.1.0/24', '192.168.64.0/18'),
        (2, '10.0.2.0/24', '192.168.128.0/18'),
    ]
    assert pod_of(result, '10.0.1.0/24', 'host1') == '192.168.64.0/24'
    # An earlier plan's index that is excluded now moves to the next free one.
    again = plan_multinic(
        '192.168.0.0/16',
        2,
        6,
        two_hosts(),
        exclude=['192.168.64.0/18'],
        previous=plan_multinic('192.168.0.0/16', 2, 6, two_hosts())['plan'],
    )
    assert [(e['index'], e['master_net']) for e in again['plan']['interfaces']] == [
        (0, '10.0.1.0/24'),
        (2, '10.0.2.0/24'),
    ]


def test_exclude_skips_a_block():
    hosts = make_hosts(('host1', ['10.0.1.5/24']), ('host2', ['10.0.1.6/24']), ('host3', ['10.0.1.7/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, exclude=['192.168.1.0/24'])
    assert pod_of(result, '10.0.1.0/24', 'host1') == '192.168.0.0/24'
    assert pod_of(result, '10.0.1.0/24', 'host2') == '192.168.2.0/24'
    assert pod_of(result, '10.0.1.0/24', 'host3') == '192.168.3.0/24'


@pytest.mark.parametrize(
    'exclude, second_index',
    [
        ('192.168.1.128/25', 2),  # part of a block is enough to skip it
        ('192.168.1.77/32', 2),
        (['192.168.1.0/24', '192.168.2.0/23'], 4),
        ('192.168.0.0/22', None),  # host1 cannot have 0 either
        ('192.168.64.0/24', 1),  # another interface's block: no effect here
    ],
)
def test_exclude_overlap_skips(exclude, second_index):
    hosts = make_hosts(('host1', ['10.0.1.5/24']), ('host2', ['10.0.1.6/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, exclude=exclude, master_nets=['10.0.1.0/24', '10.0.2.0/24'])
    indexes = host_indexes(result['plan']['interfaces'][0])
    if second_index is None:
        assert indexes == {'host1': 4, 'host2': 5}
    else:
        assert indexes == {'host1': 0, 'host2': second_index}


def test_new_hosts_follow_input_order_and_output_is_sorted_by_index():
    hosts = single_net_hosts(['zeta', 'alpha', 'mu'])
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    entry = result['plan']['interfaces'][0]
    assert [(h['name'], h['index']) for h in entry['hosts']] == [('zeta', 0), ('alpha', 1), ('mu', 2)]
    previous = {
        'interfaces': [
            {'master_net': '10.0.1.0/24', 'hosts': [{'name': 'mu', 'index': 0}, {'name': 'zeta', 'index': 2}]}
        ]
    }
    entry = plan_multinic('192.168.0.0/16', 2, 6, hosts, previous=previous)['plan']['interfaces'][0]
    assert [(h['name'], h['index']) for h in entry['hosts']] == [('mu', 0), ('zeta', 2), ('alpha', 3)]


def test_wrap_around_to_lowest_free_index():
    # host_block 2: indexes 0..3. h1 and h3 keep 1 and 3; max+1 = 4 does not fit,
    # so the new hosts fill the lowest free indexes in input order.
    previous = {
        'interfaces': [{'master_net': '10.0.1.0/24', 'hosts': [{'name': 'h1', 'index': 1}, {'name': 'h3', 'index': 3}]}]
    }
    hosts = single_net_hosts(['h2', 'h1', 'h0', 'h3'])
    result = plan_multinic('192.168.0.0/16', 2, 2, hosts, previous=previous)
    assert host_indexes(result['plan']['interfaces'][0]) == {'h2': 0, 'h1': 1, 'h0': 2, 'h3': 3}
    # /18 vlan + 2 bits = /20 blocks
    assert pod_of(result, '10.0.1.0/24', 'h0') == '192.168.32.0/20'


def test_wrap_around_skips_excluded_tail_and_head():
    # host_block 3: indexes 0..7; 6 and 7 excluded, 0 excluded too; 1 was released.
    previous = {
        'interfaces': [
            {'master_net': '10.0.1.0/24', 'hosts': [{'name': 'h%d' % num, 'index': num} for num in (2, 3, 4, 5)]}
        ]
    }
    hosts = single_net_hosts(['h2', 'h3', 'h4', 'h5', 'new'])
    result = plan_multinic(
        '192.168.0.0/16', 2, 3, hosts, previous=previous, exclude=['192.168.0.0/21', '192.168.48.0/20']
    )
    # /18 split by 3 bits = /21 blocks: 192.168.0.0/21 is index 0, 192.168.48.0/20 is indexes 6 and 7.
    assert host_indexes(result['plan']['interfaces'][0])['new'] == 1
    assert pod_of(result, '10.0.1.0/24', 'new') == '192.168.8.0/21'


def test_wrap_around_when_the_last_index_is_in_use():
    # index 7 (the last) kept; the next new host wraps to 0 at once.
    previous = {'interfaces': [{'master_net': '10.0.1.0/24', 'hosts': [{'name': 'last', 'index': 7}]}]}
    hosts = single_net_hosts(['n1', 'last', 'n2'])
    result = plan_multinic('192.168.0.0/16', 2, 3, hosts, previous=previous)
    assert host_indexes(result['plan']['interfaces'][0]) == {'n1': 0, 'last': 7, 'n2': 1}


def test_every_block_used():
    hosts = single_net_hosts(['h%d' % num for num in range(8)])
    result = plan_multinic('192.168.0.0/16', 2, 3, hosts)
    assert sorted(host_indexes(result['plan']['interfaces'][0]).values()) == list(range(8))
    with pytest.raises(PlanError, match=r'has 9 hosts but only 8 free /21 blocks'):
        plan_multinic('192.168.0.0/16', 2, 3, single_net_hosts(['h%d' % num for num in range(9)]))


# ---------------------------------------------------------------------------
# Reserved ranges
# ---------------------------------------------------------------------------


def test_reserved_overlap_with_a_pod_block_names_both():
    with pytest.raises(
        PlanError,
        match=r'pod_cidr of host host2 interface eth1 .*192\.168\.1\.0/24 overlaps '
        r'reserved service_network 192\.168\.1\.0/24',
    ):
        plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), reserved={'service_network': '192.168.1.0/24'})


def test_reserved_overlap_with_a_vlan_block_names_both():
    with pytest.raises(
        PlanError,
        match=r'vlan_cidr of interface 1 \(master net 10\.0\.2\.0/24\) 192\.168\.64\.0/18 '
        r'overlaps reserved\[0\] 192\.168\.100\.0/24',
    ):
        plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), reserved=['192.168.100.0/24'])


@pytest.mark.parametrize(
    'reserved',
    [
        ['192.168.128.0/17'],  # blocks of interfaces 2 and 3, unused
        {'pod_network': '10.128.0.0/14', 'service_network': ['172.30.0.0/16']},
        [{'name': 'machine', 'cidr': '10.0.0.0/16'}],  # host networks are not pod blocks
        ['fd00::/8'],
    ],
)
def test_reserved_without_overlap(reserved):
    result = plan_multinic('192.168.0.0/16', 2, 6, two_hosts(), reserved=reserved)
    assert result == plan_multinic('192.168.0.0/16', 2, 6, two_hosts())


# ---------------------------------------------------------------------------
# Incremental re-planning
# ---------------------------------------------------------------------------


def test_incremental_replanning():
    subnet, ib, hb = '192.168.0.0/16', 2, 6
    first = plan_multinic(
        subnet,
        ib,
        hb,
        make_hosts(
            ('h1', ['10.0.1.1/24', '10.0.2.1/24']),
            ('h2', ['10.0.1.2/24', '10.0.2.2/24']),
            ('h3', ['10.0.1.3/24', '10.0.2.3/24']),
        ),
    )
    for entry in first['plan']['interfaces']:
        assert host_indexes(entry) == {'h1': 0, 'h2': 1, 'h3': 2}

    # add hosts, one of them listed first: existing keep, new take max+1 in input order
    grown = make_hosts(
        ('h5', ['10.0.1.5/24', '10.0.2.5/24']),
        ('h1', ['10.0.1.1/24', '10.0.2.1/24']),
        ('h2', ['10.0.1.2/24', '10.0.2.2/24']),
        ('h3', ['10.0.1.3/24', '10.0.2.3/24']),
        ('h4', ['10.0.1.4/24', '10.0.2.4/24']),
    )
    second = plan_multinic(subnet, ib, hb, grown, previous=first['plan'])
    for entry in second['plan']['interfaces']:
        assert host_indexes(entry) == {'h1': 0, 'h2': 1, 'h3': 2, 'h5': 3, 'h4': 4}
    assert pod_of(second, '10.0.2.0/24', 'h4') == '192.168.68.0/24'

    # remove h2: its index is released, the others do not move
    shrunk = [host for host in grown if host['name'] != 'h2']
    third = plan_multinic(subnet, ib, hb, shrunk, previous=second['plan'])
    for entry in third['plan']['interfaces']:
        assert host_indexes(entry) == {'h1': 0, 'h3': 2, 'h5': 3, 'h4': 4}
        assert [h['index'] for h in entry['hosts']] == [0, 2, 3, 4]

    # add h2 back: it is new again and takes max+1, not its old index
    fourth = plan_multinic(subnet, ib, hb, grown, previous=third['plan'])
    for entry in fourth['plan']['interfaces']:
        assert host_indexes(entry) == {'h1': 0, 'h3': 2, 'h5': 3, 'h4': 4, 'h2': 5}
    assert pod_of(fourth, '10.0.1.0/24', 'h2') == '192.168.5.0/24'

    # nothing changed: identical plan, also when fed the whole earlier result
    assert plan_multinic(subnet, ib, hb, grown, previous=fourth['plan']) == fourth
    assert plan_multinic(subnet, ib, hb, grown, previous=fourth) == fourth


def test_replanning_keeps_index_when_nic_name_or_ip_changes():
    first = plan_multinic('192.168.0.0/16', 2, 6, single_net_hosts(['a', 'b']))
    hosts = make_hosts(('b', ['10.0.1.99/24']), ('a', ['10.0.1.98/24']))
    hosts[0]['interfaces'][0]['name'] = 'ens5'
    entry = plan_multinic('192.168.0.0/16', 2, 6, hosts, previous=first['plan'])['plan']['interfaces'][0]
    assert entry['hosts'] == [
        {'name': 'a', 'index': 0, 'interface': 'eth1', 'host_ip': '10.0.1.98', 'pod_cidr': '192.168.0.0/24'},
        {'name': 'b', 'index': 1, 'interface': 'ens5', 'host_ip': '10.0.1.99', 'pod_cidr': '192.168.1.0/24'},
    ]


def test_replanning_host_moved_to_another_network_releases_index():
    first = plan_multinic('192.168.0.0/16', 2, 6, two_hosts())
    hosts = make_hosts(('host1', ['10.0.1.5/24', '10.0.3.5/24']), ('host2', ['10.0.1.6/24', '10.0.2.6/24']))
    result = plan_multinic(
        '192.168.0.0/16', 2, 6, hosts, previous=first['plan'], master_nets=['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']
    )
    nets = by_master(result)
    assert host_indexes(nets['10.0.1.0/24']) == {'host1': 0, 'host2': 1}
    assert host_indexes(nets['10.0.2.0/24']) == {'host2': 1}
    assert host_indexes(nets['10.0.3.0/24']) == {'host1': 0}


def test_replanning_index_that_no_longer_fits_is_reassigned():
    previous = {
        'interfaces': [
            {
                'master_net': '10.0.1.0/24',
                'hosts': [{'name': 'a', 'index': 1}, {'name': 'b', 'index': 9}, {'name': 'c', 'index': 2}],
            }
        ]
    }
    hosts = single_net_hosts(['a', 'b', 'c'])
    # host_block 2 (indexes 0..3): b's 9 no longer fits; max in use is 2, so b gets 3.
    result = plan_multinic('192.168.0.0/16', 2, 2, hosts, previous=previous)
    assert host_indexes(result['plan']['interfaces'][0]) == {'a': 1, 'b': 3, 'c': 2}
    # host_block 1 (indexes 0..1): three hosts do not fit at all; with two, a keeps 1 and
    # b (9 no longer fits) wraps to the lowest free index, 0.
    with pytest.raises(PlanError, match=r'has 3 hosts but only 2 free'):
        plan_multinic('192.168.0.0/16', 2, 1, hosts, previous=previous)
    result = plan_multinic('192.168.0.0/16', 2, 1, hosts[:2], previous=previous)
    assert host_indexes(result['plan']['interfaces'][0]) == {'a': 1, 'b': 0}


def test_replanning_index_now_excluded_is_reassigned():
    first = plan_multinic('192.168.0.0/16', 2, 6, single_net_hosts(['a', 'b', 'c']))
    result = plan_multinic(
        '192.168.0.0/16', 2, 6, single_net_hosts(['a', 'b', 'c']), previous=first['plan'], exclude=['192.168.1.0/24']
    )
    # b's block is excluded now: it is placed as new, after the max in use (2).
    assert host_indexes(result['plan']['interfaces'][0]) == {'a': 0, 'b': 3, 'c': 2}


def test_replanning_duplicate_index_in_previous_goes_to_first_host():
    previous = {
        'interfaces': [{'master_net': '10.0.1.0/24', 'hosts': [{'name': 'a', 'index': 4}, {'name': 'b', 'index': 4}]}]
    }
    result = plan_multinic('192.168.0.0/16', 2, 6, single_net_hosts(['b', 'a']), previous=previous)
    assert host_indexes(result['plan']['interfaces'][0]) == {'b': 4, 'a': 5}


def test_replanning_with_omitted_master_nets_keeps_interface_indexes():
    first = plan_multinic(
        '192.168.0.0/16',
        2,
        6,
        make_hosts(('h1', ['10.0.1.1/24', '10.0.2.1/24']), ('h2', ['10.0.1.2/24', '10.0.2.2/24'])),
    )
    # h1 is gone and h3 (seen first now) lists 10.0.2.x first, with a new network too.
    hosts = make_hosts(('h3', ['10.0.2.3/24', '10.0.9.3/24', '10.0.1.3/24']), ('h2', ['10.0.1.2/24', '10.0.2.2/24']))
    result = plan_multinic('192.168.0.0/16', 2, 6, hosts, previous=first['plan'])
    assert [(e['index'], e['master_net']) for e in result['plan']['interfaces']] == [
        (0, '10.0.1.0/24'),
        (1, '10.0.2.0/24'),
        (2, '10.0.9.0/24'),
    ]
    assert pod_of(result, '10.0.1.0/24', 'h2') == pod_of(first, '10.0.1.0/24', 'h2') == '192.168.1.0/24'
    assert pod_of(result, '10.0.2.0/24', 'h3') == '192.168.66.0/24'
    # without previous it is first-seen order again
    fresh = plan_multinic('192.168.0.0/16', 2, 6, hosts)
    assert [e['master_net'] for e in fresh['plan']['interfaces']] == ['10.0.2.0/24', '10.0.9.0/24', '10.0.1.0/24']


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

HOSTS = [
    {
        'name': 'host1',
        'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}, {'name': 'eth2', 'address': '10.0.2.5/24'}],
    },
    {
        'name': 'host2',
        'interfaces': [{'name': 'eth1', 'address': '10.0.1.6/24'}, {'name': 'eth2', 'address': '10.0.2.6/24'}],
    },
]
BASE = {'subnet': '192.168.0.0/16', 'interface_block': 2, 'host_block': 6, 'hosts': HOSTS}

ERRORS = [
    (
        'subnet_host_bits',
        {'subnet': '10.0.4.0/20'},
        r"subnet '10\.0\.4\.0/20' is not a network address.*10\.0\.0\.0/20",
    ),
    ('subnet_malformed', {'subnet': '10.0.0.0/33'}, r"subnet '10\.0\.0\.0/33' is not a valid CIDR"),
    ('subnet_no_prefix', {'subnet': '10.0.0.0'}, r"subnet '10\.0\.0\.0' is not a CIDR"),
    (
        'too_long',
        {'interface_block': 10, 'host_block': 8},
        r'192\.168\.0\.0/16 with interface_block 10 and host_block 8 needs /34 .*16 \+ 10 \+ 8.*32 bits',
    ),
    (
        'too_long_v6',
        {'subnet': 'fd00::/64', 'interface_block': 40, 'host_block': 30, 'hosts': []},
        r"subnet fd00::/64 is IPv6: Multi-NIC CNI's subnet supports IPv4 only",
    ),
    ('negative_bits', {'interface_block': -1}, r'interface_block -1 is out of range: expected 0 to 32'),
    ('string_bits', {'host_block': '6'}, r"host_block '6' is not a whole number of bits"),
    ('bool_bits', {'host_block': True}, r'host_block True is not a whole number of bits'),
    ('float_bits', {'interface_block': 2.0}, r'interface_block 2\.0 is not a whole number'),
    (
        'too_many_master_nets',
        {'interface_block': 1, 'master_nets': ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']},
        r'3 master_nets \(10\.0\.1\.0/24, 10\.0\.2\.0/24, 10\.0\.3\.0/24\) do not fit interface_block 1: at most 2\^1 = 2',
    ),
    (
        'too_many_nic_networks',
        {'interface_block': 0},
        r'the NICs are on 2 networks \(10\.0\.1\.0/24, 10\.0\.2\.0/24\).*interface_block 0.*2\^0 = 1',
    ),
    (
        'too_many_hosts',
        {'host_block': 0},
        r'interface 0 \(master net 10\.0\.1\.0/24, vlan_cidr 192\.168\.0\.0/18\) has 2 hosts but only 1 free /18 '
        r'blocks: host_block 0 gives 2\^0 = 1',
    ),
    (
        'too_many_hosts_with_exclude',
        {'host_block': 2, 'exclude': ['192.168.64.0/19', '192.168.112.0/20']},
        r'interface 1 \(master net 10\.0\.2\.0/24.*has 2 hosts but only 1 free /20 blocks.*2\^2 = 4 blocks, minus 3 excluded',
    ),
    (
        'exclude_covers_interface',
        {'exclude': ['192.168.64.0/19', '192.168.96.0/19']},
        r'exclude \(192\.168\.64\.0/19, 192\.168\.96\.0/19\) covers every /24 host block of interface 1 '
        r'\(master net 10\.0\.2\.0/24, vlan_cidr 192\.168\.64\.0/18\).*64 blocks',
    ),
    # One exclude over the whole vlan blocks of indexes 2 and 3: Multi-NIC CNI skips them, and the third
    # master net is left without an index.
    (
        'exclude_takes_the_last_indexes',
        {'exclude': '192.168.128.0/17', 'master_nets': ['10.0.1.0/24', '10.0.2.0/24', '10.9.0.0/16']},
        r'master_nets\[2\] 10\.9\.0\.0/16 gets no interface index: interface_block 2 gives indexes 0 to 3, and exclude '
        r'192\.168\.128\.0/17 covers the vlan blocks of indexes 2 to 3',
    ),
    (
        'exclude_takes_every_index',
        {'exclude': '192.168.0.0/15'},
        r'gets no interface index: interface_block 2 gives indexes 0 to 3, and exclude 192\.168\.0\.0/15 covers the vlan '
        r'blocks of indexes 0 to 3',
    ),
    (
        'nic_in_no_master_net',
        {'master_nets': ['10.0.1.0/24', '10.0.3.0/24']},
        r'host host1 interface eth2 address 10\.0\.2\.5/24 is in none of the master_nets '
        r'\(10\.0\.1\.0/24, 10\.0\.3\.0/24\)',
    ),
    (
        'nic_other_version',
        {'master_nets': ['fd00:1::/64', 'fd00:2::/64']},
        r'host host1 interface eth1 address 10\.0\.1\.5/24 is in none of the master_nets \(fd00:1::/64, fd00:2::/64\)',
    ),
    (
        'two_nics_one_master_net',
        {
            'hosts': [
                {
                    'name': 'h',
                    'interfaces': [
                        {'name': 'eth1', 'address': '10.0.1.5/24'},
                        {'name': 'eth2', 'address': '10.0.1.6/24'},
                    ],
                }
            ]
        },
        r'host h has interfaces eth1 and eth2 both in master net 10\.0\.1\.0/24',
    ),
    (
        'two_nics_one_wide_master_net',
        {'master_nets': ['10.0.0.0/16']},
        r'host host1 has interfaces eth1 and eth2 both in master net 10\.0\.0\.0/16',
    ),
    (
        'duplicate_host',
        {'hosts': HOSTS + [{'name': 'host1', 'interfaces': []}]},
        r"hosts\[2\] name 'host1' is a duplicate of hosts\[0\]",
    ),
    (
        'duplicate_master_net',
        {'master_nets': ['10.0.1.0/24', '10.0.2.0/24', '10.0.1.0/24']},
        r'master_nets\[2\] 10\.0\.1\.0/24 is listed twice \(also master_nets\[0\]\)',
    ),
    (
        'overlapping_master_nets',
        {'master_nets': ['10.0.0.0/16', '10.0.2.0/24']},
        r'master_nets\[0\] 10\.0\.0\.0/16 overlaps master_nets\[1\] 10\.0\.2\.0/24: expected master_nets that do not overlap',
    ),
    (
        'overlapping_nic_networks',
        {
            'hosts': [
                {'name': 'h', 'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}]},
                {'name': 'g', 'interfaces': [{'name': 'eth1', 'address': '10.0.9.5/16'}]},
            ]
        },
        r'network of host g interface eth1 10\.0\.0\.0/16 overlaps network of host h interface eth1 10\.0\.1\.0/24',
    ),
    (
        'malformed_master_net',
        {'master_nets': ['10.0.1.0/24', '10.0.2.1/24']},
        r"master_nets\[1\] '10\.0\.2\.1/24' is not a network address",
    ),
    ('malformed_exclude', {'exclude': ['192.168.1.0/24', 'nope']}, r"exclude\[1\] 'nope' is not a CIDR"),
    (
        'malformed_reserved',
        {'reserved': {'service_network': '172.30.0.1/16'}},
        r"reserved service_network '172\.30\.0\.1/16' is not a network address",
    ),
    ('bad_vlan_mode', {'vlan_mode': 'l4'}, r"vlan_mode 'l4' is not supported: expected one of 'l2', 'l3', 'l3s'"),
    ('bad_vlan_mode_case', {'vlan_mode': 'L3'}, r"vlan_mode 'L3' is not supported"),
    ('hosts_not_list', {'hosts': {'host1': {}}}, r"hosts \{'host1': \{\}\} is not a list"),
    ('hosts_none', {'hosts': None}, r'hosts None is not a list'),
    ('host_not_dict', {'hosts': ['host1']}, r"hosts\[0\] 'host1' is not a dict"),
    ('host_without_name', {'hosts': HOSTS + [{'interfaces': []}]}, r'hosts\[2\] has no name \(got None\)'),
    ('host_empty_name', {'hosts': [{'name': ' ', 'interfaces': []}]}, r"hosts\[0\] has no name \(got ' '\)"),
    (
        'interfaces_not_list',
        {'hosts': [{'name': 'h', 'interfaces': 'eth1'}]},
        r"host h interfaces 'eth1' is not a list",
    ),
    (
        'interface_without_name',
        {'hosts': [{'name': 'h', 'interfaces': [{'address': '10.0.1.5/24'}]}]},
        r'host h interfaces\[0\] has no name \(got None\)',
    ),
    (
        'interface_without_address',
        {'hosts': [{'name': 'h', 'interfaces': [{'name': 'eth1'}]}]},
        r"host h interface eth1 has no address: expected an address with prefix such as '10\.0\.1\.5/24'",
    ),
    (
        'interface_listed_twice',
        {
            'hosts': [
                {
                    'name': 'h',
                    'interfaces': [
                        {'name': 'eth1', 'address': '10.0.1.5/24'},
                        {'name': 'eth1', 'address': '10.0.2.5/24'},
                    ],
                }
            ]
        },
        r'host h lists interface eth1 twice',
    ),
    ('previous_malformed', {'previous': {'interfaces': 'x'}}, r"previous \{'interfaces': 'x'\} is not an earlier plan"),
    (
        'previous_bad_master_net',
        {'previous': {'interfaces': [{'master_net': '10.0.1.1/24', 'hosts': []}]}},
        r"previous interfaces\[0\] master_net '10\.0\.1\.1/24' is not a network address",
    ),
    (
        'previous_bad_index',
        {'previous': {'interfaces': [{'master_net': '10.0.1.0/24', 'hosts': [{'name': 'host1', 'index': -1}]}]}},
        r'previous interfaces\[0\] hosts\[0\] \(host1\) index -1 is not a host index: expected an integer >= 0',
    ),
    (
        'reserved_overlap',
        {'reserved': ['192.168.65.0/24']},
        r'pod_cidr of host host2 interface eth2 \(interface 1, host index 1\) 192\.168\.65\.0/24 overlaps '
        r'reserved\[0\] 192\.168\.65\.0/24',
    ),
]


@pytest.mark.parametrize(
    'overrides, pattern', [(case[1], case[2]) for case in ERRORS], ids=[case[0] for case in ERRORS]
)
def test_errors(overrides, pattern):
    kwargs = dict(BASE)
    kwargs.update(overrides)
    with pytest.raises(PlanError, match=pattern):
        plan_multinic(**kwargs)


def test_error_is_a_value_error():
    with pytest.raises(ValueError):
        plan_multinic('10.0.4.0/20', 2, 6, HOSTS)


def test_first_error_wins_and_nothing_is_returned_half_done():
    # the bad NIC of the last host fails the whole plan, even though the others fit
    hosts = single_net_hosts(['h%d' % num for num in range(20)]) + make_hosts(('bad', ['10.7.0.1/24']))
    with pytest.raises(PlanError, match=r'host bad interface eth1 address 10\.7\.0\.1/24 is in none'):
        plan_multinic('192.168.0.0/16', 2, 6, hosts, master_nets=['10.0.1.0/24'])


def test_zero_bits():
    hosts = make_hosts(('only', ['10.0.1.5/24']))
    result = plan_multinic('192.168.7.0/24', 0, 0, hosts, vlan_mode='l3')
    assert result['plan']['interfaces'] == [
        {
            'index': 0,
            'master_net': '10.0.1.0/24',
            'vlan_cidr': '192.168.7.0/24',
            'hosts': [
                {'name': 'only', 'index': 0, 'interface': 'eth1', 'host_ip': '10.0.1.5', 'pod_cidr': '192.168.7.0/24'}
            ],
        }
    ]
    assert result['routes'] == {'only': []}


def test_no_hosts():
    assert plan_multinic('192.168.0.0/16', 2, 6, []) == {'plan': {'interfaces': []}, 'routes': {}}
    result = plan_multinic('192.168.0.0/16', 2, 6, [], master_nets=['10.0.1.0/24'], vlan_mode='l3')
    assert result == {
        'plan': {'interfaces': [{'index': 0, 'master_net': '10.0.1.0/24', 'vlan_cidr': '192.168.0.0/18', 'hosts': []}]},
        'routes': {},
    }


# ---------------------------------------------------------------------------
# Property test
# ---------------------------------------------------------------------------

NETS = [('10.1', 16), ('10.2', 16), ('10.3', 16), ('10.4', 16), ('10.5', 16)]
SPEC = {'subnet': '172.16.0.0/12', 'interface_block': 3, 'host_block': 11}


def _random_hosts(rng, count, prefix='node'):
    hosts = []
    for num in range(count):
        nics = [
            {'name': 'nic%d' % pos, 'address': '%s.%d.%d/%d' % (net, num // 250, num % 250 + 1, plen)}
            for pos, (net, plen) in enumerate(NETS)
            if rng.random() < 0.85
        ]
        hosts.append({'name': '%s-%04d' % (prefix, num), 'interfaces': nics})
    rng.shuffle(hosts)
    return hosts


def _random_excludes(rng):
    excludes = []
    for _count in range(6):
        start = ipaddress.ip_address('172.16.0.0') + rng.randrange(len(NETS) * 2**17)
        excludes.append(ipaddress.ip_network('%s/%d' % (start, rng.choice([20, 23, 25, 28, 32])), strict=False))
    return excludes


def _check_entry(entry, excludes):
    """One interface: vlan block at its index, pod blocks at theirs, none touching exclude."""
    subnet = ipaddress.ip_network(SPEC['subnet'])
    vlan = ipaddress.ip_network(entry['vlan_cidr'])
    assert vlan.subnet_of(subnet) and vlan.prefixlen == subnet.prefixlen + SPEC['interface_block']
    assert (int(vlan.network_address) - int(subnet.network_address)) >> (32 - vlan.prefixlen) == entry['index']
    indexes = [row['index'] for row in entry['hosts']]
    assert indexes == sorted(set(indexes))
    assert all(0 <= index < 2 ** SPEC['host_block'] for index in indexes)
    master = ipaddress.ip_network(entry['master_net'])
    pods = []
    for row in entry['hosts']:
        pod = ipaddress.ip_network(row['pod_cidr'])
        assert pod.subnet_of(vlan) and pod.prefixlen == vlan.prefixlen + SPEC['host_block']
        assert (int(pod.network_address) - int(vlan.network_address)) >> (32 - pod.prefixlen) == row['index']
        assert not any(pod.overlaps(ex) for ex in excludes), (pod, excludes)
        assert ipaddress.ip_address(row['host_ip']) in master
        pods.append(pod)
    return pods


def _check_invariants(result, excludes, hosts):
    pods = []
    vlan_indexes = [entry['index'] for entry in result['plan']['interfaces']]
    assert vlan_indexes == sorted(set(vlan_indexes))
    for entry in result['plan']['interfaces']:
        pods.extend(_check_entry(entry, excludes))
    assert len(pods) == sum(len(host['interfaces']) for host in hosts)
    pods.sort()
    for left, right in zip(pods, pods[1:]):
        assert not left.overlaps(right), (left, right)


def _indexes(result):
    return dict(
        ((entry['master_net'], row['name']), row['index'])
        for entry in result['plan']['interfaces']
        for row in entry['hosts']
    )


@pytest.mark.parametrize('seed', [1, 7, 42])
def test_property_random_plans(seed):
    rng = random.Random(seed)
    excludes = _random_excludes(rng)
    exclude = [str(ex) for ex in excludes]
    hosts = _random_hosts(rng, 1200)
    first = plan_multinic(hosts=hosts, exclude=exclude, **SPEC)
    _check_invariants(first, excludes, hosts)
    assert first == plan_multinic(hosts=copy.deepcopy(hosts), exclude=exclude, **SPEC)

    # drop about a third of the hosts, add new ones, re-plan: survivors keep their indexes
    hosts2 = [host for host in hosts if rng.random() > 0.33] + _random_hosts(rng, 1500, 'new')[:300]
    rng.shuffle(hosts2)
    second = plan_multinic(hosts=hosts2, exclude=exclude, previous=first['plan'], **SPEC)
    _check_invariants(second, excludes, hosts2)
    before = _indexes(first)
    for key, index in _indexes(second).items():
        if key[1].startswith('new-'):
            assert key not in before
        else:
            assert before[key] == index


@pytest.mark.parametrize(
    'name, fragment',
    [
        ('eth 1', "contains ' '"),
        ('ens1f0-storage-rail', 'is 19 characters long: the kernel allows at most 15'),
        ('nic/1', "contains '/'"),
        ('..', "'.' and '..' are refused by the kernel"),
    ],
)
def test_nic_names_must_be_interface_names(name, fragment):
    hosts = [{'name': 'a', 'interfaces': [{'name': name, 'address': '10.0.1.5/24'}]}]
    with pytest.raises(PlanError) as err:
        plan_multinic('192.168.0.0/16', 2, 8, hosts)
    assert 'host a interfaces[0] name %r' % name in str(err.value) and fragment in str(err.value), str(err.value)
