# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/connectivity: probe planning, ping and iperf3 parsing, the bounded runner, the matrix and its table.

The ping and iperf3 outputs below were captured from the local lab (netplumb-cm, iputils 20221126 and
iperf 3.12 in a Debian bookworm node): ``ping -n -c 3 -i 0.2 -W 1 -I SRC DST`` to a peer, to an address
nobody holds, from an address the node does not have, across a link set down half-way, and
``iperf3 -c DST -B SRC -t 1 -J`` against a server, a busy server and no server.
"""

import json
import threading
import time

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (
    NOT_MEASURED,
    ConnectivityError,
    address_sets,
    error_result,
    iperf3_argv,
    node_probes,
    parse_iperf3,
    plan_probes,
    run_probes,
    validate_probes,
    validate_settings,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import (
    build_matrix,
    describe_broken,
    evaluate,
    format_bandwidth,
    pod_address_sets,
    render_table,
    to_json,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import (
    Gauge,
    parse_ping,
    ping_argv,
    ping_result,
)

# --- real outputs (lab node worker1 of netplumb-cm) -------------------------------------------------

PING_OK = """PING 198.18.81.12 (198.18.81.12) from 198.18.81.11 : 56(84) bytes of data.
64 bytes from 198.18.81.12: icmp_seq=1 ttl=64 time=0.057 ms
64 bytes from 198.18.81.12: icmp_seq=2 ttl=64 time=0.069 ms
64 bytes from 198.18.81.12: icmp_seq=3 ttl=64 time=0.081 ms

--- 198.18.81.12 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 404ms
rtt min/avg/max/mdev = 0.057/0.069/0.081/0.009 ms
"""

# To an address nobody holds (and to a peer whose NIC is down): nothing back within -W.
PING_LOSS = """PING 198.18.81.99 (198.18.81.99) from 198.18.81.11 : 56(84) bytes of data.

--- 198.18.81.99 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 405ms

"""

# -c 5 -i 1: long enough for ARP to give up, so the kernel reports errors.
PING_ERRORS = """PING 198.18.81.99 (198.18.81.99) from 198.18.81.11 : 56(84) bytes of data.
From 198.18.81.11 icmp_seq=1 Destination Host Unreachable
From 198.18.81.11 icmp_seq=2 Destination Host Unreachable
From 198.18.81.11 icmp_seq=3 Destination Host Unreachable

--- 198.18.81.99 ping statistics ---
5 packets transmitted, 0 received, +3 errors, 100% packet loss, time 4087ms
pipe 3
"""

# -c 10: the peer's nic2 went down after the fifth reply.
PING_PARTIAL = """PING 198.18.82.12 (198.18.82.12) from 198.18.82.11 : 56(84) bytes of data.
64 bytes from 198.18.82.12: icmp_seq=1 ttl=64 time=0.153 ms
64 bytes from 198.18.82.12: icmp_seq=2 ttl=64 time=0.075 ms
64 bytes from 198.18.82.12: icmp_seq=3 ttl=64 time=0.165 ms
64 bytes from 198.18.82.12: icmp_seq=4 ttl=64 time=0.080 ms
64 bytes from 198.18.82.12: icmp_seq=5 ttl=64 time=0.069 ms

--- 198.18.82.12 ping statistics ---
10 packets transmitted, 5 received, 50% packet loss, time 1838ms
rtt min/avg/max/mdev = 0.069/0.108/0.165/0.041 ms
"""

# -I with an address the node does not have: stderr only, rc 2.
PING_BIND_STDERR = 'ping: bind: Cannot assign requested address\n'

PING6_OK = """PING ::1(::1) 56 data bytes
64 bytes from ::1: icmp_seq=1 ttl=64 time=0.236 ms
64 bytes from ::1: icmp_seq=2 ttl=64 time=0.065 ms

