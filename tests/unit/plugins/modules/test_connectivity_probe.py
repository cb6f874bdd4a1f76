# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""connectivity_probe against a scripted node (cases in test_connectivity_probe.yml), and connectivity_matrix on its results.

The matrix tests run the probe module on every node of a 3 x 2 lab whose pings are answered as the
lab answers them (worker2's nic2 down in one of them), then the matrix module on those results, as
the role does.
"""

import json
import os

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import connectivity
from ansible_collections.netplumb.multihome.plugins.modules import connectivity_matrix, connectivity_probe

from scripted_host import ScriptedHost, contained

with open(os.path.join(os.path.dirname(__file__), 'test_connectivity_probe.yml')) as _handle:
    CASES = yaml.safe_load(_handle)


def on_node(monkeypatch, commands, bins):
    """AnsibleModule's commands answered by a ScriptedHost; ``bins`` the binaries the node has."""
    host = ScriptedHost(commands)
    monkeypatch.setattr(
        AnsibleModule, 'run_command', lambda self, argv, **kw: host(argv, kw.get('environ_update'), kw.get('data'))
    )
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: bins.get(name))
    # No pause between iperf3 retries.
    monkeypatch.setattr(connectivity.random, 'uniform', lambda low, high: 0)
    # These nodes answer ping commands: engine=auto finds no raw sockets and runs ping (the icmp engine runs for
    # real in tests/integration/test_icmp_engine_netns.py).
    monkeypatch.setattr(connectivity_probe, 'available', lambda: 'raw ICMP socket: Operation not permitted')
    return host


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_connectivity_probe(run_module, monkeypatch, case):
    host = on_node(monkeypatch, case['commands'], case.get('bins', {'ping': '/usr/bin/ping'}))
    failed, result = run_module(connectivity_probe, case['args'])
    if 'failed' in case:
        assert failed and case['failed'] in result['msg'], result
    else:
        assert not failed, result
        contained(result, case['result'])
    assert host.left() == [], 'commands the module never ran'
    if 'peak' in case:
        assert host.peak == case['peak']


def test_engine_icmp_without_raw_sockets_fails_saying_why(run_module, monkeypatch):
    on_node(monkeypatch, [], {'ping': '/usr/bin/ping'})
    failed, result = run_module(
        connectivity_probe,
        {'probes': [{'src': '198.18.1.11', 'dst': '198.18.1.12', 'network': 'n', 'peer': 'worker2'}], 'engine': 'icmp'},
    )
    assert failed and result['msg'] == (
        'connectivity_probe: engine=icmp needs raw ICMP sockets (root), but raw ICMP socket: Operation not permitted'
    )


def test_engine_auto_with_raw_sockets_sends_every_echo_itself(run_module, monkeypatch):
    on_node(monkeypatch, [], {})  # no ping on this node, and no command may run
    monkeypatch.setattr(connectivity_probe, 'available', lambda: None)
    calls = []

    def echo(probes, count, interval, timeout):
        calls.append((len(probes), count, interval, timeout))
        return [
            dict(
                connected=True,
                rc=0,
                transmitted=count,
                received=count,
                loss=0.0,
                rtt={'min': 0.1, 'avg': 0.1, 'max': 0.1, 'mdev': 0.0},
                error=None,
            )
            for _probe in probes
        ]

    monkeypatch.setattr(connectivity, 'echo', echo)
    probes = [{'src': '198.18.1.11', 'dst': '198.18.1.1%d' % i, 'network': 'n', 'peer': 'w%d' % i} for i in range(2, 5)]
    failed, result = run_module(connectivity_probe, {'probes': probes, 'count': 2, 'interval': 0.05, 'timeout': 0.5})
    assert not failed, result
    assert calls == [(3, 2, 0.05, 0.5)]
    assert result['engine'] == 'icmp' and result['connected'] == result['total'] == result['peak_concurrency'] == 3
    assert [p['peer'] for p in result['probes']] == ['w2', 'w3', 'w4'] and result['probes'][0]['received'] == 2


# ------------------------------------------------------------------ the matrix of the probes' results

PING_OK = """PING {dst} ({dst}) from {src} : 56(84) bytes of data.
64 bytes from {dst}: icmp_seq=1 ttl=64 time=0.057 ms

--- {dst} ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 404ms
rtt min/avg/max/mdev = 0.057/0.069/0.081/0.009 ms
"""
PING_LOST = """PING {dst} ({dst}) from {src} : 56(84) bytes of data.

--- {dst} ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 405ms
"""
NODES = dict(
    ('worker%d' % i, [{'name': 'nic%d' % k, 'address': '198.18.8%d.1%d/24' % (k, i)} for k in (1, 2)])
    for i in (1, 2, 3)
)


