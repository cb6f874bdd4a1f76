# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the pure part of the data-plane preflight (module_utils/cni_preflight.py).

Expected values are worked out from the upstream behaviour, not copied from the code's output:

* CNI spec / libcni: a conflist's plugins run in order, each given the list's ``name`` and
  ``cniVersion`` and, from 0.3.0 on, the previous plugin's result as ``prevResult``; errors
  are JSON ``{"code", "msg", "details"}`` on stdout; results carry ``ips[].address`` (0.3.0+)
  or ``ip4.ip`` (0.1.0/0.2.0).
* static IPAM takes ``addresses: [{address: "a/p"}]``; whereabouts ``range`` (also the
  ``first-last/prefix`` form), ``range_start``, ``range_end``, ``exclude``, ``gateway``;
  host-local ``subnet``/``rangeStart``/``rangeEnd``/``gateway`` or ``ranges``.
* iputils ping prints "N packets transmitted, M received, X% packet loss" and
  "rtt min/avg/max/mdev = a/b/c/d ms"; errors such as "ping: connect: Network is unreachable"
  (read by hostcmd.ping_result; here what the preflight makes of it).
* ``ip -j netns list`` prints ``[{"name": ...}]``, ``ip netns list`` ``name (id: 0)``.
The outputs quoted below were captured from Debian bookworm (iproute2 6.1, iputils 20221126,
containernetworking-plugins 1.1.1).
"""

import ipaddress
import json

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_preflight as pf
from ansible_collections.netplumb.multihome.plugins.module_utils.cni_config import parse_config
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import ping_result
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import build_objects
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges

MACVLAN = {
    'cniVersion': '0.3.1',
    'name': 'storage-net',
    'type': 'macvlan',
    'master': 'nic1',
    'mode': 'bridge',
    'ipam': {
        'type': 'whereabouts',
        'range': '198.18.61.0/24',
        'range_start': '198.18.61.1',
        'range_end': '198.18.61.254',
    },
}
CONFLIST = {
    'cniVersion': '1.0.0',
    'name': 'chained',
    'plugins': [
        {'type': 'macvlan', 'master': 'nic1', 'ipam': {'type': 'whereabouts', 'range': '198.18.70.0/24'}},
        {'type': 'tuning', 'sysctl': {'net.ipv4.conf.net1.arp_notify': '1'}},
    ],
}


def conf(**changes):
    out = json.loads(json.dumps(MACVLAN))
    ipam = changes.pop('ipam', None)
    if ipam is not None:
        out['ipam'] = ipam
    out.update(changes)
    return out


# ------------------------------------------------------------------ configurations


def test_the_ipam_is_swapped_for_static_with_the_test_address():
    (only,) = pf.runtime_configs(MACVLAN, '198.18.61.254/24')
    assert only['ipam'] == {'type': 'static', 'addresses': [{'address': '198.18.61.254/24'}]}
    assert {k: v for k, v in only.items() if k != 'ipam'} == {k: v for k, v in MACVLAN.items() if k != 'ipam'}
    assert MACVLAN['ipam']['type'] == 'whereabouts'


def test_only_the_plugin_with_ipam_changes_in_a_chain():
    first, second = pf.runtime_configs(CONFLIST, '198.18.70.254/24')
    assert first['ipam'] == pf.static_ipam('198.18.70.254/24')
    assert second == dict(CONFLIST['plugins'][1], name='chained', cniVersion='1.0.0')


def test_without_a_test_address_the_ipam_is_emptied_and_l2_only_configs_run_as_written():
    (only,) = pf.runtime_configs(conf(ipam={'type': 'dhcp'}), None)
    assert only['ipam'] == {}
    l2 = conf(ipam={})
    assert pf.runtime_configs(l2, None) == [l2]
    # A test address given for an L2-only attachment: the first plugin gets it.
    (only,) = pf.runtime_configs(l2, '198.18.61.250/24')
    assert only['ipam'] == pf.static_ipam('198.18.61.250/24')
    first, second = pf.runtime_configs(
        dict(CONFLIST, plugins=[{'type': 'macvlan'}, {'type': 'tuning'}]), '198.18.70.1/24'
    )
    assert first['ipam'] == pf.static_ipam('198.18.70.1/24') and 'ipam' not in second


def test_prev_result_is_added_for_chained_plugins_only():
    assert pf.with_prev_result({'type': 'tuning'}, None) == {'type': 'tuning'}
    assert pf.with_prev_result({'type': 'tuning'}, {'ips': []}) == {'type': 'tuning', 'prevResult': {'ips': []}}


@pytest.mark.parametrize(
    'config, mtu, source, bridge',
    [
        (conf(mtu=1400), 1400, 'nic1', None),
        (conf(), None, 'nic1', None),
        (conf(type='ipvlan', mode='l2'), None, 'nic1', None),
        ({'cniVersion': '0.3.1', 'name': 'h', 'type': 'host-device', 'device': 'ens2f1'}, None, 'ens2f1', None),
        (
            {'cniVersion': '0.3.1', 'name': 'b', 'type': 'bridge', 'bridge': 'br-storage', 'mtu': 9000},
            9000,
            None,
            'br-storage',
        ),
        ({'cniVersion': '0.3.1', 'name': 'b', 'type': 'bridge'}, None, None, 'cni0'),
        (CONFLIST, None, 'nic1', None),
    ],
)
def test_mtu_and_node_links_of_a_config(config, mtu, source, bridge):
    assert pf.config_mtu(config) == mtu
    assert pf.mtu_source(config) == source
    assert pf.bridge_name(config) == bridge


# ------------------------------------------------------------------ test addresses


@pytest.mark.parametrize('index, expected', [(0, '198.18.61.254/24'), (1, '198.18.61.253/24'), (2, '198.18.61.252/24')])
def test_nodes_count_down_from_the_end_of_the_range(index, expected):
    address, how = pf.derive_test_address('storage-net', MACVLAN, node_index=index)
    assert address == expected
    assert 'node index %d' % index in how


def test_range_end_bounds_the_count_and_excludes_and_gateway_are_skipped():
    config = conf(
        ipam={
            'type': 'whereabouts',
            'range': '198.18.61.0/24',
            'range_end': '198.18.61.200',
            'exclude': ['198.18.61.196/30'],
            'gateway': '198.18.61.199',
        }
    )
    got = [pf.derive_test_address('s', config, node_index=i)[0] for i in range(4)]
    # .200, then .199 (gateway) and .196 to .199 (excluded) are skipped: .195, .194, .193.
    assert got == ['198.18.61.200/24', '198.18.61.195/24', '198.18.61.194/24', '198.18.61.193/24']


def test_a_range_without_bounds_uses_its_usable_addresses():
    config = conf(ipam={'type': 'whereabouts', 'range': '198.18.80.0/30'})
    assert pf.derive_test_address('s', config, node_index=0)[0] == '198.18.80.2/30'
    assert pf.derive_test_address('s', config, node_index=1)[0] == '198.18.80.1/30'
    with pytest.raises(pf.PreflightError, match='fewer than 3 usable addresses'):
        pf.derive_test_address('s', config, node_index=2)


def test_the_whereabouts_dash_range_form():
    config = conf(ipam={'type': 'whereabouts', 'range': '198.18.61.225-198.18.61.230/24'})
    assert pf.derive_test_address('s', config, node_index=0)[0] == '198.18.61.230/24'
    assert pf.derive_test_address('s', config, node_index=5)[0] == '198.18.61.225/24'
    with pytest.raises(pf.PreflightError, match='fewer than 7'):
        pf.derive_test_address('s', config, node_index=6)


def test_ipv6_ranges():
    config = conf(ipam={'type': 'whereabouts', 'range': 'fd00:18::/120'})
    assert pf.derive_test_address('s', config, node_index=1)[0] == 'fd00:18::fe/120'


@pytest.mark.parametrize(
    'ipam, expected',
    [
        (
            {'type': 'host-local', 'subnet': '198.18.90.0/24', 'rangeEnd': '198.18.90.100', 'gateway': '198.18.90.100'},
            '198.18.90.99/24',
        ),
        (
            {
                'type': 'host-local',
                'ranges': [[{'subnet': '198.18.91.0/24', 'rangeStart': '198.18.91.10'}], [{'subnet': 'fd00:91::/64'}]],
            },
            '198.18.91.254/24',
        ),
    ],
)
def test_host_local_pools(ipam, expected):
    assert pf.derive_test_address('s', conf(ipam=ipam))[0] == expected


@pytest.mark.parametrize(
    'ipam', [{'type': 'static', 'addresses': [{'address': '198.18.61.5/24'}]}, {'type': 'dhcp'}, {}]
)
def test_no_pool_no_address(ipam):
    address, how = pf.derive_test_address('s', conf(ipam=ipam))
    assert address is None
    assert 'no address pool' in how


def test_bad_ipam_values_name_the_attachment():
    with pytest.raises(pf.PreflightError, match=r"attachment 's' ipam range_end 198\.18\.99\.1 is not inside"):
        pf.derive_test_address(
            's', conf(ipam={'type': 'whereabouts', 'range': '198.18.61.0/24', 'range_end': '198.18.99.1'})
        )
    with pytest.raises(pf.PreflightError, match='is not a range'):
        pf.derive_test_address('s', conf(ipam={'type': 'whereabouts', 'range': 'nope'}))
    with pytest.raises(pf.PreflightError, match='node_index -1'):
        pf.derive_test_address('s', MACVLAN, node_index=-1)


def _planned():
    """A plan and the NADs nad.build_objects makes from it, as the role has them."""
    plan = plan_ranges(
        '198.18.60.0/22',
        [{'name': 'flat', 'prefix': 24}, {'name': 'sliced', 'prefix': 25, 'node_prefix': 27}],
        nodes=['worker1', 'worker2', 'worker3'],
        reserved=['198.18.60.0/24'],
    )['plan']
    objects = build_objects(
        [
            {'name': 'flat', 'namespace': 'pf', 'type': 'macvlan', 'master': 'nic1', 'ipam': {'from_plan': True}},
            {
                'name': 'sliced',
                'namespace': 'pf',
                'type': 'macvlan',
                'master': 'nic2',
                'mtu': 1400,
                'ipam': {'from_plan': True, 'node_slices': True},
            },
        ],
        plan=plan,
    )
    return plan, dict((o['object']['metadata']['name'], o['object']['spec']['config']) for o in objects)


def test_addresses_of_planned_nads_are_distinct_per_node_and_at_the_top():
    plan, configs = _planned()
    nodes = ['worker1', 'worker2', 'worker3']
    flat = [pf.derive_test_address('flat', parse_config(configs['flat']), plan, n, i)[0] for i, n in enumerate(nodes)]
    assert flat == ['198.18.61.254/24', '198.18.61.253/24', '198.18.61.252/24']
    # Per-node slices: the top usable address of each node's own /27 of 198.18.62.0/25, prefix of the range.
    sliced = [
        pf.derive_test_address('sliced', parse_config(configs['sliced']), plan, n, i) for i, n in enumerate(nodes)
    ]
    assert [a for a, _how in sliced] == ['198.18.62.30/25', '198.18.62.62/25', '198.18.62.94/25']
    assert sliced[1][1] == 'top of node slice 198.18.62.32/27'
    slices = dict((s['name'], ipaddress.ip_network(s['range'])) for s in plan['networks'][1]['nodes'])
    for node, (address, _how) in zip(nodes, sliced):
        assert ipaddress.ip_interface(address).ip in slices[node]


def test_slices_need_the_node_and_its_slice():
    plan, configs = _planned()
    config = parse_config(configs['sliced'])
    with pytest.raises(pf.PreflightError, match='no node name was given'):
        pf.derive_test_address('sliced', config, plan, None, 0)
    with pytest.raises(pf.PreflightError, match="no slice of 198.18.62.0/25 for node 'worker9'"):
        pf.derive_test_address('sliced', config, plan, 'worker9', 8)
    # A whole cidr_plan result is accepted as the plan too.
    assert pf.derive_test_address('sliced', config, {'plan': plan}, 'worker3', 2)[0] == '198.18.62.94/25'


def test_a_plan_without_the_range_falls_back_to_the_end_of_the_range():
    plan, _configs = _planned()
    assert pf.derive_test_address('other', MACVLAN, plan, 'worker2', 1)[0] == '198.18.61.253/24'


@pytest.mark.parametrize(
    'value, ok',
    [
        ('198.18.61.254/24', '198.18.61.254/24'),
        (' 198.18.61.254/24 ', '198.18.61.254/24'),
        ('fd00::5/64', 'fd00::5/64'),
        ('198.18.61.254', None),
        ('198.18.61.0/24', None),
        ('198.18.61.255/24', None),
        ('host/24', None),
        (None, None),
    ],
)
def test_check_test_address(value, ok):
    if ok is None:
        with pytest.raises(pf.PreflightError):
            pf.check_test_address(value, 'a')
    else:
        assert pf.check_test_address(value, 'a') == ok


def test_peers_are_ip_addresses_never_names():
    assert pf.check_peer('198.18.61.253/24', 'a') == '198.18.61.253'
    assert pf.check_peer('fd00:0::1', 'a') == 'fd00::1'
    for bad in ('worker2', '198.18.61.253; reboot', None, ''):
        with pytest.raises(pf.PreflightError, match='is not an IP address'):
            pf.check_peer(bad, 'a')


# ------------------------------------------------------------------ names


def test_namespace_names_are_recognisable_deterministic_and_differ_with_the_input():
    chain = pf.runtime_configs(MACVLAN, '198.18.61.254/24')
    name = pf.netns_name('storage-net', chain, '198.18.61.254/24', 'net1')
    assert name.startswith('npf-storage-net-') and len(name) == len('npf-storage-net-') + 8
    assert name == pf.netns_name('storage-net', json.loads(json.dumps(chain)), '198.18.61.254/24', 'net1')
    others = set(
        [
            pf.netns_name('storage-net', chain, '198.18.61.253/24', 'net1'),
            pf.netns_name('storage-net', chain, '198.18.61.254/24', 'net2'),
            pf.netns_name(
                'storage-net', pf.runtime_configs(conf(mtu=1400), '198.18.61.254/24'), '198.18.61.254/24', 'net1'
            ),
        ]
    )
    assert name not in others and len(others) == 3
    odd = pf.netns_name('we/ird name' + 'x' * 80, chain, None, 'net1')
    assert odd.startswith('npf-we-ird-name') and len(odd) <= 60 and '/' not in odd and ' ' not in odd


def test_same_attachment_matches_any_hash_of_that_name_only():
    name = pf.netns_name('a', [], None, 'net1')
    assert pf.same_attachment(name, 'a')
    assert pf.same_attachment('npf-a-0123abcd', 'a')
    assert not pf.same_attachment(pf.netns_name('a-b', [], None, 'net1'), 'a')
    assert not pf.same_attachment('npf-a-0123abcd-x', 'a')
    assert not pf.same_attachment('other-a-0123abcd', 'a')


def test_parse_netns_list():
    assert pf.parse_netns_list('[{"name":"npf-a"},{"name":"npf-b","id":1}]') == ['npf-a', 'npf-b']
    assert pf.parse_netns_list('npf-a\nnpf-b (id: 1)\n') == ['npf-a', 'npf-b']
    assert pf.parse_netns_list('') == []
    assert pf.preflight_namespaces(['cni-123', 'npf-b', 'npf-a']) == ['npf-a', 'npf-b']


# ------------------------------------------------------------------ plugin output

MACVLAN_RESULT = (
    '{"cniVersion": "0.3.1", "interfaces": [{"name": "net1", "mac": "4e:67:30:31:76:a6", '
    '"sandbox": "/var/run/netns/npf-t1"}], "ips": [{"version": "4", "interface": 0, '
    '"address": "198.18.61.254/24"}], "dns": {}}'
)


@pytest.mark.parametrize(
    'rc, stdout, stderr, result, error',
    [
        (0, MACVLAN_RESULT, '', json.loads(MACVLAN_RESULT), None),
        (0, '', '', {}, None),  # DEL prints nothing
        (
            1,
            '{\n    "code": 999,\n    "msg": "failed to create ipvlan: operation not supported"\n}',
            '',
            None,
            'failed to create ipvlan: operation not supported',
        ),
        (1, '{"code": 999, "msg": "Link not found"}', '', None, 'Link not found'),
        (
            1,
            '{"code": 7, "msg": "invalid config", "details": "unknown macvlan mode"}',
            '',
            None,
            'invalid config (unknown macvlan mode)',
        ),
        (
            1,
            '{"code": 7, "msg": "unknown macvlan mode", "details": "unknown macvlan mode"}',
            '',
            None,
            'unknown macvlan mode',
        ),
        (2, '', 'fork/exec: permission denied\n', None, 'fork/exec: permission denied'),
        (1, '', '', None, 'exit code 1 and no output'),
        (0, 'not json', '', None, 'exit code 0 but the output is not JSON: not json'),
    ],
)
def test_parse_cni_output(rc, stdout, stderr, result, error):
    assert pf.parse_cni_output(rc, stdout, stderr) == (result, error)


def test_result_addresses_of_every_result_version():
    assert pf.result_addresses(json.loads(MACVLAN_RESULT)) == ['198.18.61.254/24']
    assert pf.result_addresses({'cniVersion': '0.2.0', 'ip4': {'ip': '198.18.61.254/24'}}) == ['198.18.61.254/24']
    assert pf.result_addresses(None) == []


# ------------------------------------------------------------------ interface checks

NET1 = json.loads(
    '{"ifindex":2,"link_index":2,"ifname":"net1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,'
    '"qdisc":"noqueue","operstate":"UP","group":"default","link_type":"ether","address":"4e:67:30:31:76:a6",'
    '"addr_info":[{"family":"inet","local":"198.18.61.254","prefixlen":24,"broadcast":"198.18.61.255",'
    '"scope":"global","label":"net1"},{"family":"inet6","local":"fe80::4c67:30ff:fe31:76a6","prefixlen":64,'
    '"scope":"link","tentative":true}]}'
)
LO = {'ifindex': 1, 'ifname': 'lo', 'flags': ['LOOPBACK'], 'mtu': 65536, 'addr_info': []}


def test_a_good_interface():
    link = pf.find_link([LO, NET1], 'net1')
    got = pf.check_interface(link, 'net1', '198.18.61.254/24', 1500)
    assert got['errors'] == []
    assert got['found'] and got['up'] and got['carrier'] and got['mtu'] == 1500
    assert got['addresses'] == ['198.18.61.254/24', 'fe80::4c67:30ff:fe31:76a6/64']


@pytest.mark.parametrize(
    'change, address, mtu, message',
    [
        ({'flags': ['BROADCAST', 'MULTICAST']}, None, None, 'interface net1 is down'),
        ({'flags': ['BROADCAST', 'MULTICAST', 'UP'], 'operstate': 'LOWERLAYERDOWN'}, None, None, 'has no carrier'),
        (
            {},
            '198.18.61.253/24',
            None,
            'interface net1 has 198.18.61.254/24, fe80::4c67:30ff:fe31:76a6/64, not the test address 198.18.61.253/24',
        ),
        ({}, '198.18.61.254/25', None, 'not the test address 198.18.61.254/25'),
        ({}, None, 1400, 'interface net1 has MTU 1500, expected 1400'),
        ({'addr_info': []}, '198.18.61.254/24', None, 'has no address, not the test address'),
    ],
)
def test_what_is_wrong_with_an_interface(change, address, mtu, message):
    link = dict(NET1, **change)
    got = pf.check_interface(link, 'net1', address, mtu)
    assert [e for e in got['errors'] if message in e], got['errors']


def test_a_missing_interface():
    got = pf.check_interface(pf.find_link([LO], 'net1'), 'net1', '198.18.61.254/24', 1500)
    assert not got['found'] and got['errors'] == ['interface net1 not found in the namespace']


def test_marked_links_and_their_ports():
    links = [
        {'ifname': 'npfbr0', 'ifalias': pf.LINK_MARK},
        {'ifname': 'veth1', 'master': 'npfbr0'},
        {'ifname': 'br-empty', 'ifalias': pf.LINK_MARK},
        {'ifname': 'br-real'},
        {'ifname': 'veth2', 'master': 'br-real'},
        {'ifname': 'br-other', 'ifalias': 'set by someone'},
    ]
    assert pf.marked_links(links) == [('npfbr0', 1), ('br-empty', 0)]


# ------------------------------------------------------------------ probes

PING_OK = """PING 198.18.61.254 (198.18.61.254) 56(84) bytes of data.
64 bytes from 198.18.61.254: icmp_seq=1 ttl=64 time=0.450 ms
64 bytes from 198.18.61.254: icmp_seq=2 ttl=64 time=0.086 ms

