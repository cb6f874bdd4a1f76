# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role netplumb.multihome.dpdk_vpp_host through playbooks/prepare_dpdk_hosts.yml, on a lab of its own.

The lab (``netplumb-dpdk``: 2 nodes x 2 NICs, 198.18.40-42.0/24) is brought up once for this module
and taken down afterwards. Its NICs are veths with no PCI device, so each node gets a sysfs tree
under /tmp/fakesys that describes a PCI layout for its real interfaces (real names and MACs):
eth0 and nic1 virtio NICs on 0000:00:03.0 and 0000:00:08.0, nic2 a plain PCI NIC whose address
differs per node. The role reads that tree (``dpdk_vpp_host_sysfs_root``) and really sets the
containers' links down and writes their files.

What this cannot prove: no module is loaded (no /proc/modules here: the driver step is either skipped,
refused, or finds a driver "built in" to the tree), no NIC is bound to uio_pci_generic/vfio-pci, no
VPP reads the configuration, and there is no systemd, kubelet or contiv-vswitch to restart.
"""

import json
import os

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.vpp_config import stanzas

from conftest import REPO
from lab import lab_up

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab

PLAYBOOK = 'prepare_dpdk_hosts.yml'
FAKESYS = '/tmp/fakesys'
CONFIG = '/etc/vpp/contiv-vswitch.conf'
DROPIN = '/etc/systemd/system/kubelet.service.d/20-node-ip.conf'
MODULES_LOAD = '/etc/modules-load.d/dpdk-vpp.conf'
ENV_FILE = '/etc/default/kubelet'
WATCHED = ['/etc/vpp', '/etc/systemd/system/kubelet.service.d', '/etc/modules-load.d', '/etc/default']

# Where each node's NICs sit on the (described) PCI bus.
LAYOUTS = {
    'worker1': {
        'eth0': {'pci': '0000:00:03.0', 'virtio': 'virtio0'},
        'nic1': {'pci': '0000:00:08.0', 'virtio': 'virtio1'},
        'nic2': {'pci': '0000:00:09.0', 'vendor': '0x8086', 'device': '0x100e', 'driver': 'e1000'},
    },
    'worker2': {
        'eth0': {'pci': '0000:00:03.0', 'virtio': 'virtio0'},
        'nic1': {'pci': '0000:00:08.0', 'virtio': 'virtio1'},
        'nic2': {'pci': '0000:03:00.1', 'vendor': '0x15b3', 'device': '0x1015', 'driver': 'mlx5_core'},
    },
}

# Run inside a node (python3 -c): build the sysfs tree LAYOUT describes, with the node's real MACs, MTUs and states.
with open(os.path.join(REPO, 'tests', 'lab', 'fake_pci_sysfs.py')) as _handle:
    BUILD_SYSFS = _handle.read()


def must(proc):
    assert proc.returncode == 0, 'rc=%d: %s %s' % (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture(scope='module')
def dpdk_lab():
    with lab_up('netplumb-dpdk', nodes=2, nics=2, subnet_offset=40) as lab:
        for node in lab.nodes:
            must(lab.exec(node, 'python3', '-c', BUILD_SYSFS, FAKESYS, json.dumps(LAYOUTS[node])))
        yield lab


def reset(lab, *nodes):
    """Data NICs up, and none of the files the role writes (or the tests seed)."""
    for node in nodes or lab.nodes:
        must(
            lab.exec(
                node,
                'sh',
                '-c',
                'ip link set nic1 up && ip link set nic2 up && rm -rf /etc/vpp %s %s %s %s/bus/pci/drivers/vfio-pci'
                % (DROPIN, MODULES_LOAD, ENV_FILE, FAKESYS),
            )
        )


def up(lab, node):
    """{interface: administratively up?} from ip -j link."""
    return dict(
        (link['ifname'], 'UP' in link['flags']) for link in json.loads(must(lab.exec(node, 'ip', '-j', 'link', 'show')))
    )


def read(lab, node, path):
    proc = lab.exec(node, 'cat', path)
    return proc.stdout if proc.returncode == 0 else None


def snapshot(lab, node):
    """What the role could change: link states and every file under the directories it writes to."""
    files = lab.exec(
        node, 'sh', '-c', 'find %s -type f 2>/dev/null | sort | xargs -r md5sum' % ' '.join(WATCHED)
    ).stdout
    return up(lab, node), files


def vpp_blocks(text):
    """A VPP startup configuration -> {stanza: [option lines]}, read with VPP's rules (vpp_config.parse)."""
    return stanzas(text)


def play(lab, run_playbook, *args, **extra_vars):
    """Run the playbook on the lab (no sudo in the nodes: become off) with the described sysfs tree."""
    variables = {'ansible_become': False, 'dpdk_vpp_host_sysfs_root': FAKESYS, 'dpdk_vpp_host_load_driver': False}
    variables.update(extra_vars)
    return run_playbook(PLAYBOOK, lab.inventory, '-e', json.dumps(variables), *args, **lab.env)


