# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-in for the AIS operator: runs the real AIStore for every AIStore resource of the lab's API.

The AIS operator (NVIDIA/ais-k8s) cannot be built here, so the lab plays its part as its code shows it
(operator/internal/resources/aistore): for each AIStore resource it runs one proxy and one target per Node (proxySize
and targetSize of them, Nodes in name order, the first proxy the primary), each first through the real ``aisinit``,
with the operator's arguments and environment (K8S_NS, MY_SERVICE, MY_POD, MY_NODE, AIS_PUBLIC_HOSTNAME the Node's
InternalIP as with hostPort) and the resource's ``spec.hostnameMap``, then the real ``aisnode`` with the configuration
aisinit wrote. It sets the resource's status (state and the Ready condition) as the operator does, once every daemon
answers, and stops the daemons when the resource is deleted or changed (then starts them again).

What this does not prove (said in docs/lab.md): the daemons are processes in the lab node's network and PID
namespaces (``nsenter``), not pods, so no Multus attaches the NADs: the node's own data NICs carry the extra IPs.
aisnode runs outside Kubernetes (no KUBERNETES_SERVICE_HOST), so it checks that its public address is local. The
lab has no cluster DNS: the pods' DNS names aisinit writes for the intra networks become the Node's IP, and a target's
intra ports are moved by ``TARGET_PORT_SHIFT`` when they equal its node's proxy's (two pods would not share them).

  ais_operator.py start --kubeconfig K --nodes nodes.json --bin-dir D --state-dir S   # daemon, pid in S
  ais_operator.py stop --state-dir S                                                  # stops it and its daemons

nodes.json is ``{node name: container}``; the PID of each container comes from podman when a daemon starts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

GROUP, VERSION, PLURAL = 'ais.nvidia.com', 'v1beta1', 'aistores'
TARGET_PORT_SHIFT = 10
# A small machine: aisnode refuses to start below its default free-memory floor.
LAB_CONFIG = {'memsys': {'min_free': '256MiB'}}
# A mount without a label: the lab's directories are no block devices aisnode could resolve.
LAB_MOUNT_LABEL = 'lab'
POLL = 2.0
READY_TIMEOUT = 180.0
API_TIMEOUT = 10  # seconds of one request to the lab's API
PGID_FILE = 'aisnode.pgid'


def merge(base, override):
    """The collection's aistore_resource.merge, imported when first needed (``stop`` needs no collection).

    This file is <root>/ansible_collections/netplumb/multihome/roles/lab/files/ais_operator.py in an installed
    collection and in the checkout's .build/collections tree; the role also passes Ansible's collection paths.
    """
    root = os.path.abspath(__file__)
    for _level in range(7):
        root = os.path.dirname(root)
    if os.path.isdir(os.path.join(root, 'ansible_collections', 'netplumb', 'multihome')) and root not in sys.path:
        sys.path.append(root)
    from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_resource import merge as collection_merge

    return collection_merge(base, override)


def daemon_ports(spec, role, shift=False):
    """(public, intra control, intra data) of ``proxySpec``/``targetSpec``."""
    sub = spec['%sSpec' % role]
    ports = [int(sub['portPublic']), int(sub['portIntraControl']), int(sub['portIntraData'])]
    if shift:
        ports[1:] = [port + TARGET_PORT_SHIFT for port in ports[1:]]
    return tuple(ports)


def local_template(base, role, ports, mounts=()):
    """aisinit's local configuration template, as the operator's ais-<role> ConfigMap has it: placeholders it fills."""
    public, control, data = ports
    template = {
        'confdir': os.path.join(base, 'conf'),
        'log_dir': os.path.join(base, 'log'),
        'host_net': {
            'hostname': '${AIS_PUBLIC_HOSTNAME}',
            'hostname_intra_control': '${AIS_INTRA_HOSTNAME}',
            'hostname_intra_data': '${AIS_DATA_HOSTNAME}',
            'port': str(public),
            'port_intra_control': str(control),
            'port_intra_data': str(data),
        },
    }
    if role == 'target':
        template['fspaths'] = dict(
            (os.path.join(base, 'mounts', mount['path'].strip('/')), mount.get('label') or LAB_MOUNT_LABEL)
            for mount in mounts
        )
    return template


def aisinit_env(namespace, name, role, index, node, node_ip):
    """The environment the operator gives aisinit (statefulset pods): the pod, its service, node and host IP."""
    return {
        'K8S_NS': namespace,
        'MY_SERVICE': '%s-%s' % (name, role),
        'MY_POD': '%s-%s-%d' % (name, role, index),
        'MY_NODE': node,
        'AIS_PUBLIC_HOSTNAME': node_ip,
    }