def probe_every_node(run_module, monkeypatch, down=()):
    """``{node: connectivity_probe result}``, pings to or from an address in ``down`` lost.

    As the role does it: the matrix module checks the nodes first, and each node gets them as its JSON text
    (``nodes_json``; a dict option takes JSON text)."""
    failed, checked = run_module(connectivity_matrix, {'nodes': NODES, 'plan': False})
    assert not failed and isinstance(checked['nodes_json'], str) and json.loads(checked['nodes_json']) == NODES
    results = {}
    for node in NODES:
        commands = []
        for probe in connectivity.plan_probes(connectivity.address_sets(NODES))[node]:
            lost = probe['src'] in down or probe['dst'] in down
            commands.append(
                {
                    'argv': [
                        '/usr/bin/ping',
                        '-n',
                        '-c',
                        '3',
                        '-i',
                        '0.2',
                        '-W',
                        '1',
                        '-I',
                        probe['src'],
                        probe['dst'],
                    ],
                    'unordered': True,
                    'rc': 1 if lost else 0,
                    'out': (PING_LOST if lost else PING_OK).format(**probe),
                }
            )
        host = on_node(monkeypatch, commands, {'ping': '/usr/bin/ping'})
        failed, results[node] = run_module(connectivity_probe, {'nodes': checked['nodes_json'], 'node': node})
        assert not failed and host.left() == [], results[node]
    return results


def test_the_matrix_of_a_healthy_lab_passes_with_its_table(run_module, monkeypatch):
    results = probe_every_node(run_module, monkeypatch)
    failed, result = run_module(connectivity_matrix, {'nodes': NODES, 'results': results})
    assert not failed, result
    assert result['passed'] is True and result['broken'] == []
    assert result['msg'] == '12/12 address pairs connected (100.0%, threshold 100.0%) across 3 nodes and 2 networks'
    assert result['table'][0].split() == ['FROM', 'TO', 'CONNECTED/TOTAL', 'IPs', 'LATENCY']
    assert result['table'][1].split() == [
        'worker1',
        'worker2',
        '2/2',
        '[198.18.81.12',
        '198.18.82.12]',
        '[0.069ms',
        '0.069ms]',
    ]
    assert result['table'][-1] == '12/12 address pairs connected, 6/6 node pairs fully connected'
    assert result['matrix']['summary']['fraction'] == 1.0


def test_a_nic_down_fails_the_threshold_naming_each_broken_pair(run_module, monkeypatch):
    results = probe_every_node(run_module, monkeypatch, down=('198.18.82.12',))
    failed, result = run_module(connectivity_matrix, {'nodes': NODES, 'results': results})
    assert failed and result['passed'] is False
    assert result['msg'].startswith(
        '8/12 address pairs connected (66.7%, threshold 100.0%) across 3 nodes and 2 networks, '
        'below the threshold; broken: '
    )
    assert (
        'worker1 -> worker2 on 198.18.82.0/24: 198.18.82.11 (nic2) -> 198.18.82.12 (nic2): no reply: 3 sent, 0 received '
        '(100% loss)' in result['msg']
    )
    assert sorted((b['from'], b['to']) for b in result['broken']) == [
        ('worker1', 'worker2'),
        ('worker2', 'worker1'),
        ('worker2', 'worker3'),
        ('worker3', 'worker2'),
    ]
    rows = dict((tuple(line.split()[:2]), line.split()[2]) for line in result['table'][1:7])
    assert rows == {
        ('worker1', 'worker2'): '1/2',
        ('worker1', 'worker3'): '2/2',
        ('worker2', 'worker1'): '1/2',
        ('worker2', 'worker3'): '1/2',
        ('worker3', 'worker1'): '2/2',
        ('worker3', 'worker2'): '1/2',
    }
    # The same results pass a threshold below 8/12, still listing what is broken.
    failed, lenient = run_module(connectivity_matrix, {'nodes': NODES, 'results': results, 'threshold': 0.6})
    assert not failed and lenient['passed'] is True and len(lenient['broken']) == 4


def test_without_results_the_matrix_module_only_plans(run_module):
    failed, result = run_module(connectivity_matrix, {'nodes': NODES})
    assert not failed and result['changed'] is False
    assert sorted(result) == ['changed', 'invocation', 'networks', 'nodes', 'nodes_json', 'plan']
    assert result['plan']['worker3'][0] == {
        'src': '198.18.81.13',
        'dst': '198.18.81.11',
        'network': '198.18.81.0/24',
        'peer': 'worker1',
    }
    assert result['nodes'] == NODES


def test_without_the_plan_the_matrix_module_checks_the_probe_settings_once(run_module):
    failed, result = run_module(connectivity_matrix, {'nodes': NODES, 'plan': False})
    assert not failed and sorted(result) == ['changed', 'invocation', 'networks', 'nodes', 'nodes_json']
    for args, message in (
        ({'count': 0}, 'connectivity_matrix: count is 0: expected at least 1 echo request per probe'),
        ({'interval': 0.001}, 'connectivity_matrix: interval is 0.001: expected at least 0.002 s'),
        ({'timeout': 0}, 'connectivity_matrix: timeout is 0.0: expected a positive number of seconds'),
        ({'scale': 'ring', 'neighbours': 0}, 'connectivity_matrix: neighbours is 0: expected at least 1'),
        ({'threshold': 2}, 'connectivity_matrix: threshold is 2.0: expected the fraction (0..1)'),
    ):
        failed, result = run_module(connectivity_matrix, dict({'nodes': NODES, 'plan': False}, **args))
        assert failed and result['msg'].startswith(message), (args, result['msg'])


def test_a_bad_threshold_fails_naming_it(run_module):
    failed, result = run_module(connectivity_matrix, {'nodes': NODES, 'results': {}, 'threshold': 1.5})
    assert failed and result['msg'].startswith('connectivity_matrix: threshold is 1.5: expected the fraction (0..1)')
