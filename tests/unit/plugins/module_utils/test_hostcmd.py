# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/hostcmd: the runner, ``ip -j`` and its one JSON loader, ping and its one result shape, the pool.

The command outputs are as iproute2 6.1 and iputils 20221126 (Debian bookworm) print them; the
"not supported" answer is what ``ip -6`` says on a kernel booted with ``ipv6.disable=1``.
"""

import threading
import time

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import (
    CommandError,
    Gauge,
    Ip,
    Runner,
    command_text,
    load_ip_json,
    ping,
    ping_argv,
    ping_result,
    run_ordered,
)

IP = '/usr/sbin/ip'
NO_IPV6 = 'RTNETLINK answers: Address family not supported by protocol\n'


class Scripted:
    """A ``run_command`` answering each argv from a table; records every call with its environment and stdin."""

    def __init__(self, table):
        self.table = dict((tuple(argv), answer) for argv, answer in table)
        self.calls = []

    def __call__(self, argv, environ_update=None, data=None):
        self.calls.append((argv, environ_update, data))
        return self.table[tuple(argv)]


# ------------------------------------------------------------------ runner


def test_runner_passes_argv_environment_and_stdin_and_returns_what_the_command_did():
    fake = Scripted([(['/opt/cni/bin/macvlan'], (1, '{"msg": "x"}', ''))])
    runner = Runner(fake)
    assert runner.run(('/opt/cni/bin/macvlan',), env={'CNI_COMMAND': 'ADD'}, data='{}') == (1, '{"msg": "x"}', '')
    # An argv list, never a shell string, whatever the caller handed in.
    assert fake.calls == [(['/opt/cni/bin/macvlan'], {'CNI_COMMAND': 'ADD'}, '{}')]


def test_must_names_the_command_its_exit_code_and_its_words():
    runner = Runner(
        Scripted(
            [
                ([IP, 'netns', 'add', 'npf-a'], (1, '', 'Cannot create namespace file: File exists\n')),
                ([IP, 'netns', 'add', 'npf-b'], (0, '', '')),
            ]
        )
    )
    assert runner.must([IP, 'netns', 'add', 'npf-b']) == ''
    with pytest.raises(CommandError) as exc:
        runner.must([IP, 'netns', 'add', 'npf-a'])
    assert str(exc.value) == "'ip netns add npf-a' failed (rc=1): Cannot create namespace file: File exists"
    assert (exc.value.rc, exc.value.stderr, exc.value.argv) == (
        1,
        'Cannot create namespace file: File exists\n',
        [IP, 'netns', 'add', 'npf-a'],
    )
    assert command_text(['/usr/bin/ping', '-n', 1]) == 'ping -n 1'


# ------------------------------------------------------------------ ip -j


@pytest.mark.parametrize(
    'text, allow_empty, expected',
    [
        ('[{"ifname": "lo"}, {}, 3]', True, [{'ifname': 'lo'}, {}]),
        ([{'ifname': 'lo'}, 'junk'], True, [{'ifname': 'lo'}]),
        ('', True, []),
        ('  \n', True, []),
        (None, True, []),
        ('[]', False, []),
    ],
)
def test_load_ip_json_gives_the_objects(text, allow_empty, expected):
    assert load_ip_json(text, 'ip -j addr show', allow_empty) == expected


@pytest.mark.parametrize(
    'text, allow_empty, message',
    [
        ('', False, "ip -j addr show output '' is not JSON"),
        ('Option "-j" is unknown', True, "is not JSON"),
        ('{"ifname": "eth0"}', True, 'ip -j addr show output is a JSON dict: expected'),
    ],
)
def test_load_ip_json_refuses_what_is_not_a_json_list(text, allow_empty, message):
    with pytest.raises(CommandError) as exc:
        load_ip_json(text, 'ip -j addr show', allow_empty)
    assert message in str(exc.value) and "iproute2's -j output" in str(exc.value)


def test_ip_argv_family_json_and_namespace():
    ip = Ip(Runner(None), IP)
    assert ip.argv(['addr', 'show'], json_output=True) == [IP, '-j', 'addr', 'show']
    assert ip.argv(['route', 'show', 'default'], family=6, json_output=True) == [
        IP,
        '-6',
        '-j',
        'route',
        'show',
        'default',
    ]
    assert ip.argv(['addr', 'show'], netns='npf-a', json_output=True) == [IP, '-j', '-n', 'npf-a', 'addr', 'show']
    assert ip.argv(['link', 'del', 'dev', 'br0']) == [IP, 'link', 'del', 'dev', 'br0']


def test_ip_query_runs_inside_a_namespace_and_parses():
    fake = Scripted([([IP, '-j', '-n', 'npf-a', 'addr', 'show'], (0, '[{"ifname": "net1", "mtu": 1500}]\n', ''))])
    assert Ip(Runner(fake), IP).query('addr', 'show', netns='npf-a') == [{'ifname': 'net1', 'mtu': 1500}]


def test_ip_query_failure_names_the_command_and_what_it_needs():
    fake = Scripted([([IP, '-j', 'addr', 'show'], (255, '', 'Option "-j" is unknown, try "ip -help".\n'))])
    with pytest.raises(CommandError) as exc:
        Ip(Runner(fake), IP).query('addr', 'show')
    assert str(exc.value).startswith("'ip -j addr show' failed (rc=255): Option \"-j\" is unknown")
    assert 'iproute2 4.13 or later' in str(exc.value) and exc.value.rc == 255


def test_optional_means_the_host_may_lack_the_family_and_nothing_else():
    fake = Scripted(
        [
            ([IP, '-6', '-j', 'rule', 'show'], (2, '', NO_IPV6)),
            ([IP, '-6', '-j', 'route', 'show', 'default'], (1, '', 'Error: something else broke\n')),
        ]
    )
    ip = Ip(Runner(fake), IP)
    assert ip.query('rule', 'show', family=6, optional=True) == []
    # Not optional: the same answer is an error.
    with pytest.raises(CommandError, match='Address family not supported'):
        ip.query('rule', 'show', family=6)
    # Optional, but another failure: still an error, not "no IPv6".
    with pytest.raises(CommandError, match='something else broke'):
        ip.query('route', 'show', 'default', family=6, optional=True)


def test_ip_query_of_an_answer_that_always_exists_refuses_empty_output():
    fake = Scripted([([IP, '-j', 'addr', 'show'], (0, '', ''))])
    with pytest.raises(CommandError, match="ip -j addr show output '' is not JSON"):
        Ip(Runner(fake), IP).query('addr', 'show', allow_empty=False)
    assert Ip(Runner(fake), IP).query('addr', 'show') == []


# ------------------------------------------------------------------ ping

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


def test_ping_argv_from_a_source_address_or_inside_a_namespace():
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
    # Inside the attachment's namespace, without resolving names, ping's own default interval.
    assert ping_argv('198.18.61.253', 2, 1, netns='npf-a-1', ip_bin=IP) == [
        IP,
        'netns',
        'exec',
        'npf-a-1',
        'ping',
        '-n',
        '-c',
        '2',
        '-W',
        '1',
        '198.18.61.253',
    ]


@pytest.mark.parametrize(
    'rc, stdout, stderr, expected',
    [
        (
            0,
            PING_OK,
            '',
            {
                'connected': True,
                'rc': 0,
                'transmitted': 2,
                'received': 2,
                'loss': 0.0,
                'rtt': {'min': 0.086, 'avg': 0.268, 'max': 0.45, 'mdev': 0.182},
                'error': None,
            },
        ),
        (
            1,
            PING_LOST,
            '',
            {
                'connected': False,
                'rc': 1,
                'transmitted': 2,
                'received': 0,
                'loss': 100.0,
                'rtt': None,
                'error': 'no reply: 2 sent, 0 received (100% loss)',
            },
        ),
        (
            0,
            PING_HALF,
            '',
            {
                'connected': True,
                'rc': 0,
                'transmitted': 2,
                'received': 1,
                'loss': 50.0,
                'rtt': {'min': 0.1, 'avg': 0.1, 'max': 0.1, 'mdev': 0.0},
                'error': None,
            },
        ),
        (
            1,
            PING_UNREACH,
            '',
            {
                'connected': False,
                'rc': 1,
                'transmitted': 2,
                'received': 0,
                'loss': 100.0,
                'rtt': None,
                'error': 'no reply: 2 sent, 0 received (100% loss)',
            },
        ),
        (
            2,
            '',
            'ping: connect: Network is unreachable\n',
            {
                'connected': False,
                'rc': 2,
                'transmitted': None,
                'received': None,
                'loss': None,
                'rtt': None,
                'error': 'ping: connect: Network is unreachable',
            },
        ),
        (
            1,
            '',
            'Cannot open network namespace "npf-x": No such file or directory\n',
            {
                'connected': False,
                'rc': 1,
                'transmitted': None,
                'received': None,
                'loss': None,
                'rtt': None,
                'error': 'Cannot open network namespace "npf-x": No such file or directory',
            },
        ),
        (
            2,
            'ping: unknown iface\n',
            '',
            {
                'connected': False,
                'rc': 2,
                'transmitted': None,
                'received': None,
                'loss': None,
                'rtt': None,
                'error': 'ping: unknown iface',
            },
        ),
    ],
)
def test_ping_result_has_one_shape(rc, stdout, stderr, expected):
    assert ping_result(rc, stdout, stderr) == expected


def test_ping_runs_through_the_runner():
    argv = [IP, 'netns', 'exec', 'npf-a-1', 'ping', '-n', '-c', '2', '-W', '1', '198.18.61.254']
    fake = Scripted([(argv, (0, PING_OK, ''))])
    got = ping(Runner(fake), '198.18.61.254', 2, 1, netns='npf-a-1', ip_bin=IP)
    assert got['connected'] and got['rtt']['avg'] == 0.268
    assert [call[0] for call in fake.calls] == [argv]


# ------------------------------------------------------------------ the pool


@pytest.mark.parametrize('limit, count', [(1, 5), (3, 12), (8, 3)])
def test_run_ordered_is_bounded_parallel_and_ordered(limit, count):
    gauge = Gauge()
    delays = [0.02 + 0.03 * ((count - i) % 3) for i in range(count)]  # later items often finish first

    def work(i):
        time.sleep(delays[i])
        return i * 10

    assert run_ordered(range(count), work, limit, gauge) == [i * 10 for i in range(count)]
    assert gauge.peak == min(limit, count)
    assert gauge.current == 0


def test_run_ordered_raises_and_leaves_no_call_running():
    gauge = Gauge()
    started = []
    lock = threading.Lock()

    def work(i):
        with lock:
            started.append(i)
        if i == 0:
            raise OSError('gone')
        time.sleep(0.05)
        return i

    with pytest.raises(OSError, match='gone'):
        run_ordered(range(6), work, 2, gauge)
    # The call running beside the failed one was waited for; those not started yet never start.
    assert gauge.current == 0
    assert len(started) < 6
    assert run_ordered([], work, 2) == []
    for bad in (0, -1, True, '2'):
        with pytest.raises(ValueError, match='limit is'):
            run_ordered([1], work, bad)


class InTurn:
    """A ``run_command`` giving ``answers`` one after the other (the same argv may answer differently)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, argv, environ_update=None, data=None):
        self.calls.append((argv, environ_update, data))
        return self.answers.pop(0)