def aisinit_argv(binary, role, base):
    """The operator's aisinit arguments, with the files under ``base``."""
    return [
        binary,
        '-role=%s' % role,
        '-local_config_template=%s' % os.path.join(base, 'template.json'),
        '-output_local_config=%s' % os.path.join(base, 'local.json'),
        '-cluster_config_override=%s' % os.path.join(base, 'override.json'),
        '-output_cluster_config=%s' % os.path.join(base, 'cluster.json'),
        '-hostname_map_file=%s' % os.path.join(base, 'map.json'),
    ]


def aisnode_argv(binary, role, base, ntargets):
    argv = [
        binary,
        '-config=%s' % os.path.join(base, 'cluster.json'),
        '-local_config=%s' % os.path.join(base, 'local.json'),
        '-role=%s' % role,
    ]
    if role == 'proxy':
        argv.append('-ntargets=%d' % ntargets)
    return argv


def write_inputs(base, template, override, hostname_map):
    """The three files aisinit reads, under ``base`` (with the directories aisnode needs)."""
    for sub in ['conf', 'log'] + list(template.get('fspaths', {})):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    for name, data in (('template.json', template), ('override.json', override), ('map.json', hostname_map)):
        with open(os.path.join(base, name), 'w') as handle:
            json.dump(data, handle)


def no_dns(base, node_ip):
    """The lab has no cluster DNS: the intra hostnames aisinit wrote (the pod's DNS name) become the node's IP."""
    path = os.path.join(base, 'local.json')
    with open(path) as handle:
        local = json.load(handle)
    local['host_net'] = dict(local['host_net'], hostname_intra_control=node_ip, hostname_intra_data=node_ip)
    with open(path, 'w') as handle:
        json.dump(local, handle)
    return local


def plan(resource, nodes):
    """The daemons of one AIStore resource: [{role, index, node, node_ip, ports}], or ValueError saying why not.

    ``nodes`` is [(name, InternalIP)] of the Ready Nodes in name order; proxy i and target i go to node i
    (hostPort keeps two of a kind off one Node in the operator's StatefulSets).
    """
    spec = resource['spec']
    daemons = []
    for role in ('proxy', 'target'):
        # spec.size for both, each daemon's own size first (the operator's GetProxySize/GetTargetSize).
        size = int(spec['%sSpec' % role].get('size') or spec.get('size') or 0)
        if size < 1:
            raise ValueError('%sSpec.size %d: the lab runs at least one %s' % (role, size, role))
        if size > len(nodes):
            raise ValueError(
                '%sSpec.size %d: the lab runs one %s per Node and has %d Ready Nodes' % (role, size, role, len(nodes))
            )
        ports = daemon_ports(spec, role)
        if role == 'target' and set(ports[1:]) & set(daemon_ports(spec, 'proxy')):
            ports = daemon_ports(spec, role, shift=True)
        for index in range(size):
            name, node_ip = nodes[index]
            daemons.append({'role': role, 'index': index, 'node': name, 'node_ip': node_ip, 'ports': ports})
    return daemons


def version_of(resource):
    """What makes a resource new to the stand-in: another object (deleted and made again) or another spec."""
    meta = resource['metadata']
    return (meta.get('uid'), meta.get('generation'))


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def log(message):
    print('%s %s' % (now(), message), flush=True)


