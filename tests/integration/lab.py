# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local multi-NIC lab (role netplumb.multihome.lab, playbooks/lab.yml) as pytest fixtures.

``lab`` (session-scoped) is the default lab: three nodes ``worker1..3`` with ``eth0`` on the management
network 198.18.0.0/24 and ``nic1``/``nic2`` on 198.18.1.0/24 and 198.18.2.0/24, node i at ``.10+i``
on each, as in inventory/hosts.ini. It is brought up once per test session with the real
``ansible-playbook playbooks/lab.yml`` and taken down at the end of the session, also when a test or
the bring-up fails. A lab of the same layout that already runs (brought up by hand) is reused and left
running; ``NETPLUMB_LAB_KEEP=1`` keeps the one the session made, for quick reruns.

``lab_up(prefix, nodes, nics, subnet_offset, router=False)`` is a context manager for a lab of another size under
another prefix and subnets (two labs at once need address ranges that do not overlap: podman
refuses a second network with the same subnet). ``router=True`` adds the router container
``<prefix>-router`` at ``.254`` on every data network, forwarding between them (``lab.gateways``).

Use it from a test module with ``from lab import lab  # pylint: disable=unused-import``::

    def test_x(lab, run_playbook):
        lab.exec('worker1', 'ip', '-br', 'addr')           # podman exec, a CompletedProcess
        lab.nics['worker2']['nic1']                         # '198.18.1.12'
        run_playbook('x.yml', lab.inventory, **lab.env)

What the lab is NOT (a green test on it says nothing about these): the nodes are containers on one
kernel, not machines: no systemd, no kubelet, no kernel modules of their own (``modprobe`` loads
nothing), no PCI devices, SR-IOV or VFs; NICs are veths on host bridges, so link speed, offloads,
MTU limits and ARP of real switches are not there; ipvlan and vlan links fail (the host kernel lacks
them). The networks are internal: no default route, no way out.

Needs root with rootful podman (tests/lab/bootstrap-podman.sh, run by `make test`); fails otherwise.
"""

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, ansible_env, ansible_playbook

PLAYBOOK = os.path.join(REPO, 'playbooks', 'lab.yml')
DEFAULT_PREFIX = 'netplumb-lab'
# lab_connection: the Ansible connection plugin the inventory names.
CONNECTIONS = {'nsenter': 'community.docker.nsenter', 'podman': 'containers.podman.podman'}
LOCK_WAIT = 900  # seconds to wait for another test session that holds the same lab
# The control plane's containers, after "<prefix>-".
CONTROL_PLANE = ('etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler')


def missing():
    """Why the lab cannot run here, or None."""
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return 'the lab needs root (rootful podman)'
    if shutil.which('podman') is None:
        return 'the lab needs podman: run tests/lab/bootstrap-podman.sh as root'
    return None


def podman(*args, **kwargs):
    """Run ``podman ARGS``; the CompletedProcess (never raises on a non-zero exit)."""
    kwargs.setdefault('timeout', 120)
    return subprocess.run(['podman'] + list(args), capture_output=True, text=True, check=False, **kwargs)


def podman_json(*args):
    proc = podman(*args)
    if proc.returncode != 0:
        raise AssertionError('podman %s failed (rc=%d): %s' % (' '.join(args), proc.returncode, proc.stderr))
    return json.loads(proc.stdout or '[]')


def host_links():
    """{ifindex: link} of the host's network links, as ``ip -json link show`` gives them."""
    out = subprocess.run(['ip', '-json', 'link', 'show'], capture_output=True, text=True, check=True, timeout=30).stdout
    return dict((link['ifindex'], link) for link in json.loads(out))


