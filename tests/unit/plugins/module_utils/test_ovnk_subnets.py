# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the OVN-Kubernetes subnet parser and node host-subnet planner.

Expected values are worked out by hand from the OVN-Kubernetes rules
(host length defaults /24 and /64, one host subnet per IP family and node,
lowest free block first), not copied from the code's output.
"""

import ipaddress
import time

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import (
    check_internal_overlaps,
    parse_subnets,
    plan_node_subnets,
)


def node_map(result):
    return dict((n['name'], n['subnets']) for n in result['plan']['nodes'])


# ---------------------------------------------------------------- parse_subnets


@pytest.mark.parametrize(
    'subnets, topology, expected',
    [
        ('10.128.0.0/16/24', 'layer3', [('10.128.0.0/16', 24)]),
        ('10.128.0.0/16', 'layer3', [('10.128.0.0/16', 24)]),  # IPv4 default /24
        ('fd00:10:128::/48', 'layer3', [('fd00:10:128::/48', 64)]),  # IPv6 default /64
        ('fd00:10:128::/48/64', 'layer3', [('fd00:10:128::/48', 64)]),
        ('10.132.0.0/14/23', 'layer3', [('10.132.0.0/14', 23)]),
        ('10.0.0.0/16/31', 'layer3', [('10.0.0.0/16', 31)]),  # longest IPv4 host subnet
        (' 10.128.0.0/16/24 , fd00:10:128::/48 ', 'layer3', [('10.128.0.0/16', 24), ('fd00:10:128::/48', 64)]),
        (['10.0.0.0/16/26', 'fd00::/56'], 'layer3', [('10.0.0.0/16', 26), ('fd00::/56', 64)]),
        ('10.0.0.0/16,10.1.0.0/16/24', 'layer3', [('10.0.0.0/16', 24), ('10.1.0.0/16', 24)]),  # two of one family
        ('10.0.0.0/16/32', 'layer3', [('10.0.0.0/16', 32)]),  # /32 host subnets: OVN-K refuses only > 32
        ('fd00::/48,10.0.0.0/16', 'layer3', [('fd00::/48', 64), ('10.0.0.0/16', 24)]),  # order kept
        ('10.100.200.0/24', 'layer2', [('10.100.200.0/24', None)]),
        ('10.100.200.0/24,fd00:100::/64', 'localnet', [('10.100.200.0/24', None), ('fd00:100::/64', None)]),
        ('192.0.2.7/32', 'localnet', [('192.0.2.7/32', None)]),
        ('', 'layer2', []),  # no IPAM on layer2
        (None, 'localnet', []),
        ([], 'layer2', []),
    ],
)
def test_parse_subnets(subnets, topology, expected):
    assert parse_subnets(subnets, topology) == [{'cidr': c, 'host_length': h} for c, h in expected]


@pytest.mark.parametrize(
    'subnets, topology, pattern',
    [
        ('fd00::/48/56', 'layer3', r"'fd00::/48/56'.*/56.*only supports /64"),
        ('fd00::/48/72', 'layer3', r"/72.*only supports /64"),
        ('fd00::/64', 'layer3', r"host length /64 is not longer than the subnet's /64"),  # default /64 on a /64
        ('fd00::/80/64', 'layer3', r"host length /64 is not longer than the subnet's /80"),
        ('10.0.0.0/24/24', 'layer3', r"host length /24 is not longer than the subnet's /24"),
        ('10.0.0.0/24/16', 'layer3', r"host length /16 is not longer than the subnet's /24"),
        ('10.0.0.0/26', 'layer3', r"host length /24 is not longer than the subnet's /26"),  # default /24 on a /26
        ('10.0.0.0/16/33', 'layer3', r"/33 is too long: expected at most /32"),
        # one IPv4 host length for all entries (go-controller/pkg/config/utils.go)
        (
            '10.0.0.0/16,10.1.0.0/16/20',
            'layer3',
            r"entries '10.0.0.0/16' and '10.1.0.0/16/20' have IPv4 host lengths /24 and /20: OVN-Kubernetes requires the same",
        ),
        ('10.0.0.0/16/x', 'layer3', r"host length 'x' is not a whole number"),
        ('10.0.0.0/16/-1', 'layer3', r"host length '-1' is not a whole number"),
        ('10.0.0.0/16/', 'layer3', r"host length '' is not a whole number"),
        ('10.0.0.0/16/24', 'layer2', r"'10.0.0.0/16/24' has a host length \(/24\) but topology layer2"),
        ('10.0.0.0/16/24', 'localnet', r"has a host length \(/24\) but topology localnet"),
        ('fd00::/48/64', 'layer2', r"has a host length \(/64\) but topology layer2"),
        ('10.0.0.0', 'layer3', r"'10.0.0.0' is not properly formatted"),
        ('10.0.0.0', 'layer2', r"'10.0.0.0' is not properly formatted"),
        ('10.0.0.0/16/24/28', 'layer3', r"not properly formatted"),
        ('10.0.0.300/16', 'layer3', r"'10.0.0.300/16' is not a valid CIDR"),
        ('10.0.0.0/40', 'layer2', r"'10.0.0.0/40' is not a valid CIDR"),
        ('10.0.1.0/16/24', 'layer3', r"host bits set .*10\.0\.0\.0/16"),
        ('fd00::1/64', 'layer2', r"host bits set .*fd00::/64"),
        ('10.0.0.0/16,', 'layer3', r"entry 1 of '10.0.0.0/16,' is empty"),
        (',10.0.0.0/16', 'layer2', r"entry 0 .* is empty"),
        ('', 'layer3', r"layer3 needs at least one subnet"),
        (None, 'layer3', r"layer3 needs at least one subnet"),
        (42, 'layer3', r"42 is not a comma-separated string or a list"),
        ([42], 'layer3', r"entry 0 42 is not a string"),
        ('10.0.0.0/16,10.0.5.0/24/28', 'layer3', r"10\.0\.0\.0/16 overlaps .*10\.0\.5\.0/24"),
        ('10.0.0.0/16,10.0.0.0/16', 'layer2', r"10\.0\.0\.0/16 overlaps .*10\.0\.0\.0/16"),
        ('fd00::/48,fd00::/56', 'localnet', r"fd00::/48 overlaps .*fd00::/56"),
        ('10.0.0.0/16', 'layer4', r"topology 'layer4' is not supported: expected one of layer3, layer2, localnet"),
        ('10.0.0.0/16', None, r"topology None is not supported"),
    ],
)
def test_parse_subnets_errors(subnets, topology, pattern):
    with pytest.raises(PlanError, match=pattern):
        parse_subnets(subnets, topology)


# ---------------------------------------------------------------- layer3 planning


def test_three_nodes_get_consecutive_24s():
    result = plan_node_subnets('10.128.0.0/16/24', ['n1', 'n2', 'n3'])
    assert result == {
        'plan': {
            'topology': 'layer3',
            'subnets': [{'cidr': '10.128.0.0/16', 'host_length': 24}],
            'exclude_subnets': [],
            'nodes': [
                {'name': 'n1', 'subnets': ['10.128.0.0/24']},
                {'name': 'n2', 'subnets': ['10.128.1.0/24']},
                {'name': 'n3', 'subnets': ['10.128.2.0/24']},
            ],
        }
    }


def test_dual_stack_gives_one_subnet_per_family():
    result = plan_node_subnets('10.128.0.0/16/24,fd00:10:128::/48', ['a', 'b', 'c'])
    assert node_map(result) == {
        'a': ['10.128.0.0/24', 'fd00:10:128::/64'],
        'b': ['10.128.1.0/24', 'fd00:10:128:1::/64'],
        'c': ['10.128.2.0/24', 'fd00:10:128:2::/64'],
    }


def test_family_order_follows_subnets():
    result = plan_node_subnets('fd00::/48,10.0.0.0/16', ['a'])
    assert node_map(result) == {'a': ['fd00::/64', '10.0.0.0/24']}


def test_nodes_in_order_given():
    result = plan_node_subnets('10.0.0.0/16', ['c', 'a', 'b'])
    assert [n['name'] for n in result['plan']['nodes']] == ['c', 'a', 'b']
    assert node_map(result) == {'c': ['10.0.0.0/24'], 'a': ['10.0.1.0/24'], 'b': ['10.0.2.0/24']}


@pytest.mark.parametrize(
    'subnets, expected',
    [
        ('10.0.0.0/24/26', ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26']),
        ('10.0.0.0/22/24', ['10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24']),
        ('10.0.0.0/16/20', ['10.0.0.0/20', '10.0.16.0/20', '10.0.32.0/20', '10.0.48.0/20']),
        ('fd00:1:2::/62', ['fd00:1:2::/64', 'fd00:1:2:1::/64', 'fd00:1:2:2::/64', 'fd00:1:2:3::/64']),
    ],
)
def test_host_length_blocks(subnets, expected):
    result = plan_node_subnets(subnets, ['a', 'b', 'c', 'd'])
    assert [n['subnets'] for n in result['plan']['nodes']] == [[e] for e in expected]


def test_second_entry_of_a_family_used_when_first_is_full():
    # 10.0.0.0/24 and 10.1.0.0/24 hold two /25s each: four IPv4 host subnets in all,
    # one per node (OVN-Kubernetes gives a node one host subnet per family, not per entry).
    result = plan_node_subnets('10.0.0.0/24/25,10.1.0.0/24/25', ['a', 'b', 'c', 'd'])
    assert node_map(result) == {
        'a': ['10.0.0.0/25'],
        'b': ['10.0.0.128/25'],
        'c': ['10.1.0.0/25'],
        'd': ['10.1.0.128/25'],
    }


@pytest.mark.parametrize(
    'subnets, count, pattern',
    [
        ('10.0.0.0/22/24', 5, r"node 'n4'.*subnet 10\.0\.0\.0/22 with host length 24 has 4 blocks"),
        ('10.0.0.0/24/26', 5, r"subnet 10\.0\.0\.0/24 with host length 26 has 4 blocks"),
        ('10.0.0.0/16/17', 3, r"subnet 10\.0\.0\.0/16 with host length 17 has 2 blocks"),
        ('10.0.0.0/16,fd00::/63', 3, r"IPv6 .*subnet fd00::/63 with host length 64 has 2 blocks"),
        (
            '10.0.0.0/24/25,10.1.0.0/24/25',
            5,
            r"10\.0\.0\.0/24 with host length 25 has 2 blocks.*10\.1\.0\.0/24 with host length 25 has 2 blocks",
        ),
    ],
)
def test_exhaustion(subnets, count, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_node_subnets(subnets, ['n%d' % i for i in range(count)])


def test_exactly_full_is_fine():
    result = plan_node_subnets('10.0.0.0/22/24', ['a', 'b', 'c', 'd'])
    assert len(result['plan']['nodes']) == 4


@pytest.mark.parametrize(
    'nodes, pattern',
    [
        (['a', 'b', 'a'], r"nodes\[2\] 'a' is a duplicate of nodes\[0\]"),
        (['a', ''], r"nodes\[1\] '' is not a name"),
        (['a', None], r"nodes\[1\] None is not a name"),
        ('a,b', r"nodes 'a,b' is not a list of names"),
    ],
)
def test_bad_nodes(nodes, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_node_subnets('10.0.0.0/16', nodes)


def test_no_nodes():
    assert plan_node_subnets('10.0.0.0/16', [])['plan']['nodes'] == []
    assert plan_node_subnets('10.0.0.0/16', None)['plan']['nodes'] == []


def test_bad_topology_in_plan():
    with pytest.raises(
        PlanError, match=r"topology 'routed' is not supported: expected one of layer3, layer2, localnet"
    ):
        plan_node_subnets('10.0.0.0/16', ['a'], topology='routed')


# ---------------------------------------------------------------- stability

SUBNETS = '10.128.0.0/16/24,fd00:10:128::/48'


def test_replan_add_remove_readd():
    first = plan_node_subnets(SUBNETS, ['a', 'b', 'c'])
    # Nothing changed: identical plan.
    assert plan_node_subnets(SUBNETS, ['a', 'b', 'c'], previous=first['plan']) == first

    # Add a node: the others keep theirs, the new one takes the next block.
    added = plan_node_subnets(SUBNETS, ['a', 'b', 'c', 'd'], previous=first['plan'])
    assert node_map(added) == {
        'a': ['10.128.0.0/24', 'fd00:10:128::/64'],
        'b': ['10.128.1.0/24', 'fd00:10:128:1::/64'],
        'c': ['10.128.2.0/24', 'fd00:10:128:2::/64'],
        'd': ['10.128.3.0/24', 'fd00:10:128:3::/64'],
    }

    # Remove b: a, c and d keep theirs; b's blocks are released.
    removed = plan_node_subnets(SUBNETS, ['a', 'c', 'd'], previous=added['plan'])
    assert node_map(removed) == {
        'a': ['10.128.0.0/24', 'fd00:10:128::/64'],
        'c': ['10.128.2.0/24', 'fd00:10:128:2::/64'],
        'd': ['10.128.3.0/24', 'fd00:10:128:3::/64'],
    }

    # Add b back: the lowest free block is the one it had.
    back = plan_node_subnets(SUBNETS, ['a', 'b', 'c', 'd'], previous=removed['plan'])
    assert back == added

    # A newcomer instead of b takes b's released block (lowest free), not a fresh one.
    newcomer = plan_node_subnets(SUBNETS, ['a', 'c', 'd', 'e'], previous=removed['plan'])
    assert node_map(newcomer)['e'] == ['10.128.1.0/24', 'fd00:10:128:1::/64']


def test_kept_blocks_are_placed_before_new_nodes():
    first = plan_node_subnets('10.0.0.0/16', ['a', 'b'])
    # z is listed first but must not take a's 10.0.0.0/24.
    second = plan_node_subnets('10.0.0.0/16', ['z', 'a', 'b'], previous=first['plan'])
    assert node_map(second) == {'z': ['10.0.2.0/24'], 'a': ['10.0.0.0/24'], 'b': ['10.0.1.0/24']}
    assert [n['name'] for n in second['plan']['nodes']] == ['z', 'a', 'b']


def test_previous_as_whole_result():
    first = plan_node_subnets('10.0.0.0/16', ['a', 'b'])
    again = plan_node_subnets('10.0.0.0/16', ['b', 'a'], previous=first)
    assert node_map(again) == {'a': ['10.0.0.0/24'], 'b': ['10.0.1.0/24']}


def test_previous_no_longer_valid_is_reallocated():
    previous = {
        'nodes': [
            {'name': 'a', 'subnets': ['10.0.5.0/24']},  # still a valid block: kept
            {'name': 'b', 'subnets': ['10.9.0.0/24']},  # outside the subnet now
            {'name': 'c', 'subnets': ['10.0.6.0/25']},  # wrong host length
            {'name': 'd', 'subnets': ['10.0.5.0/24']},  # taken by a, which comes first in nodes
        ]
    }
    result = plan_node_subnets('10.0.0.0/16/24', ['a', 'b', 'c', 'd'], previous=previous)
    assert node_map(result) == {
        'a': ['10.0.5.0/24'],
        'b': ['10.0.0.0/24'],
        'c': ['10.0.1.0/24'],
        'd': ['10.0.2.0/24'],
    }


def test_previous_dual_stack_to_single_stack():
    first = plan_node_subnets(SUBNETS, ['a', 'b'])
    single = plan_node_subnets('10.128.0.0/16/24', ['b', 'a'], previous=first['plan'])
    assert node_map(single) == {'a': ['10.128.0.0/24'], 'b': ['10.128.1.0/24']}


def test_previous_single_to_dual_stack_keeps_ipv4():
    first = plan_node_subnets('10.128.0.0/16/24', ['a', 'b'])
    dual = plan_node_subnets(SUBNETS, ['b', 'a'], previous=first['plan'])
    # IPv4 kept, IPv6 allocated lowest first in node order (b, then a).
    assert node_map(dual) == {
        'a': ['10.128.0.0/24', 'fd00:10:128:1::/64'],
        'b': ['10.128.1.0/24', 'fd00:10:128::/64'],
    }


def test_previous_only_one_block_per_family_kept():
    previous = {'nodes': [{'name': 'a', 'subnets': ['10.0.3.0/24', '10.0.4.0/24']}]}
    result = plan_node_subnets('10.0.0.0/16', ['a', 'b'], previous=previous)
    assert node_map(result) == {'a': ['10.0.3.0/24'], 'b': ['10.0.0.0/24']}


@pytest.mark.parametrize(
    'previous, pattern',
    [
        (
            {'nodes': [{'name': 'a', 'subnets': ['10.0.0.300/24']}]},
            r"previous nodes\[0\] \(a\) subnet '10\.0\.0\.300/24'",
        ),
        ({'nodes': 'a'}, r"previous nodes 'a' is not a list"),
        ({'nodes': ['a']}, r"previous nodes\[0\] 'a' is not a dict"),
        ('oops', r"previous 'oops' is not a plan"),
    ],
)
def test_bad_previous(previous, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_node_subnets('10.0.0.0/16', ['a'], previous=previous)


# ---------------------------------------------------------------- layer2 / localnet and excludes


@pytest.mark.parametrize('topology', ['layer2', 'localnet'])
def test_switched_topologies_have_no_node_subnets(topology):
    result = plan_node_subnets(
        '10.100.200.0/24,fd00:100::/64',
        ['a', 'b'],
        topology=topology,
        exclude_subnets='10.100.200.0/29, fd00:100::/120',
    )
    assert result == {
        'plan': {
            'topology': topology,
            'subnets': [
                {'cidr': '10.100.200.0/24', 'host_length': None},
                {'cidr': 'fd00:100::/64', 'host_length': None},
            ],
            'exclude_subnets': ['10.100.200.0/29', 'fd00:100::/120'],
            'nodes': [],
        }
    }


def test_switched_topology_without_subnets():
    result = plan_node_subnets('', ['a'], topology='localnet')
    assert result['plan']['subnets'] == [] and result['plan']['nodes'] == []


@pytest.mark.parametrize(
    'excludes, expected',
    [
        (['10.100.0.0/16'], ['10.100.0.0/16']),  # the whole subnet is allowed
        (['10.100.0.8/29', '10.100.255.255/32'], ['10.100.0.8/29', '10.100.255.255/32']),
        ('10.100.0.8/29,10.100.1.0/24', ['10.100.0.8/29', '10.100.1.0/24']),
        (None, []),
        ('', []),
    ],
)
def test_excludes_inside(excludes, expected):
    result = plan_node_subnets('10.100.0.0/16', [], topology='layer2', exclude_subnets=excludes)
    assert result['plan']['exclude_subnets'] == expected


@pytest.mark.parametrize(
    'subnets, excludes, topology, pattern',
    [
        (
            '10.100.0.0/16',
            ['10.200.0.0/24'],
            'layer2',
            r"exclude_subnets\[0\] 10\.200\.0\.0/24 is not inside any of the subnets 10\.100\.0\.0/16",
        ),
        (
            '10.100.0.0/16',
            ['10.100.0.0/24', '10.100.0.0/15'],
            'localnet',  # larger than the subnet
            r"exclude_subnets\[1\] 10\.100\.0\.0/15 is not inside any of the subnets 10\.100\.0\.0/16",
        ),
        ('10.100.0.0/16', ['fd00::/120'], 'layer2', r"fd00::/120 is not inside any of the subnets 10\.100\.0\.0/16"),
        ('', ['10.0.0.0/24'], 'layer2', r"10\.0\.0\.0/24 is not inside any of the subnets \(none given\)"),
        ('10.100.0.0/16', ['10.100.0.1/24'], 'layer2', r"host bits set"),
        ('10.100.0.0/16', ['10.100.0.7'], 'layer2', r"'10\.100\.0\.7' is not a CIDR"),
        (
            '10.128.0.0/16/24',
            ['10.128.0.0/24'],
            'layer3',
            r"exclude_subnets 10\.128\.0\.0/24 given for topology layer3",
        ),
    ],
)
def test_excludes_errors(subnets, excludes, topology, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_node_subnets(subnets, ['a'], topology=topology, exclude_subnets=excludes)


# ---------------------------------------------------------------- reserved


@pytest.mark.parametrize(
    'subnets, topology, reserved, names',
    [
        (
            '10.128.0.0/16/24',
            'layer3',
            {'pod_network': '10.128.0.0/14'},
            ['10.128.0.0/16', 'pod_network 10.128.0.0/14'],
        ),
        ('10.0.0.0/16', 'layer3', ['10.0.200.0/24'], ['10.0.0.0/16', 'reserved[0] 10.0.200.0/24']),
        (
            '10.0.0.0/16,fd00:10::/48',
            'layer3',
            [{'name': 'nodes_v6', 'cidr': 'fd00:10:0:5::/64'}],
            ['fd00:10::/48', 'nodes_v6 fd00:10:0:5::/64'],
        ),
        (
            '172.30.0.0/24',
            'layer2',
            {'service_network': ['10.0.0.0/8', '172.30.0.0/16']},
            ['172.30.0.0/24', 'service_network[1] 172.30.0.0/16'],
        ),
    ],
)
def test_reserved_overlap_names_both(subnets, topology, reserved, names):
    with pytest.raises(PlanError) as info:
        plan_node_subnets(subnets, ['a'], topology=topology, reserved=reserved)
    for name in names:
        assert name in str(info.value)
    assert 'overlaps' in str(info.value)


def test_reserved_elsewhere_is_fine():
    reserved = {'pod_network': '10.128.0.0/14', 'service_network': '172.30.0.0/16', 'v6': 'fd01::/48'}
    result = plan_node_subnets('10.132.0.0/16,fd00::/48', ['a'], reserved=reserved)
    assert node_map(result) == {'a': ['10.132.0.0/24', 'fd00::/64']}


# ---------------------------------------------------------------- scale


def test_16384_nodes_dual_stack_is_fast_and_stable():
    nodes = ['node-%05d' % i for i in range(16384)]
    start = time.time()
    first = plan_node_subnets('10.0.0.0/8/24,fd00::/48', nodes)
    elapsed = time.time() - start
    assert elapsed < 10, 'planning 16384 nodes took %.1fs' % elapsed
    got = node_map(first)
    # Node i has block i: 16383 = 63 * 256 + 255 = 0x3fff.
    assert got['node-00000'] == ['10.0.0.0/24', 'fd00::/64']
    assert got['node-00256'] == ['10.1.0.0/24', 'fd00:0:0:100::/64']
    assert got['node-16383'] == ['10.63.255.0/24', 'fd00:0:0:3fff::/64']
    v4 = set(s[0] for s in got.values())
    v6 = set(s[1] for s in got.values())
    assert len(v4) == len(v6) == 16384

    # Drop one node and add another: only the newcomer changes, and it takes the freed blocks.
    nodes2 = nodes[:100] + nodes[101:] + ['node-new']
    start = time.time()
    second = plan_node_subnets('10.0.0.0/8/24,fd00::/48', nodes2, previous=first['plan'])
    elapsed = time.time() - start
    assert elapsed < 10, 're-planning 16384 nodes took %.1fs' % elapsed
    got2 = node_map(second)
    # node-00100 had block 100 (0x64).
    assert got2['node-new'] == got['node-00100'] == ['10.0.100.0/24', 'fd00:0:0:64::/64']
    for name in nodes2[:-1]:
        assert got2[name] == got[name]


def test_host_subnets_disjoint_and_inside():
    # 16 /26s, then 64 /26s, then 1024 /26s: 1104 IPv4 host subnets for 300 nodes.
    nodes = ['n%d' % i for i in range(300)]
    entries = ('10.10.0.0/22', '10.20.0.0/20', '10.30.0.0/16', 'fd00:a::/48')
    result = plan_node_subnets('10.10.0.0/22/26,10.20.0.0/20/26,10.30.0.0/16/26,fd00:a::/48', nodes)
    nets = [ipaddress.ip_network(s) for n in result['plan']['nodes'] for s in n['subnets']]
    assert len(nets) == 600
    for version in (4, 6):
        same = sorted((n for n in nets if n.version == version), key=lambda n: int(n.network_address))
        for a, b in zip(same, same[1:]):
            assert not a.overlaps(b)
    parents = [ipaddress.ip_network(c) for c in entries]
    for net in nets:
        assert any(net.version == p.version and net.subnet_of(p) for p in parents)
        assert net.prefixlen in (26, 64)
    # the first entries fill before the next one is used
    assert sum(1 for n in nets if n.version == 4 and n.subnet_of(parents[0])) == 16
    assert sum(1 for n in nets if n.version == 4 and n.subnet_of(parents[1])) == 64
    got = node_map(result)
    assert got['n15'][0] == '10.10.3.192/26'  # last of the 16 /26s
    assert got['n16'][0] == '10.20.0.0/26'  # first of the second entry
    assert got['n79'][0] == '10.20.15.192/26'  # last of its 64 /26s
    assert got['n80'][0] == '10.30.0.0/26'
    assert got['n299'] == ['10.30.54.192/26', 'fd00:a:0:12b::/64']  # (299 - 80) * 64 = 54 * 256 + 192; 299 = 0x12b


# ------------------------------------------------------------ SubnetOverlapCheck (pkg/util/multi_network.go)


@pytest.mark.parametrize(
    'subnets, topology, pattern',
    [
        (
            '100.64.0.0/20/24',
            'layer3',
            r"subnets entry 100\.64\.0\.0/20 overlaps OVN-Kubernetes' join subnet 100\.64\.0\.0/16",
        ),
        ('100.88.0.0/20/24', 'layer3', r"OVN-Kubernetes' transit subnet 100\.88\.0\.0/16"),
        ('100.65.0.0/24', 'layer2', r"default user-defined join subnet 100\.65\.0\.0/16"),
        ('fd69::/120', 'layer2', r"OVN-Kubernetes' masquerade subnet fd69::/112"),
    ],
)
def test_plans_refuse_ovnk_internal_subnets(subnets, topology, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_node_subnets(subnets, ['a'], topology=topology)


def test_internal_subnets_by_topology_and_override():
    # layer2 has no transit subnet; localnet is never checked.
    assert plan_node_subnets('100.88.0.0/24', ['a'], topology='layer2')['plan']['subnets'][0]['cidr'] == '100.88.0.0/24'
    assert (
        plan_node_subnets('100.64.0.0/24', ['a'], topology='localnet')['plan']['subnets'][0]['cidr'] == '100.64.0.0/24'
    )
    # A cluster configured with other internal subnets.
    result = plan_node_subnets('100.64.0.0/20/24', ['a'], internal={'join subnet': ['100.99.0.0/16']})
    assert node_map(result) == {'a': ['100.64.0.0/24']}
    with pytest.raises(PlanError, match='ovnk_internal_subnets'):
        plan_node_subnets('10.0.0.0/16', ['a'], internal=['100.99.0.0/16'])
    # The network's own join subnet replaces the default of its family.
    check_internal_overlaps('layer3', '100.65.0.0/20/24', join_subnet='198.18.90.0/24')
    with pytest.raises(PlanError, match=r'subnets entry 10\.0\.0\.0/16 overlaps join_subnet 10\.0\.0\.0/24'):
        check_internal_overlaps('layer3', '10.0.0.0/16', join_subnet='10.0.0.0/24')


@pytest.mark.parametrize(
    'subnets, expected',
    [
        # Written by the C library (upper 80 bits not all zero): one '::' for the first longest zero run.
        ('2001:db8::/48/64', ['2001:db8::/64', '2001:db8:0:1::/64', '2001:db8:0:2::/64']),
        # The first block's upper 80 bits are zero: ipaddress writes it (the C library would write an IPv4 tail for
        # some such addresses); the next ones are the C library's again.
        ('::/62/64', ['::/64', '0:0:0:1::/64', '0:0:0:2::/64']),
    ],
)
def test_ipv6_host_subnets_are_written_as_ipaddress_writes_them(subnets, expected):
    plan = plan_node_subnets(subnets, ['a', 'b', 'c'], internal={})['plan']
    assert [node['subnets'][0] for node in plan['nodes']] == expected
    assert expected == [str(ipaddress.ip_network(text)) for text in expected]