--- ::1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 201ms
rtt min/avg/max/mdev = 0.065/0.150/0.236/0.085 ms
"""

# iperf3 -J, the keys the parser reads (the real output also has intervals and streams).
IPERF3_OK = json.dumps(
    {
        'start': {
            'connected': [
                {
                    'socket': 5,
                    'local_host': '198.18.81.11',
                    'local_port': 44369,
                    'remote_host': '198.18.81.12',
                    'remote_port': 5301,
                }
            ],
            'version': 'iperf 3.12',
        },
        'end': {
            'sum_sent': {
                'start': 0,
                'end': 1.000934,
                'seconds': 1.000934,
                'bytes': 1194459136,
                'bits_per_second': 9546756417.50605,
                'retransmits': 2102,
                'sender': True,
            },
            'sum_received': {
                'start': 0,
                'end': 1.00198,
                'seconds': 1.00198,
                'bytes': 1194459136,
                'bits_per_second': 9536790243.31823,
                'sender': True,
            },
        },
    }
)
IPERF3_REFUSED = """{
\t"start":\t{
\t\t"connected":\t[],
\t\t"version":\t"iperf 3.12",
\t\t"system_info":\t"Linux worker1 6.18.44-fc-v595 #1 SMP PREEMPT_DYNAMIC @0 x86_64"
\t},
\t"intervals":\t[],
\t"end":\t{
\t},
\t"error":\t"unable to connect to server: Connection refused"
}
"""
IPERF3_BUSY = IPERF3_REFUSED.replace(
    'unable to connect to server: Connection refused', 'the server is busy running a test. try again later'
)


def probe_result(probe, rc, stdout, stderr):
    """A probe's result as connectivity_probe makes it: the probe with the ping's result."""
    return dict(probe, **ping_result(rc, stdout, stderr))


# --- the lab's inventory data: 3 nodes x 2 NICs -------------------------------------------------------


def lab_nodes(count=3, nics=2, offset=0):
    """{node: multihome_nics} as tests/integration/lab.py's inventory gives it."""
    return dict(
        (
            'worker%d' % i,
            [{'name': 'nic%d' % k, 'address': '198.18.%d.%d/24' % (offset + k, 10 + i)} for k in range(1, nics + 1)],
        )
        for i in range(1, count + 1)
    )


def fake_ping(down=()):
    """A runner answering as the lab does: PING_OK, or PING_LOSS when either end's address is in ``down``."""

    def runner(probe):
        if probe['src'] in down or probe['dst'] in down:
            return probe_result(probe, 1, PING_LOSS.replace('198.18.81.99', probe['dst']), '')
        return probe_result(probe, 0, PING_OK.replace('198.18.81.12', probe['dst']), '')

    return runner


def reports(plan, runner, concurrency=4):
    """{node: connectivity_probe-like result} for every node of the plan."""
    return dict(
        (node, {'changed': False, 'probes': run_probes(probes, runner, concurrency)}) for node, probes in plan.items()
    )


# --- planning ---------------------------------------------------------------------------------------


def test_address_sets_use_the_nic_network():
    sets = address_sets(lab_nodes())
    assert list(sets) == ['worker1', 'worker2', 'worker3']
    assert sets['worker2'] == {
        '198.18.1.0/24': [{'address': '198.18.1.12', 'nic': 'nic1'}],
        '198.18.2.0/24': [{'address': '198.18.2.12', 'nic': 'nic2'}],
    }


def test_address_sets_take_json_text_and_extra_sets():
    nodes = {
        'a': json.dumps([{'name': 'ens1', 'address': '10.0.0.1/16'}]),
        'b': [{'name': 'ens1', 'address': '10.0.200.1/16'}],
    }
    sets = address_sets(nodes, {'storage-net': {'a': '192.0.2.10', 'b': ['192.0.2.11/24']}})
    assert sets['a'] == {
        '10.0.0.0/16': [{'address': '10.0.0.1', 'nic': 'ens1'}],
        'storage-net': [{'address': '192.0.2.10', 'nic': None}],
    }
    assert sets['b']['storage-net'] == [{'address': '192.0.2.11', 'nic': None}]


def test_a_node_may_repeat_its_own_address_in_an_address_set():
    nodes = {'a': [{'name': 'ens1', 'address': '10.0.0.1/16'}], 'b': [{'name': 'ens1', 'address': '10.0.0.2/16'}]}
    sets = address_sets(nodes, {'node-ips': {'a': '10.0.0.1', 'b': '10.0.0.2'}})
    assert sets['a']['node-ips'] == [{'address': '10.0.0.1', 'nic': None}]


@pytest.mark.parametrize(
    'nodes, extra, message',
    [
        (
            {'w1': [{'name': 'nic1', 'address': '198.18.1.11'}]},
            None,
            "nic1 of w1 has address '198.18.1.11' without a prefix length",
        ),
        ({'w1': [{'name': 'nic1', 'address': '198.18.1.300/24'}]}, None, "nic1 of w1 has address '198.18.1.300/24'"),
        ({'w1': [{'name': 'nic1'}]}, None, 'multihome_nics[0] of w1'),
        ({'w1': 'not json'}, None, "multihome_nics of w1 is 'not json'"),
        ({'w1': {'nic1': '1.2.3.4/24'}}, None, 'multihome_nics of w1 is'),
        ({'w1': []}, {'net-a': {'w1': 'nope'}}, "address of w1 in address set 'net-a' is 'nope'"),
        ({'w1': []}, {'net-a': ['w1']}, "address set 'net-a' is ['w1']"),
        (['w1'], None, "nodes is ['w1']"),
        (
            {'w1': [], 'w2': []},
            {'net-a': {'w1': '192.0.2.1', 'w9': '192.0.2.9'}},
            "address set 'net-a' names node 'w9', which is not among nodes (w1, w2)",
        ),
        (
            {
                'w1': [{'name': 'nic1', 'address': '198.18.1.11/24'}],
                'w2': [{'name': 'nic1', 'address': '198.18.1.11/24'}],
            },
            None,
            'address 198.18.1.11 belongs to two nodes, w1 on nic1 and w2 on nic1',
        ),
        (
            {'w1': [{'name': 'nic1', 'address': '198.18.1.11/24'}], 'w2': []},
            {'pods': {'w2': '198.18.1.11'}},
            "address 198.18.1.11 belongs to two nodes, w1 on nic1 and w2 on address set 'pods'",
        ),
    ],
)
def test_address_sets_errors_name_the_value(nodes, extra, message):
    with pytest.raises(ConnectivityError, match=None) as err:
        address_sets(nodes, extra)
    assert message in str(err.value)


