# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role netplumb.multihome.aistore through playbooks/ais_deploy_cluster.yml, for real with ansible-playbook.

Apply mode runs against the real control plane of cluster.py, with the AIS operator's real CRD (every
AIStore resource the role applies is validated by its schema and CEL rules), seeded with the Nodes (their
InternalIPs) and the NetworkAttachmentDefinitions a cluster would have. What that cannot prove:

* No AIS operator runs (it cannot be built here): its webhook and what it builds from the resource are out
  of reach. The resource's status (state, Ready condition) is set by the test, acting as the operator would.
* No AIS proxy runs: the cluster map is served by a small HTTP server of the test on 127.0.0.1, in
  AIStore's JSON shape (core/meta/smap.go). Whether ais-init really puts the extra IPs into pub_extra
  is out of reach here; the role's check of the map is what is tested.
* No Multus: the NetworkAttachmentDefinitions are stored objects that nothing reads.

Render mode writes a real file and is checked as such. Every address is from 198.18.0.0/15.
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

# The control plane's fixtures, imported only where they are used.
from cluster import CRD_DIR, control_plane, kube  # noqa: F401 pylint: disable=unused-import
from crd_schema import assert_accepted

# Selected or deselected with: pytest -m cluster (see tests/pytest.ini).
pytestmark = pytest.mark.cluster

PLAYBOOK = 'ais_deploy_cluster.yml'
API = 'ais.nvidia.com/v1beta1'
NAMESPACE = 'ais'
NADS = ('macvlan-nic1', 'macvlan-nic2')
# host: (primary IP, extra IPs, how the inventory names the primary IP)
HOSTS = {
    'worker1': ('198.18.0.11', ['198.18.1.11', '198.18.2.11'], 'ansible_host'),
    'worker2': ('198.18.0.12', ['198.18.1.12', '198.18.2.12'], 'ansible_host'),
    # A lab inventory: ansible_host is the container's name, node_ip the primary IP.
    'worker3': ('198.18.0.13', ['198.18.1.13', '198.18.2.13'], 'node_ip'),
}
NO_WAIT = {'aistore_wait': False, 'aistore_verify': False}


def write_inventory(path, hosts=None):
    lines = ['localhost ansible_connection=local ansible_python_interpreter=%s' % sys.executable, '', '[k8s_cluster]']
    for name, (primary, extras, how) in sorted((hosts or HOSTS).items()):
        address = (
            'ansible_host=%s' % primary if how == 'ansible_host' else 'ansible_host=lab-%s node_ip=%s' % (name, primary)
        )
        lines.append('%s %s additional_hosts=%s' % (name, address, ','.join(extras)))
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def seed(kube, nads=NADS, internal_ips=None):
    """The namespace, one Node per host with its InternalIP, and the NetworkAttachmentDefinitions."""
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': NAMESPACE}})
    for name, (primary, _extras, _how) in sorted(HOSTS.items()):
        addresses = [
            {'type': 'InternalIP', 'address': (internal_ips or {}).get(name, primary)},
            {'type': 'Hostname', 'address': name},
        ]
        if (internal_ips or {}).get(name, primary) != primary:
            addresses.append({'type': 'ExternalIP', 'address': primary})
        kube.create(
            {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name}, 'status': {'addresses': addresses}}
        )
    for nad in nads:
        kube.create(
            {
                'apiVersion': 'k8s.cni.cncf.io/v1',
                'kind': 'NetworkAttachmentDefinition',
                'metadata': {'name': nad, 'namespace': NAMESPACE},
                'spec': {'config': json.dumps({'cniVersion': '0.3.1', 'type': 'macvlan', 'master': nad})},
            }
        )


def extra_vars(**values):
    variables = {} if 'network_attachment' in values else {'aistore_network_attachments': list(NADS)}
    variables.update(values)
    return ['-e', json.dumps(variables)]