class Lab:
    """One lab's layout (what the role plans), and the ways to reach and drive it.

    Attributes: ``prefix``; ``inventory`` (path of the hosts.ini the role writes); ``nodes`` (names,
    ``worker1``...); ``containers`` ({node: container name}); ``node_ips`` ({node: eth0 address});
    ``nics`` ({node: {'nic1': address, ...}}); ``networks`` ({interface: podman network name},
    ``eth0`` for the management one); ``subnets`` ({interface: CIDR}); ``env`` (environment variables
    for ``run_playbook(playbook, lab.inventory, **lab.env)`` and plain ``ansible`` commands); with ``router``,
    ``router_container`` and ``gateways`` ({'nic1': the router's address on that network, ...}), else None and {}.
    """

    def __init__(
        self,
        prefix=DEFAULT_PREFIX,
        nodes=3,
        nics=2,
        subnet_offset=0,
        inventory=None,
        router=False,
        connection='nsenter',
        control_plane=False,
        binaries=None,
        crds=None,
        kubelet=False,
        aistore_operator=False,
    ):
        self.prefix = prefix
        # The lab's stand-in for the AIS operator (roles/lab/files/ais_operator.py): real AIS daemons in the nodes.
        self.aistore_operator = bool(aistore_operator)
        # Nodes that run pods (lab_kubelet): containerd and kubelet in every node, pods on 198.19.<offset+1>.0/24.
        self.kubelet = bool(kubelet)
        self.pod_cidrs = dict(
            ('worker%d' % i, '198.19.%d.%d/27' % (subnet_offset + 1, 32 * (i - 1))) for i in range(1, nodes + 1)
        )
        # The control plane (cluster.py): the lab role's pod of etcd and the Kubernetes components at .2.
        self.control_plane = bool(control_plane)
        self.binaries = binaries
        self.crds = list(crds or [])
        self.connection = connection
        self.router = bool(router)
        self.router_container = '%s-router' % prefix if router else None
        self.gateways = (
            dict(('nic%d' % k, '198.18.%d.254' % (subnet_offset + k)) for k in range(1, nics + 1)) if router else {}
        )
        self.node_count = nodes
        self.nic_count = nics
        self.subnet_offset = subnet_offset
        self.inventory = inventory or os.path.join(REPO, '.build', 'lab', prefix, 'hosts.ini')
        self.nodes = ['worker%d' % i for i in range(1, nodes + 1)]
        self.containers = dict((n, '%s-%s' % (prefix, n)) for n in self.nodes)
        ifnames = ['eth0'] + ['nic%d' % k for k in range(1, nics + 1)]
        self.networks = dict(
            (ifname, '%s-%s' % (prefix, 'mgmt' if j == 0 else ifname)) for j, ifname in enumerate(ifnames)
        )
        self.subnets = dict((ifname, '198.18.%d.0/24' % (subnet_offset + j)) for j, ifname in enumerate(ifnames))
        self.node_ips = {}
        self.nics = {}
        for i, node in enumerate(self.nodes, 1):
            self.node_ips[node] = '198.18.%d.%d' % (subnet_offset, 10 + i)
            self.nics[node] = dict(
                ('nic%d' % k, '198.18.%d.%d' % (subnet_offset + k, 10 + i)) for k in range(1, nics + 1)
            )
        podman_bin = shutil.which('podman') or 'podman'
        self.env = {'ANSIBLE_INVENTORY': self.inventory, 'ANSIBLE_PODMAN_EXECUTABLE': podman_bin}
        self.up_run = None
        self.down_run = None
        self.timings = {}

    def __repr__(self):
        router = ', router' if self.router else ''
        return 'Lab(%s: %d nodes x %d NICs%s, %s connection, %s)' % (
            self.prefix,
            self.node_count,
            self.nic_count,
            router,
            self.connection,
            self.inventory,
        )

    def addressing_vars(self, pod_network, service_network):
        """The addressing role's settings for this lab: the reserved networks and Multi-NIC CNI's master nets.

        The data NICs' networks are the master nets; ``pod_network`` and ``service_network`` are the reserved ones.
        """
        return {
            'addressing_reserved': {
                'pod_network': pod_network,
                'service_network': service_network,
                'node_network': self.subnets['eth0'],
            },
            'addressing_multinic': {
                'subnet': '198.18.128.0/18',
                'interface_block': 2,
                'host_block': 6,
                'vlan_mode': 'l3',
                'master_nets': [self.subnets['nic%d' % k] for k in range(1, self.nic_count + 1)],
            },
        }

    def kube_bin_dir(self):
        """The directory of the Kubernetes binaries (kubectl among them) that the lab's binaries file names."""
        with open(self.binaries) as handle:
            return json.load(handle)['lab_kubernetes_bin_dir']

    def addresses(self, node):
        """{interface: address} of ``node``, eth0 included."""
        return dict([('eth0', self.node_ips[node])] + sorted(self.nics[node].items()))

    def extra_vars(self):
        """The ``-e`` arguments that give lab.yml this layout."""
        return [
            '-e',
            json.dumps(
                {
                    'lab_prefix': self.prefix,
                    'lab_nodes': self.node_count,
                    'lab_nics': self.nic_count,
                    'lab_subnet_offset': self.subnet_offset,
                    'lab_inventory_path': self.inventory,
                    'lab_router': self.router,
                    'lab_connection': self.connection,
                    'lab_control_plane': self.control_plane,
                    'lab_crds': self.crds,
                    'lab_kubelet': self.kubelet,
                    'lab_aistore_operator': self.aistore_operator,
                }
            ),
        ] + (['-e', '@' + self.binaries] if self.control_plane else [])

    def ansible_env(self, **extra):
        """The whole environment for an ``ansible``/``ansible-playbook`` subprocess on this lab."""
        env = dict(self.env)
        env.update(extra)
        return ansible_env(**env)

    def playbook(self, state, *args):
        """Run lab.yml for this layout (``state`` present or absent) with the json callback; the PlaybookRun."""
        # No -i: the play runs on the implicit localhost, with the venv's python as the modules' interpreter.
        return ansible_playbook([PLAYBOOK, '-e', 'lab_state=%s' % state] + self.extra_vars() + list(args), timeout=900)

    def exec(self, node, *argv, **kwargs):
        """``podman exec`` ``argv`` in ``node`` (or ``'router'``); the CompletedProcess (never raises on a non-zero exit)."""
        env = kwargs.pop('env', None) or {}
        opts = []
        for key, value in sorted(env.items()):
            opts += ['--env', '%s=%s' % (key, value)]
        container = self.router_container if node == 'router' and self.router else self.containers[node]
        return podman(*(['exec'] + opts + [container] + list(argv)), **kwargs)

    def found(self):
        """(containers, networks) that podman has under this prefix, whatever their number."""
        containers = [
            c['Names'][0]
            for c in podman_json('ps', '-a', '--format', 'json')
            if c['Names']
            and (
                c['Names'][0].startswith(self.prefix + '-worker')
                or c['Names'][0] in ['%s-%s' % (self.prefix, name) for name in CONTROL_PLANE + ('router',)]
            )
        ]
        networks = [
            n['name']
            for n in podman_json('network', 'ls', '--format', 'json')
            if n['name'] == self.prefix + '-mgmt' or n['name'].startswith(self.prefix + '-nic')
        ]
        return sorted(containers), sorted(networks)

    def links(self):
        """{ifindex: name} of the host's bridges of this lab's networks and of the veths on them."""
        bridges = [
            n.get('network_interface')
            for n in podman_json('network', 'ls', '--format', 'json')
            if n['name'] in self.networks.values()
        ]
        return dict(
            (index, link['ifname'])
            for index, link in host_links().items()
            if link['ifname'] in bridges or link.get('master') in bridges
        )

    def running(self):
        """True when this exact layout runs: the planned containers, running with the planned addresses, nothing more, and the inventory."""
        containers, networks = self.found()
        wanted = (
            list(self.containers.values())
            + ([self.router_container] if self.router else [])
            + (['%s-%s' % (self.prefix, name) for name in CONTROL_PLANE] if self.control_plane else [])
        )
        if containers != sorted(wanted) or networks != sorted(self.networks.values()):
            return False
        if not os.path.isfile(self.inventory):
            return False
        with open(self.inventory) as handle:
            text = handle.read()
        if (
            '# Generated by netplumb.multihome.lab for %s:' % self.prefix not in text
            or '\nansible_connection=%s\n' % CONNECTIONS[self.connection] not in text
            or any(' ansible_host=%s ' % container not in text for container in self.containers.values())
        ):
            return False
        for info in podman_json('container', 'inspect', *containers):
            nets = info['NetworkSettings']['Networks']
            if info['Name'] in ['%s-%s' % (self.prefix, name) for name in CONTROL_PLANE]:
                # In the control plane's pod: its network is the pod's.
                if not info['State']['Running']:
                    return False
                continue
            if info['Name'] == self.router_container:
                want = dict((self.networks[ifname], ip) for ifname, ip in self.gateways.items())
            else:
                node = [n for n, c in self.containers.items() if c == info['Name']][0]
                want = dict((self.networks[ifname], ip) for ifname, ip in self.addresses(node).items())
            if not info['State']['Running'] or dict((name, net.get('IPAddress')) for name, net in nets.items()) != want:
                return False
        return True

    def _apply(self, state, name):
        """Run lab.yml with ``state``; kept as ``<name>_run`` and timed as ``timings[name]``, failed tasks' messages on failure."""
        start = time.time()
        run = self.playbook(state)
        setattr(self, name + '_run', run)
        self.timings[name] = time.time() - start
        if run.rc != 0:
            raise AssertionError(
                'lab.yml (%s) failed for %r (rc=%d): %s\n%s' % (state, self, run.rc, run.failures(), run.stderr)
            )
        return run

    def up(self):
        """Bring the lab up (or adjust it); fail with the failed tasks' messages."""
        return self._apply('present', 'up')

    def down(self):
        """Take the lab down (containers, networks, inventory; the image stays)."""
        return self._apply('absent', 'down')