class Operator:
    def __init__(self, args):
        from kubernetes import client, config  # the venv's, as kubernetes.core uses it

        self.args = args
        with open(args.nodes) as handle:
            self.containers = json.load(handle)
        self.api = client.CustomObjectsApi(config.new_client_from_config(args.kubeconfig))
        self.core = client.CoreV1Api(self.api.api_client)
        self.running = {}  # (namespace, name) -> {'generation', 'processes', 'root'}
        self.stopping = False

    def ready_nodes(self):
        out = []
        for node in self.core.list_node(_request_timeout=API_TIMEOUT).items:
            ready = any(c.type == 'Ready' and c.status == 'True' for c in node.status.conditions or [])
            ips = [a.address for a in node.status.addresses or [] if a.type == 'InternalIP']
            if ready and ips and node.metadata.name in self.containers:
                out.append((node.metadata.name, ips[0]))
        return sorted(out)

    def pid_of(self, node):
        proc = subprocess.run(
            ['podman', 'container', 'inspect', '--format', '{{.State.Pid}}', self.containers[node]],
            capture_output=True,
            text=True,
            check=False,
        )
        pid = proc.stdout.strip()
        if proc.returncode != 0 or not pid.isdigit() or pid == '0':
            raise RuntimeError('node %s (%s) does not run: %s' % (node, self.containers[node], proc.stderr.strip()))
        return pid

    def status(self, namespace, name, ready, message, cluster_id=None):
        state = 'Ready' if ready else 'Initializing'
        body = {
            'status': {
                'state': state,
                'conditions': [
                    {
                        'type': 'Ready',
                        'status': 'True' if ready else 'False',
                        'reason': 'LabDaemonsAnswer' if ready else 'LabDaemonsNotReady',
                        'message': message[:1000],
                        'lastTransitionTime': now(),
                    }
                ],
            }
        }
        if cluster_id:
            body['status']['clusterID'] = cluster_id
        try:
            self.api.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, PLURAL, name, body, _request_timeout=API_TIMEOUT
            )
        except Exception as exc:  # the resource may be gone by now
            log('%s/%s: status not set: %s' % (namespace, name, exc))

    def start(self, resource):
        """Start the daemons of ``resource``; on any failure stop those started and say why in its status."""
        meta = resource['metadata']
        key = (meta['namespace'], meta['name'])
        root = os.path.join(self.args.state_dir, 'ais', *key)
        entry = self.running[key] = {'version': version_of(resource), 'processes': [], 'root': root}
        try:
            self._start(resource, key, entry)
        except Exception as exc:  # a node gone, aisinit hanging, a resource we cannot read: say so, keep nothing
            message = 'the lab could not start it: %s: %s' % (type(exc).__name__, exc)
            stop_processes([proc for _daemon, proc in entry['processes']])
            entry['processes'] = []
            entry['failed'] = True
            self.status(key[0], key[1], False, message)
            log('%s/%s: %s' % (key[0], key[1], message))

    def _start(self, resource, key, entry):
        spec = resource['spec']
        daemons = plan(resource, self.ready_nodes())
        primary = daemons[0]  # plan puts the proxies first, at least one
        override = merge(
            merge(spec.get('configToUpdate') or {}, LAB_CONFIG),
            {'proxy': {'primary_url': 'http://%s:%d' % (primary['node_ip'], primary['ports'][1])}},
        )
        hostname_map = spec.get('hostnameMap') or {}
        ntargets = sum(1 for d in daemons if d['role'] == 'target')
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith('KUBERNETES_'))
        # The primary first, as the operator starts the proxies' StatefulSet before the targets'.
        for daemon in daemons:
            name = '%s-%s-%d on %s' % (key[1], daemon['role'], daemon['index'], daemon['node'])
            base = os.path.join(entry['root'], daemon['node'], daemon['role'])
            template = local_template(base, daemon['role'], daemon['ports'], spec['targetSpec'].get('mounts') or [])
            write_inputs(base, template, override, hostname_map)
            init_env = dict(
                env,
                **aisinit_env(key[0], key[1], daemon['role'], daemon['index'], daemon['node'], daemon['node_ip']),
            )
            init = subprocess.run(
                aisinit_argv(os.path.join(self.args.bin_dir, 'aisinit'), daemon['role'], base),
                env=init_env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            with open(os.path.join(base, 'aisinit.out'), 'w') as handle:
                handle.write(init.stdout + init.stderr)
            if init.returncode != 0:
                raise RuntimeError('aisinit of %s failed: %s' % (name, (init.stderr or init.stdout).strip()[-300:]))
            no_dns(base, daemon['node_ip'])
            argv = ['nsenter', '--target', self.pid_of(daemon['node']), '--net', '--pid', '--']
            argv += aisnode_argv(os.path.join(self.args.bin_dir, 'aisnode'), daemon['role'], base, ntargets)
            with open(os.path.join(base, 'aisnode.out'), 'w') as out:
                proc = subprocess.Popen(
                    argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=base,
                    start_new_session=True,
                )  # fmt: skip
            entry['processes'].append((daemon, proc))
            # nsenter and the aisnode it forks share this process group: `stop` finds it even if we die.
            with open(os.path.join(base, PGID_FILE), 'w') as handle:
                handle.write('%d\n' % proc.pid)
            log('%s/%s: started %s (pid %d)' % (key[0], key[1], name, proc.pid))
        entry['daemons'] = daemons
        entry['deadline'] = time.monotonic() + READY_TIMEOUT
        entry['ready'] = False
        self.status(key[0], key[1], False, 'started %d daemons, waiting for them to answer' % len(daemons))

    def check_ready(self, key):
        """Every daemon answers on its public port, and the primary's map has them all: Ready (once)."""
        entry = self.running[key]
        if entry.get('ready') or not entry.get('daemons'):
            return
        silent = []
        for daemon, proc in entry['processes']:
            name = '%s-%s-%d on %s' % (key[1], daemon['role'], daemon['index'], daemon['node'])
            if proc.poll() is not None:
                silent.append('%s exited (%s)' % (name, proc.returncode))
                continue
            url = 'http://%s:%d/v1/health' % (daemon['node_ip'], daemon['ports'][0])
            try:
                urllib.request.urlopen(url, timeout=2).read()
            except (urllib.error.URLError, OSError) as exc:
                silent.append('%s: %s' % (name, exc))
        cluster_id = None
        if not silent:
            primary = entry['daemons'][0]
            try:
                url = 'http://%s:%d/v1/daemon?what=smap' % (primary['node_ip'], primary['ports'][0])
                smap = json.loads(urllib.request.urlopen(url, timeout=5).read())
                joined = len(smap.get('pmap') or {}) + len(smap.get('tmap') or {})
                cluster_id = smap.get('uuid')
                if joined < len(entry['daemons']):
                    silent.append('%d of %d daemons in the cluster map' % (joined, len(entry['daemons'])))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                silent.append('no cluster map from the primary: %s' % exc)
        if not silent:
            entry['ready'] = True
            self.status(key[0], key[1], True, 'every daemon answers (the lab runs the AIS daemons)', cluster_id)
            log('%s/%s: ready' % key)
        elif time.monotonic() > entry['deadline'] and not entry.get('late'):
            # Said once; still checked, so a cluster that comes up later is Ready then.
            entry['late'] = True
            self.status(key[0], key[1], False, 'not ready after %d s: %s' % (READY_TIMEOUT, '; '.join(silent)))
            log('%s/%s: not ready: %s' % (key[0], key[1], '; '.join(silent)))

    def stop(self, key, remove=True):
        entry = self.running.pop(key, None)
        if not entry:
            return
        stop_processes([proc for _daemon, proc in entry['processes']])
        if remove:
            shutil.rmtree(entry['root'], ignore_errors=True)
        log('%s/%s: stopped' % key)

    def reconcile(self):
        seen = set()
        for resource in self.api.list_cluster_custom_object(GROUP, VERSION, PLURAL, _request_timeout=API_TIMEOUT).get(
            'items', []
        ):
            meta = resource['metadata']
            key = (meta['namespace'], meta['name'])
            if meta.get('deletionTimestamp'):
                continue
            seen.add(key)
            if key in self.running and self.running[key]['version'] == version_of(resource):
                if not self.running[key].get('failed'):
                    self.check_ready(key)
                continue
            if key in self.running:
                self.stop(key)
            if self.running:
                other = next(iter(self.running))
                self.status(key[0], key[1], False, 'the lab runs one AIStore at a time: %s/%s runs' % other)
                continue
            self.start(resource)
        for key in [k for k in self.running if k not in seen]:
            self.stop(key)

    def run(self):
        def terminate(_signum, _frame):
            self.stopping = True

        signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, terminate)
        log('watching AIStore resources (nodes: %s)' % ', '.join(sorted(self.containers)))
        while not self.stopping:
            try:
                self.reconcile()
            except Exception as exc:  # the API restarting, a node gone: try again
                log('reconcile: %s: %s' % (type(exc).__name__, exc))
            deadline = time.monotonic() + POLL
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.2)
        for key in list(self.running):
            self.stop(key)
        log('stopped')


