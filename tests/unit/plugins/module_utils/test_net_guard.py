# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""net_guard's pure parts: probe settings, default probes, the SSH peer from /proc, retries, and turning
``ip -j`` entries (as iproute2 6.1 prints them) back into ``ip rule``/``ip route`` arguments (ip-rule(8),
ip-route(8)). That iproute2 accepts those arguments and that a restore brings a namespace back exactly
is tests/integration/test_net_guard_netns.py's part."""

import os
import re

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils import net_guard
from ansible_collections.netplumb.multihome.plugins.module_utils.net_guard import GuardError


@pytest.mark.parametrize(
    'rule, args',
    [
        ({'priority': 0, 'src': 'all', 'table': 'local'}, ['priority', '0', 'table', 'local']),
        (
            {'priority': 1000, 'src': '198.18.1.11', 'table': 'multihome-nic1'},
            ['priority', '1000', 'from', '198.18.1.11', 'table', 'multihome-nic1'],
        ),
        (
            {'priority': 100, 'src': 'all', 'dst': '198.19.250.0', 'dstlen': 24, 'table': '900'},
            ['priority', '100', 'to', '198.19.250.0/24', 'table', '900'],
        ),
        (
            {
                'priority': 5,
                'not': True,
                'src': '10.0.0.0',
                'srclen': 8,
                'iif': 'eth0',
                'fwmark': '0x1',
                'fwmask': '0xff',
                'table': 'main',
            },
            ['priority', '5', 'not', 'from', '10.0.0.0/8', 'iif', 'eth0', 'fwmark', '0x1/0xff', 'table', 'main'],
        ),
        ({'priority': 7, 'src': 'all', 'action': 'unreachable'}, ['priority', '7', 'unreachable']),
        ({'priority': 8, 'src': 'all', 'action': 'goto', 'target': 10}, ['priority', '8', 'goto', '10']),
        (
            {'priority': 9, 'src': 'all', 'table': 'main', 'suppress_prefixlen': 0},
            ['priority', '9', 'table', 'main', 'suppress_prefixlength', '0'],
        ),
    ],
)
def test_rule_args(rule, args):
    assert net_guard.rule_args(rule) == args


@pytest.mark.parametrize(
    'route, args',
    [
        (
            {'dst': 'default', 'gateway': '198.18.0.1', 'dev': 'eth0', 'flags': []},
            ['default', 'via', '198.18.0.1', 'dev', 'eth0', 'table', 'main'],
        ),
        (
            {
                'dst': '198.18.1.0/24',
                'dev': 'nic1',
                'table': '1000',
                'scope': 'link',
                'prefsrc': '198.18.1.11',
                'flags': [],
            },
            ['198.18.1.0/24', 'dev', 'nic1', 'scope', 'link', 'src', '198.18.1.11', 'table', '1000'],
        ),
        (
            {'type': 'unreachable', 'dst': 'default', 'table': '900', 'flags': []},
            ['unreachable', 'default', 'table', '900'],
        ),
        (
            {
                'dst': '10.9.0.0/16',
                'protocol': 'static',
                'metric': 20,
                'metrics': [{'mtu': 1400}],
                'nexthops': [
                    {'gateway': '198.18.1.254', 'dev': 'nic1', 'weight': 1},
                    {'gateway': '198.18.2.254', 'dev': 'nic2', 'weight': 2},
                ],
            },
            [
                '10.9.0.0/16',
                'proto',
                'static',
                'metric',
                '20',
                'mtu',
                '1400',
                'nexthop',
                'via',
                '198.18.1.254',
                'dev',
                'nic1',
                'weight',
                '1',
                'nexthop',
                'via',
                '198.18.2.254',
                'dev',
                'nic2',
                'weight',
                '2',
                'table',
                'main',
            ],
        ),
        (
            {'dst': '198.18.9.0/24', 'gateway': '198.18.1.254', 'dev': 'nic1', 'flags': ['onlink']},
            ['198.18.9.0/24', 'via', '198.18.1.254', 'dev', 'nic1', 'onlink', 'table', 'main'],
        ),
    ],
)
def test_route_args(route, args):
    assert net_guard.route_args(route) == args