def test_a_ping_cut_short_after_a_reply_runs_once_more_and_that_run_counts():
    argv = [IP, 'netns', 'exec', 'npf-a-1', 'ping', '-n', '-c', '2', '-W', '1', '198.18.61.254']
    cut = 'PING 198.18.61.254 (198.18.61.254) 56(84) bytes of data.\n64 bytes from 198.18.61.254: icmp_seq=1 ttl=64 time=0.031 ms\n'
    fake = InTurn([(-15, cut, ''), (0, PING_OK, '')])
    got = ping(Runner(fake), '198.18.61.254', 2, 1, netns='npf-a-1', ip_bin=IP)
    assert got['connected'] and got['loss'] == 0.0, got
    assert [call[0] for call in fake.calls] == [argv, argv]
    # Cut short twice: it counts as what it is, no summary and not connected; no third try.
    fake = InTurn([(-15, cut, ''), (-15, cut, '')])
    got = ping(Runner(fake), '198.18.61.254', 2, 1, netns='npf-a-1', ip_bin=IP)
    assert not got['connected'] and got['transmitted'] is None and len(fake.calls) == 2


def test_a_ping_without_any_reply_is_not_run_again():
    argv = [IP, 'netns', 'exec', 'npf-a-1', 'ping', '-n', '-c', '2', '-W', '1', '198.18.61.254']
    fake = InTurn([(2, '', 'ping: connect: Network is unreachable\n')])
    got = ping(Runner(fake), '198.18.61.254', 2, 1, netns='npf-a-1', ip_bin=IP)
    assert got['error'] == 'ping: connect: Network is unreachable' and [c[0] for c in fake.calls] == [argv]