def failures(run, node):
    """The failure messages of the run on ``node`` (a failed loop: its items' messages)."""
    msgs = []
    for play_ in run.data['plays']:
        for task in play_['tasks']:
            res = task['hosts'].get(node, {})
            if res.get('failed'):
                msgs += [r.get('msg', '') for r in res.get('results', []) if r.get('failed')] or [res.get('msg', '')]
    return msgs


def failure(run, node):
    """The one failure message of the run on ``node``."""
    msgs = failures(run, node)
    assert len(msgs) == 1, msgs
    return msgs[0]


# Every node prepared from its own PCI layout, and a second run changing nothing, is the molecule scenario's proof
# (tests/molecule/dpdk_vpp_host: converge, idempotence, verify); these tests cover what it does not.


def test_a_changed_config_is_backed_up_and_nics_resolve_by_mac_and_pci(dpdk_lab, run_playbook):
    lab = dpdk_lab
    node = 'worker1'
    reset(lab, node)
    mac = read(lab, node, '/sys/class/net/nic1/address').strip()
    hand_written = 'unix {\n  nodaemon\n}\ndpdk {\n  dev 0000:00:04.0\n}\n'
    # A hand-written configuration, an env file as the kubelet package ships it (with arguments of its own),
    # and vfio-pci "built in" (its driver directory exists, and there is no /proc/modules).
    must(
        lab.exec(
            node,
            'sh',
            '-c',
            'mkdir -p /etc/vpp %s/bus/pci/drivers/vfio-pci && printf "%%s" "$1" > %s && '
            'printf \'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip 192.0.2.9"\\n\' > %s'
            % (FAKESYS, CONFIG, ENV_FILE),
            'sh',
            hand_written,
        )
    )
    interfaces = [{'mac': mac.upper().replace(':', '-')}, {'pci': LAYOUTS[node]['nic2']['pci'][5:]}]
    first = play(
        lab,
        run_playbook,
        '--limit',
        node,
        dpdk_vpp_host_interfaces=interfaces,
        dpdk_vpp_host_driver='vfio-pci',
        dpdk_vpp_host_load_driver=True,
        dpdk_vpp_host_unix_options=['poll-sleep-usec 0'],
        dpdk_vpp_host_vpp_stanzas={'cpu': ['main-core 1'], 'api-trace': None},
    )
    assert first.rc == 0, first.failures()
    written = read(lab, node, CONFIG)
    blocks = vpp_blocks(written)
    # VPP reads options in order: the later poll-sleep-usec wins over the default's.
    assert blocks['unix'][-2:] == ['poll-sleep-usec 100', 'poll-sleep-usec 0']
    assert blocks['cpu'] == ['main-core 1'] and 'api-trace' not in blocks
    assert blocks['dpdk'] == [
        'dev %s' % LAYOUTS[node]['nic1']['pci'],
        'dev %s' % LAYOUTS[node]['nic2']['pci'],
        'uio-driver vfio-pci',
    ]
    links = up(lab, node)
    assert not links['nic1'] and not links['nic2'] and links['eth0'], links
    assert read(lab, node, MODULES_LOAD).splitlines()[-1] == 'vfio-pci'
    # auto: the env file sets KUBELET_EXTRA_ARGS, which would override a drop-in; its own arguments stay.
    assert read(lab, node, ENV_FILE) == 'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip=%s"\n' % lab.node_ips[node]
    assert read(lab, node, DROPIN) is None

    def backups():
        names = must(lab.exec(node, 'ls', '/etc/vpp')).split()
        return dict(
            (name, read(lab, node, '/etc/vpp/' + name)) for name in names if name.startswith('contiv-vswitch.conf.')
        )

    assert list(backups().values()) == [hand_written]
    second = play(
        lab,
        run_playbook,
        '--limit',
        node,
        dpdk_vpp_host_interfaces=interfaces,
        dpdk_vpp_host_driver='vfio-pci',
        dpdk_vpp_host_set_uio_driver=False,
        dpdk_vpp_host_dpdk_options=['num-mbufs 128000'],
        dpdk_vpp_host_unix_options=['poll-sleep-usec 0'],
        dpdk_vpp_host_vpp_stanzas={'cpu': ['main-core 1'], 'api-trace': None},
    )
    assert second.rc == 0, second.failures()
    assert second.stats(node)['changed'] == 1
    assert vpp_blocks(read(lab, node, CONFIG))['dpdk'][2:] == ['num-mbufs 128000']
    assert sorted(backups().values()) == sorted([hand_written, written])
    reset(lab, node)