def test_plan_probes_every_other_node_on_the_same_network():
    plan = plan_probes(address_sets(lab_nodes()))
    assert sorted(plan) == ['worker1', 'worker2', 'worker3']
    for node, probes in plan.items():
        # 2 networks x 2 peers, never to itself, always within one network.
        assert len(probes) == 4
        assert all(p['peer'] != node for p in probes)
        assert all(p['src'].rsplit('.', 2)[-2] == p['dst'].rsplit('.', 2)[-2] for p in probes)
    assert plan['worker1'][0] == {
        'src': '198.18.1.11',
        'dst': '198.18.1.12',
        'network': '198.18.1.0/24',
        'peer': 'worker2',
    }
    # Each node starts with the peer after it, so the nodes aim at different peers at first.
    assert [plan[n][0]['peer'] for n in ('worker1', 'worker2', 'worker3')] == ['worker2', 'worker3', 'worker1']
    total = sum(len(p) for p in plan.values())
    assert total == 3 * 2 * 2


def test_plan_probes_skip_networks_a_peer_lacks():
    nodes = lab_nodes()
    nodes['worker3'] = nodes['worker3'][:1]  # worker3 has nic1 only
    plan = plan_probes(address_sets(nodes, {'preflight': {'worker1': '192.0.2.1', 'worker3': '192.0.2.3'}}))
    assert [(p['network'], p['peer']) for p in plan['worker3']] == [
        ('198.18.1.0/24', 'worker1'),
        ('198.18.1.0/24', 'worker2'),
        ('preflight', 'worker1'),
    ]
    assert ('preflight', 'worker3', '192.0.2.1', '192.0.2.3') in [
        (p['network'], p['peer'], p['src'], p['dst']) for p in plan['worker1']
    ]
    assert not [p for p in plan['worker2'] if p['network'] == 'preflight']


def test_plan_is_16x2_sized():
    plan = plan_probes(address_sets(lab_nodes(16, 2)))
    assert sum(len(p) for p in plan.values()) == 16 * 15 * 2


# --- scale modes ----------------------------------------------------------------------------------


def peers_by_node(plan, network):
    return dict((node, [p['peer'] for p in probes if p['network'] == network]) for node, probes in plan.items())


def test_ring_probes_the_next_k_nodes_and_covers_every_node_both_ways():
    sets = address_sets(lab_nodes(6, 2))
    plan = plan_probes(sets, scale='ring', neighbours=2)
    assert peers_by_node(plan, '198.18.1.0/24') == {
        'worker1': ['worker2', 'worker3'],
        'worker2': ['worker3', 'worker4'],
        'worker3': ['worker4', 'worker5'],
        'worker4': ['worker5', 'worker6'],
        'worker5': ['worker6', 'worker1'],
        'worker6': ['worker1', 'worker2'],
    }
    assert sum(len(p) for p in plan.values()) == 6 * 2 * 2  # n k per network, one address per node on each
    for network in ('198.18.1.0/24', '198.18.2.0/24'):
        received = [peer for peers in peers_by_node(plan, network).values() for peer in peers]
        assert sorted(received) == sorted(list(sets) * 2)  # every node receives k probes too


def test_ring_with_as_many_neighbours_as_nodes_is_full():
    sets = address_sets(lab_nodes(5, 2))
    assert plan_probes(sets, scale='ring', neighbours=4) == plan_probes(sets)
    assert plan_probes(sets, scale='ring', neighbours=40) == plan_probes(sets)


def test_a_ring_holds_only_the_nodes_on_its_network():
    nodes = lab_nodes(4, 1)
    nodes['worker2'] = [{'name': 'nic1', 'address': '198.18.7.12/24'}]  # another network
    plan = plan_probes(address_sets(nodes), scale='ring', neighbours=1)
    assert peers_by_node(plan, '198.18.1.0/24') == {
        'worker1': ['worker3'],
        'worker2': [],
        'worker3': ['worker4'],
        'worker4': ['worker1'],
    }
    assert plan['worker2'] == []  # alone on its network