def test_guarded_routes_leave_out_the_kernels_own_and_its_bookkeeping():
    routes = [
        {'type': 'local', 'dst': '198.18.1.11', 'dev': 'nic1', 'table': 'local', 'protocol': 'kernel'},
        {'dst': '198.18.1.0/24', 'dev': 'nic1', 'protocol': 'kernel', 'scope': 'link', 'prefsrc': '198.18.1.11'},
        {'dst': 'ff00::/8', 'dev': 'nic1', 'table': 'local', 'type': 'multicast'},
        {'dst': 'default', 'gateway': '198.18.0.1', 'dev': 'eth0', 'flags': [], 'expires': 300, 'pref': 'medium'},
        {'dst': '198.18.9.0/24', 'gateway': '198.18.1.254', 'dev': 'nic1', 'flags': ['onlink']},
    ]
    assert net_guard.guarded_routes(routes) == [
        {'dst': 'default', 'gateway': '198.18.0.1', 'dev': 'eth0'},
        {'dst': '198.18.9.0/24', 'gateway': '198.18.1.254', 'dev': 'nic1', 'flags': ['onlink']},
    ]


@pytest.mark.parametrize(
    'value, expected',
    [
        ('198.18.0.2:6443', ('198.18.0.2', 6443)),
        ('https://198.18.0.2:6443/', ('198.18.0.2', 6443)),
        ('https://api.example', ('api.example', 443)),
        ('http://api.example/healthz', ('api.example', 80)),
        ('[fd00::2]:6443', ('fd00::2', 6443)),
        ('https://[fd00::2]', ('fd00::2', 443)),
    ],
)
def test_split_host_port(value, expected):
    assert net_guard.split_host_port(value, 'api_server') == expected


@pytest.mark.parametrize('value', ['198.18.0.2', '198.18.0.2:0', '198.18.0.2:70000', ':6443', ''])
def test_split_host_port_refuses(value):
    with pytest.raises(GuardError, match='api_server'):
        net_guard.split_host_port(value, 'api_server')


def test_normalize_probes_names_them_and_checks_each():
    probes = net_guard.normalize_probes(
        [
            {'ping': '198.18.1.12', 'source': 'nic1'},
            {'name': 'API', 'tcp': 'https://198.18.0.2:6443', 'timeout': 5},
            {'tcp': '[fd00::2]:22'},
        ]
    )
    assert probes == [
        {'name': 'ping 198.18.1.12 from nic1', 'ping': '198.18.1.12', 'source': 'nic1', 'timeout': 2.0},
        {'name': 'API', 'tcp': '198.18.0.2:6443', 'source': None, 'timeout': 5.0},
        {'name': 'tcp [fd00::2]:22', 'tcp': '[fd00::2]:22', 'source': None, 'timeout': 2.0},
    ]


@pytest.mark.parametrize(
    'probes, message',
    [
        ({'ping': '198.18.1.12'}, 'probes {"ping": "198.18.1.12"} is not a list'),
        ([{'ping': '198.18.1.12', 'tcp': '198.18.1.12:22'}], 'probes[0] .* must have exactly one of ping'),
        ([{}], 'probes[0] {} must have exactly one of ping'),
        ([{'ping': 'gateway'}], 'probes[0] ping "gateway" is not an IP address'),
        ([{'ping': '198.18.1.12', 'via': 'nic1'}], 'probes[0] has unknown keys via'),
        ([{'ping': '198.18.1.12', 'timeout': 0}], 'probes[0] timeout 0 is not 0 to 60 seconds'),
        ([{'ping': '198.18.1.12'}, {'ping': '198.18.1.12'}], 'name ping 198.18.1.12 twice'),
    ],
)
def test_normalize_probes_refuses(probes, message):
    with pytest.raises(GuardError) as err:
        net_guard.normalize_probes(probes)
    pattern = '.*'.join(re.escape(part) for part in message.split('.*'))
    assert re.search(pattern, str(err.value)), str(err.value)


