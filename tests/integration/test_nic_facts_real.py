# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nic_facts run for real with ``ansible localhost -m netplumb.multihome.nic_facts``.

(a) This machine's own eth0, read-only: the module's answer is checked against what the
    test finds itself in /sys and in ``ip -j route``. Nothing is changed; the addresses,
    MTUs and routes are compared before and after to prove it.
(b) Real veths and a bridge in a network namespace of the test's own (``npt-nf-<random>``,
    addresses of 198.18.200.0/24), with the module run inside it through ``ip netns exec``
    (which also mounts that namespace's /sys). The namespace, and every link in it, is
    deleted in the fixture's teardown, also on failure. Needs root.
"""

import json
import os
import re
import secrets
import shutil
import subprocess

import pytest

from conftest import BIN, REPO, ansible_env

# Selected or deselected with: pytest -m netns (see tests/pytest.ini).
pytestmark = pytest.mark.netns

PCI_FUNCTION = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
ETH0 = '/sys/class/net/eth0'


def sh(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


def must(*args):
    proc = sh(*args)
    assert proc.returncode == 0, '%s failed (rc=%d): %s' % (' '.join(args), proc.returncode, proc.stderr)
    return proc.stdout


def nic_facts(args=None, netns=None, **env):
    """Run the module on localhost (inside ``netns`` when given); return (rc, the host's result)."""
    cmd = [os.path.join(BIN, 'ansible'), 'localhost', '-m', 'netplumb.multihome.nic_facts']
    if args:
        cmd += ['-a', json.dumps(args)]
    if netns:
        cmd = ['ip', 'netns', 'exec', netns] + cmd
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', **env),
    )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError('ansible printed no JSON (rc=%d):\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr))
    return proc.returncode, data['plays'][0]['tasks'][0]['hosts']['localhost']


def default_route_devs(*prefix):
    """Devices of the IPv4 and IPv6 default routes, read with ip directly (``prefix``: e.g. ip -n NS)."""
    devs = set()
    for family in ([], ['-6']):
        for route in json.loads(must('ip', *(list(prefix) + family + ['-j', 'route', 'show', 'default'])) or '[]'):
            if route.get('type', 'unicast') != 'unicast':
                continue
            devs.update(hop['dev'] for hop in [route] + route.get('nexthops', []) if hop.get('dev'))
    return devs


def snapshot():
    """What must not change on this machine: each link's MTU, state and addresses, and the default routes."""
    links = dict(
        (
            link['ifname'],
            (
                link['mtu'],
                link['operstate'],
                sorted('%s/%s' % (a['local'], a['prefixlen']) for a in link.get('addr_info', [])),
            ),
        )
        for link in json.loads(must('ip', '-j', 'addr', 'show'))
    )
    return links, sorted(default_route_devs())


def read(path):
    with open(path) as handle:
        return handle.read().strip()


# ------------------------------------------------------------------------------ (a) this machine's eth0


@pytest.mark.skipif(not os.path.exists(ETH0 + '/device'), reason='needs an eth0 with a device (a NIC, not a veth)')
def test_this_machines_eth0_read_only():
    before = snapshot()
    # Where eth0 is, found here independently: the device link resolved, and for a virtio
    # device (virtioN) its parent directory, which is the PCI function carrying it.
    device = os.path.realpath(ETH0 + '/device')
    if re.match(r'^virtio[0-9]+$', os.path.basename(device)):
        expected_pci = os.path.basename(os.path.dirname(device))
    else:
        expected_pci = os.path.basename(device)
    assert PCI_FUNCTION.match(expected_pci), 'eth0 is not on PCI here: %s' % device
    eth0_v4 = [
        a['local']
        for link in json.loads(must('ip', '-j', 'addr', 'show', 'dev', 'eth0'))
        for a in link.get('addr_info', [])
        if a['family'] == 'inet'
    ]
    env = {}
    if eth0_v4:
        # As sshd would set it had Ansible connected to eth0's address.
        env['SSH_CONNECTION'] = '198.51.100.7 50022 %s 22' % eth0_v4[0]

    rc, result = nic_facts(**env)

    assert rc == 0, result
    assert result['changed'] is False
    eth0 = result['ansible_facts']['nic_facts']['eth0']
    assert eth0['pci_address'] == expected_pci
    assert eth0['mac'] == read(ETH0 + '/address').lower()
    assert eth0['mtu'] == int(read(ETH0 + '/mtu'))
    assert eth0['driver'] == os.path.basename(os.readlink(ETH0 + '/device/driver'))
    assert eth0['virtual'] is False
    assert eth0['is_virtio'] is os.path.basename(device).startswith('virtio')
    routed = default_route_devs()
    assert set(result['default_route_interfaces']) == routed
    for nic in result['nics']:
        assert nic['default_route'] is (nic['name'] in routed), nic['name']
    if eth0_v4:
        assert result['management_interface'] == 'eth0'
        assert [n['name'] for n in result['nics'] if n['management']] == ['eth0']
    assert snapshot() == before


# ------------------------------------------------------------------------------ (b) veths in a namespace


def _cannot_netns():
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return 'needs root to create a network namespace'
    if shutil.which('ip') is None:
        return 'needs iproute2 (ip)'
    return None


VETH_MTU = 1400


@pytest.fixture
def veth_ns():
    """``npt-nf-<random>``: nfv0<->nfv1 and nfv2<->nfv3, nfv1 and nfv3 in bridge nfbr0, nfv3 left down.

    nfv0 198.18.200.10/24, nfv2 198.18.200.20/24, nfbr0 198.18.200.1/24 with the default route.
    """
    reason = _cannot_netns()
    if reason:
        pytest.skip(reason)
    ns = 'npt-nf-%s' % secrets.token_hex(3)
    probe = sh('ip', 'netns', 'add', ns)
    if probe.returncode != 0:
        pytest.skip('cannot create network namespaces here: %s' % probe.stderr.strip())
    try:

        def nsip(*args):
            return must('ip', '-n', ns, *args)

        nsip('link', 'add', 'nfv0', 'type', 'veth', 'peer', 'name', 'nfv1')
        nsip('link', 'add', 'nfv2', 'type', 'veth', 'peer', 'name', 'nfv3')
        nsip('link', 'add', 'nfbr0', 'type', 'bridge')
        for name in ('nfv0', 'nfv1', 'nfv2', 'nfv3'):
            nsip('link', 'set', name, 'mtu', str(VETH_MTU))
        nsip('link', 'set', 'nfv1', 'master', 'nfbr0')
        nsip('link', 'set', 'nfv3', 'master', 'nfbr0')
        for name in ('lo', 'nfv0', 'nfv1', 'nfv2', 'nfbr0'):
            nsip('link', 'set', name, 'up')
        nsip('addr', 'add', '198.18.200.10/24', 'dev', 'nfv0')
        nsip('addr', 'add', '198.18.200.20/24', 'dev', 'nfv2')
        nsip('addr', 'add', '198.18.200.1/24', 'dev', 'nfbr0')
        nsip('route', 'add', 'default', 'via', '198.18.200.254', 'dev', 'nfbr0')
        yield ns
    finally:
        sh('ip', 'netns', 'del', ns)
        assert ns not in sh('ip', 'netns', 'list').stdout, 'namespace %s left behind' % ns


def test_veths_in_a_namespace(veth_ns):
    links = dict((link['ifname'], link) for link in json.loads(must('ip', '-n', veth_ns, '-j', 'link', 'show')))
    # The connection "came in" on nfv0's address: nfv0 is the management interface.
    rc, result = nic_facts(
        {'select': {'name': ['nfv*'], 'count': 2, 'exclude_management': True}},
        netns=veth_ns,
        SSH_CONNECTION='198.18.200.99 40022 198.18.200.10 22',
    )
    assert rc == 0, result
    nics = result['ansible_facts']['nic_facts']
    # Only this namespace's links, loopback left out.
    assert [n['name'] for n in result['nics']] == ['nfbr0', 'nfv0', 'nfv1', 'nfv2', 'nfv3']
    for name in ('nfv0', 'nfv1', 'nfv2', 'nfv3', 'nfbr0'):
        nic = nics[name]
        assert nic['virtual'] is True, name
        assert (nic['pci_address'], nic['bus'], nic['bus_path'], nic['driver'], nic['numa_node']) == (None,) * 5, name
        assert nic['mac'] == links[name]['address'], name
    for name in ('nfv0', 'nfv1', 'nfv2', 'nfv3'):
        assert nics[name]['mtu'] == VETH_MTU, name
    # IPv6 link-local addresses the kernel added are left out.
    assert nics['nfv0']['addresses'] == ['198.18.200.10/24']
    assert nics['nfv2']['addresses'] == ['198.18.200.20/24']
    assert nics['nfbr0']['addresses'] == ['198.18.200.1/24']
    assert nics['nfv1']['addresses'] == [] and nics['nfv3']['addresses'] == []
    # veth reports 10000 Mb/s while it is up; reading speed of the down nfv3 fails (EINVAL).
    assert nics['nfv0']['speed'] == 10000
    assert (nics['nfv3']['operstate'], nics['nfv3']['speed']) == ('down', None)
    assert result['default_route_interfaces'] == ['nfbr0']
    assert [n for n in sorted(nics) if nics[n]['default_route']] == ['nfbr0']
    assert result['connection_ip'] == '198.18.200.10'
    assert result['management_interface'] == 'nfv0'
    # nfv* sorted is nfv0..nfv3; nfv0 is the management interface, so the first two left are nfv1, nfv2.
    assert result['selected'] == ['nfv1', 'nfv2']


def test_selection_that_cannot_be_met_fails_in_a_namespace(veth_ns):
    rc, result = nic_facts({'select': {'name': ['nfv*'], 'count': 5}}, netns=veth_ns)
    assert rc != 0
    assert result.get('failed') is True
    assert 'select.count 5: only 4 NIC(s) match (nfv0, nfv1, nfv2, nfv3)' in result['msg']
    assert 'nfbr0: name does not match nfv*' in result['msg']
    rc, result = nic_facts({'select': {'virtual': False}}, netns=veth_ns)
    assert rc != 0
    assert 'no NIC matches' in result['msg'] and 'nfv0: virtual' in result['msg']