def test_sample_draws_the_same_peers_everywhere_for_a_seed_and_others_for_another():
    sets = address_sets(lab_nodes(40, 1))
    whole = plan_probes(sets, scale='sample', neighbours=2, sample=3, seed='run-1')
    for node in ('worker1', 'worker17', 'worker40'):
        # What a node plans for itself (only=) is what the controller planned for it.
        assert plan_probes(sets, scale='sample', neighbours=2, sample=3, seed='run-1', only=node) == {node: whole[node]}
        peers = [p['peer'] for p in whole[node]]
        index = int(node[len('worker') :]) - 1
        assert peers[:2] == ['worker%d' % ((index + k) % 40 + 1) for k in (1, 2)]
        assert len(set(peers)) == 5 and node not in peers
    other = plan_probes(sets, scale='sample', neighbours=2, sample=3, seed='run-2')
    assert other != whole
    # Over many seeds every pair is drawn.
    pairs = set()
    for seed in range(200):
        plan = plan_probes(sets, scale='sample', neighbours=2, sample=3, seed=str(seed))
        pairs.update((node, p['peer']) for node, probes in plan.items() for p in probes)
    assert len(pairs) == 40 * 39


def test_sample_on_a_small_network_is_every_other_node():
    sets = address_sets(lab_nodes(4, 1))
    assert plan_probes(sets, scale='sample', neighbours=2, sample=10, seed='x') == plan_probes(sets)


@pytest.mark.parametrize(
    'settings, message',
    [
        ({'scale': 'half'}, "scale is 'half': expected one of full, ring, sample"),
        ({'scale': 'ring', 'neighbours': 0}, 'neighbours is 0: expected at least 1 node to probe on each ring'),
        ({'scale': 'sample', 'sample': -1}, 'sample is -1: expected 0 or more nodes drawn per node and network'),
    ],
)
def test_scale_settings_out_of_range_are_named(settings, message):
    with pytest.raises(ConnectivityError) as caught:
        plan_probes(address_sets(lab_nodes(3, 1)), **settings)
    assert str(caught.value) == message


def test_a_node_plans_only_its_own_probes_in_its_mode():
    nodes = lab_nodes(8, 2)
    mine = node_probes(nodes=nodes, node='worker3', scale={'scale': 'ring', 'neighbours': 1, 'sample': 0, 'seed': ''})
    assert [(p['peer'], p['src'], p['dst']) for p in mine] == [
        ('worker4', '198.18.1.13', '198.18.1.14'),
        ('worker4', '198.18.2.13', '198.18.2.14'),
    ]


# --- probes and their input -----------------------------------------------------------------------


def test_validate_probes_refuse_what_is_not_an_address():
    good = validate_probes([{'src': '198.18.1.11', 'dst': '198.18.1.12', 'network': 'n', 'peer': 'w2'}])
    assert good[0]['dst'] == '198.18.1.12'
    # An address that is an option to ping never reaches its argv.
    with pytest.raises(ConnectivityError, match=r"probes\[0\].dst is '-f': expected an IPv4 or IPv6 address"):
        validate_probes([{'src': '198.18.1.11', 'dst': '-f', 'network': 'n', 'peer': 'w2'}])
    with pytest.raises(ConnectivityError, match='lacks peer'):
        validate_probes([{'src': '198.18.1.11', 'dst': '198.18.1.12', 'network': 'n'}])
    with pytest.raises(ConnectivityError, match='both addresses must be IPv4 or both IPv6'):
        validate_probes([{'src': '198.18.1.11', 'dst': 'fd00::1', 'network': 'n', 'peer': 'w2'}])


@pytest.mark.parametrize(
    'args, message',
    [
        ((0, 0.2, 1, 16), 'count is 0'),
        ((3, 0.001, 1, 16), 'interval is 0.001'),
        ((3, 0.2, 0, 16), 'timeout is 0'),
        ((3, 0.2, 1, 0), 'concurrency is 0'),
    ],
)
def test_validate_settings(args, message):
    with pytest.raises(ConnectivityError, match=message):
        validate_settings(*args)


def test_ping_argv():
    assert ping_argv('198.18.1.12', 3, 1, interval=0.2, src='198.18.1.11', ping_bin='/usr/bin/ping') == [
        '/usr/bin/ping',
        '-n',
        '-c',
        '3',
        '-i',
        '0.2',
        '-W',
        '1',
        '-I',
        '198.18.1.11',
        '198.18.1.12',
    ]
    assert ping_argv('198.18.1.12', 5, 0.5, interval=0.05, src='198.18.1.11')[2:8] == [
        '-c',
        '5',
        '-i',
        '0.05',
        '-W',
        '0.5',
    ]