def group_members(pgid):
    """The PIDs of the live (not zombie) processes of process group ``pgid``."""
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, 'rb') as handle:
                fields = handle.read().rsplit(b')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in (b'Z', b'X'):
            out.append(int(entry))
    return out


def group_alive(pgid):
    return bool(group_members(pgid))


def kill_group(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def stop_processes(processes, grace=20.0):
    """SIGTERM to each process group (nsenter and the aisnode it forked), SIGKILL to what is left after ``grace``.

    nsenter does not pass SIGTERM on and dies at once, so the wait is for the whole group, aisnode included.
    """
    for proc in processes:
        kill_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes:
        while group_alive(proc.pid) and time.monotonic() < deadline:
            proc.poll()  # reap nsenter, so that only the rest of the group counts
            time.sleep(0.1)
        if group_alive(proc.pid):
            kill_group(proc.pid, signal.SIGKILL)
            late = time.monotonic() + 10
            while group_alive(proc.pid) and time.monotonic() < late:
                proc.poll()
                time.sleep(0.05)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            log('pid %d did not end after SIGKILL' % proc.pid)


def pid_file(state_dir):
    return os.path.join(state_dir, 'ais-operator.pid')


def running_pid(state_dir):
    """The PID in the pid file when that process is this script watching ``state_dir``; else None."""
    try:
        with open(pid_file(state_dir)) as handle:
            pid = int(handle.read().strip())
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read().split(b'\0')
    except (OSError, ValueError):
        return None
    mine = os.path.basename(__file__).encode()
    if any(arg.endswith(mine) for arg in cmdline) and os.path.abspath(state_dir).encode() in cmdline:
        return pid
    return None


def cmd_start(args):
    args.state_dir = os.path.abspath(args.state_dir)
    pid = running_pid(args.state_dir)
    if pid:
        print(json.dumps({'changed': False, 'pid': pid}))
        return 0
    for what, path in (('--kubeconfig', args.kubeconfig), ('--nodes', args.nodes)):
        if not os.path.isfile(path):
            sys.exit('%s %s is not a file' % (what, path))
    for binary in ('aisinit', 'aisnode'):
        if not os.access(os.path.join(args.bin_dir, binary), os.X_OK):
            sys.exit(
                '--bin-dir %s has no %s: build it with tests/lab/upstream/build.py aistore' % (args.bin_dir, binary)
            )
    log_path = os.path.join(args.state_dir, 'ais-operator.log')
    argv = [sys.executable, os.path.abspath(__file__), 'run', '--kubeconfig', args.kubeconfig, '--nodes', args.nodes,
            '--bin-dir', args.bin_dir, '--state-dir', args.state_dir]  # fmt: skip
    with open(log_path, 'a') as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip
    with open(pid_file(args.state_dir), 'w') as handle:
        handle.write('%d\n' % proc.pid)
    time.sleep(1.0)
    if proc.poll() is not None:
        with open(log_path) as handle:
            sys.exit('the AIS operator stand-in exited at once: %s' % handle.read()[-2000:])
    print(json.dumps({'changed': True, 'pid': proc.pid, 'log': log_path}))
    return 0


def leftover_daemons(state_dir):
    """The process groups of the aisnode daemons started under ``state_dir`` that still have a member running.

    A member counts only when its command line names its daemon's directory (nsenter's and aisnode's do), so a
    reused process ID never does.
    """
    groups = {}
    for top, _dirs, files in os.walk(os.path.join(state_dir, 'ais')):
        if PGID_FILE in files:
            try:
                with open(os.path.join(top, PGID_FILE)) as handle:
                    groups[int(handle.read().strip())] = top.encode()
            except (OSError, ValueError):
                continue
    found = set()
    for entry in os.listdir('/proc') if groups else []:
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, 'rb') as handle:
                pgrp = int(handle.read().rsplit(b')', 1)[1].split()[2])
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                cmdline = handle.read()
        except (OSError, ValueError, IndexError):
            continue
        if pgrp in groups and groups[pgrp] in cmdline:
            found.add(pgrp)
    return sorted(found)


def cmd_stop(args):
    args.state_dir = os.path.abspath(args.state_dir)
    pid = running_pid(args.state_dir)
    if pid:
        kill_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and os.path.exists('/proc/%d' % pid):
            try:  # our child when started from this shell; reaped by init otherwise
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.2)
        kill_group(pid, signal.SIGKILL)
        os.remove(pid_file(args.state_dir))
    # What it could not stop (it was killed, or hung): every daemon group it recorded.
    left = leftover_daemons(args.state_dir)
    for pgid in left:
        kill_group(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while left and leftover_daemons(args.state_dir) and time.monotonic() < deadline:
        time.sleep(0.1)
    print(json.dumps({'changed': bool(pid or left), 'pid': pid, 'killed': left}))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('start', 'run'):
        one = sub.add_parser(name)
        one.add_argument('--kubeconfig', required=True)
        one.add_argument('--nodes', required=True)
        one.add_argument('--bin-dir', required=True)
        one.add_argument('--state-dir', required=True)
    sub.add_parser('stop').add_argument('--state-dir', required=True)
    args = parser.parse_args(argv)
    if args.command == 'start':
        return cmd_start(args)
    if args.command == 'stop':
        return cmd_stop(args)
    Operator(args).run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
