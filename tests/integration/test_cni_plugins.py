# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NADs that nad.build_objects writes, fed to the real CNI plugin binaries as Multus would.

Each test builds a NetworkAttachmentDefinition with build_objects, takes its
spec.config, swaps a whereabouts IPAM for static (whereabouts needs a cluster) and
runs the plugin with CNI_COMMAND/CNI_CONTAINERID/CNI_NETNS/CNI_IFNAME/CNI_PATH set and
the config on stdin. Every test runs twice, once per plugin release: Debian's
containernetworking-plugins 1.1.1 (/usr/lib/cni, what the preflight finds on a Debian
host) and v1.10.0 built from its Go module by tests/lab/upstream/build.py (what the lab's
nodes run under Multus). Where the two answer differently, the test says which does what.

Nothing touches the host's interfaces, routes or firewall: the parent interfaces
live in a "node" network namespace of the test's own and the plugin runs inside it
(``ip netns exec``); pods are namespaces from ``ip netns add``. Every namespace is
deleted in the fixture's teardown, also on failure, and with it every link in it.
Only addresses of 198.18.0.0/15 are used. Needs root and the plugin binaries.
"""

import ipaddress
import json
import os
import secrets
import shutil
import subprocess

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.nad import CNI_VERSIONS, NadError, build_objects

from cluster import lab_binaries

# Selected or deselected with: pytest -m netns (see tests/pytest.ini).
pytestmark = pytest.mark.netns

# The two plugin releases the rendered configurations must work with: {id: (version, directory or None to build)}.
RELEASES = {'debian': ('1.1.1', '/usr/lib/cni'), 'upstream': ('1.10.0', None)}
PLUGINS = ('macvlan', 'ipvlan', 'bridge', 'host-device', 'static')
TEST_NET = ipaddress.ip_network('198.18.0.0/15')


def _missing(cni_path):
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return 'needs root to create network namespaces'
    if shutil.which('ip') is None:
        return 'needs iproute2 (ip)'
    absent = [p for p in PLUGINS if not os.access(os.path.join(cni_path, p), os.X_OK)]
    if absent:
        return (
            'needs the CNI plugins %s in %s (Debian package containernetworking-plugins; make deps builds v1.10.0)'
            % (
                ', '.join(absent),
                cni_path,
            )
        )
    return None


@pytest.fixture(scope='module', params=sorted(RELEASES))
def release(request):
    """(version, plugin directory) of one plugin release; `make test` installs or builds both (make deps)."""
    version, path = RELEASES[request.param]
    if path is None:
        with open(lab_binaries()) as handle:
            path = json.load(handle)['lab_cni_plugins_bin_dir']
    missing = _missing(path)
    if missing:
        pytest.fail(missing)
    return version, path


def sh(*args, **kwargs):
    """Run ``args``; return the CompletedProcess (never raises on a non-zero exit)."""
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False, **kwargs)


def must(*args):
    proc = sh(*args)
    assert proc.returncode == 0, '%s failed (rc=%d): %s' % (' '.join(args), proc.returncode, proc.stderr)
    return proc.stdout


class Lab:
    """Namespaces and links of one test, all named npt-<random>; ``close`` removes them all.

    ``cni_path`` is the plugin release's directory, ``version`` its version.
    """

    def __init__(self, version, cni_path):
        self.version, self.cni_path = version, cni_path
        self.tag = secrets.token_hex(3)
        self.namespaces = []
        probe = sh('ip', 'netns', 'add', 'npt-%s-probe' % self.tag)
        if probe.returncode != 0:
            pytest.fail('cannot create network namespaces here: %s' % probe.stderr.strip())
        self.namespaces.append('npt-%s-probe' % self.tag)

    def netns(self, role):
        name = 'npt-%s-%s' % (self.tag, role)
        must('ip', 'netns', 'add', name)
        self.namespaces.append(name)
        return name

    def link(self, role):
        """A link name unique to this test (at most 15 characters)."""
        return 'npt%s%s' % (self.tag, role)

    def close(self):
        # Pods first, so that moved devices go back to the node before it goes.
        for name in reversed(self.namespaces):
            sh('ip', 'netns', 'del', name)
        left = [n for n in sh('ip', 'netns', 'list').stdout.split() if n.startswith('npt-%s-' % self.tag)]
        host_links = sh('ip', '-o', 'link', 'show').stdout
        assert not left, 'namespaces left behind: %s' % left
        assert 'npt%s' % self.tag not in host_links, 'links leaked into the host namespace:\n%s' % host_links


@pytest.fixture
def lab(release):
    the_lab = Lab(*release)
    try:
        yield the_lab
    finally:
        the_lab.close()


def nad_config(network):
    """spec.config of the single NAD build_objects makes of ``network``, as a dict."""
    objects = build_objects([network])
    assert len(objects) == 1
    return json.loads(objects[0]['object']['spec']['config'])


def runtime_config(conf, address):
    """What Multus hands the plugin: the first plugin of a conflist (with name and cniVersion), whereabouts made static."""
    conf = dict(conf)
    if 'plugins' in conf:
        first = dict(conf['plugins'][0])
        first['name'] = conf['name']
        first['cniVersion'] = conf['cniVersion']
        conf = first
    ipam = conf.get('ipam') or {}
    if ipam.get('type') == 'whereabouts':
        network = ipaddress.ip_network(ipam['range'])
        assert ipaddress.ip_address(address) in network
        conf['ipam'] = {'type': 'static', 'addresses': [{'address': '%s/%d' % (address, network.prefixlen)}]}
    return conf


def cni(lab, node, command, conf, pod, container, ifname='net1'):
    """Run the plugin of ``conf`` (from the lab's release) in the node namespace; returns (rc, JSON output or text)."""
    env = dict(
        os.environ,
        CNI_COMMAND=command,
        CNI_CONTAINERID=container,
        CNI_NETNS='/var/run/netns/%s' % pod,
        CNI_IFNAME=ifname,
        CNI_PATH=lab.cni_path,
    )
    proc = subprocess.run(
        ['ip', 'netns', 'exec', node, os.path.join(lab.cni_path, conf['type'])],
        input=json.dumps(conf),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        out = proc.stdout + proc.stderr
    return proc.returncode, out


def links(ns):
    return dict((link['ifname'], link) for link in json.loads(must('ip', '-n', ns, '-j', 'addr', 'show')))


def ipv4_of(link):
    return ['%s/%d' % (a['local'], a['prefixlen']) for a in link.get('addr_info', []) if a['family'] == 'inet']


def ping(pod, address):
    for _attempt in range(3):
        if sh('ip', 'netns', 'exec', pod, 'ping', '-c', '1', '-W', '2', address).returncode == 0:
            return True
    return False


def add_ok(lab, node, conf, pod, container, address, mtu):
    rc, out = cni(lab, node, 'ADD', conf, pod, container)
    assert rc == 0, out
    # The CNI result names the interface and the address the static IPAM gave it.
    assert [i['name'] for i in out['interfaces'] if i.get('sandbox')] == ['net1']
    assert [ip['address'] for ip in out['ips']] == [conf['ipam']['addresses'][0]['address']]
    link = links(pod)['net1']
    assert ipv4_of(link) == [address]
    assert link['mtu'] == mtu
    assert 'UP' in link['flags']


def del_ok(lab, node, conf, pod, container):
    rc, out = cni(lab, node, 'DEL', conf, pod, container)
    assert rc == 0, out
    assert sorted(links(pod)) == ['lo']
    # DEL again: the CNI spec asks plugins to succeed when there is nothing left to remove.
    rc, out = cni(lab, node, 'DEL', conf, pod, container)
    assert rc == 0, out
    assert sorted(links(pod)) == ['lo']


def veth_pair(node, name, peer, mtu=None):
    must('ip', '-n', node, 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer)
    for end in (name, peer):
        if mtu:
            must('ip', '-n', node, 'link', 'set', end, 'mtu', str(mtu))
        must('ip', '-n', node, 'link', 'set', end, 'up')


# ------------------------------------------------------------------------------ tests


def test_the_plugins_support_our_cni_versions(release):
    # Debian's plugins (1.1.1) stop at spec 1.0.0; plugins from v1.5 on, and libcni 1.2+, add 1.1.0, which we accept too.
    version, cni_path = release
    for plugin in ('macvlan', 'ipvlan', 'bridge', 'host-device', 'static'):
        proc = subprocess.run(
            [os.path.join(cni_path, plugin)],
            input='{"cniVersion":"0.3.1"}',
            capture_output=True,
            text=True,
            env=dict(os.environ, CNI_COMMAND='VERSION'),
            timeout=30,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        supported = tuple(json.loads(proc.stdout)['supportedVersions'])
        if version == '1.1.1':
            assert CNI_VERSIONS[: len(supported)] == supported and CNI_VERSIONS[len(supported) :] == ('1.1.0',)
        else:
            assert supported == CNI_VERSIONS, (version, supported)


def test_macvlan_two_pods_ping_and_clean_up(lab):
    node, pod1, pod2 = lab.netns('node'), lab.netns('p1'), lab.netns('p2')
    parent = lab.link('m0')
    veth_pair(node, parent, lab.link('m1'))
    conf = nad_config(
        {
            'name': 'storage-net',
            'namespace': 'aistore',
            'type': 'macvlan',
            'master': parent,
            'mode': 'bridge',
            'mtu': 1400,
            'ipam': {'type': 'whereabouts', 'range': '198.18.0.0/24'},
        }
    )
    conf1, conf2 = runtime_config(conf, '198.18.0.10'), runtime_config(conf, '198.18.0.11')
    add_ok(lab, node, conf1, pod1, 'c1', '198.18.0.10/24', 1400)
    add_ok(lab, node, conf2, pod2, 'c2', '198.18.0.11/24', 1400)
    assert ping(pod1, '198.18.0.11') and ping(pod2, '198.18.0.10')
    del_ok(lab, node, conf1, pod1, 'c1')
    del_ok(lab, node, conf2, pod2, 'c2')
    # The parent is untouched.
    assert parent in links(node)


def test_bridge_two_pods_ping_and_clean_up(lab):
    node, pod1, pod2 = lab.netns('node'), lab.netns('p1'), lab.netns('p2')
    bridge = lab.link('br')
    must('ip', '-n', node, 'link', 'add', bridge, 'type', 'bridge')
    conf = nad_config(
        {
            'name': 'br-net',
            'namespace': 'aistore',
            'type': 'bridge',
            'bridge': bridge,
            'mtu': 1450,
            'ipam': {'type': 'whereabouts', 'range': '198.18.1.0/24'},
        }
    )
    conf1, conf2 = runtime_config(conf, '198.18.1.10'), runtime_config(conf, '198.18.1.11')
    add_ok(lab, node, conf1, pod1, 'c1', '198.18.1.10/24', 1450)
    add_ok(lab, node, conf2, pod2, 'c2', '198.18.1.11/24', 1450)
    # Each pod's veth peer is a port of the bridge in the node namespace.
    ports = [link for link in links(node).values() if link.get('master') == bridge]
    assert len(ports) == 2
    assert ping(pod1, '198.18.1.11') and ping(pod2, '198.18.1.10')
    del_ok(lab, node, conf1, pod1, 'c1')
    del_ok(lab, node, conf2, pod2, 'c2')
    assert [link for link in links(node).values() if link.get('master') == bridge] == []


def test_host_device_moves_the_device_and_back(lab):
    node, pod1, pod2 = lab.netns('node'), lab.netns('p1'), lab.netns('p2')
    dev_a, dev_b = lab.link('ha'), lab.link('hb')
    veth_pair(node, dev_a, dev_b, mtu=1450)
    confs = []
    for dev, pod, address in ((dev_a, pod1, '198.18.2.10'), (dev_b, pod2, '198.18.2.11')):
        conf = nad_config(
            {
                'name': 'hd-%s' % dev[-2:],
                'namespace': 'aistore',
                'type': 'host-device',
                'device': dev,
                'ipam': {'type': 'whereabouts', 'range': '198.18.2.0/24'},
            }
        )
        conf = runtime_config(conf, address)
        # host-device moves the device as it is: its MTU stays the one the node gave it.
        add_ok(lab, node, conf, pod, 'c-%s' % dev, address + '/24', 1450)
        assert dev not in links(node)
        confs.append((conf, pod, dev))
    assert ping(pod1, '198.18.2.11')
    for conf, pod, dev in confs:
        rc, out = cni(lab, node, 'DEL', conf, pod, 'c-%s' % dev)
        assert rc == 0, out
        assert sorted(links(pod)) == ['lo']
        assert dev in links(node)  # back on the node under its own name
        # DEL again: the CNI spec asks for success when there is nothing to remove, but host-device (both releases;
        # plugins/main/host-device cmdDel -> moveLinkOut: "failed to find %q in containerNS") reports the interface as
        # not found. Either way nothing moves.
        rc, out = cni(lab, node, 'DEL', conf, pod, 'c-%s' % dev)
        assert rc != 0 and 'Link not found' in out.get('msg', ''), out
        assert sorted(links(pod)) == ['lo'] and dev in links(node)


def test_ipvlan_either_works_or_reports_the_missing_kernel_support(lab):
    node, pod1, pod2 = lab.netns('node'), lab.netns('p1'), lab.netns('p2')
    parent = lab.link('i0')
    veth_pair(node, parent, lab.link('i1'))
    conf = nad_config(
        {
            'name': 'ipv-net',
            'namespace': 'aistore',
            'type': 'ipvlan',
            'master': parent,
            'mode': 'l2',
            'mtu': 1400,
            'ipam': {'type': 'whereabouts', 'range': '198.18.3.0/24'},
        }
    )
    conf1, conf2 = runtime_config(conf, '198.18.3.10'), runtime_config(conf, '198.18.3.11')
    rc, out = cni(lab, node, 'ADD', conf1, pod1, 'c1')
    if rc != 0:
        # The plugin's own words when the kernel has no ipvlan driver (netlink EOPNOTSUPP).
        assert out['msg'] == 'failed to create ipvlan: operation not supported', out
        assert sorted(links(pod1)) == ['lo']
        assert sorted(name for name in links(node) if name != 'lo') == sorted([parent, lab.link('i1')])
        return
    cni(lab, node, 'DEL', conf1, pod1, 'c1')
    add_ok(lab, node, conf1, pod1, 'c1', '198.18.3.10/24', 1400)
    add_ok(lab, node, conf2, pod2, 'c2', '198.18.3.11/24', 1400)
    assert ping(pod1, '198.18.3.11')
    del_ok(lab, node, conf1, pod1, 'c1')
    del_ok(lab, node, conf2, pod2, 'c2')


def test_missing_master_fails_add_and_leaves_nothing(lab):
    node, pod = lab.netns('node'), lab.netns('p1')
    conf = runtime_config(
        nad_config(
            {
                'name': 'storage-net',
                'namespace': 'aistore',
                'type': 'macvlan',
                'master': lab.link('nx'),
                'ipam': {'type': 'whereabouts', 'range': '198.18.4.0/24'},
            }
        ),
        '198.18.4.10',
    )
    rc, out = cni(lab, node, 'ADD', conf, pod, 'c1')
    assert rc != 0
    # netlink's LinkNotFoundError, returned while macvlan looks the master up.
    assert 'Link not found' in out['msg'], out
    assert sorted(links(pod)) == ['lo']
    assert sorted(links(node)) == ['lo']


def test_what_the_validator_refuses_the_plugins_refuse_too(lab):
    node, pod = lab.netns('node'), lab.netns('p1')
    parent = lab.link('v0')
    veth_pair(node, parent, lab.link('v1'))
    # bridge: VLAN outside 0..4094.
    with pytest.raises(NadError, match='vlan 4095'):
        build_objects(
            [
                {
                    'name': 'b',
                    'namespace': 'n',
                    'type': 'bridge',
                    'bridge': lab.link('br'),
                    'vlan': 4095,
                    'ipam': {'type': 'none'},
                }
            ]
        )
    good = nad_config(
        {
            'name': 'b',
            'namespace': 'n',
            'type': 'bridge',
            'bridge': lab.link('br'),
            'vlan': 4094,
            'ipam': {'type': 'none'},
        }
    )
    rc, out = cni(lab, node, 'ADD', dict(good, vlan=4095), pod, 'c1')
    assert rc != 0 and 'invalid VLAN ID 4095' in out['msg'], out
    # macvlan: the README's "passthrough" is not a mode the code knows.
    with pytest.raises(NadError, match="'passthrough'"):
        build_objects(
            [
                {
                    'name': 'm',
                    'namespace': 'n',
                    'type': 'macvlan',
                    'master': parent,
                    'mode': 'passthrough',
                    'ipam': {'type': 'none'},
                }
            ]
        )
    good = nad_config(
        {
            'name': 'm',
            'namespace': 'n',
            'type': 'macvlan',
            'master': parent,
            'mode': 'private',
            'ipam': {'type': 'none'},
        }
    )
    rc, out = cni(lab, node, 'ADD', dict(good, mode='passthrough'), pod, 'c2')
    assert rc != 0 and 'unknown macvlan mode' in out['msg'], out
    assert sorted(links(pod)) == ['lo']
    # An L2-only attachment (ipam none, "ipam": {}) is accepted as written.
    rc, out = cni(lab, node, 'ADD', good, pod, 'c3')
    assert rc == 0, out
    assert ipv4_of(links(pod)['net1']) == []
    rc, out = cni(lab, node, 'DEL', good, pod, 'c3')
    assert rc == 0, out
    assert sorted(links(pod)) == ['lo']


def test_addresses_stay_in_the_test_range():
    for address in ('198.18.0.10', '198.18.1.11', '198.18.2.10', '198.18.3.11', '198.18.4.10'):
        assert ipaddress.ip_address(address) in TEST_NET