def sent(stored_spec, expected):
    """``stored_spec`` without what the API server defaulted (fields of the CRD's schema that the role does not set)."""
    if isinstance(expected, dict) and isinstance(stored_spec, dict):
        return dict((k, sent(stored_spec[k], expected[k])) for k in stored_spec if k in expected)
    return stored_spec


def expected_spec(hosts=None, node_image='aistorage/aisnode:v4.4'):
    hosts = hosts or HOSTS
    count = len(hosts)
    ports = {'portIntraControl': 51082, 'portIntraData': 51083}
    return {
        'nodeImage': node_image,
        'initImage': 'aistorage/ais-init:v4.4',
        'hostnameMap': {primary: ','.join([primary] + extras) for primary, extras, _how in hosts.values()},
        'networkAttachment': 'macvlan-nic1,macvlan-nic2',
        'proxySpec': dict(ports, size=count, servicePort=51080, portPublic=51080, hostPort=51080),
        'targetSpec': dict(
            ports,
            size=count,
            servicePort=51081,
            portPublic=51081,
            hostPort=51081,
            mounts=[{'path': '/ais1', 'size': '10Gi'}],
        ),
        'stateStorage': {'hostPath': {'prefix': '/etc/ais'}},
    }


def stored(kube):
    return kube.get(API, 'AIStore', 'ais', NAMESPACE)


def last_failure(run):
    failures = run.failures()
    assert failures, 'the play did not fail'
    return failures[-1][1]


# ------------------------------------------------------------ the operator and the proxy, played by the test


class Operator(threading.Thread):
    """Plays the AIS operator's status updates: once the AIStore resource exists, Created, then Ready."""

    def __init__(self, kube, ready_after=1.5):
        super().__init__(daemon=True)
        self.kube = kube
        self.ready_after = ready_after
        self.stop = threading.Event()
        self.readied = None

    def condition(self, kind, generation):
        return {
            'type': kind,
            'status': 'True',
            'reason': kind,
            'message': 'set by the test',
            'lastTransitionTime': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'observedGeneration': generation,
        }

    def run(self):
        while not self.stop.is_set():
            current = stored(self.kube)
            if current is not None:
                generation = current['metadata']['generation']
                self.kube.patch_status(
                    API,
                    'AIStore',
                    'ais',
                    {
                        'state': 'Created',
                        'conditions': [
                            self.condition('Initialized', generation),
                            self.condition('Created', generation),
                        ],
                    },
                    NAMESPACE,
                )
                if self.stop.wait(self.ready_after):
                    return
                self.kube.patch_status(
                    API,
                    'AIStore',
                    'ais',
                    {
                        'state': 'Ready',
                        'conditions': [
                            self.condition('Initialized', generation),
                            self.condition('Created', generation),
                            self.condition('Ready', generation),
                        ],
                    },
                    NAMESPACE,
                )
                self.readied = time.monotonic()
                return
            self.stop.wait(0.1)


@pytest.fixture
def operator(kube):
    started = []

    def start(**kw):
        thread = Operator(kube, **kw)
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop.set()
        thread.join(5)


def net(host, port):
    return {'node_ip_addr': host, 'daemon_port': str(port), 'direct_url': 'http://%s:%s' % (host, port)}


def cluster_map(lacking=None):
    """One proxy and one target per host, each with its extra IPs; ``lacking`` = (daemon ID, extra IP it lacks)."""
    pmap, tmap = {}, {}
    for i, (primary, extras, _how) in enumerate(sorted(HOSTS.values())):
        for daemon_id, daemon_type, port, nodes in (
            ('p%d' % i, 'proxy', 51080, pmap),
            ('t%d' % i, 'target', 51081, tmap),
        ):
            node = {
                'daemon_id': daemon_id,
                'daemon_type': daemon_type,
                'public_net': net(primary, port),
                'intra_control_net': net(
                    'ais-%s-%d.ais-%s.ais.svc.cluster.local' % (daemon_type, i, daemon_type), 51082
                ),
                'intra_data_net': net('ais-%s-%d.ais-%s.ais.svc.cluster.local' % (daemon_type, i, daemon_type), 51083),
                'pub_extra': [net(e, port) for e in extras if lacking != (daemon_id, e)],
                'flags': 0,
                'id_digest': i,
            }
            nodes[daemon_id] = node
    return {
        'pmap': pmap,
        'tmap': tmap,
        'proxy_si': pmap['p0'],
        'uuid': 'Xk3pLz',
        'version': '17',
        'creation_time': '2025-05-06 10:11:12',
    }