--- 198.18.61.254 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 1030ms
rtt min/avg/max/mdev = 0.086/0.268/0.450/0.182 ms
"""
PING_LOST = """PING 198.18.61.99 (198.18.61.99) 56(84) bytes of data.

--- 198.18.61.99 ping statistics ---
2 packets transmitted, 0 received, 100% packet loss, time 1019ms
"""
PING_HALF = """--- 198.18.61.9 ping statistics ---
2 packets transmitted, 1 received, 50% packet loss, time 1001ms
rtt min/avg/max/mdev = 0.100/0.100/0.100/0.000 ms
"""
PING_UNREACH = """--- 198.18.61.99 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1010ms
"""


@pytest.mark.parametrize(
    'rc, stdout, stderr, ok, problem',
    [
        (0, PING_OK, '', True, '0% packet loss'),
        (1, PING_LOST, '', False, '100% packet loss'),
        (0, PING_HALF, '', True, '50% packet loss'),
        (1, PING_UNREACH, '', False, '100% packet loss'),
        (2, '', 'ping: connect: Network is unreachable\n', False, 'ping: connect: Network is unreachable'),
        (
            1,
            '',
            'Cannot open network namespace "npf-x": No such file or directory\n',
            False,
            'Cannot open network namespace "npf-x": No such file or directory',
        ),
    ],
)
def test_probe_verdict_and_what_is_wrong_with_a_peer(rc, stdout, stderr, ok, problem):
    # The ping itself is read by hostcmd.ping_result (tests/unit/plugins/module_utils/test_hostcmd.py).
    got = ping_result(rc, stdout, stderr)
    assert pf.probe_verdict(got, 50) is ok
    # Ping's own words when it could not send; the loss when it could.
    assert pf.peer_problem(got) == problem


def test_max_loss_decides_but_one_reply_is_always_needed():
    half = ping_result(0, PING_HALF, '')
    assert pf.probe_verdict(half, 50) and not pf.probe_verdict(half, 0)
    assert not pf.probe_verdict(ping_result(1, PING_LOST, ''), 100)


def test_peers_come_from_the_other_nodes_records_of_the_same_attachment():
    records = [
        {'name': 'a', 'node': 'worker1', 'address': '198.18.61.254', 'status': 'ok'},
        {'name': 'a', 'node': 'worker2', 'address': '198.18.61.253', 'status': 'ok'},
        {'name': 'a', 'node': 'worker3', 'test_address': '198.18.61.252/24', 'status': 'ok'},
        {'name': 'a', 'node': 'worker4', 'address': '198.18.61.251', 'status': 'failed'},
        {'name': 'a', 'node': 'worker5', 'address': None, 'status': 'ok'},
        {'name': 'b', 'node': 'worker2', 'address': '198.18.62.62', 'status': 'ok'},
        'junk',
    ]
    assert pf.peers_for('a', [], records, 'worker1') == [
        {'address': '198.18.61.253', 'node': 'worker2'},
        {'address': '198.18.61.252', 'node': 'worker3'},
    ]
    explicit = ['198.18.61.1', {'address': '198.18.61.253/24', 'node': 'given'}]
    assert pf.peers_for('a', explicit, records, 'worker1') == [
        {'address': '198.18.61.1', 'node': None},
        {'address': '198.18.61.253', 'node': 'given'},
        {'address': '198.18.61.252', 'node': 'worker3'},
    ]
    with pytest.raises(pf.PreflightError, match="'worker2' is not an IP address"):
        pf.peers_for('a', ['worker2'], [], None)


# ------------------------------------------------------------------ summaries


def test_summaries_say_what_happened():
    rec = {
        'name': 'a',
        'type': 'macvlan',
        'status': 'ok',
        'errors': [],
        'ifname': 'net1',
        'netns': 'npf-a-1',
        'test_address': '198.18.61.254/24',
        'interface': {'mtu': 1500},
    }
    assert pf.describe_add(rec) == 'a macvlan: ADD ok, net1 up in npf-a-1 with 198.18.61.254/24, MTU 1500'
    bad = dict(rec, status='failed', errors=['ADD of plugin macvlan failed: Link not found'])
    assert pf.describe_add(bad) == 'a macvlan: FAILED ADD of plugin macvlan failed: Link not found'
    assert (
        pf.describe_add(dict(rec, status='would-run'))
        == 'a macvlan: would create npf-a-1 and run ADD with 198.18.61.254/24'
    )
    probe = dict(
        rec,
        peers=[
            dict(ping_result(0, PING_OK, ''), address='198.18.61.253', node='worker2', ok=True),
            dict(ping_result(1, PING_LOST, ''), address='198.18.61.252', node=None, ok=False),
            dict(
                ping_result(2, '', 'ping: connect: Network is unreachable\n'),
                address='198.18.61.251',
                node='worker4',
                ok=False,
            ),
        ],
    )
    assert pf.describe_probe(probe) == (
        'a: 198.18.61.253 (worker2) ok 0% loss rtt 0.268 ms; 198.18.61.252 UNREACHABLE 100% loss; '
        '198.18.61.251 (worker4) UNREACHABLE ping: connect: Network is unreachable'
    )
    assert pf.describe_probe(dict(rec, status='skipped', reason='its ADD failed')) == 'a: probe skipped: its ADD failed'
    assert pf.describe_probe(dict(rec, peers=[])) == 'a: no peers to probe'
    deleted = dict(rec, del_ok=False, del_error='Link not found', removed=True)
    assert pf.describe_del(deleted) == 'a: DEL error: Link not found, removed npf-a-1'
    assert pf.number_text(0.5) == '0.5' and pf.number_text(50.0) == '50' and pf.number_text(None) == '?'


# ------------------------------------------------------------------ the role: what to test, the report


def nad_objects():
    """What nad_objects returns for a macvlan NAD in two namespaces, an OVN-Kubernetes one and a removed one."""
    objects = build_objects(
        [
            {
                'name': 'storage-net',
                'namespaces': ['ais', 'other'],
                'type': 'macvlan',
                'master': 'nic1',
                'ipam': {'type': 'whereabouts', 'range': '198.18.61.0/24'},
            },
            {
                'name': 'tenant-blue',
                'namespace': 'ais',
                'type': 'ovn-k8s-cni-overlay',
                'topology': 'layer2',
                'subnets': '198.18.70.0/24',
            },
            {
                'name': 'bulk-net',
                'namespace': 'ais',
                'type': 'ipvlan',
                'master': 'nic2',
                'ipam': {'type': 'whereabouts', 'range': '198.18.62.0/24'},
            },
        ]
    )
    return objects + [
        {'state': 'absent', 'object': dict(objects[0]['object'], metadata={'name': 'gone', 'namespace': 'ais'})}
    ]


def test_pick_attachments_one_per_nad_name_by_type():
    objects = nad_objects()
    picked = pf.pick_attachments(objects, ['macvlan', 'ipvlan'])
    assert picked['tested'] == [
        {'name': 'storage-net', 'config': objects[0]['object']['spec']['config']},
        {'name': 'bulk-net', 'config': objects[3]['object']['spec']['config']},
    ]
    assert picked['untested'] == [{'name': 'tenant-blue', 'type': 'ovn-k8s-cni-overlay'}]
    assert pf.pick_attachments(objects, []) == {
        'tested': [],
        'untested': [
            {'name': 'storage-net', 'type': 'macvlan'},
            {'name': 'tenant-blue', 'type': 'ovn-k8s-cni-overlay'},
            {'name': 'bulk-net', 'type': 'ipvlan'},
        ],
    }
    # A conflist is of the type of its first plugin.
    conflist = {
        'state': 'present',
        'object': {
            'kind': 'NetworkAttachmentDefinition',
            'metadata': {'name': 'chained'},
            'spec': {'config': json.dumps(CONFLIST)},
        },
    }
    assert pf.pick_attachments([conflist], ['macvlan'])['tested'][0]['name'] == 'chained'


@pytest.mark.parametrize(
    'objects, message',
    [
        ([{'state': 'present'}], 'objects[0] {'),
        (
            [{'state': 'present', 'object': {'kind': 'NetworkAttachmentDefinition', 'metadata': {}}}],
            'without metadata.name',
        ),
        (
            [
                {
                    'state': 'present',
                    'object': {
                        'kind': 'NetworkAttachmentDefinition',
                        'metadata': {'name': 'x'},
                        'spec': {'config': '{"type": "macvlan"}'},
                    },
                }
            ],
            "objects[0] x spec.config has no cniVersion",
        ),
    ],
)
def test_pick_attachments_names_what_it_cannot_use(objects, message):
    with pytest.raises(pf.PreflightError) as exc:
        pf.pick_attachments(objects, ['macvlan'])
    assert message in str(exc.value)


ADD = {
    'changed': False,
    'attachments': [
        {
            'name': 'a',
            'type': 'macvlan',
            'errors': [],
            'test_address': '198.18.61.254/24',
            'netns': 'npf-a-1',
            'result': {'cniVersion': '0.3.1', 'ips': [{'address': '198.18.61.254/24'}]},
            'interface': {'mtu': 1500},
            'summary': 'a macvlan: ADD ok',
        },
        {
            'name': 'b',
            'type': 'ipvlan',
            'errors': ['ADD of plugin ipvlan failed: operation not supported'],
            'test_address': None,
            'netns': 'npf-b-1',
            'plugin_error': 'operation not supported',
            'result': None,
            'summary': 'b ipvlan: FAILED ...',
        },
    ],
}
PROBE = {
    'attachments': [
        {
            'name': 'a',
            'errors': ['peer 198.18.61.253 (worker2) unreachable from npf-a-1: 100% packet loss'],
            'peers': [{'address': '198.18.61.253', 'ok': False}],
            'summary': 'a: 198.18.61.253 UNREACHABLE',
        },
        {'name': 'b', 'errors': [], 'peers': [], 'summary': 'b: probe skipped'},
    ]
}
DEL = {
    'attachments': [
        {'name': 'a', 'errors': [], 'summary': 'a: DEL ok, removed npf-a-1'},
        {'name': 'b', 'errors': [], 'plugin_error': 'ignored: the ADD error is kept', 'summary': 'b: DEL ok'},
    ]
}


def test_result_rows_join_the_three_phases_of_every_node():
    rows = pf.result_rows(
        ['worker1', 'worker2', 'worker3', 'worker4'],
        [ADD, {'failed': True, 'msg': 'cni_preflight: boom'}, {}, {'skipped': True}],
        [PROBE, {}, {}, {}],
        [DEL, {'failed': True, 'msg': 'cleanup incomplete'}],
    )
    a, b = rows[:2]
    assert a == {
        'node': 'worker1',
        'attachment': 'a',
        'type': 'macvlan',
        'ok': False,
        'errors': ['peer 198.18.61.253 (worker2) unreachable from npf-a-1: 100% packet loss'],
        'test_address': '198.18.61.254/24',
        'netns': 'npf-a-1',
        'plugin_error': None,
        'result': ADD['attachments'][0]['result'],
        'interface': {'mtu': 1500},
        'peers': [{'address': '198.18.61.253', 'ok': False}],
        'add': 'a macvlan: ADD ok',
        'probe': 'a: 198.18.61.253 UNREACHABLE',
        'del': 'a: DEL ok, removed npf-a-1',
    }
    assert (b['ok'], b['plugin_error'], b['interface'], b['probe']) == (
        False,
        'operation not supported',
        None,
        'b: probe skipped',
    )
    # A phase that failed as a whole, and nodes that did not run at all (unreachable, skipped).
    assert rows[2:] == [
        {'node': 'worker2', 'attachment': '*', 'ok': False, 'errors': ['cni_preflight: boom']},
        {'node': 'worker2', 'attachment': '*', 'ok': False, 'errors': ['cleanup incomplete']},
        {
            'node': 'worker3',
            'attachment': '*',
            'ok': False,
            'errors': ['the preflight did not run on this node (unreachable, or failed before it)'],
        },
        {
            'node': 'worker4',
            'attachment': '*',
            'ok': False,
            'errors': ['the preflight did not run on this node (unreachable, or failed before it)'],
        },
    ]
    # Nothing to test: a node without results is no failure.
    assert pf.result_rows(['worker1'], [{'skipped': True}], [{}], [{}], expected=False) == []


def test_report_and_failure_lines():
    rows = pf.result_rows(['worker1', 'worker2'], [ADD, {}], [PROBE, {}], [DEL, {}])
    assert pf.report_lines(rows, [{'name': 'tenant-blue', 'type': 'ovn-k8s-cni-overlay'}]) == [
        'worker1 a: FAILED | a macvlan: ADD ok | a: 198.18.61.253 UNREACHABLE | a: DEL ok, removed npf-a-1',
        '  plugin result: {"cniVersion": "0.3.1", "ips": [{"address": "198.18.61.254/24"}]}',
        'worker1 b: FAILED | b ipvlan: FAILED ... | b: probe skipped | b: DEL ok',
        '  plugin error: operation not supported',
        'worker2 *: FAILED - the preflight did not run on this node (unreachable, or failed before it)',
        'not tested: tenant-blue (ovn-k8s-cni-overlay: not in cni_preflight_types)',
    ]
    assert pf.failure_lines(rows) == [
        'worker1/a: peer 198.18.61.253 (worker2) unreachable from npf-a-1: 100% packet loss',
        'worker1/b: ADD of plugin ipvlan failed: operation not supported',
        'worker2/*: the preflight did not run on this node (unreachable, or failed before it)',
    ]
    assert pf.report_lines([]) == ['No network attachments to test.']