# --- ping output --------------------------------------------------------------------------------------


def test_parse_ping_replies():
    stats = parse_ping(PING_OK)
    assert stats == {
        'transmitted': 3,
        'received': 3,
        'errors': 0,
        'duplicates': 0,
        'loss': 0.0,
        'time_ms': 404.0,
        'rtt': {'min': 0.057, 'avg': 0.069, 'max': 0.081, 'mdev': 0.009},
    }
    assert parse_ping(PING6_OK)['rtt']['avg'] == 0.15


def test_parse_ping_loss_errors_partial_and_nothing():
    loss = parse_ping(PING_LOSS)
    assert (loss['transmitted'], loss['received'], loss['loss'], loss['rtt']) == (3, 0, 100.0, None)
    errors = parse_ping(PING_ERRORS)
    assert (errors['transmitted'], errors['received'], errors['errors'], errors['loss'], errors['time_ms']) == (
        5,
        0,
        3,
        100.0,
        4087.0,
    )
    partial = parse_ping(PING_PARTIAL)
    assert (partial['transmitted'], partial['received'], partial['loss']) == (10, 5, 50.0)
    assert partial['rtt'] == {'min': 0.069, 'avg': 0.108, 'max': 0.165, 'mdev': 0.041}
    assert parse_ping('') == {
        'transmitted': None,
        'received': None,
        'errors': None,
        'duplicates': None,
        'loss': None,
        'time_ms': None,
        'rtt': None,
    }


def test_parse_ping_busybox():
    text = '3 packets transmitted, 3 packets received, 0% packet loss\nround-trip min/avg/max = 0.062/0.079/0.095 ms\n'
    stats = parse_ping(text)
    assert (stats['transmitted'], stats['received'], stats['rtt']['avg'], stats['rtt']['mdev']) == (3, 3, 0.079, None)


def test_probe_result_from_real_outputs():
    probe = {'src': '198.18.1.11', 'dst': '198.18.1.12', 'network': '198.18.1.0/24', 'peer': 'worker2'}
    ok = probe_result(probe, 0, PING_OK, '')
    assert ok['connected'] and ok['error'] is None and ok['rtt']['avg'] == 0.069 and ok['received'] == 3
    lost = probe_result(probe, 1, PING_LOSS, '')
    assert not lost['connected'] and lost['error'] == 'no reply: 3 sent, 0 received (100% loss)'
    partial = probe_result(probe, 0, PING_PARTIAL, '')
    assert partial['connected'] and partial['loss'] == 50.0
    bind = probe_result(probe, 2, '', PING_BIND_STDERR)
    assert (
        not bind['connected']
        and bind['error'] == 'ping: bind: Cannot assign requested address'
        and bind['transmitted'] is None
    )
    assert probe_result(probe, 2, '', '')['error'] == 'ping failed (rc=2) with no output'


# --- iperf3 -------------------------------------------------------------------------------------------


def test_parse_iperf3():
    assert parse_iperf3(IPERF3_OK) == (9536790243.31823, None)
    assert parse_iperf3(IPERF3_REFUSED) == (None, 'unable to connect to server: Connection refused')
    assert parse_iperf3(IPERF3_BUSY) == (None, 'the server is busy running a test. try again later')
    assert parse_iperf3('iperf3: error - unable to connect\n') == (
        None,
        'iperf3 printed no JSON: iperf3: error - unable to connect',
    )
    assert parse_iperf3('{"end": {}}') == (None, 'iperf3 reported no bits_per_second')


def test_iperf3_argv_and_rates():
    probe = {'src': '198.18.1.11', 'dst': '198.18.1.12'}
    assert iperf3_argv('iperf3', probe, 5301, 2) == [
        'iperf3',
        '-c',
        '198.18.1.12',
        '-B',
        '198.18.1.11',
        '-p',
        '5301',
        '-t',
        '2',
        '-J',
    ]
    assert format_bandwidth(9536790243.31823) == '9.54Gbits/sec'
    assert format_bandwidth(94.2e6) == '94.2Mbits/sec'
    assert format_bandwidth(None) == '-'


# --- the bounded runner -------------------------------------------------------------------------------


