# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared CIDR math: parsing, blocks and the overlap sweep."""

import ipaddress
import random

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError


@pytest.mark.parametrize(
    'value, fragments',
    [
        ('10.0.4.0/20', ["'10.0.4.0/20'", 'host bits', '10.0.0.0/20']),
        ('10.0.0.0', ["'10.0.0.0'", 'prefix length']),
        ('10.0.0.0/33', ["'10.0.0.0/33'", 'not a valid CIDR']),
        ('banana/8', ["'banana/8'"]),
        (None, ['None']),
        ('fd00::1/64', ["'fd00::1/64'", 'fd00::/64']),
    ],
)
def test_parse_network_errors(value, fragments):
    with pytest.raises(PlanError) as exc:
        cidr.parse_network(value, 'subnet')
    for fragment in fragments:
        assert fragment in str(exc.value)
    assert str(exc.value).startswith('subnet ')


def test_block_and_index_are_inverse():
    net = ipaddress.ip_network('172.16.0.0/12')
    for index in (0, 1, 17, 255):
        sub = cidr.block(net, 8, index)
        assert sub.prefixlen == 20 and sub.subnet_of(net)
        assert cidr.block_index(net, 8, sub) == index


@pytest.mark.parametrize(
    'net, bits, index, fragment',
    [
        ('10.0.0.0/30', 3, 0, '/33'),
        ('10.0.0.0/24', 2, 4, '0 to 3'),
        ('10.0.0.0/24', 2, -1, '-1'),
        ('fd00::/64', 65, 0, '128 bits'),
    ],
)
def test_block_limits(net, bits, index, fragment):
    with pytest.raises(PlanError, match=fragment):
        cidr.block(net, bits, index)


def test_check_bits():
    assert cidr.check_bits(6, 'host_block', 32) == 6
    for bad in (-1, 33, 'six', 2.5, True):
        with pytest.raises(PlanError, match='host_block'):
            cidr.check_bits(bad, 'host_block', 32)


def brute_force_overlap(named, reserved):
    planned = [(label, net, False) for label, net in named] + [(label, net, True) for label, net in reserved]
    for i, (_label_a, a, ra) in enumerate(planned):
        for _label_b, b, rb in planned[i + 1 :]:
            if a.version == b.version and a.overlaps(b) and not (ra and rb):
                return True
    return False


def test_find_overlaps_agrees_with_brute_force():
    rng = random.Random(20261123)
    for _dummy in range(400):
        named = []
        for k in range(rng.randint(0, 12)):
            prefix = rng.randint(20, 28)
            base = ipaddress.ip_network('198.18.0.0/20')
            net = ipaddress.ip_network(
                (int(base.network_address) + (rng.randrange(1 << 12) >> (32 - prefix) << (32 - prefix)), prefix),
                strict=False,
            )
            named.append(('n%d' % k, net))
        reserved = [
            (
                'r%d' % k,
                ipaddress.ip_network(
                    (int(ipaddress.ip_address('198.18.0.0')) + rng.randrange(1 << 12), 26), strict=False
                ),
            )
            for k in range(rng.randint(0, 3))
        ]
        found = cidr.find_overlaps(named, reserved)
        assert (found is not None) == brute_force_overlap(named, reserved), (named, reserved)
        if found:
            assert found[1].overlaps(found[3])


def test_check_overlaps_names_both_and_puts_planned_first():
    with pytest.raises(PlanError) as exc:
        cidr.check_overlaps(
            [('pod block of h1', ipaddress.ip_network('10.128.4.0/24'))],
            cidr.named_reserved({'pod_network': '10.128.0.0/14'}),
        )
    assert str(exc.value) == 'pod block of h1 10.128.4.0/24 overlaps reserved pod_network 10.128.0.0/14'


def test_ipv4_and_ipv6_never_overlap():
    assert cidr.find_overlaps([('a', ipaddress.ip_network('0.0.0.0/0')), ('b', ipaddress.ip_network('::/0'))]) is None


@pytest.mark.parametrize(
    'reserved, labels',
    [
        (['10.0.0.0/8'], ['reserved[0]']),
        ([{'name': 'svc', 'cidr': '172.30.0.0/16'}], ['reserved svc']),
        ({'pod_network': '10.128.0.0/14,fd01::/48'}, ['reserved pod_network[0]', 'reserved pod_network[1]']),
        ({'node_network': ['198.18.0.0/24']}, ['reserved node_network']),
        (None, []),
    ],
)
def test_named_reserved_forms(reserved, labels):
    assert [pair[0] for pair in cidr.named_reserved(reserved)] == labels


def test_named_reserved_bad_value_names_it():
    with pytest.raises(PlanError, match="reserved svc '172.30.0.1/16'"):
        cidr.named_reserved({'svc': '172.30.0.1/16'})


def test_block_of_a_low_ipv6_network_stays_ipv6():
    sub = cidr.block('::/16', 8, 1)
    assert sub.version == 6 and str(sub) == '0:100::/24'