def test_taking_down_a_nic_a_probe_needs_is_rolled_back_and_the_other_node_is_not_reached(dpdk_lab, run_playbook):
    """worker1 (the first batch) gives nic1 to VPP, but a storage peer must stay reachable from nic1's address: the
    probe passes before and fails after, so nic1 comes back up with its routes and the role's files go; the play stops
    before worker2."""
    lab = dpdk_lab
    reset(lab)

    def routes(node):
        return sorted(
            json.dumps(r, sort_keys=True)
            for r in json.loads(must(lab.exec(node, 'ip', '-4', '-j', 'route', 'show', 'table', 'all')))
        )

    before = dict((node, (snapshot(lab, node), routes(node))) for node in lab.nodes)
    probe = {'name': 'storage peer on nic1', 'ping': lab.nics['worker2']['nic1'], 'source': lab.nics['worker1']['nic1']}
    run = play(
        lab,
        run_playbook,
        dpdk_vpp_host_interfaces=[{'name': 'nic1'}],
        dpdk_vpp_host_guard_probes=[probe],
        dpdk_vpp_host_guard_probe_timeout=2,
    )
    assert run.rc != 0
    msg = failures(run, 'worker1')[-1]
    assert msg.startswith(
        'Probe again; roll back when a probe that passed before fails now failed on worker1: storage peer on nic1 ('
    ), msg
    confirm = run.results('Probe again; roll back when a probe that passed before fails now', 'worker1')
    assert 'link nic1 up' in confirm['restored'] and 'file %s removed' % CONFIG in confirm['restored'], confirm[
        'restored'
    ]
    assert confirm['residual'] == []
    assert dict((node, (snapshot(lab, node), routes(node))) for node in lab.nodes) == before
    assert [t['task']['name'] for p in run.data['plays'] for t in p['tasks'] if 'worker2' in t['hosts']] == []
    assert lab.exec('worker1', 'test', '-e', '/etc/vpp').returncode != 0, '/etc/vpp, made by the change, is still there'


def test_check_mode_on_a_fresh_node_changes_nothing(dpdk_lab, run_playbook):
    lab = dpdk_lab
    node = 'worker2'
    reset(lab, node)
    before = snapshot(lab, node)
    run = play(
        lab, run_playbook, '--check', '--limit', node, dpdk_vpp_host_interfaces=[{'name': 'nic1'}, {'name': 'nic2'}]
    )
    assert run.rc == 0, run.failures()
    assert run.stats(node)['changed'] > 0
    assert snapshot(lab, node) == before
    assert read(lab, node, CONFIG) is None
    assert all(up(lab, node)[name] for name in ('eth0', 'nic1', 'nic2'))


def test_refuses_the_interface_holding_the_node_ip_before_any_change(dpdk_lab, run_playbook):
    lab = dpdk_lab
    reset(lab)
    before = dict((node, snapshot(lab, node)) for node in lab.nodes)
    # All nodes in one batch, so that each says why (canary batches would stop after worker1's).
    run = play(
        lab, run_playbook, dpdk_vpp_host_interfaces=[{'name': 'nic1'}, {'name': 'eth0'}], netplumb_batches=['100%']
    )
    assert run.rc != 0
    for node in lab.nodes:
        msg = failure(run, node)
        assert msg.startswith('Refusing to take down eth0 (name eth0: it holds %s (node_ip' % lab.node_ips[node]), msg
        assert 'nic1' not in msg and 'Nothing was changed' in msg
        assert snapshot(lab, node) == before[node]

    # Whichever interface holds node_ip: here nic2, and it is given by its PCI address.
    nic2_ip = lab.nics['worker1']['nic2']
    run = play(
        lab,
        run_playbook,
        '--limit',
        'worker1',
        node_ip=nic2_ip,
        dpdk_vpp_host_interfaces=[{'name': 'nic1'}, {'pci': LAYOUTS['worker1']['nic2']['pci']}],
    )
    assert run.rc != 0
    msg = failure(run, 'worker1')
    assert msg.startswith(
        'Refusing to take down nic2 (pci %s: it holds %s (node_ip' % (LAYOUTS['worker1']['nic2']['pci'], nic2_ip)
    ), msg
    assert snapshot(lab, 'worker1') == before['worker1']


def test_an_unknown_or_non_pci_interface_fails_naming_it(dpdk_lab, run_playbook):
    lab = dpdk_lab
    node = 'worker1'
    reset(lab, node)
    before = snapshot(lab, node)
    run = play(lab, run_playbook, '--limit', node, dpdk_vpp_host_interfaces=[{'name': 'nic1'}, {'name': 'nic9'}])
    assert run.rc != 0
    msg = failure(run, node)
    assert 'name nic9: no such interface' in msg and 'Nothing was changed' in msg, msg
    # The node's real sysfs: nic1 is a veth, with no PCI address.
    run = play(
        lab, run_playbook, '--limit', node, dpdk_vpp_host_sysfs_root='/sys', dpdk_vpp_host_interfaces=[{'name': 'nic1'}]
    )
    assert run.rc != 0
    msg = failure(run, node)
    assert 'nic1 (name nic1) has no PCI address: it is a virtual link' in msg, msg
    assert snapshot(lab, node) == before