@pytest.mark.parametrize('concurrency, count', [(1, 6), (4, 20), (16, 40), (8, 3)])
def test_run_probes_never_runs_more_than_concurrency_at_once(concurrency, count):
    lock = threading.Lock()
    state = {'now': 0, 'peak': 0}

    def runner(probe):
        with lock:
            state['now'] += 1
            state['peak'] = max(state['peak'], state['now'])
        time.sleep(0.02)
        with lock:
            state['now'] -= 1
        return dict(probe, connected=True)

    probes = [{'src': '10.0.0.1', 'dst': '10.0.1.%d' % i, 'network': 'n', 'peer': 'p%d' % i} for i in range(count)]
    results = run_probes(probes, runner, concurrency)
    assert state['peak'] <= concurrency
    # It does run them side by side, as many as allowed.
    assert state['peak'] == min(concurrency, count)
    # In the order given.
    assert [r['dst'] for r in results] == [p['dst'] for p in probes]


def test_run_probes_is_parallel():
    probes = [{'src': '10.0.0.1', 'dst': '10.0.1.%d' % i, 'network': 'n', 'peer': 'p'} for i in range(16)]
    start = time.time()
    run_probes(probes, lambda p: (time.sleep(0.1), p)[1], 16)
    assert time.time() - start < 0.8  # 1.6 s one after another


def test_run_probes_turns_an_exception_into_an_error_result():
    def runner(probe):
        if probe['dst'] == '10.0.1.1':
            raise OSError('ping vanished')
        return dict(probe, connected=True, error=None)

    probes = [{'src': '10.0.0.1', 'dst': '10.0.1.%d' % i, 'network': 'n', 'peer': 'p'} for i in range(3)]
    results = run_probes(probes, runner, 2)
    assert [r['connected'] for r in results] == [True, False, True]
    assert results[1]['error'] == 'OSError: ping vanished'
    assert run_probes([], runner, 2) == []
    with pytest.raises(ConnectivityError, match='concurrency is 0'):
        run_probes(probes, runner, 0)


def test_gauge_counts_the_peak():
    gauge = Gauge()
    with gauge:
        with gauge:
            assert gauge.current == 2
    assert (gauge.current, gauge.peak) == (0, 2)


# --- the matrix -------------------------------------------------------------------------------------


def healthy():
    sets = address_sets(lab_nodes())
    plan = plan_probes(sets)
    return sets, plan, build_matrix(reports(plan, fake_ping()), plan, sets)


def test_matrix_of_a_healthy_lab():
    sets, plan, matrix = healthy()
    assert [(p['from'], p['to']) for p in matrix['pairs']] == [
        ('worker1', 'worker2'),
        ('worker1', 'worker3'),
        ('worker2', 'worker1'),
        ('worker2', 'worker3'),
        ('worker3', 'worker1'),
        ('worker3', 'worker2'),
    ]
    assert all((p['connected'], p['total']) == (2, 2) for p in matrix['pairs'])
    assert matrix['pairs'][0]['addresses'] == ['198.18.1.12', '198.18.2.12']
    assert matrix['pairs'][0]['latency_ms'] == [0.069, 0.069]
    assert [(n['network'], n['connected'], n['total'], n['nodes']) for n in matrix['networks']] == [
        ('198.18.1.0/24', 6, 6, ['worker1', 'worker2', 'worker3']),
        ('198.18.2.0/24', 6, 6, ['worker1', 'worker2', 'worker3']),
    ]
    assert matrix['summary'] == {
        'nodes': 3,
        'networks': 2,
        'pairs': 6,
        'pairs_connected': 6,
        'connected': 12,
        'total': 12,
        'fraction': 1.0,
    }
    assert matrix['probes'][0]['src_nic'] == 'nic1' and matrix['probes'][0]['dst_nic'] == 'nic1'
    ok, broken, msg = evaluate(matrix)
    assert (
        ok
        and broken == []
        and msg == '12/12 address pairs connected (100.0%, threshold 100.0%) across 3 nodes and 2 networks'
    )
    assert json.loads(to_json(matrix)) == matrix


def test_matrix_with_worker2_nic2_down():
    sets = address_sets(lab_nodes())
    plan = plan_probes(sets)
    matrix = build_matrix(reports(plan, fake_ping(down=('198.18.2.12',))), plan, sets)
    ok, broken, msg = evaluate(matrix, 1.0)
    assert not ok
    assert sorted((b['from'], b['to'], b['network']) for b in broken) == [
        ('worker1', 'worker2', '198.18.2.0/24'),
        ('worker2', 'worker1', '198.18.2.0/24'),
        ('worker2', 'worker3', '198.18.2.0/24'),
        ('worker3', 'worker2', '198.18.2.0/24'),
    ]
    assert (
        'worker2 -> worker1 on 198.18.2.0/24: 198.18.2.12 (nic2) -> 198.18.2.11 (nic2): no reply: 3 sent, 0 received (100% loss)'
        in msg
    )
    assert msg.startswith(
        '8/12 address pairs connected (66.7%, threshold 100.0%) across 3 nodes and 2 networks, below the threshold; broken: '
    )
    nets = dict((n['network'], (n['connected'], n['total'])) for n in matrix['networks'])
    assert nets == {'198.18.1.0/24': (6, 6), '198.18.2.0/24': (2, 6)}
    pairs = dict(((p['from'], p['to']), p) for p in matrix['pairs'])
    assert (pairs[('worker1', 'worker2')]['connected'], pairs[('worker1', 'worker3')]['connected']) == (1, 2)
    assert pairs[('worker1', 'worker2')]['latency_ms'] == [0.069, None]
    # 8 of 12 is two thirds: a threshold at or below passes, and still names the broken pairs.
    ok, broken, msg = evaluate(matrix, 0.66)
    assert ok and len(broken) == 4 and 'within the threshold' in msg


