# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the per-network IPAM range planner.

Expected ranges are worked out by hand (aligned first fit from the low end of
the supernet), not copied from the code's output.
"""

import ipaddress
import random

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import (
    check_names,
    plan_ranges,
    prefix_for_size,
    usable_bounds,
)


def ranges(result):
    return dict((n['name'], n['range']) for n in result['plan']['networks'])


def slices(result, name):
    for net in result['plan']['networks']:
        if net['name'] == name:
            return dict((s['name'], s['range']) for s in net['nodes'])
    raise AssertionError('no network %s' % name)


# ---------------------------------------------------------------- basic shape


def test_example_from_the_module_docs():
    result = plan_ranges(
        '198.18.0.0/16',
        [
            {'name': 'storage-net', 'prefix': 24},
            {'name': 'replication-net', 'size': 200, 'node_prefix': 28},
        ],
        nodes=['worker1', 'worker2', 'worker3'],
    )
    assert result == {
        'plan': {
            'supernet': '198.18.0.0/16',
            'networks': [
                {
                    'name': 'storage-net',
                    'range': '198.18.0.0/24',
                    'range_start': '198.18.0.1',
                    'range_end': '198.18.0.254',
                    'nodes': [],
                },
                {
                    'name': 'replication-net',
                    'range': '198.18.1.0/24',
                    'range_start': '198.18.1.1',
                    'range_end': '198.18.1.254',
                    'nodes': [
                        {'name': 'worker1', 'range': '198.18.1.0/28'},
                        {'name': 'worker2', 'range': '198.18.1.16/28'},
                        {'name': 'worker3', 'range': '198.18.1.32/28'},
                    ],
                },
            ],
        }
    }


# ---------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    'size, prefix',
    [
        (1, 32),
        (2, 31),
        (3, 30),
        (4, 30),
        (5, 29),
        (8, 29),
        (9, 28),
        (200, 24),
        (255, 24),
        (256, 24),
        (257, 23),
        (1000, 22),
        (1024, 22),
        (1025, 21),
        (65536, 16),
    ],
)
def test_size_rounds_up_to_block(size, prefix):
    assert prefix_for_size(size, 32) == prefix
    result = plan_ranges('10.0.0.0/8', [{'name': 'n', 'size': size}])
    assert ranges(result)['n'] == '10.0.0.0/%d' % prefix


@pytest.mark.parametrize('size, prefix', [(1, 128), (256, 120), (2**64, 64), (2**64 + 1, 63)])
def test_size_ipv6(size, prefix):
    assert prefix_for_size(size, 128) == prefix


def test_size_fills_supernet_exactly():
    assert ranges(plan_ranges('10.1.2.0/24', [{'name': 'all', 'size': 256}])) == {'all': '10.1.2.0/24'}


@pytest.mark.parametrize(
    'size, pattern',
    [
        (0, r"network 'n' size 0 is not a number of addresses: expected 1 or more"),
        (-5, r"network 'n' size -5 is not a number of addresses"),
        (1.5, r"network 'n' size 1.5 is not a whole number"),
        ('10', r"network 'n' size '10' is not a whole number"),
        (True, r"network 'n' size True is not a whole number"),
        (2**32 + 1, r"network 'n' size 4294967297 is more addresses than an IPv4 address space holds"),
        (257, r"network 'n' needs a /23, larger than the supernet 10.0.0.0/24"),
    ],
)
def test_bad_size(size, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_ranges('10.0.0.0/24', [{'name': 'n', 'size': size}])


# ---------------------------------------------------------------- alignment and order


def test_alignment_and_first_fit():
    result = plan_ranges(
        '10.0.0.0/16',
        [
            {'name': 'a', 'prefix': 26},
            {'name': 'b', 'prefix': 24},  # cannot start at 10.0.0.64: next aligned /24
            {'name': 'c', 'prefix': 26},  # fills the gap after a
            {'name': 'd', 'prefix': 25},  # 10.0.0.128/25 is the first free aligned /25
            {'name': 'e', 'prefix': 23},  # 10.0.0.0/23 overlaps a..d, so 10.0.2.0/23
        ],
    )
    assert ranges(result) == {
        'a': '10.0.0.0/26',
        'b': '10.0.1.0/24',
        'c': '10.0.0.64/26',
        'd': '10.0.0.128/25',
        'e': '10.0.2.0/23',
    }
    assert [n['name'] for n in result['plan']['networks']] == ['a', 'b', 'c', 'd', 'e']


def test_order_matters():
    forward = plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 26}, {'name': 'b', 'prefix': 24}])
    backward = plan_ranges('10.0.0.0/16', [{'name': 'b', 'prefix': 24}, {'name': 'a', 'prefix': 26}])
    assert ranges(forward) == {'a': '10.0.0.0/26', 'b': '10.0.1.0/24'}
    assert ranges(backward) == {'b': '10.0.0.0/24', 'a': '10.0.1.0/26'}
    assert [n['name'] for n in backward['plan']['networks']] == ['b', 'a']


def test_whole_supernet_prefix():
    assert ranges(plan_ranges('10.0.0.0/24', [{'name': 'x', 'prefix': 24}])) == {'x': '10.0.0.0/24'}


def test_ipv6_supernet():
    result = plan_ranges('fd00:abcd::/48', [{'name': 'a', 'prefix': 64}, {'name': 'b', 'size': 4096}])
    assert ranges(result) == {'a': 'fd00:abcd::/64', 'b': 'fd00:abcd:0:1::/116'}
    net = result['plan']['networks'][1]
    assert (net['range_start'], net['range_end']) == ('fd00:abcd:0:1::1', 'fd00:abcd:0:1::fff')


# ---------------------------------------------------------------- usable bounds


@pytest.mark.parametrize(
    'network, first, last',
    [
        ('10.0.0.0/24', '10.0.0.1', '10.0.0.254'),
        ('10.0.0.0/30', '10.0.0.1', '10.0.0.2'),
        ('10.0.0.4/31', '10.0.0.4', '10.0.0.5'),
        ('10.0.0.7/32', '10.0.0.7', '10.0.0.7'),
        ('10.0.0.0/16', '10.0.0.1', '10.0.255.254'),
        ('fd00::/120', 'fd00::1', 'fd00::ff'),
        ('fd00::/64', 'fd00::1', 'fd00::ffff:ffff:ffff:ffff'),
        ('fd00::/127', 'fd00::1', 'fd00::1'),
        ('fd00::5/128', 'fd00::5', 'fd00::5'),
        ('::/112', '::1', '::ffff'),  # small IPv6 integers stay IPv6
    ],
)
def test_usable_bounds(network, first, last):
    assert usable_bounds(ipaddress.ip_network(network)) == (first, last)


# ---------------------------------------------------------------- reserved


@pytest.mark.parametrize(
    'reserved, prefix, expected',
    [
        (['198.18.0.0/24'], 24, '198.18.1.0/24'),
        (['198.18.0.128/25'], 24, '198.18.1.0/24'),
        (['198.18.0.128/25'], 25, '198.18.0.0/25'),
        (['198.18.0.0/25', '198.18.0.128/26'], 26, '198.18.0.192/26'),
        ({'pod_network': '198.18.0.0/17', 'service_network': '198.18.128.0/24'}, 24, '198.18.129.0/24'),
        ([{'name': 'nodes', 'cidr': '198.18.0.0/23'}], 23, '198.18.2.0/23'),
        (['10.0.0.0/8', 'fd00::/8'], 24, '198.18.0.0/24'),  # elsewhere / other family: no effect
        (['198.0.0.0/8'], 16, None),  # the whole supernet is reserved
    ],
)
def test_reserved_skipped(reserved, prefix, expected):
    if expected is None:
        with pytest.raises(PlanError, match=r"no room left for network 'a': no free /16 in supernet 198.18.0.0/16"):
            plan_ranges('198.18.0.0/16', [{'name': 'a', 'prefix': prefix}], reserved=reserved)
        return
    assert ranges(plan_ranges('198.18.0.0/16', [{'name': 'a', 'prefix': prefix}], reserved=reserved)) == {'a': expected}


def test_reserved_overlapping_each_other_and_supernet_edge():
    reserved = ['198.16.0.0/14', '198.18.0.0/24', '198.18.0.0/23']  # the first covers all of 198.18.0.0/16
    with pytest.raises(PlanError, match='no room left'):
        plan_ranges('198.18.0.0/16', [{'name': 'a', 'prefix': 30}], reserved=reserved)
    result = plan_ranges('198.18.0.0/16', [{'name': 'a', 'prefix': 24}], reserved=reserved[1:])
    assert ranges(result) == {'a': '198.18.2.0/24'}


def test_bad_reserved():
    with pytest.raises(PlanError, match=r"reserved\[0\] '10.0.0.1/8' is not a network address"):
        plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}], reserved=['10.0.0.1/8'])


# ---------------------------------------------------------------- no room


def test_no_room():
    with pytest.raises(PlanError, match=r"no room left for network 'c': no free /25 in supernet 10.0.0.0/24"):
        plan_ranges(
            '10.0.0.0/24', [{'name': 'a', 'prefix': 25}, {'name': 'b', 'prefix': 25}, {'name': 'c', 'prefix': 25}]
        )


def test_no_room_because_of_fragmentation():
    # a takes 10.0.0.0/26 and b takes 10.0.0.128/26 (after 10.0.0.64/26 is reserved): no aligned /25 left.
    with pytest.raises(PlanError, match=r"network 'c': no free /25"):
        plan_ranges(
            '10.0.0.0/24',
            [{'name': 'a', 'prefix': 26}, {'name': 'b', 'prefix': 26}, {'name': 'c', 'prefix': 25}],
            reserved=['10.0.0.64/26'],
        )


# ---------------------------------------------------------------- previous


def test_replan_keeps_ranges():
    first = plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}])
    assert ranges(first) == {'a': '10.0.0.0/24', 'b': '10.0.1.0/24'}
    # Unchanged: identical.
    assert (
        plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}], previous=first['plan'])
        == first
    )
    # a removed, c added first in the list: b keeps 10.0.1.0/24, c takes a's old range.
    second = plan_ranges(
        '10.0.0.0/16', [{'name': 'c', 'prefix': 24}, {'name': 'b', 'prefix': 24}], previous=first['plan']
    )
    assert ranges(second) == {'c': '10.0.0.0/24', 'b': '10.0.1.0/24'}
    # Whole result accepted as previous too; order of networks changed, ranges kept.
    third = plan_ranges('10.0.0.0/16', [{'name': 'b', 'prefix': 24}, {'name': 'c', 'prefix': 24}], previous=second)
    assert ranges(third) == {'c': '10.0.0.0/24', 'b': '10.0.1.0/24'}


def test_kept_ranges_placed_before_new_ones():
    first = plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}])
    second = plan_ranges(
        '10.0.0.0/16', [{'name': 'new', 'prefix': 24}, {'name': 'a', 'prefix': 24}], previous=first['plan']
    )
    assert ranges(second) == {'new': '10.0.1.0/24', 'a': '10.0.0.0/24'}


def test_size_matching_previous_prefix_is_kept():
    first = plan_ranges('10.0.0.0/16', [{'name': 'x', 'prefix': 20}, {'name': 'a', 'prefix': 24}])
    assert ranges(first) == {'x': '10.0.0.0/20', 'a': '10.0.16.0/24'}
    second = plan_ranges('10.0.0.0/16', [{'name': 'a', 'size': 250}], previous=first['plan'])
    assert ranges(second) == {'a': '10.0.16.0/24'}


@pytest.mark.parametrize(
    'networks, reserved, supernet, expected',
    [
        # prefix changed: a is placed anew (its old /24 is free again, so a /25 lands at its start).
        (
            [{'name': 'a', 'prefix': 25}, {'name': 'b', 'prefix': 24}],
            None,
            '10.0.0.0/16',
            {'a': '10.0.0.0/25', 'b': '10.0.1.0/24'},
        ),
        # old range now reserved: a moves to the first free /24.
        (
            [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}],
            ['10.0.0.0/24'],
            '10.0.0.0/16',
            {'a': '10.0.2.0/24', 'b': '10.0.1.0/24'},
        ),
        # supernet changed: neither old range is inside.
        (
            [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}],
            None,
            '10.1.0.0/16',
            {'a': '10.1.0.0/24', 'b': '10.1.1.0/24'},
        ),
        # supernet shrank to hold only a's range.
        (
            [{'name': 'b', 'prefix': 25}, {'name': 'a', 'prefix': 24}],
            None,
            '10.0.0.0/23',
            {'a': '10.0.0.0/24', 'b': '10.0.1.0/25'},
        ),
    ],
)
def test_previous_not_kept_when_invalid(networks, reserved, supernet, expected):
    first = plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}])
    assert ranges(plan_ranges(supernet, networks, previous=first['plan'], reserved=reserved)) == expected


def test_previous_conflict_first_listed_wins():
    previous = {'networks': [{'name': 'a', 'range': '10.0.4.0/24'}, {'name': 'b', 'range': '10.0.4.0/25'}]}
    result = plan_ranges('10.0.0.0/16', [{'name': 'b', 'prefix': 25}, {'name': 'a', 'prefix': 24}], previous=previous)
    assert ranges(result) == {'b': '10.0.4.0/25', 'a': '10.0.0.0/24'}


@pytest.mark.parametrize(
    'previous, pattern',
    [
        ({'networks': [{'name': 'a', 'range': 'bogus'}]}, r"previous networks\[0\] range 'bogus' is not a CIDR"),
        ({'networks': 'a'}, r"previous networks 'a' is not a list"),
        ({'networks': [3]}, r"previous networks\[0\] 3 is not a dict"),
        ([1], r"previous \[1\] is not a plan"),
    ],
)
def test_bad_previous(previous, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}], previous=previous)


# ---------------------------------------------------------------- node slices

NETS = [{'name': 'rep', 'prefix': 24, 'node_prefix': 28}]


def test_node_slices_stable():
    first = plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2', 'w3'])
    assert slices(first, 'rep') == {'w1': '10.0.0.0/28', 'w2': '10.0.0.16/28', 'w3': '10.0.0.32/28'}
    assert plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2', 'w3'], previous=first['plan']) == first

    # w2 leaves: the others keep theirs.
    without = plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w3'], previous=first['plan'])
    assert slices(without, 'rep') == {'w1': '10.0.0.0/28', 'w3': '10.0.0.32/28'}
    # w2 comes back: the lowest free slice is its old one.
    assert plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2', 'w3'], previous=without['plan']) == first
    # w4 listed first takes the freed slice, not w1's.
    newcomer = plan_ranges('10.0.0.0/16', NETS, nodes=['w4', 'w1', 'w3'], previous=without['plan'])
    assert slices(newcomer, 'rep') == {'w4': '10.0.0.16/28', 'w1': '10.0.0.0/28', 'w3': '10.0.0.32/28'}
    assert [s['name'] for s in newcomer['plan']['networks'][0]['nodes']] == ['w4', 'w1', 'w3']
    # Then w2 returns after w4 took its slice: it gets the next free one.
    later = plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2', 'w3', 'w4'], previous=newcomer['plan'])
    assert slices(later, 'rep') == {
        'w1': '10.0.0.0/28',
        'w2': '10.0.0.48/28',
        'w3': '10.0.0.32/28',
        'w4': '10.0.0.16/28',
    }


def test_node_slices_change_with_node_prefix():
    first = plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2'])
    finer = plan_ranges(
        '10.0.0.0/16', [{'name': 'rep', 'prefix': 24, 'node_prefix': 29}], nodes=['w2', 'w1'], previous=first['plan']
    )
    assert ranges(finer) == {'rep': '10.0.0.0/24'}
    assert slices(finer, 'rep') == {'w2': '10.0.0.0/29', 'w1': '10.0.0.8/29'}


def test_node_slices_follow_a_moved_range():
    first = plan_ranges('10.0.0.0/16', NETS, nodes=['w1', 'w2'])
    moved = plan_ranges('10.0.0.0/16', NETS, nodes=['w2', 'w1'], previous=first['plan'], reserved=['10.0.0.0/24'])
    assert ranges(moved) == {'rep': '10.0.1.0/24'}
    assert slices(moved, 'rep') == {'w2': '10.0.1.0/28', 'w1': '10.0.1.16/28'}


def test_no_node_prefix_no_slices():
    result = plan_ranges('10.0.0.0/16', [{'name': 'a', 'prefix': 24}], nodes=['w1', 'w2'])
    assert result['plan']['networks'][0]['nodes'] == []
    result = plan_ranges('10.0.0.0/16', NETS, nodes=None)
    assert result['plan']['networks'][0]['nodes'] == []


def test_node_slices_exactly_full():
    result = plan_ranges(
        '10.0.0.0/16', [{'name': 'a', 'prefix': 28, 'node_prefix': 30}], nodes=['n1', 'n2', 'n3', 'n4']
    )
    assert slices(result, 'a') == {'n1': '10.0.0.0/30', 'n2': '10.0.0.4/30', 'n3': '10.0.0.8/30', 'n4': '10.0.0.12/30'}


@pytest.mark.parametrize(
    'network, nodes, pattern',
    [
        (
            {'name': 'a', 'prefix': 28, 'node_prefix': 30},
            ['n1', 'n2', 'n3', 'n4', 'n5'],
            r"network 'a' range 10.0.0.0/28 holds 4 /30 node slices, fewer than the 5 nodes",
        ),
        (
            {'name': 'a', 'prefix': 24, 'node_prefix': 24},
            ['n1'],
            r"network 'a' node_prefix /24 is not longer than its range's /24",
        ),
        (
            {'name': 'a', 'prefix': 24, 'node_prefix': 20},
            ['n1'],
            r"node_prefix /20 is not longer than its range's /24: expected /25 to /32",
        ),
        (
            {'name': 'a', 'prefix': 24, 'node_prefix': 33},
            ['n1'],
            r"network 'a' node_prefix 33 is out of range: expected 0 to 32",
        ),
        (
            {'name': 'a', 'prefix': 24, 'node_prefix': '28'},
            ['n1'],
            r"network 'a' node_prefix '28' is not a whole number",
        ),
    ],
)
def test_bad_node_prefix(network, nodes, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_ranges('10.0.0.0/16', [network], nodes=nodes)


# ---------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    'supernet, networks, pattern',
    [
        ('10.0.0.1/16', [{'name': 'a', 'prefix': 24}], r"supernet '10.0.0.1/16' is not a network address.*10.0.0.0/16"),
        ('10.0.0.0', [{'name': 'a', 'prefix': 24}], r"supernet '10.0.0.0' is not a CIDR"),
        (
            '10.0.0.0/16',
            [{'name': 'a', 'prefix': 8}],
            r"network 'a' needs a /8, larger than the supernet 10.0.0.0/16: expected a prefix of /16 or longer",
        ),
        ('10.0.0.0/16', [{'name': 'a', 'prefix': 33}], r"network 'a' prefix 33 is out of range: expected 0 to 32"),
        ('10.0.0.0/16', [{'name': 'a', 'prefix': '24'}], r"network 'a' prefix '24' is not a whole number"),
        (
            '10.0.0.0/16',
            [{'name': 'a', 'prefix': 24, 'size': 10}],
            r"network 'a' has both prefix 24 and size 10: expected exactly one",
        ),
        ('10.0.0.0/16', [{'name': 'a'}], r"network 'a' has neither prefix nor size: expected exactly one"),
        (
            '10.0.0.0/16',
            [{'name': 'a', 'prefix': 24}, {'name': 'a', 'prefix': 25}],
            r"networks\[1\] name 'a' is a duplicate of networks\[0\]",
        ),
        ('10.0.0.0/16', [{'name': '', 'prefix': 24}], r"networks\[0\] name '' is not a name"),
        ('10.0.0.0/16', [{'prefix': 24}], r"networks\[0\] name None is not a name"),
        ('10.0.0.0/16', ['a'], r"networks\[0\] 'a' is not a dict"),
        ('10.0.0.0/16', 'a', r"networks 'a' is not a list"),
        ('10.0.0.0/16', None, r"networks None is not a list"),
    ],
)
def test_input_errors(supernet, networks, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_ranges(supernet, networks)


@pytest.mark.parametrize(
    'nodes, pattern',
    [
        (['w1', 'w1'], r"nodes\[1\] 'w1' is a duplicate of nodes\[0\]"),
        (['w1', 3], r"nodes\[1\] 3 is not a name"),
        ('w1', r"nodes 'w1' is not a list of names"),
    ],
)
def test_bad_nodes(nodes, pattern):
    with pytest.raises(PlanError, match=pattern):
        plan_ranges('10.0.0.0/16', NETS, nodes=nodes)


def test_check_names_returns_list():
    assert check_names(('a', 'b'), 'nodes') == ['a', 'b']
    assert check_names(None, 'nodes') == []


# ---------------------------------------------------------------- property


@pytest.mark.parametrize('seed', range(40))
def test_property_disjoint_inside_outside_reserved(seed):
    rng = random.Random(seed)
    if seed % 2:
        supernet = ipaddress.ip_network('172.16.0.0/16')
        reserved = []
        for _count in range(rng.randint(0, 6)):
            prefix = rng.randint(20, 28)
            start = rng.randrange(0, 1 << 16) >> (32 - prefix) << (32 - prefix)
            reserved.append(str(ipaddress.ip_network((int(supernet.network_address) + start, prefix))))
        if seed % 4 == 3:
            reserved.append('10.0.0.0/8')  # outside the supernet: no effect
        # At most 20 networks of /22 or smaller and 6 reserved /20s touch 44 of the 64 aligned /22s: always room.
        lengths = (22, 28)
    else:
        supernet = ipaddress.ip_network('fd00:1234::/112')
        reserved = ['fd00:1234::%x/120' % (rng.randrange(0, 256) << 8) for _count in range(rng.randint(0, 6))]
        lengths = (118, 124)
    networks = []
    for i in range(rng.randint(1, 20)):
        prefix = rng.randint(*lengths)
        if rng.random() < 0.5:
            networks.append({'name': 'net%d' % i, 'prefix': prefix})
        else:
            size = rng.randint((1 << (supernet.max_prefixlen - prefix - 1)) + 1, 1 << (supernet.max_prefixlen - prefix))
            networks.append({'name': 'net%d' % i, 'size': size})
    result = plan_ranges(str(supernet), networks, reserved=reserved)
    planned = [ipaddress.ip_network(n['range']) for n in result['plan']['networks']]
    reserved_nets = [ipaddress.ip_network(r) for r in reserved]
    for spec, net in zip(networks, planned):
        want = spec.get('prefix')
        if want is None:
            want = supernet.max_prefixlen - (spec['size'] - 1).bit_length()
            assert net.num_addresses >= spec['size'] > net.num_addresses // 2
        assert net.prefixlen == want
        assert net.subnet_of(supernet)
        for res in reserved_nets:
            assert res.version != net.version or not net.overlaps(res)
    for i, a in enumerate(planned):
        for b in planned[i + 1 :]:
            assert not a.overlaps(b)
    # A re-plan with the same input changes nothing.
    assert plan_ranges(str(supernet), networks, reserved=reserved, previous=result['plan']) == result


def test_unknown_network_key_is_refused_naming_it():
    with pytest.raises(PlanError) as exc:
        plan_ranges('10.0.0.0/16', [{'name': 'storage', 'prefix': 24, 'node_prefx': 28}], nodes=['a'])
    assert "'storage'" in str(exc.value) and 'node_prefx' in str(exc.value) and 'node_prefix' in str(exc.value)


def test_no_room_because_of_a_reserved_network_names_it():
    reserved = {'pod_network': '198.18.0.0/17', 'service_network': '198.18.200.0/24'}
    networks = [{'name': 'a', 'prefix': 18}, {'name': 'b', 'prefix': 18}]
    with pytest.raises(PlanError) as err:
        plan_ranges('198.18.0.0/16', networks, reserved=reserved)
    message = str(err.value)
    # Without the pod network both /18s would fit; a took 198.18.128.0/18, b finds nothing.
    assert "no room left for network 'b': no free /18 in supernet 198.18.0.0/16 because of" in message, message
    assert 'reserved pod_network 198.18.0.0/17' in message and 'a 198.18.128.0/18' in message, message


def test_no_room_among_planned_ranges_lists_them():
    with pytest.raises(PlanError) as err:
        plan_ranges(
            '10.0.0.0/24', [{'name': 'a', 'prefix': 25}, {'name': 'b', 'prefix': 25}, {'name': 'c', 'prefix': 26}]
        )
    assert 'after the ranges planned before it (a 10.0.0.0/25, b 10.0.0.128/25)' in str(err.value), str(err.value)
    assert 'because of' not in str(err.value)