def test_loading_the_driver_fails_clearly_where_the_kernel_cannot(dpdk_lab, run_playbook):
    lab = dpdk_lab
    node = 'worker2'
    if lab.exec(node, 'test', '-e', '/proc/modules').returncode == 0:
        pytest.skip('this kernel can load modules: the refusal is for kernels (containers) that cannot')
    reset(lab, node)
    before = snapshot(lab, node)
    run = play(
        lab, run_playbook, '--limit', node, dpdk_vpp_host_load_driver=True, dpdk_vpp_host_interfaces=[{'name': 'nic1'}]
    )
    assert run.rc != 0
    msg = failure(run, node)
    assert msg.startswith(
        'Cannot load the DPDK driver uio_pci_generic on worker2: /proc/modules is missing: '
        'this kernel cannot load modules (container?)'
    ), msg
    assert 'dpdk_vpp_host_load_driver: false' in msg
    assert run.stats(node)['changed'] == 0
    assert snapshot(lab, node) == before


@pytest.mark.parametrize(
    'settings, expected',
    [
        (
            {'dpdk_vpp_host_driver': 'igb_uio'},
            # Checked before the role (netplumb.multihome.role_options): what the option is and expects, then Ansible's words.
            [
                'dpdk_vpp_host: dpdk_vpp_host_driver (The DPDK-compatible kernel driver) expects one of uio_pci_generic, '
                "vfio-pci, not 'igb_uio'. Ansible says: value of dpdk_vpp_host_driver must be one of: uio_pci_generic, vfio-pci, "
                'got: '
                'igb_uio'
            ],
        ),
        # Every bad setting of a kind is named at once.
        (
            {'dpdk_vpp_host_interfaces': [], 'dpdk_vpp_host_node_ip': 'worker1.example'},
            [
                'dpdk_vpp_host_interfaces [] is not a non-empty list of interfaces',
                'dpdk_vpp_host_node_ip "worker1.example" is not an IP address',
                'dpdk_vpp_host_apiserver_advertise_address "worker1.example" is not an IP address',
            ],
        ),
        (
            {'dpdk_vpp_host_interfaces': [{'name': 'nic1', 'mac': '02:00:00:00:00:01'}, {'pci': '0000:00:08.9'}]},
            [
                'entry {"name": "nic1", "mac": "02:00:00:00:00:01"} is not valid: give exactly one of name',
                'entry {"pci": "0000:00:08.9"} is not valid: give exactly one of name',
            ],
        ),
        # An option that would close its stanza, and a stanza VPP does not know: named before anything changes.
        (
            {'dpdk_vpp_host_unix_options': ['nodaemon\n}\ndpdk {']},
            [
                "Cannot write the VPP startup configuration on worker1: unix options[0] 'nodaemon\\n}\\ndpdk {' is not one VPP "
                "option"
            ],
        ),
        (
            {'dpdk_vpp_host_vpp_stanzas': {'nat44': ['endpoint-dependent']}},
            [
                "Cannot write the VPP startup configuration on worker1: VPP stanza 'nat44' is not one Contiv-VPP's VPP (stable/1908) "
                'reads: VPP would stop with "unknown input"'
            ],
        ),
        (
            {'dpdk_vpp_host_dpdk_options': ['dev 0000:00:09.0']},
            ['the dpdk options list dev 0000:00:09.0: the data-plane NICs come from dpdk_vpp_host_interfaces'],
        ),
    ],
    ids=['driver', 'settings', 'interfaces', 'option', 'stanza', 'dev'],
)
def test_invalid_settings_are_refused_before_anything(dpdk_lab, run_playbook, settings, expected):
    lab = dpdk_lab
    node = 'worker1'
    reset(lab, node)
    before = snapshot(lab, node)
    variables = {'dpdk_vpp_host_interfaces': [{'name': 'nic1'}]}
    variables.update(settings)
    run = play(lab, run_playbook, '--limit', node, **variables)
    assert run.rc != 0
    msgs = failures(run, node)
    if len(expected) == 1:
        # A check inside a block is rescued by a task that fails naming it: that last message is the user's.
        msgs = msgs[-1:]
    assert len(msgs) == len(expected), msgs
    for msg, want in zip(msgs, expected):
        assert want in msg, (want, msgs)
    assert run.stats(node)['changed'] == 0
    assert snapshot(lab, node) == before