def test_matrix_counts_a_node_that_did_not_report():
    sets = address_sets(lab_nodes())
    plan = plan_probes(sets)
    results = reports(plan, fake_ping())
    results['worker3'] = {
        'unreachable': True,
        'changed': False,
        'msg': (
            'Task failed: Failed to create temporary directory. In some cases, you may have been able to authenticate and did not '
            'have permissions on the target directory. Consider changing the remote tmp path in ansible.cfg.'
        ),
    }
    del results['worker2']
    matrix = build_matrix(results, plan, sets)
    # worker1's own 4 probes (the fake answers them all); the 8 of the two silent nodes count as broken.
    assert matrix['summary']['connected'] == 4 and matrix['summary']['total'] == 12
    broken = evaluate(matrix)[1]
    errors = set(b['error'] for b in broken if b['from'] != 'worker1')
    assert errors == {
        'no result from worker2: it did not run the probes',
        'no result from worker3: unreachable (Failed to create temporary directory.)',
    }
    failed = build_matrix({'worker1': {'failed': True, 'msg': 'connectivity_probe: ping is not installed'}}, plan, sets)
    assert (
        failed['probes'][0]['error']
        == 'no result from worker1: the probe failed (connectivity_probe: ping is not installed)'
    )
    skipped = build_matrix({'worker1': {'skipped': True}}, plan, sets)
    assert skipped['probes'][0]['error'] == 'no result from worker1: the probe task was skipped'


def test_matrix_without_a_plan_uses_what_was_reported():
    plan = plan_probes(address_sets(lab_nodes()))
    matrix = build_matrix(reports({'worker1': plan['worker1']}, fake_ping()))
    assert [(p['from'], p['to'], p['total']) for p in matrix['pairs']] == [
        ('worker1', 'worker2', 2),
        ('worker1', 'worker3', 2),
    ]
    assert matrix['probes'][0]['src_nic'] is None


def test_evaluate_edges():
    empty = build_matrix({}, plan_probes(address_sets({'w1': lab_nodes()['worker1']})))
    assert evaluate(empty) == (True, [], 'nothing to probe: no two nodes have addresses on a common network')
    with pytest.raises(ConnectivityError, match='threshold is 1.5'):
        evaluate(healthy()[2], 1.5)
    sets = address_sets(lab_nodes(6, 2))
    plan = plan_probes(sets)
    matrix = build_matrix(reports(plan, fake_ping(down=('198.18.1.11', '198.18.2.11'))), plan, sets)
    msg = evaluate(matrix, limit=3)[2]
    assert msg.endswith('(and 17 more)') and msg.count(' -> ') == 6


def test_describe_broken_without_nics():
    item = {
        'from': 'a',
        'to': 'b',
        'network': 'storage-net',
        'src': '192.0.2.1',
        'dst': '192.0.2.2',
        'src_nic': None,
        'dst_nic': None,
        'error': None,
    }
    assert describe_broken(item) == 'a -> b on storage-net: 192.0.2.1 -> 192.0.2.2'


# --- the table ----------------------------------------------------------------------------------------


def columns(line, header):
    """The cell under each header of a fixed-width line."""
    starts = [header.index(name) for name in header.split()]
    return [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]


def test_table_rows_like_multi_nic_cni():
    lines = render_table(healthy()[2])
    header = lines[0]
    assert header.split() == ['FROM', 'TO', 'CONNECTED/TOTAL', 'IPs', 'LATENCY']
    rows = lines[1 : lines.index('')]
    assert len(rows) == 3 * 2
    assert columns(rows[0], header) == ['worker1', 'worker2', '2/2', '[198.18.1.12 198.18.2.12]', '[0.069ms 0.069ms]']
    net_header = lines[lines.index('') + 1]
    assert net_header.split() == ['NETWORK', 'CONNECTED/TOTAL', 'NODES', 'LATENCY', 'min/avg/max']
    assert lines[lines.index('') + 2].split() == ['198.18.1.0/24', '6/6', '3', '0.057/0.069/0.081ms']
    assert lines[-1] == '12/12 address pairs connected, 6/6 node pairs fully connected'


