# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nic_facts module as Ansible runs it: a sysfs tree built here, ``ip -j`` output as iproute2 prints it."""

import json
import os

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.modules import nic_facts

from sysfs_tree import link, write

IP = '/usr/sbin/ip'


def add_interface(root, name, rel, mac, mtu, device=None, speed=None, arptype=1):
    """``class/net/<name>`` -> ``../../<rel>``; ``device`` is the relative target of its device link."""
    base = os.path.join(root, rel)
    for attr, value in (('address', mac), ('mtu', str(mtu)), ('operstate', 'up'), ('type', str(arptype))):
        write(os.path.join(base, attr), value)
    if speed is None:
        os.makedirs(os.path.join(base, 'speed'))  # unreadable, as EINVAL makes it
    else:
        write(os.path.join(base, 'speed'), str(speed))
    if device:
        link(os.path.join(base, 'device'), device)
    link(os.path.join(root, 'class', 'net', name), '../../' + rel)


@pytest.fixture
def sysfs(tmp_path):
    """eth0 on virtio2 under PCI function 0000:00:03.0, ens1f0 a ConnectX PF at 0000:3b:00.0, veth0, lo."""
    root = str(tmp_path / 'sys')
    fn = 'devices/pci0000:00/0000:00:03.0'
    write(os.path.join(root, fn, 'numa_node'), '-1')
    link(os.path.join(root, fn, 'virtio2', 'subsystem'), '../../../../bus/virtio')
    link(os.path.join(root, fn, 'virtio2', 'driver'), '../../../../bus/virtio/drivers/virtio_net')
    add_interface(
        root, 'eth0', fn + '/virtio2/net/eth0', '02:fc:00:00:00:01', 1500, device='../../../virtio2', speed=-1
    )
    pf = 'devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0'
    write(os.path.join(root, pf, 'numa_node'), '1')
    link(os.path.join(root, pf, 'subsystem'), '../../../../bus/pci')
    link(os.path.join(root, pf, 'driver'), '../../../../bus/pci/drivers/mlx5_core')
    add_interface(
        root, 'ens1f0', pf + '/net/ens1f0', '0c:42:a1:00:00:00', 9000, device='../../../0000:3b:00.0', speed=25000
    )
    add_interface(root, 'veth0', 'devices/virtual/net/veth0', '5e:65:47:71:13:dc', 1400, speed=10000)
    add_interface(root, 'lo', 'devices/virtual/net/lo', '00:00:00:00:00:00', 65536, arptype=772)
    return root


def addr(index, name, mac, infos):
    return {
        'ifindex': index,
        'ifname': name,
        'flags': ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        'mtu': 1500,
        'qdisc': 'mq',
        'operstate': 'UP',
        'group': 'default',
        'txqlen': 1000,
        'link_type': 'ether',
        'address': mac,
        'broadcast': 'ff:ff:ff:ff:ff:ff',
        'addr_info': [
            {
                'family': f,
                'local': a,
                'prefixlen': p,
                'scope': s,
                'valid_life_time': 4294967295,
                'preferred_life_time': 4294967295,
            }
            for f, a, p, s in infos
        ],
    }


OUTPUTS = {
    ('-j', 'addr', 'show'): json.dumps(
        [
            addr(1, 'lo', '00:00:00:00:00:00', [('inet', '127.0.0.1', 8, 'host'), ('inet6', '::1', 128, 'host')]),
            addr(
                2,
                'eth0',
                '02:fc:00:00:00:01',
                [('inet', '192.0.2.2', 24, 'global'), ('inet6', 'fe80::fc:ff:fe00:1', 64, 'link')],
            ),
            addr(
                3,
                'ens1f0',
                '0c:42:a1:00:00:00',
                [('inet', '10.0.1.5', 24, 'global'), ('inet6', 'fd00:1::5', 64, 'global')],
            ),
            addr(4, 'veth0', '5e:65:47:71:13:dc', [('inet', '198.18.200.1', 24, 'global')]),
        ]
    ),
    # IPv4 default via eth0, IPv6 default via ens1f0: both carry a default route.
    ('-j', 'route', 'show', 'default'): json.dumps(
        [{'dst': 'default', 'gateway': '192.0.2.1', 'dev': 'eth0', 'flags': []}]
    ),
    ('-6', '-j', 'route', 'show', 'default'): json.dumps(
        [{'dst': 'default', 'gateway': 'fd00:1::1', 'dev': 'ens1f0', 'metric': 1024, 'flags': [], 'pref': 'medium'}]
    ),
}


@pytest.fixture
def ip(monkeypatch):
    """Replace the ``ip`` runs with canned output; ``ip.calls`` records each argv, ``ip.results`` overrides one."""

    class Fake:
        calls = []
        results = {}

    def run_command(self, args, **kwargs):
        Fake.calls.append(args)
        assert isinstance(args, list) and args[0] == IP, args
        key = tuple(args[1:])
        if key in Fake.results:
            return Fake.results[key]
        return 0, OUTPUTS[key], ''

    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: IP)
    monkeypatch.delenv('SSH_CONNECTION', raising=False)
    return Fake


