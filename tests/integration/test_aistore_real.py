# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real AIStore (aisinit and aisnode v1.5.0, built from the Go module by tests/lab/upstream/build.py) and our
hostname map and verify module.

Two "nodes" are network namespaces of this test, each with a management address (198.18.250.1N/24, the node's
InternalIP) and one extra NIC (198.18.251.1N/24), on two bridges of a third namespace. Each node runs one proxy and one
target as the operator runs them: the real ``aisinit`` first, with the operator's arguments and environment
(``AIS_PUBLIC_HOSTNAME`` the node's IP, as with hostPort in IP mode) and the hostname map our
``aistore_hostname_map`` filter builds, then ``aisnode`` with the local and cluster configuration aisinit wrote, all as
the lab's stand-in for the operator (roles/lab/files/ais_operator.py) runs them in the lab's nodes.
worker2's key in the map is forced to its name instead of its InternalIP (the aistore role refuses that before it
applies anything): the real aisinit keeps the plain address, and the real cluster map has no ``pub_extra`` for it.
``aistore_smap_verify`` (ansible-playbook, in node1's namespace) then reads the real map from the real primary proxy.

What this does not prove: no Kubernetes runs here. aisnode runs outside it (no KUBERNETES_SERVICE_HOST), so it checks
that its public address is local (in Kubernetes it does not), and the intra-cluster hostnames are the nodes' IPs
instead of the pods' DNS names aisinit writes (the lab has no DNS); no Multus attaches the extra NIC to a pod.
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import hostname_map

from cluster import lab_binaries
from conftest import REPO, ansible_playbook

# The lab's stand-in for the AIS operator: how it runs aisinit and aisnode is what this test runs.
sys.path.insert(0, os.path.join(REPO, 'roles', 'lab', 'files'))
import ais_operator  # noqa: E402

pytestmark = pytest.mark.netns

NODES = {'worker1': ('198.18.250.11', '198.18.251.11'), 'worker2': ('198.18.250.12', '198.18.251.12')}
PRIMARY = NODES['worker1'][0]
# As the operator's ConfigMaps and ports (ais-k8s operator/internal/resources/aistore): public, intra control, data.
PORTS = {'proxy': (51080, 51082, 51083), 'target': (51081, 51092, 51093)}
PLAYBOOK = os.path.join(REPO, 'tests', 'integration', 'playbooks', 'smap_verify.yml')
TASK = 'Verify the cluster map'


def sh(*args):
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, '%s: %s' % (' '.join(args), proc.stderr)
    return proc.stdout


def ais_bin():
    with open(lab_binaries()) as handle:
        return json.load(handle)['lab_aistore_bin_dir']


class AisNodes:
    """The namespaces, directories and aisnode processes of the test; ``close`` stops and removes them all."""

    def __init__(self, plan):
        self.plan = plan  # hostname_map's result: the map and the verify module's expected
        self.tag = secrets.token_hex(2)
        self.switch = 'npais-%s-sw' % self.tag
        self.netns = dict((node, 'npais-%s-%s' % (self.tag, node[-1])) for node in NODES)
        self.root = tempfile.mkdtemp(prefix='netplumb-ais-')
        self.processes = []
        self.aisinit_out = {}

    def wire(self):
        sh('ip', 'netns', 'add', self.switch)
        for bridge in ('br0', 'br1'):
            sh('ip', '-n', self.switch, 'link', 'add', bridge, 'type', 'bridge')
            sh('ip', '-n', self.switch, 'link', 'set', bridge, 'up')
        for node, (node_ip, extra_ip) in NODES.items():
            ns = self.netns[node]
            sh('ip', 'netns', 'add', ns)
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
            for ifname, address, bridge in (('eth0', node_ip, 'br0'), ('nic1', extra_ip, 'br1')):
                peer = '%s%s' % (node[-1], ifname)
                sh('ip', '-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', peer, 'netns', self.switch)
                sh('ip', '-n', self.switch, 'link', 'set', peer, 'master', bridge, 'up')
                sh('ip', '-n', ns, 'addr', 'add', address + '/24', 'dev', ifname)
                sh('ip', '-n', ns, 'link', 'set', ifname, 'up')

    def aisinit(self, binaries, node, role, hostname_map):
        """The real aisinit for ``role`` on ``node``, as the lab's operator stand-in runs it; its base directory."""
        base = os.path.join(self.root, node, role)
        # The operator's global ConfigMap (its primary_url), with the memory floor of a small machine.
        override = ais_operator.merge(
            ais_operator.LAB_CONFIG, {'proxy': {'primary_url': 'http://%s:%d' % (PRIMARY, PORTS['proxy'][1])}}
        )
        template = ais_operator.local_template(base, role, PORTS[role], [{'path': '/ais1'}])
        ais_operator.write_inputs(base, template, override, hostname_map)
        env = dict(os.environ, **ais_operator.aisinit_env('ais', 'ais', role, int(node[-1]), node, NODES[node][0]))
        proc = subprocess.run(
            ais_operator.aisinit_argv(os.path.join(binaries, 'aisinit'), role, base),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        with open(os.path.join(base, 'local.json')) as handle:
            self.aisinit_out[(node, role)] = json.load(handle)
        # No DNS here: the pod names aisinit wrote for the intra networks become the node's IP.
        ais_operator.no_dns(base, NODES[node][0])
        return base

    def start(self, binaries, node, role, base):
        args = ['ip', 'netns', 'exec', self.netns[node]]
        args += ais_operator.aisnode_argv(os.path.join(binaries, 'aisnode'), role, base, len(NODES))
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith('KUBERNETES_'))
        with open(os.path.join(base, 'aisnode.out'), 'w') as out:
            self.processes.append(
                subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            )

    def playbook(self, *args, node='worker1'):
        """ansible-playbook in a node's namespace (the daemons' addresses are reachable only from the nodes)."""
        return ansible_playbook(
            ['-i', 'localhost,', PLAYBOOK] + list(args), prefix=('ip', 'netns', 'exec', self.netns[node])
        )

    def close(self):
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        for ns in list(self.netns.values()) + [self.switch]:
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        # Nothing left: no process, namespace (with them every address and port) or directory.
        assert [proc.poll() is not None for proc in self.processes] == [True] * len(self.processes)
        left = [n for n in sh('ip', 'netns', 'list').split() if n.startswith('npais-%s-' % self.tag)]
        assert left == [] and not os.path.exists(self.root), (left, self.root)


@pytest.fixture(scope='module')
def ais():
    if os.geteuid() != 0:
        pytest.fail('needs root for network namespaces')
    binaries = ais_bin()
    plan = hostname_map(
        [{'name': node, 'primary_ip': ips[0], 'additional_hosts': ips[1]} for node, ips in sorted(NODES.items())],
        ['nic1'],
    )
    mapping = dict(plan['hostname_map'])
    # Forced past the role's InternalIP check: worker2 keyed by its name.
    mapping['worker2'] = mapping.pop(NODES['worker2'][0])
    nodes = AisNodes(plan)
    try:
        nodes.wire()
        bases = {}
        for node in sorted(NODES):
            for role in ('proxy', 'target'):
                bases[(node, role)] = nodes.aisinit(binaries, node, role, mapping)
        # The primary first; the others join while the verify module is already asking (its retries).
        for node, role in sorted(bases, key=lambda key: (key != ('worker1', 'proxy'), key)):
            nodes.start(binaries, node, role, bases[(node, role)])
        yield nodes
    finally:
        nodes.close()


def verify(ais, expected, timeout=180, node='worker1', **more):
    data = {
        'ansible_python_interpreter': sys.executable,
        'smap_verify_url': 'http://%s:%d' % (PRIMARY, PORTS['proxy'][0]),
        'smap_verify_expected': expected,
        'smap_verify_proxies': len(NODES),
        'smap_verify_targets': len(NODES),
        'smap_verify_timeout': timeout,
        'smap_verify_interval': 2,
    }
    data.update(('smap_verify_' + key, value) for key, value in more.items())
    path = os.path.join(ais.root, 'verify-%d.json' % time.monotonic_ns())
    with open(path, 'w') as handle:
        json.dump(data, handle)
    run = ais.playbook('-e', '@' + path, node=node)
    return run, run.results(TASK)


def test_the_real_aisinit_maps_the_internal_ip_key_and_keeps_the_address_otherwise(ais):
    for role in ('proxy', 'target'):
        # worker1's key is its InternalIP (AIS_PUBLIC_HOSTNAME): its public hostname becomes the map's value.
        assert ais.aisinit_out[('worker1', role)]['host_net']['hostname'] == ','.join(NODES['worker1'])
        # worker2's key is its name: aisinit keeps the plain address, so it will publish no extra.
        assert ais.aisinit_out[('worker2', role)]['host_net']['hostname'] == NODES['worker2'][0]
        # The intra networks get the pod's DNS name, as in the operator's StatefulSets.
        assert ais.aisinit_out[('worker1', role)]['host_net']['hostname_intra_control'] == (
            'ais-%s-1.ais-%s.ais.svc.cluster.local' % (role, role)
        )


def test_the_verify_module_reads_the_real_map_as_the_nodes_join(ais):
    # What the cluster really publishes: worker1 with its extra, worker2 without.
    expected = {NODES['worker1'][0]: [NODES['worker1'][1]], NODES['worker2'][0]: []}
    run, result = verify(ais, expected)
    assert run.rc == 0, (run.failures(), result)
    report = result['report']
    # The daemons were started just before: the first answers came before every node had joined.
    assert result['attempts'] >= 2, result
    assert [proc.poll() for proc in ais.processes] == [None] * 2 * len(NODES)
    assert report['ok'] and report['counts']['ok'] == 2 * len(NODES), report
    found = dict(((n['daemon_type'], n['node_ip']), n['pub_extra']) for n in report['nodes'])
    assert found == dict(
        ((role, ips[0]), [ips[1]] if node == 'worker1' else [])
        for node, ips in NODES.items()
        for role in ('proxy', 'target')
    ), found
    # The map as the primary serves it: each extra on its daemon's public port.
    smap = json.loads(
        sh(
            'ip', 'netns', 'exec', ais.netns['worker1'], 'curl', '-sf', '--max-time', '10',
            'http://%s:%d/v1/daemon?what=smap' % (PRIMARY, PORTS['proxy'][0]),
        )
    )  # fmt: skip
    for info in list(smap['pmap'].values()) + list(smap['tmap'].values()):
        port = info['public_net']['daemon_port']
        assert port == str(PORTS[info['daemon_type']][0]), info
        extras = [(e['node_ip_addr'], e['daemon_port']) for e in info.get('pub_extra') or []]
        if info['public_net']['node_ip_addr'] == NODES['worker1'][0]:
            assert extras == [(NODES['worker1'][1], port)], info
        else:
            assert extras == [], info


def test_the_verify_module_names_the_node_whose_extra_ips_the_real_map_lacks(ais):
    # The plan of our hostname map: worker2 should have its extra too.
    run, result = verify(ais, ais.plan['expected'], timeout=10)
    assert run.rc != 0
    message = ' '.join(msg for _task, msg in run.failures())
    assert NODES['worker2'][0] in message and NODES['worker2'][1] in message, message
    assert NODES['worker1'][1] not in message, message


def test_an_extra_nic_taken_down_after_the_start_is_named_unreachable_within_the_timeout(ais):
    # What the cluster publishes, and every extra answers: the probe passes first.
    expected = {NODES['worker1'][0]: [NODES['worker1'][1]], NODES['worker2'][0]: []}
    run, result = verify(ais, expected, timeout=30, node='worker2', probe_extra=True)
    assert run.rc == 0, (run.failures(), result)
    # worker1's extra NIC goes down; the map still lists it (AIStore does not notice), only asking it tells.
    sh('ip', '-n', ais.netns['worker1'], 'link', 'set', 'nic1', 'down')
    try:
        started = time.monotonic()
        # Asked from worker2, across the extra network: the address no longer answers ARP, so no answer at all.
        run, result = verify(ais, expected, timeout=8, node='worker2', probe_extra=True, request_timeout=2)
        took = time.monotonic() - started
    finally:
        sh('ip', '-n', ais.netns['worker1'], 'link', 'set', 'nic1', 'up')
    assert run.rc != 0
    message = ' '.join(msg for _task, msg in run.failures())
    for role in ('proxy', 'target'):
        assert '%s ' % role in message, message
    assert 'at %s: pub_extra %s is unreachable' % NODES['worker1'] in message, message
    unreachable = [n for n in result['report']['nodes'] if n['unreachable_extra']]
    assert sorted(n['daemon_type'] for n in unreachable) == ['proxy', 'target'], unreachable
    assert all(n['pub_extra'] == [NODES['worker1'][1]] for n in unreachable), unreachable
    # Within its timeout (and Ansible's own start-up), not stuck on the dead address.
    assert took < 8 + 30, took
