# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab whose nodes run pods (lab_kubelet): containerd and kubelet in each node, joined to the lab's API server.

One lab of 2 nodes x 2 NICs with its control plane for the module (prefix netplumb-pods, 198.18.8.0/24 to
198.18.10.0/24, pods on 198.19.9.0/24). Pods run there for real: kubelet 1.35 built from its Go module, Debian's
containerd and runc, the pause, test pod, Multus and whereabouts images built here from binaries built from their
Go modules (nothing is pulled), the CNI plugins v1.10.0 built from theirs. The tests run in order on that one lab:
the nodes, Multus thick installed by playbooks/install_multus.yml, the NADs of playbooks/create_network_definition.yml
attached to pods, a NAD whose master is missing on one node, Multus removed, the lab's idempotence and its teardown.
Multus thin, and the multus and network_attachments roles' idempotence, are the molecule scenario's
(tests/molecule/cluster_roles, run by test_molecule.py).

What this does not prove: the nodes are containers on one kernel (cgroup v1, no systemd), kubelet runs without
kube-proxy (the API's service address is sent to the API server by DNAT rules in each node, see the lab role's
node-start.sh.j2), and no DNS runs in the lab. Spiderpool's annotations cannot be proven without Spiderpool, and
OVN-Kubernetes' tenant-blue not without OVN-Kubernetes. whereabouts' per-node slices are attached in the
network_attachments molecule scenario (a sliced NAD must be in whereabouts' namespace, kube-system, not in ais).
"""

import ipaddress
import json
import os
import subprocess
import time

import pytest

from cluster import ControlPlane, crd_files, lab_binaries
from lab import lab_up, podman_json

pytestmark = pytest.mark.lab

PREFIX = 'netplumb-pods'
OFFSET = 8
HERE = os.path.dirname(os.path.abspath(__file__))
# The plan of the example's networks (vars/addressing.yml) beside this lab's own networks (see pods_lab's
# addressing_vars), and the example's two macvlan networks.
PLAN_VARS = {
    'network_attachments_create_namespaces': True,
    # The example's two macvlan networks with their planned ranges (not tenant-blue, which needs OVN-Kubernetes).
    'network_attachments_networks': [
        {
            'name': 'storage-net',
            'type': 'macvlan',
            'master': 'nic1',
            'mode': 'bridge',
            'ipam': {'type': 'whereabouts', 'from_plan': True},
        },
        {
            'name': 'replication-net',
            'type': 'macvlan',
            'master': 'nic2',
            'mode': 'bridge',
            'ipam': {'type': 'whereabouts', 'from_plan': True},
        },
    ],
}
# The lab's Multus image (the role's multus_image for an air-gapped registry).
MULTUS_VARS = {'multus_image': 'localhost/netplumb-multus:v4.2.4', 'multus_image_pull_policy': 'Never'}
NAD = ('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition')
IPPOOL = ('whereabouts.cni.cncf.io/v1alpha1', 'IPPool')
POD_IMAGE = 'localhost/netplumb-lab:bookworm'


@pytest.fixture(scope='module')
def pods_lab():
    # The NAD CRD comes from the multus role, as Multus' own install brings it.
    crds = [path for path in crd_files() if not path.endswith('network-attachment-definitions.yaml')]
    with lab_up(
        PREFIX,
        nodes=2,
        nics=2,
        subnet_offset=OFFSET,
        control_plane=True,
        kubelet=True,
        binaries=lab_binaries(),
        crds=crds,
        keep=os.environ.get('NETPLUMB_LAB_KEEP') == '1',
    ) as lab:
        yield lab


@pytest.fixture(scope='module')
def cp(pods_lab):
    return ControlPlane(pods_lab)


def kubectl(lab, *argv, timeout=60):
    """The lab's kubectl (built with the control plane) as its admin; the CompletedProcess."""
    return subprocess.run(
        [os.path.join(lab.kube_bin_dir(), 'kubectl'), '--kubeconfig', ControlPlane(lab).kubeconfig] + list(argv),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for(what, check, timeout=120, interval=1):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('%s: not after %d s' % (what, timeout))
        time.sleep(interval)


def running(pod):
    """``pod`` when it is Running, else None."""
    return pod if pod and pod['status'].get('phase') == 'Running' else None


def condition(obj, kind):
    for cond in (obj or {}).get('status', {}).get('conditions', []):
        if cond['type'] == kind:
            return cond['status']
    return None


def test_every_node_registers_itself_ready_on_its_management_address(pods_lab, cp):
    for node in pods_lab.nodes:
        obj = cp.get('v1', 'Node', node)
        assert obj is not None, node
        assert condition(obj, 'Ready') == 'True', obj['status']['conditions']
        internal = [a['address'] for a in obj['status']['addresses'] if a['type'] == 'InternalIP']
        assert internal == [pods_lab.node_ips[node]], obj['status']['addresses']
        info = obj['status']['nodeInfo']
        assert info['kubeletVersion'] == 'v1.35.4', info
        assert info['containerRuntimeVersion'].startswith('containerd://1.6.'), info


def test_pods_on_every_node_get_their_nodes_addresses_and_reach_each_other(pods_lab, cp):
    names = dict((node, 'probe-%s' % node) for node in pods_lab.nodes)
    try:
        for node, name in names.items():
            cp.create(
                {
                    'apiVersion': 'v1',
                    'kind': 'Pod',
                    'metadata': {'name': name, 'namespace': 'default'},
                    'spec': {
                        'nodeName': node,
                        'terminationGracePeriodSeconds': 0,
                        'containers': [
                            {
                                'name': 'probe',
                                'image': POD_IMAGE,
                                'imagePullPolicy': 'Never',
                                'command': ['sleep', 'infinity'],
                            }
                        ],
                    },
                }
            )
        ips = {}
        for node, name in names.items():
            pod = wait_for('%s Running' % name, lambda name=name: running(cp.get('v1', 'Pod', name, 'default')))
            ips[node] = pod['status']['podIP']
            assert ipaddress.ip_address(ips[node]) in ipaddress.ip_network(pods_lab.pod_cidrs[node]), (node, ips)
        # Through the API server's exec (kubelet's streaming server): from each pod to the other node's pod.
        for node, name in names.items():
            for peer, ip in ips.items():
                if peer == node:
                    continue
                proc = kubectl(pods_lab, 'exec', '-n', 'default', name, '--', 'ping', '-c', '1', '-W', '3', ip)
                assert proc.returncode == 0, (node, peer, proc.stdout, proc.stderr)
    finally:
        for name in names.values():
            cp.delete('v1', 'Pod', name, 'default')


def test_whereabouts_runs_on_every_node_as_upstream_installs_it(pods_lab, cp):
    ds = cp.get('apps/v1', 'DaemonSet', 'whereabouts', 'kube-system')
    assert ds is not None
    assert ds['spec']['template']['spec']['containers'][0]['image'] == 'localhost/netplumb-whereabouts:v0.9.4'
    assert ds['status']['numberReady'] == len(pods_lab.nodes), ds['status']
    for node in pods_lab.nodes:
        # Upstream's install-cni.sh put the plugin and its kubeconfig (for the API's service address) on the node.
        proc = pods_lab.exec(
            node,
            'sh',
            '-c',
            'CNI_COMMAND=VERSION /opt/cni/bin/whereabouts </dev/null; cat /etc/cni/net.d/whereabouts.d/whereabouts.kubeconfig',
        )
        assert proc.returncode == 0, proc.stderr
        assert '"supportedVersions"' in proc.stdout, proc.stdout
        assert 'server: https://198.19.%d.1:443' % OFFSET in proc.stdout, proc.stdout


def env(lab):
    # kubectl (built with the control plane) on the PATH: the pod matrix reaches its pods with it.
    return dict(lab.env, PATH=lab.kube_bin_dir() + os.pathsep + os.environ['PATH'], **ControlPlane(lab).env())


def pod_matrix(run_playbook, lab, tmp_path, *networks, **extra):
    """playbooks/pod_matrix.yml over ``networks`` with the lab's image; (the run, the matrix JSON or None)."""
    out = tmp_path / 'pod-matrix.json'
    data = dict(
        pod_matrix_networks=list(networks),
        pod_matrix_image=POD_IMAGE,
        pod_matrix_image_pull_policy='Never',
        pod_matrix_json_path=str(out),
        **extra,
    )
    run = run_playbook('pod_matrix.yml', lab.inventory, '-e', json.dumps(data), **env(lab))
    return run, (json.loads(out.read_text()) if out.exists() else None)


def probe_pods_left(cp):
    selector = 'app.kubernetes.io/name=netplumb-pod-matrix'
    return [p['metadata']['name'] for p in cp.objects('v1', 'Pod', 'default', label_selector=selector)]


def multus(run_playbook, lab, *args):
    return run_playbook('install_multus.yml', lab.inventory, '-e', json.dumps(MULTUS_VARS), *args, **env(lab))


def pods(run_playbook, lab, state='present', attachments=(), **extra):
    data = dict(lab_pods_state=state, lab_pods_attachments=list(attachments), lab_pods_nodes=lab.nodes, **extra)
    run = run_playbook(
        os.path.join(HERE, 'playbooks', 'lab_pods.yml'), lab.inventory, '-e', json.dumps(data), **env(lab)
    )
    return run


def node_json(lab, node, path):
    proc = lab.exec(node, 'cat', path)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def network_status(cp, name, namespace='ais'):
    pod = cp.get('v1', 'Pod', name, namespace)
    return json.loads(pod['metadata']['annotations']['k8s.v1.cni.cncf.io/network-status'])


def test_multus_thick_rolls_out_and_configures_every_node(pods_lab, cp, run_playbook):
    run = multus(run_playbook, pods_lab)
    assert run.rc == 0, run.failures()
    ds = cp.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system')
    assert ds['status']['numberReady'] == len(pods_lab.nodes), ds['status']
    for node in pods_lab.nodes:
        # Written by Multus' own daemon once it found the node's network (its auto mode).
        conf = node_json(pods_lab, node, '/etc/cni/net.d/00-multus.conf')
        assert conf is not None, node
        assert conf['type'] == 'multus-shim' and conf['name'] == 'multus-cni-network', conf
        assert conf['clusterNetwork'].endswith('/10-netplumb-pods.conflist'), conf
        assert pods_lab.exec(node, 'test', '-x', '/opt/cni/bin/multus-shim').returncode == 0, node
    again = multus(run_playbook, pods_lab)
    assert again.rc == 0, again.failures()
    assert again.stats()['changed'] == 0


def allocations(cp):
    """{pod reference: number of whereabouts addresses} over every IPPool of the lab."""
    out = {}
    for pool in cp.objects(*IPPOOL, namespace='kube-system'):
        for allocation in (pool.get('spec', {}).get('allocations') or {}).values():
            out[allocation['podref']] = out.get(allocation['podref'], 0) + 1
    return out


def test_pods_get_their_planned_networks_and_give_the_addresses_back(pods_lab, cp, run_playbook):
    nads = run_playbook(
        'create_network_definition.yml',
        pods_lab.inventory,
        '-e',
        json.dumps(
            dict(PLAN_VARS, **pods_lab.addressing_vars('198.19.%d.0/24' % (OFFSET + 1), '198.19.%d.0/24' % OFFSET))
        ),
        **env(pods_lab),
    )
    assert nads.rc == 0, nads.failures()
    planned = {}
    for name in ('storage-net', 'replication-net'):
        planned[name] = ipaddress.ip_network(json.loads(cp.get(*NAD, name, 'ais')['spec']['config'])['ipam']['range'])
    run = pods(run_playbook, pods_lab, attachments=['storage-net', 'replication-net'])
    try:
        assert run.rc == 0, run.failures()
        addresses = {}
        for node in pods_lab.nodes:
            status = dict((s['interface'], s) for s in network_status(cp, 'probe-%s' % node))
            assert sorted(status) == ['eth0', 'net1', 'net2'], status
            assert status['eth0']['name'] == 'netplumb-pods' and status['eth0']['default'], status
            assert ipaddress.ip_address(status['eth0']['ips'][0]) in ipaddress.ip_network(pods_lab.pod_cidrs[node])
            assert status['net1']['name'] == 'ais/storage-net' and status['net2']['name'] == 'ais/replication-net'
            addresses[node] = {'net1': status['net1']['ips'][0], 'net2': status['net2']['ips'][0]}
            assert ipaddress.ip_address(addresses[node]['net1']) in planned['storage-net'], addresses
            assert ipaddress.ip_address(addresses[node]['net2']) in planned['replication-net'], addresses
        assert allocations(cp) == dict(('ais/probe-%s' % node, 2) for node in pods_lab.nodes)
        # macvlan on each node's nic1 and nic2: the pods reach each other on both, node to node.
        for node in pods_lab.nodes:
            for peer in pods_lab.nodes:
                for ifname in ('net1', 'net2') if peer != node else ():
                    target = addresses[peer][ifname]
                    proc = kubectl(pods_lab, 'exec', '-n', 'ais', 'probe-' + node, '--', 'ping', '-c1', '-W3', target)
                    assert proc.returncode == 0, (node, peer, ifname, proc.stdout, proc.stderr)
    finally:
        gone = pods(run_playbook, pods_lab, state='absent')
    assert gone.rc == 0, gone.failures()
    wait_for('the whereabouts addresses released', lambda: allocations(cp) == {}, timeout=30)


def test_the_pod_matrix_probes_every_pod_pair_on_every_attachment_and_removes_its_pods(
    pods_lab, cp, run_playbook, tmp_path
):
    run, matrix = pod_matrix(run_playbook, pods_lab, tmp_path, 'ais/storage-net', 'ais/replication-net')
    assert run.rc == 0, run.failures()
    # One pod per node, each probing the other's two addresses: 2 pods x 2 networks = 4 address pairs.
    assert matrix['summary']['total'] == 4 and matrix['summary']['connected'] == 4, matrix['summary']
    assert sorted(n['network'] for n in matrix['networks']) == ['ais/replication-net', 'ais/storage-net']
    assert sorted(p['from'].split('@')[1] for p in matrix['pairs']) == sorted(pods_lab.nodes)
    table = run.results(
        'Show the connectivity matrix and check it against the threshold', host=matrix['pairs'][0]['from']
    )['msg']
    assert table[0].split()[:3] == ['FROM', 'TO', 'CONNECTED/TOTAL'], table
    assert cp.get('apps/v1', 'DaemonSet', 'netplumb-pod-matrix', 'default') is None
    wait_for('the probe pods gone', lambda: probe_pods_left(cp) == [], timeout=60)


def test_a_nic_down_in_one_node_breaks_exactly_its_pod_pairs_on_that_network(pods_lab, cp, run_playbook, tmp_path):
    assert pods_lab.exec('worker2', 'ip', 'link', 'set', 'nic2', 'down').returncode == 0
    try:
        run, matrix = pod_matrix(run_playbook, pods_lab, tmp_path, 'ais/storage-net', 'ais/replication-net')
    finally:
        assert pods_lab.exec('worker2', 'ip', 'link', 'set', 'nic2', 'up').returncode == 0
    assert run.rc != 0
    broken = sorted(
        (p['from'].split('@')[1], p['to'].split('@')[1], p['network']) for p in matrix['probes'] if not p['connected']
    )
    assert broken == [('worker1', 'worker2', 'ais/replication-net'), ('worker2', 'worker1', 'ais/replication-net')]
    assert '2/4 address pairs connected' in ' '.join(failure[1] for failure in run.failures()), run.failures()
    wait_for('the probe pods gone', lambda: probe_pods_left(cp) == [], timeout=60)


def test_a_nad_whose_master_is_missing_on_one_node_keeps_its_pod_creating(pods_lab, cp, run_playbook, tmp_path):
    # nic9 exists on worker1 only (a veth made for this test).
    assert (
        pods_lab.exec('worker1', 'ip', 'link', 'add', 'nic9', 'type', 'veth', 'peer', 'name', 'nic9p').returncode == 0
    )
    cp.create(
        {
            'apiVersion': NAD[0],
            'kind': NAD[1],
            'metadata': {'name': 'only-on-worker1', 'namespace': 'ais'},
            'spec': {
                'config': json.dumps(
                    {
                        'cniVersion': '0.3.1',
                        'name': 'only-on-worker1',
                        'type': 'macvlan',
                        'master': 'nic9',
                        'ipam': {'type': 'static', 'addresses': [{'address': '198.18.%d.200/24' % OFFSET}]},
                    }
                )
            },
        }
    )
    try:
        run = pods(run_playbook, pods_lab, attachments=['only-on-worker1'], lab_pods_timeout=20)
        assert run.rc != 0
        assert condition(cp.get('v1', 'Pod', 'probe-worker1', 'ais'), 'Ready') == 'True'
        stuck = cp.get('v1', 'Pod', 'probe-worker2', 'ais')
        waiting = (
            stuck['status']['containerStatuses'][0]['state'].get('waiting', {})
            if stuck['status'].get('containerStatuses')
            else {'reason': 'ContainerCreating'}
        )
        assert waiting.get('reason') == 'ContainerCreating', stuck['status']
        # Multus names the attachment; the macvlan plugin (v1.10.0) says only that the link is not there.
        uid = stuck['metadata']['uid']
        messages = wait_for(
            'the sandbox error of probe-worker2',
            lambda: [
                e['message']
                for e in cp.objects('v1', 'Event', 'ais')
                if e['involvedObject'].get('uid') == uid and e['reason'] == 'FailedCreatePodSandBox'
            ],
            timeout=30,
        )
        assert any('error adding container to network "only-on-worker1": Link not found' in m for m in messages), (
            messages
        )
        # The pod matrix says which node's pod did not come up, and Multus' word on the attachment.
        run = pod_matrix(run_playbook, pods_lab, tmp_path, 'ais/only-on-worker1', pod_matrix_timeout=20)[0]
        assert run.rc != 0
        message = ' '.join(failure[1] for failure in run.failures())
        assert 'on node worker2' in message and 'only-on-worker1' in message and 'Link not found' in message, message
        assert 'on node worker1' not in message, message
        wait_for('the probe pods gone', lambda: probe_pods_left(cp) == [], timeout=60)
    finally:
        pods(run_playbook, pods_lab, state='absent')
        cp.delete(*NAD, 'only-on-worker1', 'ais')
        pods_lab.exec('worker1', 'ip', 'link', 'del', 'nic9')


def test_multus_absent_removes_it_and_the_nodes_still_start_pods(pods_lab, cp, run_playbook):
    run = multus(run_playbook, pods_lab, '-e', 'multus_state=absent')
    assert run.rc == 0, run.failures()
    assert cp.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system') is None
    for node in pods_lab.nodes:
        left = pods_lab.exec(node, 'ls', '/etc/cni/net.d', '/opt/cni/bin').stdout.split()
        assert not [f for f in left if f.startswith('00-multus') or f in ('multus.d', 'multus-shim', 'passthru')], left
    for node in pods_lab.nodes:
        # Removed from each node the files Multus generated only: the node's own network stays.
        assert pods_lab.exec(node, 'test', '-f', '/etc/cni/net.d/10-netplumb-pods.conflist').returncode == 0
    started = pods(run_playbook, pods_lab)
    try:
        assert started.rc == 0, started.failures()
        for node in pods_lab.nodes:
            # Only the node's own network now: no Multus writes a network-status.
            pod = cp.get('v1', 'Pod', 'probe-' + node, 'ais')
            assert ipaddress.ip_address(pod['status']['podIP']) in ipaddress.ip_network(pods_lab.pod_cidrs[node])
            assert 'k8s.v1.cni.cncf.io/network-status' not in pod['metadata'].get('annotations', {}), pod['metadata']
    finally:
        assert pods(run_playbook, pods_lab, state='absent').rc == 0


def test_a_second_run_changes_nothing(pods_lab):
    run = pods_lab.playbook('present')
    assert run.rc == 0, run.failures()
    assert run.stats()['changed'] == 0, [
        t['task']['name']
        for p in run.data['plays']
        for t in p['tasks']
        if t['hosts'].get('localhost', {}).get('changed')
    ]


def test_down_leaves_no_container_volume_or_state(pods_lab):
    run = pods_lab.playbook('absent')
    assert run.rc == 0, run.failures()
    assert pods_lab.found() == ([], [])
    volumes = [v['Name'] for v in podman_json('volume', 'ls', '--format', 'json')]
    assert [v for v in volumes if v.startswith(PREFIX + '-')] == []
    state = os.path.dirname(pods_lab.inventory)
    # Only the addressing role's plans stay beside the inventory (.plan/, as beside a user's inventory).
    assert not os.path.exists(state) or os.listdir(state) in ([], ['.plan']), os.listdir(state)
