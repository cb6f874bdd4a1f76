# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ICMP probe engine (module_utils/icmp.py) for real, in network namespaces: a "node" with three NICs (nic1 and
nic2 IPv4, nic3 IPv6), each a veth to a "peer" namespace that answers. The engine runs in the node's namespace as the
connectivity_probe module runs it (one Python process, raw sockets, root) and its figures are checked against what the
peer was made to do: answer everything (thousands of addresses on one NIC), drop every second request (iptables'
statistic match), drop everything from one address (a timeout), nobody at an address (the kernel's own "Destination
Host Unreachable"), a NIC that is down, a source address the node does not have, IPv6. The same probes through
`ping` (the other engine) give results of the same shape and the same outcome.

What this does not prove: real switches and NICs (veths on one kernel, no MTU limits or link speed), nor the speed
figures (bench/bench_probe_engine.py measures those on a lab node). Only addresses of 198.18.0.0/15 (and the IPv6
documentation prefix), only in the test's namespaces; they are deleted also on failure.
"""

import json
import os
import secrets
import subprocess
import sys
import time

import pytest

from conftest import REPO
from netns import sh, veth

pytestmark = pytest.mark.netns

COLLECTIONS = os.path.join(REPO, '.build', 'collections')
RUN = '''
import json, sys, time
from ansible_collections.netplumb.multihome.plugins.module_utils.icmp import echo
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import probe_node
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Runner
args = json.load(sys.stdin)
start = time.monotonic()
if args.pop('engine') == 'icmp':
    results = echo(**args)
else:
    import subprocess
    def run_command(argv, **kwargs):
        proc = subprocess.run(argv, capture_output=True, text=True)
        return proc.returncode, proc.stdout, proc.stderr
    settings = dict(args, engine='ping', concurrency=16)
    probes = [dict(p, network='n', peer='peer') for p in args['probes']]
    results = probe_node(Runner(run_command), probes, settings, 'ping')['probes']
print(json.dumps({'results': results, 'elapsed': time.monotonic() - start}))
'''
KEYS = {'connected', 'rc', 'transmitted', 'received', 'loss', 'rtt', 'error'}


def engine(ns, probes, engine='icmp', count=1, interval=0.2, timeout=1.0):
    """Run the engine (or ``ping`` per probe) inside ``ns``: ``(results, seconds)``."""
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    proc = subprocess.run(
        ['ip', 'netns', 'exec', ns, sys.executable, '-c', RUN],
        input=json.dumps(dict(probes=probes, engine=engine, count=count, interval=interval, timeout=timeout)),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    return out['results'], out['elapsed']


@pytest.fixture(scope='module')
def pair():
    if os.geteuid() != 0:
        pytest.fail('needs root to create network namespaces')
    tag = secrets.token_hex(3)
    ns, peer = 'ie%s-node' % tag, 'ie%s-peer' % tag
    for name in (ns, peer):
        sh('ip', 'netns', 'add', name)
    try:
        for ifname, other, addr, peer_addr in (
            ('nic1', 'p1', '198.19.246.11/24', '198.19.246.1/24'),
            ('nic2', 'p2', '198.19.247.11/24', '198.19.247.1/24'),
            ('nic3', 'p3', '2001:db8:198:19::11/64', '2001:db8:198:19::1/64'),
        ):
            veth(ns, ifname, addr, peer, other, peer_addr)
        for name in (ns, peer):
            sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        # 2,000 more addresses on the peer, in a network the node reaches through the peer's nic1 address (one
        # neighbour, as behind a router: 2,000 neighbours would pass the kernel's neighbour table limits).
        batch = ''.join('addr add 198.19.%d.%d/32 dev p1\n' % (248 + i // 250, 1 + i % 250) for i in range(2000))
        sh('ip', '-n', peer, '-batch', '-', data=batch)
        sh('ip', '-n', ns, 'route', 'add', '198.19.248.0/21', 'via', '198.19.246.1', 'dev', 'nic1')
        # Every second echo request to .2 is dropped, every request to .3 too; .4 has nobody.
        sh('ip', '-n', peer, 'addr', 'add', '198.19.247.2/24', 'dev', 'p2')
        sh('ip', '-n', peer, 'addr', 'add', '198.19.247.3/24', 'dev', 'p2')
        sh(
            'iptables',
            '-A',
            'INPUT',
            '-d',
            '198.19.247.2',
            '-p',
            'icmp',
            '--icmp-type',
            'echo-request',
            '-m',
            'statistic',
            '--mode',
            'nth',
            '--every',
            '2',
            '--packet',
            '1',
            '-j',
            'DROP',
            ns=peer,
        )
        sh('iptables', '-A', 'INPUT', '-d', '198.19.247.3', '-p', 'icmp', '-j', 'DROP', ns=peer)
        yield {'ns': ns, 'peer': peer}
    finally:
        for name in (ns, peer):
            sh('ip', 'netns', 'del', name, check=False)


def test_two_thousand_addresses_answer_at_once(pair):
    probes = [{'src': '198.19.246.11', 'dst': '198.19.%d.%d' % (248 + i // 250, 1 + i % 250)} for i in range(2000)]
    results, took = engine(pair['ns'], probes, count=2, interval=0.05, timeout=1.0)
    assert len(results) == 2000
    lost = [(p['dst'], r) for p, r in zip(probes, results) if not (r['connected'] and r['received'] == 2)]
    assert not lost, lost[:5]
    for result in results:
        assert set(result) == KEYS and result['rc'] == 0 and result['loss'] == 0.0 and result['error'] is None
        assert 0 < result['rtt']['min'] <= result['rtt']['avg'] <= result['rtt']['max'] < 1000
    # All at once: two requests 0.05 s apart, every reply within the timeout; not 2,000 times anything.
    assert took < 1.05 + 3, took


def test_loss_timeouts_and_errors_are_named(pair):
    probes = [
        {'src': '198.19.247.11', 'dst': '198.19.247.1'},  # answers
        {'src': '198.19.247.11', 'dst': '198.19.247.2'},  # every second request dropped
        {'src': '198.19.247.11', 'dst': '198.19.247.3'},  # every request dropped: each one times out
        {'src': '198.19.246.11', 'dst': '198.19.246.1'},  # answers, from the other NIC
        {'src': '198.19.9.9', 'dst': '198.19.246.1'},  # not this node's address
    ]
    results, took = engine(pair['ns'], probes, count=4, interval=0.05, timeout=0.4)
    ok, half, dropped, other, foreign = results
    assert ok['connected'] and ok['received'] == 4 and ok['loss'] == 0.0
    assert half['connected'] and (half['transmitted'], half['received'], half['loss']) == (4, 2, 50.0), half
    assert not dropped['connected'] and dropped['rtt'] is None and dropped['rc'] == 1
    assert dropped['error'] == 'no reply: 4 sent, 0 received (100% loss)', dropped
    assert other['connected'] and other['received'] == 4
    assert not foreign['connected'] and foreign['transmitted'] is None and foreign['rc'] == 2
    assert foreign['error'] == 'bind 198.19.9.9: Cannot assign requested address', foreign
    # The dropped probe ends at its last request's timeout: 3 x 0.05 + 0.4 s, not 4 x 0.4 s.
    assert 0.5 <= took < 1.5, took


def test_nobody_there_is_the_kernels_host_unreachable(pair):
    # ARP gives up after about 3 s (3 solicitations a second apart); the kernel then tells the sender.
    (result,), took = engine(pair['ns'], [{'src': '198.19.247.11', 'dst': '198.19.247.4'}], count=1, timeout=6)
    assert not result['connected'] and result['transmitted'] == 1
    assert result['error'] == (
        'no reply: 1 sent, 0 received (100% loss); Destination Host Unreachable from 198.19.247.11'
    ), result
    # It ends at the kernel's error, not at the timeout.
    assert took < 5.5, took


def test_a_nic_that_is_down_cannot_send_and_the_others_still_answer(pair):
    ns = pair['ns']
    sh('ip', 'link', 'set', 'nic2', 'down', ns=ns)
    try:
        probes = [{'src': '198.19.247.11', 'dst': '198.19.247.1'}, {'src': '198.19.246.11', 'dst': '198.19.246.1'}]
        (down, up), _took = engine(ns, probes, count=2, interval=0.05, timeout=0.5)
        via_ping, _took = engine(ns, probes[:1], engine='ping', count=2, interval=0.05, timeout=0.5)
    finally:
        sh('ip', 'link', 'set', 'nic2', 'up', ns=ns)
    assert not down['connected'] and down['transmitted'] is None and down['rc'] == 2
    assert down['error'] == 'sendto 198.19.247.1: Network is unreachable', down
    assert up['connected'] and up['received'] == 2
    # ping does not connect either (it counts its requests as sent and unanswered).
    assert not via_ping[0]['connected'] and via_ping[0]['error'], via_ping


def test_ipv6(pair):
    probes = [
        {'src': '2001:db8:198:19::11', 'dst': '2001:db8:198:19::1'},
        {'src': '2001:db8:198:19::11', 'dst': '2001:db8:198:19::99'},  # nobody: no neighbour answers
    ]
    (ok, nobody), _took = engine(pair['ns'], probes, count=3, interval=0.05, timeout=0.5)
    assert ok['connected'] and (ok['transmitted'], ok['received'], ok['loss']) == (3, 3, 0.0), ok
    assert ok['rtt']['min'] > 0
    assert not nobody['connected'] and nobody['transmitted'] == 3 and nobody['error'].startswith('no reply: 3 sent'), (
        nobody
    )


def test_the_same_outcome_as_ping(pair):
    probes = [
        {'src': '198.19.247.11', 'dst': '198.19.247.1'},
        {'src': '198.19.247.11', 'dst': '198.19.247.3'},
        {'src': '2001:db8:198:19::11', 'dst': '2001:db8:198:19::1'},
    ]
    ours, _took = engine(pair['ns'], probes, count=2, interval=0.05, timeout=0.5)
    theirs, _took = engine(pair['ns'], probes, engine='ping', count=2, interval=0.05, timeout=0.5)
    for mine, ping in zip(ours, theirs):
        assert set(ping) >= KEYS
        assert {k: mine[k] for k in ('connected', 'transmitted', 'received', 'loss')} == {
            k: ping[k] for k in ('connected', 'transmitted', 'received', 'loss')
        }, (mine, ping)
        assert (mine['rtt'] is None) == (ping['rtt'] is None) and set(mine['rtt'] or {}) == set(ping['rtt'] or {})


def test_replies_to_another_pinger_are_not_counted(pair):
    # A flood ping to the dropping address's neighbour runs beside the engine on the same source address: its
    # replies reach the engine's raw socket too, and must not fill in for the echoes the peer dropped.
    ns = pair['ns']
    other = subprocess.Popen(
        [
            'ip',
            'netns',
            'exec',
            ns,
            'ping',
            '-n',
            '-q',
            '-i',
            '0.002',
            '-w',
            '3',
            '-I',
            '198.19.247.11',
            '198.19.247.1',
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.2)
        (dropped,), _took = engine(
            ns, [{'src': '198.19.247.11', 'dst': '198.19.247.3'}], count=3, interval=0.05, timeout=0.5
        )
    finally:
        other.wait(timeout=10)
    assert not dropped['connected'] and dropped['received'] == 0, dropped