@pytest.mark.parametrize('check_mode', [False, True])
def test_facts_from_sysfs_and_ip(run_module, sysfs, ip, monkeypatch, check_mode):
    monkeypatch.setenv('SSH_CONNECTION', '198.51.100.7 52144 192.0.2.2 22')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, '_ansible_check_mode': check_mode})
    assert not failed, result
    assert result['changed'] is False
    assert sorted(ip.calls[-3:]) == sorted(
        [
            [IP, '-j', 'addr', 'show'],
            [IP, '-j', 'route', 'show', 'default'],
            [IP, '-6', '-j', 'route', 'show', 'default'],
        ]
    )
    assert [n['name'] for n in result['nics']] == ['ens1f0', 'eth0', 'veth0']
    facts = result['ansible_facts']['nic_facts']
    assert sorted(facts) == ['ens1f0', 'eth0', 'veth0']
    assert facts == dict((n['name'], n) for n in result['nics'])

    eth0 = facts['eth0']
    assert (eth0['pci_address'], eth0['driver'], eth0['is_virtio'], eth0['virtual']) == (
        '0000:00:03.0',
        'virtio_net',
        True,
        False,
    )
    assert (eth0['mac'], eth0['mtu'], eth0['operstate'], eth0['speed'], eth0['numa_node']) == (
        '02:fc:00:00:00:01',
        1500,
        'up',
        None,
        None,
    )
    assert eth0['addresses'] == ['192.0.2.2/24']
    ens = facts['ens1f0']
    assert (ens['pci_address'], ens['driver'], ens['speed'], ens['numa_node'], ens['mtu']) == (
        '0000:3b:00.0',
        'mlx5_core',
        25000,
        1,
        9000,
    )
    assert ens['addresses'] == ['10.0.1.5/24', 'fd00:1::5/64']
    veth = facts['veth0']
    assert (veth['virtual'], veth['pci_address'], veth['driver'], veth['speed']) == (True, None, None, 10000)

    assert result['default_route_interfaces'] == ['eth0', 'ens1f0']
    assert [n for n in facts if facts[n]['default_route']] == ['ens1f0', 'eth0']
    assert result['connection_ip'] == '192.0.2.2'
    assert result['management_interface'] == 'eth0'
    assert [n for n in facts if facts[n]['management']] == ['eth0']
    assert 'selected' not in result


def test_connection_ip_option_wins_over_ssh_connection(run_module, sysfs, ip, monkeypatch):
    monkeypatch.setenv('SSH_CONNECTION', '198.51.100.7 52144 192.0.2.2 22')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'connection_ip': '10.0.1.5'})
    assert not failed, result
    assert result['management_interface'] == 'ens1f0'


def test_local_connection_has_no_management_interface(run_module, sysfs, ip):
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'include_loopback': True})
    assert not failed, result
    assert result['management_interface'] is None and result['connection_ip'] is None
    assert not any(n['management'] for n in result['nics'])
    lo = result['ansible_facts']['nic_facts']['lo']
    assert (lo['loopback'], lo['virtual'], lo['addresses']) == (True, True, ['127.0.0.1/8', '::1/128'])


def test_select(run_module, sysfs, ip, monkeypatch):
    monkeypatch.setenv('SSH_CONNECTION', '198.51.100.7 52144 192.0.2.2 22')
    failed, result = run_module(
        nic_facts, {'sysfs_root': sysfs, 'select': {'virtual': False, 'exclude_management': True}}
    )
    assert not failed, result
    assert result['selected'] == ['ens1f0']
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'select': {'name': ['e*'], 'count': 2}})
    assert not failed, result
    assert result['selected'] == ['ens1f0', 'eth0']


def test_unsatisfiable_selection_fails_naming_it(run_module, sysfs, ip):
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'select': {'min_speed': 25000, 'count': 2}})
    assert failed
    assert 'select.count 2: only 1 NIC(s) match (ens1f0)' in result['msg']
    assert 'eth0: speed unknown' in result['msg']
    assert 'nics' not in result


def test_invalid_selector_fails_naming_the_value(run_module, sysfs, ip):
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'select': {'pci_address': ['00:03']}})
    assert failed
    assert "'00:03'" in result['msg'] and 'PCI function address' in result['msg']


def test_ip_failure_names_the_command(run_module, sysfs, ip):
    ip.results[('-j', 'addr', 'show')] = (255, '', 'Option "-j" is unknown, try "ip -help".\n')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs})
    assert failed
    assert "'ip -j addr show' failed (rc=255)" in result['msg']
    assert 'Option "-j" is unknown' in result['msg'] and 'iproute2' in result['msg']
    assert result['rc'] == 255


def test_ipv6_disabled_means_no_ipv6_default_route(run_module, sysfs, ip):
    ip.results[('-6', '-j', 'route', 'show', 'default')] = (
        2,
        '',
        'RTNETLINK answers: Address family not supported by protocol\n',
    )
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs})
    assert not failed, result
    assert result['default_route_interfaces'] == ['eth0']