@pytest.fixture
def proxy():
    """An HTTP server on 127.0.0.1 answering GET /v1/daemon?what=smap, as an AIS proxy does, with the given map."""
    servers = []

    def start(smap):
        requests = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                requests.append(self.path)
                ok = self.path == '/v1/daemon?what=smap'
                body = json.dumps(smap if ok else {'message': 'no such path'}).encode('utf-8')
                self.send_response(200 if ok else 404)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        servers.append(server)
        return 'http://127.0.0.1:%d' % server.server_address[1], requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------ tests


def test_apply_stores_what_the_inventory_implies_idempotently_and_absent_deletes_it(run_playbook, kube, tmp_path):
    seed(kube)
    inventory = write_inventory(tmp_path / 'hosts.ini')
    # What an operator's install applies first: its CRD (the upstream one, which the cluster already has).
    operator_manifest = os.path.join(CRD_DIR, 'ais.nvidia.com_aistores.yaml')
    image = 'registry.lab:5000/aistorage/aisnode:v4.4'
    args = extra_vars(aistore_node_image=image, aistore_operator_manifest=operator_manifest, **NO_WAIT)

    first = run_playbook(PLAYBOOK, inventory, *args, **kube.env())
    assert first.rc == 0, first.failures()
    cr = stored(kube)
    assert sent(cr['spec'], expected_spec(node_image=image)) == expected_spec(node_image=image)
    # The CRD's own default, which the API server filled in.
    assert cr['spec']['publicNetDNSMode'] == 'IP'
    assert cr['metadata']['labels'] == {
        'app.kubernetes.io/name': 'aistore',
        'app.kubernetes.io/managed-by': 'netplumb.multihome',
    }
    assert kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'aistores.ais.nvidia.com')

    writes = len(kube.writes())
    second = run_playbook(PLAYBOOK, inventory, *args, **kube.env())
    assert second.rc == 0, second.failures()
    assert second.stats()['changed'] == 0
    assert {w['method'] for w in kube.writes()[writes:]} <= {'PATCH'}
    assert stored(kube) == cr  # not even the resourceVersion moved

    # worker3 leaves the inventory: --check stores nothing, a real run drops its hostnameMap key.
    two = {name: HOSTS[name] for name in ('worker1', 'worker2')}
    smaller = write_inventory(tmp_path / 'two.ini', two)
    writes = len(kube.writes())
    check = run_playbook(PLAYBOOK, smaller, '--check', '--diff', *args, **kube.env())
    assert check.rc == 0, check.failures()
    assert check.results('Apply the AIStore resource')['changed'] is True
    assert kube.writes()[writes:] == []
    assert stored(kube) == cr

    shrink = run_playbook(PLAYBOOK, smaller, *args, **kube.env())
    assert shrink.rc == 0, shrink.failures()
    # apply removed the key; a merge patch would keep it
    assert sent(stored(kube)['spec'], expected_spec(two, node_image=image)) == expected_spec(two, node_image=image)
    assert sorted(stored(kube)['spec']['hostnameMap']) == sorted(primary for primary, _e, _h in two.values())

    gone = run_playbook(PLAYBOOK, smaller, *extra_vars(aistore_state='absent', **NO_WAIT), **kube.env())
    assert gone.rc == 0, gone.failures()
    assert stored(kube) is None
    # Neither the attachments nor the operator go with it.
    assert kube.names('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', NAMESPACE) == list(NADS)
    assert kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'aistores.ais.nvidia.com')


