# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/connectivity_matrix.yml run for real on a lab of its own (3 nodes x 2 NICs, prefix netplumb-cm).

The lab (lab.py's ``lab_up``, 198.18.80.0/24 management, 198.18.81.0/24 and 198.18.82.0/24 data) is
brought up once for this module and taken down at the end, also on failure. Every node pings every
other node from each of its NICs with iputils' ping inside the node container, through the podman
connection, and the matrix is built on the controller:

- healthy: the 3 x 2 node-pair rows are all 2/2, with bandwidth measured by iperf3 except to and from a
  node whose iperf3 is hidden for the run ("not measured", the play still passes), and the JSON written;
- check mode runs the probes too (read-only);
- a fourth inventory host whose container does not exist is unreachable: its pairs stay in the table at
  0/1 with the reason, rather than vanishing;
- ``ip link set nic2 down`` inside worker2 (a lab NIC in a lab container, never this machine's): exactly
  worker2's pairs on the nic2 network are broken, both ways, the play fails naming them, nic1's network
  stays fully connected, and a threshold below 8/12 lets it pass; nic2 is brought back up in a finally.
  That run's report page (callback netplumb.multihome.report) passes the HTML validator and, loaded in headless
  Chromium, says the run failed at the threshold check, shows the nic2 network with exactly worker2's four
  cells red and outlined (and their red on the screenshot), lists the same broken pairs, and has the JSON's counts.
"""

import json

import pytest

from browser import load_report, pixels_of
from lab import lab_up

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab

NIC1_NET = '198.18.81.0/24'
NIC2_NET = '198.18.82.0/24'
BUILD = 'Build the connectivity matrix'
CHECK = 'Show the connectivity matrix and check it against the threshold'


@pytest.fixture(scope='module')
def cm_lab():
    with lab_up('netplumb-cm', nodes=3, nics=2, subnet_offset=80) as lab:
        yield lab


def run_matrix(run_playbook, lab, *args, **env):
    return run_playbook('connectivity_matrix.yml', lab.inventory, *args, **dict(lab.env, **env))


def pair_rows(table):
    """The FROM/TO rows of the table: {(from, to): [cells]}; the header must come first."""
    header = table[0]
    assert header.split()[:5] == ['FROM', 'TO', 'CONNECTED/TOTAL', 'IPs', 'LATENCY'], table
    starts = [header.index(name) for name in header.split()]
    rows = {}
    for line in table[1 : table.index('')]:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        rows[(cells[0], cells[1])] = cells
    return rows


def net_rows(table):
    """{network: 'connected/total'} of the per-network rows."""
    start = table.index('') + 1
    assert table[start].split()[:2] == ['NETWORK', 'CONNECTED/TOTAL'], table
    return dict((line.split()[0], line.split()[1]) for line in table[start + 1 : table.index('', start)])


def test_healthy_lab_is_fully_connected_with_bandwidth(cm_lab, run_playbook, tmp_path):
    json_path = tmp_path / 'matrix.json'
    # worker3 without iperf3 for this run: no server there and no client: "not measured", no failure.
    hidden = cm_lab.exec('worker3', 'mv', '/usr/bin/iperf3', '/usr/bin/iperf3.hidden')
    assert hidden.returncode == 0, hidden.stderr
    try:
        extra = {'connectivity_matrix_bandwidth': True, 'connectivity_matrix_json_path': str(json_path)}
        run = run_matrix(run_playbook, cm_lab, '-e', json.dumps(extra))
    finally:
        cm_lab.exec('worker3', 'mv', '/usr/bin/iperf3.hidden', '/usr/bin/iperf3')
    assert run.rc == 0, (run.failures(), run.stderr)
    result = run.results(BUILD, host='worker1')
    rows = pair_rows(result['table'])
    nodes = ['worker1', 'worker2', 'worker3']
    assert sorted(rows) == sorted((a, b) for a in nodes for b in nodes if a != b)  # 3 x 2 node pairs
    for (src, dst), cells in rows.items():
        connected, total = cells[2].split('/')
        assert connected == total == '2', cells
        assert cells[3] == '[%s %s]' % (cm_lab.nics[dst]['nic1'], cm_lab.nics[dst]['nic2'])
        assert '-' not in cells[4].strip('[]').split(), cells  # a latency for every address
        if 'worker3' in (src, dst):
            assert cells[5] == 'not measured', cells
        else:
            assert all(rate.endswith('bits/sec') for rate in cells[5].strip('[]').split()), cells
    assert net_rows(result['table']) == {NIC1_NET: '6/6', NIC2_NET: '6/6'}
    assert result['broken'] == [] and result['passed'] is True
    for probe in result['matrix']['probes']:
        if probe['from'] == 'worker3':
            assert probe['bandwidth_error'] == 'not measured: iperf3 is not installed on this node', probe
        elif probe['to'] == 'worker3':
            assert probe['bandwidth_error'].startswith('not measured: no iperf3 server on worker3 port 5201'), probe
        else:
            assert probe['bandwidth_bps'] > 0 and probe['bandwidth_error'] is None, probe
    written = json.loads(json_path.read_text())
    assert written['summary'] == {
        'nodes': 3,
        'networks': 2,
        'pairs': 6,
        'pairs_connected': 6,
        'connected': 12,
        'total': 12,
        'fraction': 1.0,
    }
    # No iperf3 server is left behind on any node.
    for node in nodes:
        assert 'iperf3' not in cm_lab.exec(node, 'ps', '-eo', 'comm').stdout


def test_check_mode_runs_the_probes(cm_lab, run_playbook):
    run = run_matrix(run_playbook, cm_lab, '--check')
    assert run.rc == 0, (run.failures(), run.stderr)
    result = run.results(BUILD, host='worker1')
    assert result['matrix']['summary']['connected'] == 12
    probe = run.results('Probe every other node from this node\'s addresses', host='worker2')
    assert probe['changed'] is False and probe['total'] == 4 and all(p['transmitted'] == 3 for p in probe['probes'])


def test_an_unreachable_node_counts_as_broken_not_missing(cm_lab, run_playbook, tmp_path):
    """A fourth host whose container does not exist: its pairs are in the table at 0, with the reason."""
    with open(cm_lab.inventory) as handle:
        text = handle.read()
    ghost = (
        'worker4 ansible_host=netplumb-cm-worker4-absent ansible_connection=containers.podman.podman '
        'multihome_nics=\'[{"name": "nic1", "address": "198.18.81.14/24"}]\''
    )
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text(text.replace('[k8s_cluster]\n', '[k8s_cluster]\n%s\n' % ghost, 1))
    run = run_playbook('connectivity_matrix.yml', str(inventory), '-e', 'connectivity_matrix_threshold=0', **cm_lab.env)
    assert run.rc == 0, (run.failures(), run.stderr)
    # The controller tasks run once, for the first host: worker4, first in the inventory.
    result = run.results(BUILD, host='worker4')
    rows = pair_rows(result['table'])
    assert len(rows) == 6 + 6  # worker4 shares nic1's network with all three
    for (src, dst), cells in rows.items():
        assert cells[2] == ('0/1' if 'worker4' in (src, dst) else '2/2'), cells
    reasons = dict(((b['from'], b['to']), b['error']) for b in result['broken'])
    assert reasons[('worker4', 'worker1')].startswith('no result from worker4: unreachable'), reasons
    assert reasons[('worker1', 'worker4')] == 'no reply: 3 sent, 0 received (100% loss)'


def test_nic2_down_on_worker2_breaks_exactly_its_pairs(cm_lab, run_playbook, tmp_path):
    down = cm_lab.exec('worker2', 'ip', 'link', 'set', 'nic2', 'down')
    assert down.returncode == 0, down.stderr
    reports = tmp_path / 'report'
    try:
        run = run_matrix(
            run_playbook,
            cm_lab,
            ANSIBLE_CALLBACKS_ENABLED='netplumb.multihome.report',
            NETPLUMB_REPORT_DIR=str(reports),
        )
        lenient = run_matrix(run_playbook, cm_lab, '-e', 'connectivity_matrix_threshold=0.6')
    finally:
        up = cm_lab.exec('worker2', 'ip', 'link', 'set', 'nic2', 'up')
    assert up.returncode == 0, up.stderr

    assert run.rc != 0
    result = run.results(BUILD, host='worker1')
    broken = sorted((b['from'], b['to'], b['network'], b['src'], b['dst']) for b in result['broken'])
    w1, w2, w3 = (cm_lab.nics[n]['nic2'] for n in ('worker1', 'worker2', 'worker3'))
    assert broken == [
        ('worker1', 'worker2', NIC2_NET, w1, w2),
        ('worker2', 'worker1', NIC2_NET, w2, w1),
        ('worker2', 'worker3', NIC2_NET, w2, w3),
        ('worker3', 'worker2', NIC2_NET, w3, w2),
    ]
    assert net_rows(result['table']) == {NIC1_NET: '6/6', NIC2_NET: '2/6'}
    rows = pair_rows(result['table'])
    for (src, dst), cells in rows.items():
        assert cells[2] == ('1/2' if 'worker2' in (src, dst) else '2/2'), cells

    # The play fails where it shows the table, whose last line is a summary naming each broken pair.
    failures = dict(run.failures())
    msg = [m for name, m in failures.items() if name.endswith(CHECK)]
    assert msg, failures
    assert msg[0][:-1] == result['table'], msg[0]
    summary = msg[0][-1]
    assert summary.startswith('8/12 address pairs connected (66.7%, threshold 100.0%)'), summary
    for src, dst, net, src_ip, dst_ip in broken:
        assert '%s -> %s on %s: %s (nic2) -> %s (nic2)' % (src, dst, net, src_ip, dst_ip) in summary

    # 8 of 12 is above a threshold of 0.6: the same matrix passes, still listing what is broken.
    assert lenient.rc == 0, (lenient.failures(), lenient.stderr)
    assert len(lenient.results(BUILD, host='worker1')['broken']) == 4

    # The run's page, as Chromium shows it.
    page, data, png = load_report(str(reports), 'connectivity_matrix', str(tmp_path))
    assert page.by_id['verdict'] == 'failed'
    # Ansible names a role's task with the role: the page names it as the play output does.
    assert (
        page.by_id['failed-first']
        == 'What failed first: netplumb.multihome.connectivity_matrix : %s on worker1' % CHECK
    )
    (matrix,) = data['matrices']
    assert matrix['matrix']['summary'] == result['matrix']['summary']
    summary = page.find('p', **{'class': 'matrix-summary'})
    assert summary and '%(connected)d/%(total)d address pairs connected' % result['matrix']['summary'] in page.text
    # Both networks' maps shown (3 nodes), nic2's with worker2's row and column red and outlined.
    networks = page.find('details', **{'class': 'network'})
    assert [('open' in d) for d in networks] == [True, True]
    outlined = page.find('rect', **{'class': 'broken'})
    assert len(outlined) == 4
    red = [a for a in page.find('rect') if a.get('fill') == '#d6312b']
    assert len(red) == 4
    assert sorted((int(a['x']), int(a['y'])) for a in red) == sorted((int(a['x']), int(a['y'])) for a in outlined)
    side = int(red[0]['width'])
    assert pixels_of(png, '#d6312b') >= 4 * (side - 3) ** 2
    listed = page.rows('Broken pairs')
    assert listed[0][:6] == ['from', 'NIC', 'source', 'to', 'NIC', 'destination']
    assert sorted((r[0], r[3], r[6], r[2], r[5]) for r in listed[1:]) == broken

    # And with nic2 back up, worker2 answers on it again.
    ping = cm_lab.exec('worker1', 'ping', '-n', '-c', '1', '-W', '2', '-I', w1, w2)
    assert ping.returncode == 0, ping.stdout + ping.stderr