def test_default_probes_cover_each_gateway_the_peer_and_the_api_server():
    routes4 = [
        {'dst': 'default', 'gateway': '198.18.0.1', 'dev': 'eth0'},
        {'dst': '198.18.0.0/24', 'dev': 'eth0'},
        {'dst': 'default', 'dev': 'wg0'},  # no gateway: nothing to ping
    ]
    routes6 = [{'dst': 'default', 'gateway': 'fe80::1', 'dev': 'eth0'}]
    probes = net_guard.default_probes(routes4, routes6, '198.18.0.100', 'https://198.18.0.2:6443')
    assert [(p['name'], p.get('ping') or p.get('tcp'), p['source']) for p in probes] == [
        ('default gateway 198.18.0.1 on eth0', '198.18.0.1', None),
        # A link-local gateway is only reachable named with its NIC.
        ('default gateway fe80::1 on eth0', 'fe80::1', 'eth0'),
        ('Ansible connection peer 198.18.0.100', '198.18.0.100', None),
        ('API server 198.18.0.2:6443', '198.18.0.2:6443', None),
    ]
    assert net_guard.default_probes([], []) == []


def fake_proc(root, chain):
    """``chain``: [(pid, ppid, argv, env)] written as /proc/PID/{stat,cmdline,environ}."""
    for pid, ppid, argv, env in chain:
        os.makedirs(root / str(pid))
        (root / str(pid) / 'stat').write_bytes(b'%d (a (b) c) S %d 1 1 0' % (pid, ppid))
        (root / str(pid) / 'cmdline').write_bytes(b'\0'.join(a.encode() for a in argv) + b'\0')
        (root / str(pid) / 'environ').write_bytes(
            b'\0'.join(b'%s=%s' % (k.encode(), v.encode()) for k, v in env.items())
        )


def test_the_connection_peer_is_found_above_sudo(tmp_path):
    fake_proc(
        tmp_path,
        [
            (30, 20, ['/usr/bin/python3', '/root/.ansible/tmp/AnsiballZ_net_guard.py'], {'HOME': '/root'}),
            (20, 10, ['sudo', '-H', '-S', '-n', '-u', 'root', '/bin/sh', '-c', 'echo BECOME'], {}),
            (10, 5, ['/bin/sh', '-c', '/usr/bin/python3 ...'], {'SSH_CONNECTION': '198.18.0.100 53122 198.18.0.11 22'}),
            (5, 1, ['sshd: admin@notty'], {}),
        ],
    )
    assert net_guard.connection_peer_from_proc(30, str(tmp_path)) == '198.18.0.100'


def test_no_connection_peer_below_a_controller_on_the_node(tmp_path):
    fake_proc(
        tmp_path,
        [
            (30, 20, ['/usr/bin/python3', '/root/.ansible/tmp/AnsiballZ_net_guard.py'], {}),
            (20, 10, ['/usr/bin/python3', '/usr/bin/ansible-playbook', 'site.yml'], {}),
            (10, 1, ['-bash'], {'SSH_CONNECTION': '203.0.113.5 53122 198.18.0.11 22'}),
        ],
    )
    assert net_guard.connection_peer_from_proc(30, str(tmp_path)) is None
    # A parent outside this PID namespace (nsenter, podman exec) ends the walk too.
    assert net_guard.connection_peer_from_proc(99, str(tmp_path)) is None


class FakeRunner:
    """Answers ping with the next scripted reply per address; records the commands."""

    def __init__(self, replies):
        self.replies = dict((k, list(v)) for k, v in replies.items())
        self.argvs = []

    def run(self, argv, env=None, data=None):
        self.argvs.append(argv)
        if self.replies[argv[-1]].pop(0):
            return (
                0,
                '64 bytes from %s: icmp_seq=1\n1 packets transmitted, 1 received, 0%% packet loss, time 0ms\n'
                % argv[-1],
                '',
            )
        return 1, '1 packets transmitted, 0 received, 100% packet loss, time 0ms\n', ''