def test_render_mode_writes_the_resource_and_sends_nothing(run_playbook, kube, tmp_path):
    out = tmp_path / 'rendered'
    # The AIStore playbooks' own variable, a comma-separated string, names the attachments here.
    run = run_playbook(
        PLAYBOOK,
        write_inventory(tmp_path / 'hosts.ini'),
        *extra_vars(aistore_render_dir=str(out), network_attachment='macvlan-nic1, macvlan-nic2'),
        K8S_AUTH_KUBECONFIG='',
    )
    assert run.rc == 0, run.failures()
    with open(str(out / 'aistore-ais.yml')) as handle:
        docs = [doc for doc in yaml.safe_load_all(handle) if doc]
    assert len(docs) == 1
    assert docs[0]['apiVersion'] == API and docs[0]['kind'] == 'AIStore'
    assert docs[0]['metadata']['name'] == 'ais' and docs[0]['metadata']['namespace'] == NAMESPACE
    assert docs[0]['spec'] == expected_spec()
    # The role's defaults build a resource the operator's real CRD accepts.
    assert_accepted(docs[0])
    assert kube.request_log() == []


def test_render_mode_old_operator_layout(run_playbook, tmp_path):
    out = tmp_path / 'rendered'
    run = run_playbook(
        PLAYBOOK,
        write_inventory(tmp_path / 'hosts.ini'),
        *extra_vars(aistore_render_dir=str(out), aistore_hostpath_prefix='/etc/ais'),
        K8S_AUTH_KUBECONFIG='',
    )
    assert run.rc == 0, run.failures()
    with open(str(out / 'aistore-ais.yml')) as handle:
        spec = yaml.safe_load(handle)['spec']
    # Operators up to v3.0.0 require enableExternalLB; they know no stateStorage.
    assert spec['hostpathPrefix'] == '/etc/ais' and spec['enableExternalLB'] is False and 'stateStorage' not in spec


def test_settings_that_drop_the_extra_ips_stop_the_play_naming_them(run_playbook, tmp_path):
    out = tmp_path / 'rendered'
    run = run_playbook(
        PLAYBOOK,
        write_inventory(tmp_path / 'hosts.ini'),
        *extra_vars(
            aistore_render_dir=str(out), aistore_host_port=False, aistore_extra_spec={'publicNetDNSMode': 'Node'}
        ),
        K8S_AUTH_KUBECONFIG='',
    )
    assert run.rc != 0
    msg = last_failure(run)
    assert msg.startswith(
        'The AIStore resource ais/ais cannot be built: the AIStore spec would make the operator ignore hostnameMap'
    ), msg
    assert (
        'publicNetDNSMode Node (aistore_extra_spec)' in msg
        and 'proxySpec has no hostPort (aistore_host_port is false' in msg
    ), msg
    assert msg.endswith('Nothing was applied.'), msg
    assert not out.exists()


def test_a_key_that_is_no_nodes_internal_ip_stops_the_play_before_applying(run_playbook, kube, tmp_path):
    # worker2's kubelet reports 198.18.0.22: ais-init would never find 198.18.0.12 in the map.
    seed(kube, internal_ips={'worker2': '198.18.0.22'})
    run = run_playbook(PLAYBOOK, write_inventory(tmp_path / 'hosts.ini'), *extra_vars(**NO_WAIT), **kube.env())
    assert run.rc != 0
    msg = last_failure(run)
    assert "hostnameMap key 198.18.0.12 (it is node worker2's ExternalIP) is not the InternalIP of any node" in msg, msg
    assert 'worker2 (InternalIP 198.18.0.22)' in msg and 'worker2=198.18.0.12' in msg, msg
    assert kube.writes() == []


