# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml as the main job runs it (make main), on a lab of its own: 3 nodes x 2 NICs with a router
and the lab's control plane, with vars/lab.yml and the lab's kubeconfig.

Routing, the preflight with the real CNI plugins and the matrix run on the lab's nodes; Multus, the network
definitions (with the Spiderpool and Multi-NIC CNI examples) and the AIStore resource are applied to the lab's
real API server; the nodes run kubelet (lab_kubelet), so Multus rolls out and the pod matrix runs pods on every
node. The lab stands in for the AIS operator (lab_aistore_operator): the real aisinit and aisnode run for the
AIStore resource, and the role waits for it and verifies the real cluster map, then names a node whose extra NIC went
down. What this cannot prove: the AIS daemons are processes in the nodes' network namespaces, not pods attached
through Multus; no controller of Spiderpool or Multi-NIC CNI acts on their objects, and no OVN-Kubernetes runs for
tenant-blue.

The first run writes its report page (callback netplumb.multihome.report, as make main enables it): the HTML validator
passes it, and headless Chromium shows it with the run passed, the plan of every node, every preflight check passed,
the node and pod matrices with the JSON's counts, and the AIS cluster map with each node's daemons verified.
"""

import json
import os
import pathlib
import subprocess

import pytest

from browser import load_report
from cluster import ControlPlane, main_job_lab

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab

OFFSET = 160


def test_the_main_job_applies_everything_and_then_changes_nothing(run_playbook, tmp_path):
    with main_job_lab('netplumb-site', OFFSET) as lab:
        cp = ControlPlane(lab)
        # As make main runs it: the lab's kubectl on the PATH for the pod matrix.
        env = dict(lab.env, PATH=lab.kube_bin_dir() + os.pathsep + os.environ['PATH'], **cp.env())
        extra_file = tmp_path / 'site.json'
        extra_file.write_text(json.dumps(lab.addressing_vars('10.128.0.0/14', '172.30.0.0/16')))
        args = (
            '-e',
            '@' + os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'vars', 'lab.yml'),
            '-e',
            '@%s' % extra_file,
        )
        reports = tmp_path / 'report'
        first = run_playbook(
            'site.yml',
            lab.inventory,
            *args,
            **dict(env, ANSIBLE_CALLBACKS_ENABLED='netplumb.multihome.report', NETPLUMB_REPORT_DIR=str(reports)),
        )
        assert first.rc == 0, first.failures()
        check_page(str(reports), str(tmp_path), lab)
        # The first run set everything up: both proofs run, and say why.
        assert first.results('Say which proofs run and why', host='worker1')['msg'] == [
            '%s: runs: this run changed the routing of worker1, the routing of worker2, the routing of worker3, Multus, '
            'the network definitions' % proof
            for proof in ('pod_matrix', 'preflight')
        ]
        notes = first.results('Print the notes of this run')['msg']
        assert 'Multus\' DaemonSet rolls out for real' in notes[0] and 'stands in for it' in notes[1], notes
        matrix = first.results('Show the connectivity matrix and check it against the threshold', host='worker1')
        assert matrix['msg'][-1].startswith('12/12 address pairs connected'), matrix['msg']
        # Multus rolled out on every node (the role waited), and pods on every node reached each other on storage-net
        # and replication-net: 3 pods x 2 peers x 2 networks.
        multus = cp.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system')
        assert multus['status']['numberReady'] == len(lab.nodes), multus['status']
        pods = first.results('Check the pod matrix against the threshold')
        assert pods['msg'].startswith('12/12 address pairs connected'), pods['msg']
        assert cp.get('apps/v1', 'DaemonSet', 'netplumb-pod-matrix', 'default') is None
        # Everything applied is in the lab's API, as its schemas accepted it.
        nads = sorted(
            o['metadata']['name'] for o in cp.objects('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', 'ais')
        )
        assert nads == ['replication-net', 'storage-net', 'tenant-blue']
        assert cp.names('spiderpool.spidernet.io/v2beta1', 'SpiderSubnet') == ['storage-v4']
        assert cp.names('spiderpool.spidernet.io/v2beta1', 'SpiderIPPool') == ['storage-pool-a']
        assert cp.names('multinic.fms.io/v1', 'MultiNicNetwork') == ['multi-nic-net']
        ais = cp.get('ais.nvidia.com/v1beta1', 'AIStore', 'ais', 'ais')
        assert ais['spec']['networkAttachment'] == 'storage-net,replication-net'
        assert ais['spec']['hostnameMap'] == dict(
            (lab.node_ips[n], ','.join([lab.node_ips[n]] + [ip for _nic, ip in sorted(lab.nics[n].items())]))
            for n in lab.nodes
        )
        # The real AIStore ran for the resource: the stand-in reported it Ready, and every daemon publishes exactly its
        # node's data NIC addresses in the real cluster map, and answers on each.
        assert ais['status']['state'] == 'Ready', ais.get('status')
        report = first.results('Report the cluster map')['msg']
        assert (
            report[0].startswith('smap v')
            and 'all 3 expected nodes carry their extra IPs (3 proxies, 3 targets)' in report[0]
        )
        rows = [line.split() for line in report[2:]]
        assert report[1].split() == ['NODE', 'PRIMARY', 'IP', 'DAEMON', 'PUB_EXTRA', 'STATUS'], report
        assert sorted((r[0], r[1], r[2], r[-2], r[-1]) for r in rows) == sorted(
            (n, lab.node_ips[n], role, ','.join(ip for _nic, ip in sorted(lab.nics[n].items())), 'ok')
            for n in lab.nodes
            for role in ('proxy', 'target')
        ), report
        assert [r[0] for r in rows if '*' in r] == ['worker1'], report
        table = first.results('Show what the cluster has of them')['msg']
        assert table[0].split() == ['NAMESPACE', 'KIND', 'NAME', 'CREATED'] and len(table) == 7, table
        # Routing is in place on every node: one rule per data NIC.
        for node in lab.nodes:
            rules = json.loads(lab.exec(node, 'ip', '-j', 'rule', 'show').stdout)
            assert sorted(r.get('src') for r in rules if r.get('src') in lab.nics[node].values()) == sorted(
                lab.nics[node].values()
            )
        second = run_playbook('site.yml', lab.inventory, *args, **env)
        assert second.rc == 0, second.failures()
        for host in ['localhost'] + lab.nodes:
            assert second.stats(host)['changed'] == 0, host
        # Nothing changed, and the preflight and the pod matrix passed with these exact inputs: not run again (site_prove
        # changed), and the run says when they passed. The node matrix and AIStore's checks ran again.
        reasons = second.results('Say which proofs run and why', host='worker1')['msg']
        assert [reason.split(': ')[:2] for reason in reasons] == [['pod_matrix', 'not run'], ['preflight', 'not run']]
        assert all('with these exact inputs and this run changed nothing' in reason for reason in reasons), reasons
        ran = [t['task']['name'].split(' : ')[-1] for p in second.data['plays'] for t in p['tasks']]
        assert 'Ping the same attachment on the other nodes from inside each namespace' not in ran
        assert 'Apply the probe DaemonSet and wait until every pod is ready' not in ran
        matrix = second.results('Show the connectivity matrix and check it against the threshold', host='worker1')
        assert matrix['msg'][-1].startswith('12/12 address pairs connected'), matrix['msg']
        assert second.results('Report the cluster map')['msg'][0].startswith('smap v')
        # drift.yml after a rule, a sysctl and a NAD were changed by hand: exactly those three are named (so nothing the
        # main job left is drift: the second run above changed nothing, and drift.yml reports no other row).
        drift_args = ['-e', json.dumps({'drift_args': list(args), 'drift_report_file': str(tmp_path / 'drift.json')})]
        nic1 = lab.nics['worker1']['nic1']
        rule = [r for r in json.loads(lab.exec('worker1', 'ip', '-j', 'rule', 'show').stdout) if r.get('src') == nic1][
            0
        ]
        assert lab.exec('worker1', 'ip', 'rule', 'del', 'priority', str(rule['priority']), 'from', nic1).returncode == 0
        assert lab.exec('worker2', 'sysctl', '-qw', 'net.ipv4.conf.nic1.arp_ignore=0').returncode == 0
        nad = cp.get('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', 'storage-net', 'ais')
        config = json.loads(nad['spec']['config'])
        config['mtu'] = 1400
        cp.patch(
            'k8s.cni.cncf.io/v1',
            'NetworkAttachmentDefinition',
            'storage-net',
            {'spec': {'config': json.dumps(config)}},
            'ais',
        )
        drifted = run_playbook('drift.yml', lab.inventory, *drift_args, **env)
        assert drifted.rc != 0
        assert [task for task, _msg in drifted.failures()] == ['Fail when anything drifted'], drifted.failures()
        report = json.loads((tmp_path / 'drift.json').read_text())
        assert report['drifted'] and sorted(report['hosts']) == ['localhost', 'worker1', 'worker2'], report
        # Role tasks are named "<role> : <task>" in ansible-playbook's output.
        rows = dict(((r['host'], r['task'].split(' : ')[-1]), r) for r in report['rows'])
        routing = rows[('worker1', 'See what the policy routing would change (rules, routes, sysctls, boot files)')]
        assert any(line.startswith('+') and nic1 in line for line in routing['diff']), routing
        # The sysctl is one line of the same check's diff on worker2, which differs in nothing else.
        sysctl = rows[('worker2', 'See what the policy routing would change (rules, routes, sysctls, boot files)')]
        changes = [line for line in sysctl['diff'] if line[:1] in '+-' and line[:3] not in ('+++', '---')]
        assert changes == ['-net.ipv4.conf.nic1.arp_ignore = 0', '+net.ipv4.conf.nic1.arp_ignore = 1'], sysctl
        nad_row = [
            r
            for r in report['rows']
            if r['host'] == 'localhost' and r['what'] == 'NetworkAttachmentDefinition ais/storage-net'
        ]
        assert len(nad_row) == 1 and any('1400' in line for line in nad_row[0]['diff']), report['rows']
        assert len(report['rows']) == 3, report['rows']
        printed = '\n'.join(drifted.results('Print the drift')['msg'])
        assert printed.startswith('drift: 3 changes on localhost, worker1, worker2'), printed
        # site.yml puts the drift right, and what it changed proves the preflight and the pod matrix again.
        third = run_playbook('site.yml', lab.inventory, *args, **env)
        assert third.rc == 0, third.failures()
        assert [third.stats(host)['changed'] > 0 for host in ['localhost'] + lab.nodes] == [True, True, True, False]
        assert third.results('Say which proofs run and why', host='worker1')['msg'] == [
            '%s: runs: this run changed the routing of worker1, the routing of worker2, the network definitions' % proof
            for proof in ('pod_matrix', 'preflight')
        ]
        preflight = third.results('Report per node and attachment, and fail naming the broken ones', host='worker1')
        assert preflight['msg'][-1].startswith('CNI preflight passed: 0 broken pair(s)'), preflight['msg']
        assert third.results('Check the pod matrix against the threshold')['msg'].startswith('12/12 address pairs')
        records = dict(
            (name, json.loads((pathlib.Path(os.path.dirname(lab.inventory)) / '.proof' / name).read_text()))
            for name in ('preflight.json', 'pod_matrix.json')
        )
        assert sorted(r['proof'] for r in records.values()) == ['pod_matrix', 'preflight'], records
        # A data NIC of worker2 goes down after the deployment: the map still lists its address, the verify asks it.
        down = lab.nics['worker2']['nic2']
        assert lab.exec('worker2', 'ip', 'link', 'set', 'nic2', 'down').returncode == 0
        verify = run_playbook(
            'ais_deploy_cluster.yml',
            lab.inventory,
            *args,
            '-e',
            'aistore_verify_timeout=10',
            '-e',
            'aistore_verify_interval=2',
            **env,
        )
        assert verify.rc != 0
        message = ' '.join(msg for _task, msg in verify.failures())
        assert 'proxy' in message and 'target' in message and ('pub_extra %s is unreachable' % down) in message, message
        assert lab.node_ips['worker2'] in message and lab.nics['worker1']['nic2'] not in message, message
        state_dir = os.path.dirname(lab.inventory)
    # Down, the lab leaves no process, pod or state of its control plane behind, nor an AIS daemon or the stand-in.
    assert lab.found() == ([], [])
    left = subprocess.run(['pgrep', '-af', state_dir], capture_output=True, text=True, check=False).stdout
    assert left == '', left
    assert subprocess.run(['podman', 'pod', 'exists', 'netplumb-site-control-plane'], check=False).returncode != 0
    # Only the addressing role's plans and the records of the proofs that passed stay beside the inventory (.plan/ and
    # .proof/, as beside a user's inventory).
    assert (sorted(os.listdir(state_dir)) if os.path.exists(state_dir) else []) in ([], ['.plan', '.proof'])


def check_page(reports, shots, lab):
    """The first run's page as Chromium shows it, against its JSON and the lab."""
    page, data, _png = load_report(reports, 'site', shots)
    assert page.by_id['verdict'] == 'passed' and data['run']['ok'] is True
    assert data['run']['playbook'] == 'site.yml' and data['run']['inventory'] == [lab.inventory]
    assert 'failed-first' not in page.by_id
    # The plan: every node with both its NICs and their pod blocks.
    nodes = page.rows('%d nodes' % len(lab.nodes))
    assert [r[0] for r in nodes[1:]] == lab.nodes
    for row in nodes[1:]:
        assert all('%s %s' % (nic, ip) in row[1] for nic, ip in lab.nics[row[0]].items()), row
    # Every node/attachment check passed; the JSON has as many.
    assert page.by_id['preflight-summary'] == '0 of %d node/attachment checks failed' % len(data['preflight'])
    assert data['preflight'] and all((r['add'], r['probe'], r['del']) == ('ok', 'ok', 'ok') for r in data['preflight'])
    # The node matrix and the pod matrix, each with the counts of its JSON, nothing outlined as broken.
    summaries = [m['matrix']['summary'] for m in data['matrices']]
    assert [(s['connected'], s['total']) for s in summaries] == [(12, 12), (12, 12)]
    for summary in summaries:
        assert '%(connected)d/%(total)d address pairs connected' % summary in page.text
    assert page.find('rect', **{'class': 'broken'}) == []
    # The AIS cluster map: a proxy and a target on every node, each verified with its node's data NIC addresses.
    ais = page.rows('AIStore cluster map')
    assert ais[0] == ['node', 'primary IP', 'daemon', 'extra IPs', 'verified']
    assert sorted((r[0], r[1], r[2].split()[0], r[3], r[4]) for r in ais[1:]) == sorted(
        (n, lab.node_ips[n], role, ', '.join(ip for _nic, ip in sorted(lab.nics[n].items())), 'ok')
        for n in lab.nodes
        for role in ('proxy', 'target')
    )