def test_probe_until_retries_only_the_failing_ones_until_they_pass_or_time_is_up():
    clock = {'now': 0.0}
    runner = FakeRunner({'198.18.1.12': [True], '198.18.2.12': [False, False, True], '198.18.3.12': [False] * 10})
    probes = net_guard.normalize_probes([{'ping': '198.18.1.12'}, {'ping': '198.18.2.12'}, {'ping': '198.18.3.12'}])
    results = net_guard.probe_until(
        runner,
        probes,
        timeout=3,
        interval=1,
        clock=lambda: clock['now'],
        sleep=lambda s: clock.update(now=clock['now'] + s),
    )
    assert [(r['name'], r['ok']) for r in results] == [
        ('ping 198.18.1.12', True),
        ('ping 198.18.2.12', True),
        ('ping 198.18.3.12', False),
    ]
    assert results[2]['error'] == 'no reply: 1 sent, 0 received (100% loss)'
    sent = [argv[-1] for argv in runner.argvs]
    assert sent.count('198.18.1.12') == 1 and sent.count('198.18.2.12') == 3 and sent.count('198.18.3.12') == 4


def test_differences_name_each_thing_that_moved():
    before = {
        'rules': {'4': [{'priority': 1000, 'src': '198.18.1.11', 'table': '1000'}], '6': []},
        'routes': {'4': [{'dst': '198.18.9.0/24', 'gateway': '198.18.1.254', 'dev': 'nic1'}], '6': []},
        'links': {'nic1': {'up': True, 'addresses': ['198.18.1.11/24']}},
        'sysctls': {'net.ipv4.conf.nic1.rp_filter': '2'},
        'files': {
            '/etc/a': {'exists': False, 'parent_exists': True},
            '/etc/b': {'exists': True, 'content': 'eA==', 'mode': 420, 'uid': 0, 'gid': 0, 'parent_exists': True},
        },
    }
    now = {
        'rules': {'4': [], '6': []},
        'routes': {'4': [], '6': []},
        'links': {'nic1': {'up': False, 'addresses': []}},
        'sysctls': {'net.ipv4.conf.nic1.rp_filter': '1'},
        'files': {
            '/etc/a': {'exists': True, 'content': 'eA==', 'mode': 420, 'uid': 0, 'gid': 0, 'parent_exists': True},
            '/etc/b': {'exists': True, 'content': 'eQ==', 'mode': 420, 'uid': 0, 'gid': 0, 'parent_exists': True},
        },
    }
    assert net_guard.differences(before, now) == [
        'IPv4 rule priority 1000 from 198.18.1.11 table 1000 is gone',
        'IPv4 route 198.18.9.0/24 via 198.18.1.254 dev nic1 table main is gone',
        'link nic1 was up with 198.18.1.11/24 and is down with no address',
        'sysctl net.ipv4.conf.nic1.rp_filter was 2 and is 1',
        'file /etc/a is new',
        'file /etc/b has changed',
    ]
    assert net_guard.differences(before, before) == []


@pytest.mark.parametrize(
    'key, path',
    [
        ('net.ipv4.conf.nic1.rp_filter', '/proc/sys/net/ipv4/conf/nic1/rp_filter'),
        ('net.ipv4.conf.eth0/100.rp_filter', '/proc/sys/net/ipv4/conf/eth0.100/rp_filter'),
    ],
)
def test_sysctl_path(key, path):
    assert net_guard.sysctl_path(key) == path


@pytest.mark.parametrize('value', ['', 'net..ipv4', '.net', 'Routing', 'a/b', 'x' * 65, None])
def test_ids_and_sysctls_are_refused_when_not_names(value):
    with pytest.raises(GuardError):
        net_guard.check_id(value)
    if value in ('', 'net..ipv4', '.net', None):
        with pytest.raises(GuardError):
            net_guard.sysctl_path(value)
