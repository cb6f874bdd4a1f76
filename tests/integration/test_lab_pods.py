# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab whose nodes run pods (lab_kubelet): containerd and kubelet in each node, joined to the lab's API server.

One lab of 2 nodes x 2 NICs with its control plane for the module (prefix netplumb-pods, 198.18.120.0/22, pods on
198.19.121.0/24). Pods run there for real: kubelet 1.35 built from its Go module, Debian's containerd and runc, the
pause, test pod and whereabouts images built here (nothing is pulled), the CNI plugins built from their Go module.

What this does not prove: the nodes are containers on one kernel (cgroup v1, no systemd), kubelet runs without
kube-proxy (the API's service address is sent to the API server by one DNAT rule per node, see the lab role's
node-start.sh.j2), and no DNS runs in the lab.
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
OFFSET = 120
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
    with open(lab.binaries) as handle:
        bin_dir = json.load(handle)['lab_kubernetes_bin_dir']
    cp = ControlPlane(lab)
    return subprocess.run(
        [os.path.join(bin_dir, 'kubectl'), '--kubeconfig', cp.kubeconfig] + list(argv),
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
            pod = wait_for(
                '%s Running' % name,
                lambda name=name: (lambda p: p if p and p['status'].get('phase') == 'Running' else None)(
                    cp.get('v1', 'Pod', name, 'default')
                ),
            )
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
    assert not os.path.exists(state) or os.listdir(state) == [], os.listdir(state)