def test_table_broken_and_bandwidth():
    sets = address_sets(lab_nodes())
    plan = plan_probes(sets)
    results = reports(plan, fake_ping(down=('198.18.2.12',)))
    for res in results['worker1']['probes']:
        res['bandwidth_bps'] = 9.5e9 if res['connected'] else None
    for res in results['worker2']['probes']:
        res['bandwidth_bps'], res['bandwidth_error'] = None, '%s: iperf3 is not installed on this node' % NOT_MEASURED
    lines = render_table(build_matrix(results, plan, sets), bandwidth=True)
    header = lines[0]
    assert header.split()[-1] == 'BANDWIDTHs'
    rows = dict((tuple(columns(line, header)[:2]), columns(line, header)) for line in lines[1 : lines.index('')])
    assert rows[('worker1', 'worker2')][2:] == ['1/2', '[198.18.1.12 198.18.2.12]', '[0.069ms -]', '[9.5Gbits/sec -]']
    assert rows[('worker2', 'worker1')][-1] == 'not measured'
    assert rows[('worker3', 'worker1')][2] == '2/2'


def test_error_result_shape():
    res = error_result({'src': '1.1.1.1', 'dst': '1.1.1.2', 'network': 'n', 'peer': 'p'}, 'why')
    assert res['connected'] is False and res['error'] == 'why' and res['rtt'] is None


def _pod(name, node, status):
    annotations = {'k8s.v1.cni.cncf.io/network-status': json.dumps(status)} if status is not None else {}
    return {'metadata': {'name': name, 'annotations': annotations}, 'spec': {'nodeName': node}}


# Multus' network-status as it wrote it in the lab (tests/integration/test_lab_pods.py), cluster network first.
STATUS_A = [
    {'name': 'netplumb-pods', 'interface': 'eth0', 'ips': ['198.19.9.2'], 'default': True},
    {'name': 'ais/storage-net', 'interface': 'net1', 'ips': ['198.18.32.1']},
    {'name': 'ais/replication-net', 'interface': 'net2', 'ips': ['198.18.33.1']},
]


def test_pod_address_sets_reads_multus_network_status_and_names_what_is_missing():
    pods = [
        _pod('probe-a', 'worker1', STATUS_A),
        _pod('probe-b', 'worker2', [{'name': 'ais/storage-net', 'interface': 'net1', 'ips': ['198.18.32.2/24']}]),
        _pod('probe-c', 'worker3', None),
    ]
    out = pod_address_sets(pods, ['ais/storage-net', 'ais/replication-net'])
    assert out['hosts'] == {'probe-a@worker1': 'probe-a', 'probe-b@worker2': 'probe-b', 'probe-c@worker3': 'probe-c'}
    # The cluster network is no attachment; a prefix length is dropped.
    assert out['address_sets'] == {
        'ais/storage-net': {'probe-a@worker1': ['198.18.32.1'], 'probe-b@worker2': ['198.18.32.2']},
        'ais/replication-net': {'probe-a@worker1': ['198.18.33.1']},
    }
    assert out['missing'] == [
        'probe-b on worker2 has no address on ais/replication-net',
        'probe-c on worker3 has no address on ais/storage-net',
        'probe-c on worker3 has no address on ais/replication-net',
    ]
    # What it returns is what address_sets and plan_probes take: each pod probes the others on each attachment.
    sets = address_sets(dict((host, []) for host in out['hosts']), out['address_sets'])
    probes = plan_probes(sets)
    assert [(p['src'], p['dst']) for p in probes['probe-a@worker1']] == [('198.18.32.1', '198.18.32.2')]


@pytest.mark.parametrize(
    'pods, networks, fragment',
    [
        ({'metadata': {}}, ['ais/x'], 'expected a list of Pod objects'),
        ([{'spec': {}}], ['ais/x'], 'pods[0] is not a Pod object'),
        ([_pod('p', 'n', [])], ['x'], 'expected a list of namespace/name'),
        (
            [{'metadata': {'name': 'p', 'annotations': {'k8s.v1.cni.cncf.io/network-status': '{'}}, 'spec': {}}],
            ['a/x'],
            'not JSON',
        ),
    ],
)
def test_pod_address_sets_refuses_what_is_not_pods(pods, networks, fragment):
    with pytest.raises(ConnectivityError) as exc:
        pod_address_sets(pods, networks)
    assert fragment in str(exc.value)


def test_nic_names_must_be_interface_names():
    with pytest.raises(ConnectivityError) as err:
        address_sets({'w1': [{'name': 'nic:1', 'address': '198.18.1.11/24'}]})
    assert "multihome_nics[0] name of w1 'nic:1' is not a valid interface name: it contains ':'" in str(err.value)