def test_a_missing_attachment_stops_the_play_before_applying(run_playbook, kube, tmp_path):
    seed(kube, nads=['macvlan-nic1'])
    run = run_playbook(PLAYBOOK, write_inventory(tmp_path / 'hosts.ini'), *extra_vars(**NO_WAIT), **kube.env())
    assert run.rc != 0
    msg = last_failure(run)
    assert 'NetworkAttachmentDefinition ais/macvlan-nic2 not found' in msg, msg
    assert 'Found in namespace ais: macvlan-nic1.' in msg, msg
    assert kube.writes() == []


def test_extra_ips_per_host_must_match_the_attachments(run_playbook, kube, tmp_path):
    hosts = dict(HOSTS, worker2=('198.18.0.12', ['198.18.1.12'], 'ansible_host'))
    run = run_playbook(PLAYBOOK, write_inventory(tmp_path / 'hosts.ini', hosts), *extra_vars(**NO_WAIT), **kube.env())
    assert run.rc != 0
    msg = last_failure(run)
    assert 'host worker2 has 1 extra IP (198.18.1.12) but 2 network attachments (macvlan-nic1, macvlan-nic2)' in msg, (
        msg
    )
    assert kube.request_log() == []  # stopped before the first request


def test_waits_for_ready_then_the_cluster_map_passes(run_playbook, kube, tmp_path, operator, proxy):
    seed(kube)
    url, requests = proxy(cluster_map())
    playing = operator()
    start = time.monotonic()
    run = run_playbook(
        PLAYBOOK,
        write_inventory(tmp_path / 'hosts.ini'),
        *extra_vars(
            aistore_proxy_url=url,
            aistore_wait_timeout=30,
            aistore_wait_interval=1,
            aistore_verify_timeout=10,
            aistore_verify_interval=1,
        ),
        **kube.env(),
    )
    assert run.rc == 0, run.failures()
    # The play went on only once the resource was Ready, and read the map after that.
    assert playing.readied is not None and start < playing.readied < time.monotonic()
    assert (
        run.results('Wait until the AIStore resource\'s Ready condition is True')['resources'][0]['status']['state']
        == 'Ready'
    )
    assert requests == ['/v1/daemon?what=smap']
    report = run.results('Report the cluster map')['msg']
    assert report[0] == 'smap v17: all 3 expected nodes carry their extra IPs (3 proxies, 3 targets) (from %s)' % url
    # Then the map as a table, a line per daemon, named by inventory host.
    assert report[1].split() == ['NODE', 'PRIMARY', 'IP', 'DAEMON', 'PUB_EXTRA', 'STATUS'] and len(report) == 8, report
    assert sorted(line.split()[0] for line in report[2:]) == sorted(['worker1', 'worker2', 'worker3'] * 2), report


def test_a_target_without_its_extra_ip_fails_with_the_per_node_report(run_playbook, kube, tmp_path, proxy):
    seed(kube)
    url, _requests = proxy(cluster_map(lacking=('t2', '198.18.2.13')))
    run = run_playbook(
        PLAYBOOK,
        write_inventory(tmp_path / 'hosts.ini'),
        *extra_vars(aistore_proxy_url=url, aistore_wait=False, aistore_verify_timeout=0),
        **kube.env(),
    )
    assert run.rc != 0
    report = run.results('Print the per-node report')['msg']
    assert len(report) == 6
    assert 'target t2 at 198.18.0.13 (worker3): mismatch, pub_extra [198.18.1.13]; lacks 198.18.2.13' in report
    assert 'proxy p2 at 198.18.0.13 (worker3): ok, pub_extra [198.18.1.13, 198.18.2.13]' in report
    msg = last_failure(run)
    assert 'target t2 at 198.18.0.13 lacks pub_extra 198.18.2.13' in msg, msg
    assert 'Per node: target t2 at 198.18.0.13 (worker3): mismatch' in msg, msg
    assert 'proxy p2' not in msg, msg  # only the nodes that are wrong