@contextlib.contextmanager
def lab_lock(prefix, wait=LOCK_WAIT):
    """Hold the lab ``prefix`` for this process: another test session (another checkout, CI) waits for it."""
    path = os.path.join(tempfile.gettempdir(), 'netplumb-lab-%s.lock' % prefix)
    with open(path, 'a+') as handle:
        deadline = time.time() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.time() > deadline:
                    raise AssertionError(
                        'the lab %s is held by another test session for more than %d s (lock %s)' % (prefix, wait, path)
                    )
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def lab_up(
    prefix,
    nodes=2,
    nics=3,
    subnet_offset=100,
    inventory=None,
    keep=False,
    router=False,
    connection='nsenter',
    control_plane=False,
    binaries=None,
    crds=None,
    kubelet=False,
    aistore_operator=False,
):
    """A lab of this layout for the ``with`` block: brought up, and taken down afterwards (also on failure).

    ``router``: with the router container at ``.254`` on every data network (``lab.gateways``).
    ``connection``: the inventory's connection to the nodes, ``nsenter`` (the role's default) or ``podman``.

    A lab of exactly this layout that already runs is reused and left running; so is this one when ``keep``.
    """
    reason = missing()
    if reason:
        # `make test` installs rootful podman (tests/lab/bootstrap-podman.sh): its absence is a failure.
        pytest.fail(reason)
    lab = Lab(
        prefix,
        nodes,
        nics,
        subnet_offset,
        inventory,
        router=router,
        connection=connection,
        control_plane=control_plane,
        binaries=binaries,
        crds=crds,
        kubelet=kubelet,
        aistore_operator=aistore_operator,
    )
    with lab_lock(prefix):
        reused = lab.running()
        try:
            if not reused:
                lab.up()
            yield lab
        finally:
            if not (reused or keep):
                lab.down()


# One lab per test session and process, whichever modules import the fixture.
_SESSION = {}


@pytest.fixture(scope='session')
def lab():
    """The default lab (3 nodes x 2 NICs, prefix netplumb-lab), once per test session."""
    if 'lab' in _SESSION:
        yield _SESSION['lab']
        return
    with lab_up(
        DEFAULT_PREFIX, nodes=3, nics=2, subnet_offset=0, keep=os.environ.get('NETPLUMB_LAB_KEEP') == '1'
    ) as session_lab:
        _SESSION['lab'] = session_lab
        try:
            yield session_lab
        finally:
            _SESSION.pop('lab', None)