def test_ipv6_failing_otherwise_is_an_error_not_no_default_route(run_module, sysfs, ip):
    ip.results[('-6', '-j', 'route', 'show', 'default')] = (
        1,
        '',
        'Error: any valid prefix is expected rather than "default".\n',
    )
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs})
    assert failed
    assert "'ip -6 -j route show default' failed (rc=1)" in result['msg'] and result['rc'] == 1


def test_bad_sysfs_root_fails_naming_it(run_module, tmp_path, ip):
    failed, result = run_module(nic_facts, {'sysfs_root': str(tmp_path / 'nosys')})
    assert failed
    assert 'nosys' in result['msg'] and 'class/net' in result['msg']


def test_every_nic_says_whether_it_is_administratively_up(run_module, sysfs, ip):
    entries = json.loads(OUTPUTS[('-j', 'addr', 'show')])
    entries[3]['flags'] = ['BROADCAST', 'MULTICAST']  # veth0 set down
    ip.results[('-j', 'addr', 'show')] = (0, json.dumps(entries), '')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs})
    assert not failed, result
    assert dict((n['name'], n['up']) for n in result['nics']) == {'ens1f0': True, 'eth0': True, 'veth0': False}


def test_fallback_connection_ips_stand_in_when_ssh_names_none(run_module, sysfs, ip, monkeypatch):
    # A host name (ansible_host of a podman or nsenter node) is skipped; the first IP is the connection's.
    failed, result = run_module(
        nic_facts, {'sysfs_root': sysfs, 'fallback_connection_ips': ['worker1', '', '10.0.1.5']}
    )
    assert not failed, result
    assert (result['connection_ip'], result['management_interface']) == ('10.0.1.5', 'ens1f0')
    # SSH_CONNECTION, when there is one, wins over them.
    monkeypatch.setenv('SSH_CONNECTION', '198.51.100.7 52144 192.0.2.2 22')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'fallback_connection_ips': ['10.0.1.5']})
    assert not failed, result
    assert (result['connection_ip'], result['management_interface']) == ('192.0.2.2', 'eth0')


def test_resolve_returns_what_it_resolved_refused_and_could_not(run_module, sysfs, ip, monkeypatch):
    monkeypatch.setenv('SSH_CONNECTION', '198.51.100.7 52144 192.0.2.2 22')
    failed, result = run_module(
        nic_facts,
        {
            'sysfs_root': sysfs,
            'resolve': {
                'interfaces': [{'pci': '3b:00.0'}, {'name': 'veth0'}, {'name': 'nic9'}, {'mac': '02:FC:00:00:00:01'}],
                'require_pci': True,
                'protected_addresses': {'ansible_host': 'worker1', 'node_ip': '10.0.1.5'},
            },
        },
    )
    assert not failed, result
    assert [(r['name'], r['given'], r['pci_address'], r['up']) for r in result['resolved']] == [
        ('ens1f0', 'pci 3b:00.0', '0000:3b:00.0', True),
        ('eth0', 'mac 02:FC:00:00:00:01', '0000:00:03.0', True),
    ]
    assert [r['message'] for r in result['refused']] == [
        'ens1f0 (pci 3b:00.0: it carries the default route, it holds 10.0.1.5 (node_ip))',
        'eth0 (mac 02:FC:00:00:00:01: it carries the default route, it holds the Ansible connection address 192.0.2.2)',
    ]
    assert result['unresolved'] == [{'name': 'nic9'}]
    assert result['resolve_errors'] == [
        'veth0 (name veth0) has no PCI address: it is a virtual link (veth, bridge, bond, VLAN...), and DPDK only takes PCI NICs',
        'name nic9: no such interface (NICs with a PCI address: ens1f0, eth0)',
    ]
    # The NIC facts are there as without resolve.
    assert [n['name'] for n in result['nics']] == ['ens1f0', 'eth0', 'veth0']
    assert 'selected' not in result


def test_resolve_refuses_a_nic_ip_does_not_list(run_module, sysfs, ip):
    entries = [e for e in json.loads(OUTPUTS[('-j', 'addr', 'show')]) if e['ifname'] != 'ens1f0']
    ip.results[('-j', 'addr', 'show')] = (0, json.dumps(entries), '')
    failed, result = run_module(nic_facts, {'sysfs_root': sysfs, 'resolve': {'interfaces': [{'name': 'ens1f0'}]}})
    assert not failed, result
    assert result['resolve_errors'] == ['ens1f0 (name ens1f0) is in %s but ip link does not list it' % sysfs]
    assert result['resolved'] == []


def test_resolve_fails_for_an_invalid_entry(run_module, sysfs, ip):
    failed, result = run_module(
        nic_facts, {'sysfs_root': sysfs, 'resolve': {'interfaces': [{'name': 'eth0'}, {'pci': '00:03'}]}}
    )
    assert failed
    assert result['msg'].startswith("nic_facts: resolve.interfaces[1].pci '00:03' is not a PCI function address")
