# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nic_facts against sysfs trees built here the way the kernel lays them out.

Every NIC is a directory under ``devices/`` (its ``net/<name>`` child holds the
interface attributes) and ``class/net/<name>`` is a relative symlink to it, as in
/sys. Device directories carry ``subsystem`` and ``driver`` links into ``bus/``.
The expected values below follow from that layout, not from running the code.
"""

import ipaddress
import json
import os

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.nic_facts import (
    NicError,
    connection_ip_from_ssh,
    first_ip_address,
    management_interface,
    merge_facts,
    normalize_mac,
    normalize_pci_address,
    parse_interface,
    parse_ip_addr,
    parse_ip_admin_up,
    parse_ip_route,
    protected_ips,
    read_sysfs,
    resolve_interfaces,
    select_nics,
)

from sysfs_tree import link, write

# ---------------------------------------------------------------------------
# building a sysfs tree


def ups(relpath):
    """``../`` enough times to climb from directory ``relpath`` (relative to the root) to the root."""
    return '../' * len(relpath.strip('/').split('/'))


def add_device(root, devpath, bus, driver, attrs=None):
    """A device directory ``devices/<devpath>`` on ``bus`` bound to ``driver`` (None: unbound)."""
    rel = 'devices/' + devpath
    link(os.path.join(root, rel, 'subsystem'), ups(rel) + 'bus/' + bus)
    if driver:
        link(os.path.join(root, rel, 'driver'), ups(rel) + 'bus/%s/drivers/%s' % (bus, driver))
    for name, value in (attrs or {}).items():
        write(os.path.join(root, rel, name), value)


def add_interface(root, name, devpath, mac, mtu=1500, operstate='up', speed=None, arptype=1):
    """Interface ``name`` under ``devices/<devpath>/net/<name>``; ``devpath`` of ``virtual/net`` has no device.

    ``speed`` None makes the attribute unreadable the way EINVAL does for a down link:
    here a directory, so open() fails with an OSError like the kernel's.
    """
    if devpath == 'virtual/net':
        rel = 'devices/virtual/net/' + name
    else:
        rel = 'devices/%s/net/%s' % (devpath, name)
        # net/<name>/device -> ../../../<device dir name>
        link(os.path.join(root, rel, 'device'), '../../../' + os.path.basename(devpath))
    base = os.path.join(root, rel)
    write(os.path.join(base, 'address'), mac)
    write(os.path.join(base, 'mtu'), str(mtu))
    write(os.path.join(base, 'operstate'), operstate)
    write(os.path.join(base, 'type'), str(arptype))
    if speed is None:
        os.makedirs(os.path.join(base, 'speed'))
    else:
        write(os.path.join(base, 'speed'), str(speed))
    link(os.path.join(root, 'class', 'net', name), '../../' + rel)


VIRTIO_FN = 'pci0000:00/0000:00:03.0'
MLX_PF0 = 'pci0000:3a/0000:3a:00.0/0000:3b:00.0'
MLX_PF1 = 'pci0000:3a/0000:3a:00.0/0000:3b:00.1'
MLX_VF = 'pci0000:3a/0000:3a:00.0/0000:3b:00.2'
IXGBE = 'pci0000:5d/0000:5d:02.0/0000:5e:00.0'
USB_CTRL = 'pci0000:00/0000:00:14.0'
USB_IF = USB_CTRL + '/usb2/2-1/2-1:1.0'


@pytest.fixture
def sysfs(tmp_path):
    """A host with a virtio NIC, a dual-port ConnectX-5 with a VF, an ixgbe port, a USB NIC, a veth, a bridge and lo."""
    root = str(tmp_path / 'sys')
    # virtio-net: PCI function 0000:00:03.0 (virtio-pci, NUMA node 0) carries virtio2 (virtio_net),
    # which has no numa_node of its own. virtio reports speed -1 (unknown).
    add_device(root, VIRTIO_FN, 'pci', 'virtio-pci', {'vendor': '0x1af4', 'device': '0x1041', 'numa_node': '0'})
    add_device(root, VIRTIO_FN + '/virtio2', 'virtio', 'virtio_net', {'vendor': '0x1af4', 'device': '0x0001'})
    add_interface(root, 'eth0', VIRTIO_FN + '/virtio2', '02:FC:00:00:00:01', speed=-1)
    # ConnectX-5 PF ports on NUMA node 1, 25G each, behind root port 0000:3a:00.0.
    for devpath, name in ((MLX_PF0, 'ens1f0'), (MLX_PF1, 'ens1f1')):
        add_device(root, devpath, 'pci', 'mlx5_core', {'vendor': '0x15b3', 'device': '0x1017', 'numa_node': '1'})
        add_interface(root, name, devpath, '0c:42:a1:00:00:0%s' % name[-1], mtu=9000, speed=25000)
    # A VF of ens1f0 (physfn -> its PF), down: reading speed fails.
    add_device(root, MLX_VF, 'pci', 'mlx5_core', {'vendor': '0x15b3', 'device': '0x1018', 'numa_node': '1'})
    link(os.path.join(root, 'devices', MLX_VF, 'physfn'), '../0000:3b:00.0')
    add_interface(root, 'ens1f0v0', MLX_VF, '0c:42:a1:00:01:00', operstate='down', speed=None)
    # ixgbe, 10G, firmware without NUMA information (-1).
    add_device(root, IXGBE, 'pci', 'ixgbe', {'vendor': '0x8086', 'device': '0x10fb', 'numa_node': '-1'})
    add_interface(root, 'enp94s0f0', IXGBE, '90:e2:ba:00:00:01', speed=10000)
    # A USB NIC: the chain passes the xHCI controller's PCI function 0000:00:14.0, which is not the NIC.
    add_device(root, USB_CTRL, 'pci', 'xhci_hcd', {'vendor': '0x8086', 'device': '0xa36d', 'numa_node': '0'})
    add_device(root, USB_IF, 'usb', 'r8152')
    add_interface(root, 'enx00e04c680001', USB_IF, '00:e0:4c:68:00:01', speed=1000)
    # Virtual links: no device link.
    add_interface(root, 'veth0', 'virtual/net', '5e:65:47:71:13:dc', operstate='down', speed=None)
    add_interface(root, 'br0', 'virtual/net', 'a6:7f:98:52:2b:14', mtu=1400, speed=10000)
    add_interface(
        root, 'lo', 'virtual/net', '00:00:00:00:00:00', mtu=65536, operstate='unknown', speed=None, arptype=772
    )
    # class/net also holds a plain file when the bonding driver is loaded.
    write(os.path.join(root, 'class', 'net', 'bonding_masters'), '')
    return root


ALL_NAMES = ['br0', 'enp94s0f0', 'ens1f0', 'ens1f0v0', 'ens1f1', 'enx00e04c680001', 'eth0', 'lo', 'veth0']


def by_name(nics):
    return dict((n['name'], n) for n in nics)


# ---------------------------------------------------------------------------
# read_sysfs


def test_every_interface_directory_is_read_sorted_and_files_are_skipped(sysfs):
    assert [n['name'] for n in read_sysfs(sysfs)] == ALL_NAMES


def test_virtio_nic_takes_the_pci_function_above_the_virtio_device(sysfs):
    eth0 = by_name(read_sysfs(sysfs))['eth0']
    assert eth0['pci_address'] == '0000:00:03.0'
    assert eth0['is_virtio'] is True
    assert eth0['bus'] == 'virtio'
    assert eth0['bus_path'] == VIRTIO_FN + '/virtio2'
    assert eth0['driver'] == 'virtio_net'
    # numa_node and the PCI IDs come from the PCI function, since virtio2 has no numa_node.
    assert eth0['numa_node'] == 0
    assert (eth0['vendor_id'], eth0['device_id']) == ('1af4', '1041')
    assert eth0['speed'] is None  # -1: virtio cannot tell
    assert eth0['mac'] == '02:fc:00:00:00:01'
    assert (eth0['mtu'], eth0['operstate'], eth0['virtual'], eth0['physfn']) == (1500, 'up', False, None)


def test_plain_pci_nic_is_its_own_pci_function(sysfs):
    nics = by_name(read_sysfs(sysfs))
    for name, address in (('ens1f0', '0000:3b:00.0'), ('ens1f1', '0000:3b:00.1')):
        nic = nics[name]
        assert nic['pci_address'] == address
        assert (nic['driver'], nic['speed'], nic['numa_node'], nic['mtu']) == ('mlx5_core', 25000, 1, 9000)
        assert (nic['vendor_id'], nic['device_id'], nic['bus'], nic['is_virtio']) == ('15b3', '1017', 'pci', False)
        assert nic['physfn'] is None


def test_vf_names_its_pf_and_an_unreadable_speed_is_none(sysfs):
    vf = by_name(read_sysfs(sysfs))['ens1f0v0']
    assert vf['pci_address'] == '0000:3b:00.2'
    assert vf['physfn'] == '0000:3b:00.0'
    assert vf['device_id'] == '1018'
    assert vf['speed'] is None
    assert vf['operstate'] == 'down'


def test_numa_node_minus_one_is_none(sysfs):
    nic = by_name(read_sysfs(sysfs))['enp94s0f0']
    assert (nic['pci_address'], nic['driver'], nic['speed'], nic['numa_node']) == ('0000:5e:00.0', 'ixgbe', 10000, None)


def test_usb_nic_has_a_bus_path_but_not_the_controllers_pci_address(sysfs):
    usb = by_name(read_sysfs(sysfs))['enx00e04c680001']
    assert usb['pci_address'] is None
    assert usb['bus'] == 'usb'
    assert usb['bus_path'] == USB_IF
    assert (usb['driver'], usb['speed'], usb['virtual']) == ('r8152', 1000, False)
    # Neither the controller's IDs nor its NUMA node are the NIC's.
    assert (usb['vendor_id'], usb['device_id'], usb['numa_node']) == (None, None, None)


@pytest.mark.parametrize('name, loopback', [('veth0', False), ('br0', False), ('lo', True)])
def test_virtual_links_have_no_bus_fields(sysfs, name, loopback):
    nic = by_name(read_sysfs(sysfs))[name]
    assert nic['virtual'] is True
    assert nic['loopback'] is loopback
    for field in ('pci_address', 'bus', 'bus_path', 'driver', 'numa_node', 'physfn', 'vendor_id', 'device_id'):
        assert nic[field] is None, field
    assert nic['is_virtio'] is False


def test_speeds_of_virtual_links(sysfs):
    nics = by_name(read_sysfs(sysfs))
    assert nics['veth0']['speed'] is None  # down: unreadable
    assert nics['lo']['speed'] is None
    assert nics['br0']['speed'] == 10000


def test_root_reached_through_a_symlink_still_resolves_inside(sysfs, tmp_path):
    alias = str(tmp_path / 'alias')
    os.symlink(sysfs, alias)
    nics = by_name(read_sysfs(alias))
    assert nics['eth0']['pci_address'] == '0000:00:03.0'
    assert nics['eth0']['bus_path'] == VIRTIO_FN + '/virtio2'


def test_missing_root_names_it(tmp_path):
    with pytest.raises(NicError) as exc:
        read_sysfs(str(tmp_path / 'nothing'))
    assert 'nothing' in str(exc.value) and 'class/net' in str(exc.value)


# ---------------------------------------------------------------------------
# ip -j output


def addr_entry(index, name, mac, addrs, operstate='UP', mtu=1500):
    """One interface as ``ip -j addr show`` prints it; ``addrs`` are (family, local, prefixlen, scope)."""
    return {
        'ifindex': index,
        'ifname': name,
        'flags': ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        'mtu': mtu,
        'qdisc': 'mq',
        'operstate': operstate,
        'group': 'default',
        'txqlen': 1000,
        'link_type': 'ether',
        'address': mac,
        'broadcast': 'ff:ff:ff:ff:ff:ff',
        'addr_info': [
            dict(
                {
                    'family': f,
                    'local': local,
                    'prefixlen': plen,
                    'scope': scope,
                    'valid_life_time': 4294967295,
                    'preferred_life_time': 4294967295,
                },
                **({'label': name} if f == 'inet' else {}),
            )
            for f, local, plen, scope in addrs
        ],
    }


IP_ADDR = json.dumps(
    [
        addr_entry(1, 'lo', '00:00:00:00:00:00', [('inet', '127.0.0.1', 8, 'host'), ('inet6', '::1', 128, 'host')]),
        addr_entry(
            2,
            'eth0',
            '02:fc:00:00:00:01',
            [
                ('inet', '192.0.2.2', 24, 'global'),
                ('inet6', 'fd00::2', 64, 'global'),
                ('inet6', 'fe80::fc:ff:fe00:1', 64, 'link'),
            ],
        ),
        addr_entry(
            3,
            'ens1f0',
            '0c:42:a1:00:00:00',
            [('inet', '10.0.1.5', 24, 'global'), ('inet6', 'fe80::e42:a1ff:fe00:0', 64, 'link')],
        ),
        addr_entry(4, 'ens1f1', '0c:42:a1:00:00:01', [('inet', '10.0.2.5', 24, 'global')]),
        addr_entry(5, 'ens1f0v0', '0c:42:a1:00:01:00', [], operstate='DOWN'),
        addr_entry(
            6,
            'br0',
            'a6:7f:98:52:2b:14',
            [('inet', '198.18.200.1', 24, 'global'), ('inet', '198.18.201.1', 24, 'global')],
        ),
    ]
)

IP_ROUTE = json.dumps([{'dst': 'default', 'gateway': '192.0.2.1', 'dev': 'eth0', 'flags': []}])
IP6_ROUTE = json.dumps(
    [
        {'dst': 'default', 'gateway': 'fd00::1', 'dev': 'eth0', 'metric': 1024, 'flags': [], 'pref': 'medium'},
        {'type': 'unreachable', 'dst': 'default', 'dev': 'lo', 'metric': 4000, 'flags': [], 'pref': 'medium'},
    ]
)


def test_parse_ip_addr_keeps_v4_and_v6_and_drops_link_local():
    addrs = parse_ip_addr(IP_ADDR)
    assert addrs['eth0'] == ['192.0.2.2/24', 'fd00::2/64']
    assert addrs['ens1f0'] == ['10.0.1.5/24']
    assert addrs['ens1f0v0'] == []
    assert addrs['br0'] == ['198.18.200.1/24', '198.18.201.1/24']
    assert addrs['lo'] == ['127.0.0.1/8', '::1/128']


def test_parse_ip_addr_link_local_on_request():
    assert parse_ip_addr(IP_ADDR, include_link_local=True)['eth0'] == [
        '192.0.2.2/24',
        'fd00::2/64',
        'fe80::fc:ff:fe00:1/64',
    ]


def test_parse_ip_addr_skips_empty_objects_of_old_iproute2():
    assert parse_ip_addr('[{}, {"ifname": "eth0", "addr_info": [{}]}]') == {'eth0': []}


@pytest.mark.parametrize('text', ['', 'Option "-j" is unknown', '{"ifname": "eth0"}'])
def test_parse_ip_addr_refuses_what_is_not_a_json_list(text):
    with pytest.raises(NicError) as exc:
        parse_ip_addr(text)
    assert 'ip -j addr show' in str(exc.value) and 'JSON' in str(exc.value)


def test_parse_ip_route_names_default_route_devices():
    assert parse_ip_route(IP_ROUTE) == ['eth0']
    # The unreachable default is shown on lo but sends nothing: lo is not named.
    assert parse_ip_route(IP6_ROUTE) == ['eth0']
    assert parse_ip_route('[]') == []


def test_parse_ip_route_multipath_names_every_nexthop():
    text = json.dumps(
        [
            {
                'dst': 'default',
                'flags': [],
                'nexthops': [
                    {'gateway': '10.0.1.254', 'dev': 'ens1f0', 'weight': 1, 'flags': []},
                    {'gateway': '10.0.2.254', 'dev': 'ens1f1', 'weight': 1, 'flags': []},
                ],
            },
            {
                'dst': '10.0.1.0/24',
                'dev': 'ens1f0',
                'protocol': 'kernel',
                'scope': 'link',
                'prefsrc': '10.0.1.5',
                'flags': [],
            },
        ]
    )
    assert parse_ip_route(text) == ['ens1f0', 'ens1f1']


# ---------------------------------------------------------------------------
# management interface


def test_management_interface_is_the_one_holding_the_connection_address():
    addrs = parse_ip_addr(IP_ADDR, include_link_local=True)
    assert management_interface(addrs, '192.0.2.2') == 'eth0'
    assert management_interface(addrs, '10.0.2.5') == 'ens1f1'
    assert management_interface(addrs, 'fd00::2') == 'eth0'
    assert management_interface(addrs, 'fe80::e42:a1ff:fe00:0%ens1f0') == 'ens1f0'
    # sshd on a dual-stack socket reports an IPv4 server address as IPv4-mapped IPv6.
    assert management_interface(addrs, '::ffff:192.0.2.2') == 'eth0'
    assert management_interface(addrs, '203.0.113.9') is None
    assert management_interface(addrs, None) is None
    assert management_interface(addrs, '') is None


def test_management_interface_refuses_a_bad_address():
    with pytest.raises(NicError) as exc:
        management_interface({}, 'gateway.example')
    assert "'gateway.example'" in str(exc.value) and 'IP address' in str(exc.value)


@pytest.mark.parametrize(
    'value, expected',
    [
        ('198.51.100.7 52144 192.0.2.2 22', '192.0.2.2'),
        ('fd00::7 52144 fd00::2 22', 'fd00::2'),
        ('', None),
        (None, None),
        ('garbage', None),
        ('a b c d', None),
    ],
)
def test_connection_ip_from_ssh(value, expected):
    assert connection_ip_from_ssh(value) == expected


# ---------------------------------------------------------------------------
# merge and select


@pytest.fixture
def nics(sysfs):
    addrs = parse_ip_addr(IP_ADDR)
    routes = parse_ip_route(IP_ROUTE) + parse_ip_route(IP6_ROUTE)
    return merge_facts(read_sysfs(sysfs), addrs, routes, management_interface(addrs, '192.0.2.2'))


def test_merge_drops_loopback_and_adds_addresses_and_flags(sysfs, nics):
    assert [n['name'] for n in nics] == [n for n in ALL_NAMES if n != 'lo']
    merged = by_name(nics)
    assert merged['eth0']['addresses'] == ['192.0.2.2/24', 'fd00::2/64']
    assert (merged['eth0']['default_route'], merged['eth0']['management']) == (True, True)
    assert [n for n in merged if merged[n]['default_route'] or merged[n]['management']] == ['eth0']
    # Interfaces ip did not list (here the USB NIC) have no addresses.
    assert merged['enx00e04c680001']['addresses'] == []
    with_lo = merge_facts(read_sysfs(sysfs), {}, include_loopback=True)
    assert 'lo' in [n['name'] for n in with_lo]


@pytest.mark.parametrize(
    'criteria, expected',
    [
        ({}, ['br0', 'enp94s0f0', 'ens1f0', 'ens1f0v0', 'ens1f1', 'enx00e04c680001', 'eth0', 'veth0']),
        ({'name': 'ens*'}, ['ens1f0', 'ens1f0v0', 'ens1f1']),
        ({'name': ['ens1f[01]', 'eth*']}, ['ens1f0', 'ens1f1', 'eth0']),
        ({'mac': ['0C-42-A1-00-00-01']}, ['ens1f1']),
        ({'pci_address': ['3b:00.0', '0000:00:03.0']}, ['ens1f0', 'eth0']),
        ({'driver': ['mlx5_core']}, ['ens1f0', 'ens1f0v0', 'ens1f1']),
        ({'driver': 'r8152'}, ['enx00e04c680001']),
        ({'min_speed': 10000}, ['br0', 'enp94s0f0', 'ens1f0', 'ens1f1']),
        ({'min_speed': 25000}, ['ens1f0', 'ens1f1']),
        ({'count': 2, 'driver': ['mlx5_core']}, ['ens1f0', 'ens1f0v0']),
        (
            {'virtual': False, 'exclude_default_route': True},
            ['enp94s0f0', 'ens1f0', 'ens1f0v0', 'ens1f1', 'enx00e04c680001'],
        ),
        (
            {'virtual': False, 'exclude_management': True, 'operstate': 'UP'},
            ['enp94s0f0', 'ens1f0', 'ens1f1', 'enx00e04c680001'],
        ),
        ({'virtual': True}, ['br0', 'veth0']),
        ({'master_nets': ['10.0.0.0/16']}, ['ens1f0', 'ens1f1']),
        ({'master_nets': ['10.0.2.0/24', 'fd00::/64']}, ['ens1f1', 'eth0']),
        ({'pci_ids': ['15b3:1017']}, ['ens1f0', 'ens1f1']),
        ({'pci_ids': ['15B3', '8086']}, ['enp94s0f0', 'ens1f0', 'ens1f0v0', 'ens1f1']),
        ({'numa_node': [1], 'operstate': ['up']}, ['ens1f0', 'ens1f1']),
        ({'numa_node': 0}, ['eth0']),
    ],
)
def test_select_by_each_criterion(nics, criteria, expected):
    assert select_nics(nics, **criteria) == expected


def test_count_takes_the_first_in_name_order_whatever_the_input_order(nics):
    assert select_nics(list(reversed(nics)), name='ens*', count=1) == ['ens1f0']


def test_count_not_met_fails_naming_the_count_and_why_others_were_left_out(nics):
    with pytest.raises(NicError) as exc:
        select_nics(nics, min_speed=25000, count=3)
    msg = str(exc.value)
    assert 'select.count 3: only 2 NIC(s) match (ens1f0, ens1f1)' in msg
    assert 'eth0: speed unknown' in msg
    assert 'enp94s0f0: speed 10000 Mb/s < 25000' in msg


def test_no_match_fails_with_the_reasons(nics):
    with pytest.raises(NicError) as exc:
        select_nics(nics, name='eth*', exclude_default_route=True)
    assert 'no NIC matches' in str(exc.value)
    assert 'eth0: carries the default route' in str(exc.value)
    assert 'veth0: name does not match eth*' in str(exc.value)


@pytest.mark.parametrize(
    'criteria, fragments',
    [
        ({'mac': '52:54:00:12:34'}, ["'52:54:00:12:34'", 'MAC address', "'52:54:00:12:34:56'"]),
        ({'mac': ['zz:54:00:12:34:56']}, ["'zz:54:00:12:34:56'", 'six hex pairs']),
        ({'pci_address': '0000:3b:00.8'}, ["'0000:3b:00.8'", 'domain:bus:device.function', "'0000:3b:00.0'"]),
        ({'pci_address': ['virtio2']}, ["'virtio2'", 'PCI function address']),
        ({'count': -1}, ['select.count -1', 'whole number >= 1']),
        ({'count': 0}, ['select.count 0', 'leave count out']),
        ({'min_speed': -100}, ['select.min_speed -100', '>= 0']),
        ({'master_nets': ['10.0.1.5/24']}, ["'10.0.1.5/24'", 'network address']),
        ({'pci_ids': ['mlx5']}, ["'mlx5'", 'vendor:device', "'15b3:1019'"]),
        ({'numa_node': [-1]}, ['select.numa_node -1']),
        ({'name': ['']}, ['select.name', 'non-empty']),
        ({'virtual': 'yes'}, ['select.virtual', 'boolean']),
    ],
)
def test_invalid_selector_values_name_the_value_and_the_format(nics, criteria, fragments):
    with pytest.raises(NicError) as exc:
        select_nics(nics, **criteria)
    for fragment in fragments:
        assert fragment in str(exc.value)


def test_nic_error_is_a_value_error():
    assert issubclass(NicError, ValueError)


@pytest.mark.parametrize(
    'value, expected', [('52:54:00:AB:CD:EF', '52:54:00:ab:cd:ef'), ('52-54-00-ab-cd-ef', '52:54:00:ab:cd:ef')]
)
def test_normalize_mac(value, expected):
    assert normalize_mac(value) == expected


@pytest.mark.parametrize('value, expected', [('3B:00.1', '0000:3b:00.1'), ('0001:af:1f.7', '0001:af:1f.7')])
def test_normalize_pci_address(value, expected):
    assert normalize_pci_address(value) == expected


# ---------------------------------------------------------------------------
# administrative state, fallback connection address


def test_parse_ip_admin_up_reads_the_up_flag_not_the_carrier():
    down = dict(addr_entry(7, 'nic9', '02:00:00:00:00:09', []), flags=['BROADCAST', 'MULTICAST'])
    no_carrier = dict(addr_entry(8, 'nic8', '02:00:00:00:00:08', []), flags=['NO-CARRIER', 'BROADCAST', 'UP'])
    up = parse_ip_admin_up(json.dumps(json.loads(IP_ADDR) + [down, no_carrier, {}]))
    assert up['eth0'] is True and up['nic9'] is False and up['nic8'] is True
    assert sorted(up) == ['br0', 'ens1f0', 'ens1f0v0', 'ens1f1', 'eth0', 'lo', 'nic8', 'nic9']


def test_merge_sets_up_and_none_where_ip_does_not_list_the_interface(sysfs):
    merged = by_name(merge_facts(read_sysfs(sysfs), {}, admin_up={'eth0': True, 'veth0': False}))
    assert (merged['eth0']['up'], merged['veth0']['up'], merged['ens1f0']['up']) == (True, False, None)
    assert merge_facts(read_sysfs(sysfs), {})[0]['up'] is None


@pytest.mark.parametrize(
    'values, expected',
    [
        (['worker1', '198.18.0.10'], '198.18.0.10'),
        (['', None, ' fd00::10 ', '198.18.0.10'], 'fd00::10'),
        (['worker1.example', ''], None),
        ([], None),
        (None, None),
    ],
)
def test_first_ip_address_skips_host_names_and_empty_values(values, expected):
    assert first_ip_address(values) == expected


# ---------------------------------------------------------------------------
# resolve_interfaces


LISTED = list(parse_ip_addr(IP_ADDR))


def resolve(nics, interfaces, **kwargs):
    return resolve_interfaces(nics, interfaces, connection_ip='192.0.2.2', **kwargs)


def test_resolves_by_name_mac_and_pci_in_the_order_given(nics):
    # MAC in upper case with dashes, PCI without its domain, the virtio NIC by its parent function.
    result = resolve(
        nics,
        [{'mac': '0C-42-A1-00-00-01'}, {'pci': '3B:00.0'}, {'name': 'ens1f0v0'}, {'pci': '0000:00:03.0'}],
        require_pci=True,
    )
    assert [(r['name'], r['given'], r['pci_address']) for r in result['resolved']] == [
        ('ens1f1', 'mac 0C-42-A1-00-00-01', '0000:3b:00.1'),
        ('ens1f0', 'pci 3B:00.0', '0000:3b:00.0'),
        ('ens1f0v0', 'name ens1f0v0', '0000:3b:00.2'),
        ('eth0', 'pci 0000:00:03.0', '0000:00:03.0'),
    ]
    assert result['resolved'][0]['addresses'] == ['10.0.2.5/24']
    assert result['resolve_errors'] == [] and result['unresolved'] == []
    # eth0 was resolved, and is refused: it carries the default route and the connection.
    assert [r['name'] for r in result['refused']] == ['eth0']


def test_refuses_the_default_route_the_connection_and_protected_addresses_with_reasons(nics):
    protected = {
        'ansible_host': 'worker1',
        'node_ip': '192.0.2.2',
        'dpdk_vpp_host_node_ip': '192.0.2.2',
        'dpdk_vpp_host_apiserver_advertise_address': '10.0.1.5',
        'dpdk_vpp_host_protected_addresses': ['10.0.1.5', ''],
    }
    result = resolve(nics, [{'name': 'eth0'}, {'name': 'ens1f0'}, {'name': 'ens1f1'}], protected_addresses=protected)
    assert result['refused'] == [
        {
            'name': 'eth0',
            'given': 'name eth0',
            'reasons': [
                'it carries the default route',
                'it holds the Ansible connection address 192.0.2.2',
                'it holds 192.0.2.2 (node_ip, dpdk_vpp_host_node_ip)',
            ],
            'message': 'eth0 (name eth0: it carries the default route, it holds the Ansible connection address 192.0.2.2, '
            'it holds 192.0.2.2 (node_ip, dpdk_vpp_host_node_ip))',
        },
        {
            'name': 'ens1f0',
            'given': 'name ens1f0',
            'reasons': [
                'it holds 10.0.1.5 (dpdk_vpp_host_apiserver_advertise_address, dpdk_vpp_host_protected_addresses)'
            ],
            'message': 'ens1f0 (name ens1f0: it holds 10.0.1.5 (dpdk_vpp_host_apiserver_advertise_address, '
            'dpdk_vpp_host_protected_addresses))',
        },
    ]
    # ens1f1 holds none of them: resolved, not refused.
    assert [r['name'] for r in result['resolved']] == ['eth0', 'ens1f0', 'ens1f1']


def test_a_protected_ipv6_address_matches_however_it_is_written(nics):
    result = resolve(nics, [{'name': 'eth0'}], protected_addresses={'node_ip': 'FD00:0::0002'})
    assert result['refused'][0]['reasons'][-1] == 'it holds fd00::2 (node_ip)'


def test_protected_ips_keep_the_order_given_and_merge_labels():
    assert protected_ips(
        {'a': 'host.example', 'b': '10.0.0.1', 'c': ['10.0.0.2', '10.0.0.1'], 'd': None, 'e': True}
    ) == [(ipaddress.ip_address('10.0.0.1'), ['b', 'c']), (ipaddress.ip_address('10.0.0.2'), ['c'])]
    assert protected_ips(None) == [] and protected_ips({}) == []


def test_no_such_interface_names_the_nics_there_are(nics):
    result = resolve(nics, [{'name': 'nic9'}, {'mac': '02:00:00:00:00:09'}], require_pci=True, listed=LISTED)
    assert result['unresolved'] == [{'name': 'nic9'}, {'mac': '02:00:00:00:00:09'}]
    pci_nics = 'enp94s0f0, ens1f0, ens1f0v0, ens1f1, eth0'
    assert result['resolve_errors'] == [
        'name nic9: no such interface (NICs with a PCI address: %s)' % pci_nics,
        'mac 02:00:00:00:00:09: no such interface (NICs with a PCI address: %s)' % pci_nics,
    ]
    assert result['resolved'] == [] and result['refused'] == []
    plain = resolve(nics, [{'name': 'nic9'}])
    assert plain['resolve_errors'] == ['name nic9: no such interface (NICs: %s)' % ', '.join(n['name'] for n in nics)]


def test_require_pci_refuses_virtual_and_usb_nics_naming_why(nics):
    result = resolve(nics, [{'name': 'veth0'}, {'name': 'enx00e04c680001'}, {'name': 'ens1f1'}], require_pci=True)
    assert result['resolve_errors'] == [
        'veth0 (name veth0) has no PCI address: it is a virtual link (veth, bridge, bond, VLAN...), and DPDK only takes PCI NICs',
        'enx00e04c680001 (name enx00e04c680001) has no PCI address: it sits on the usb bus, and DPDK only takes PCI NICs',
    ]
    assert [r['name'] for r in result['resolved']] == ['ens1f1']
    # Without require_pci a veth is a NIC like another.
    assert [r['name'] for r in resolve(nics, [{'name': 'veth0'}])['resolved']] == ['veth0']


def test_a_nic_only_the_sysfs_tree_has_is_refused(nics):
    # ip -j addr (LISTED) has no enp94s0f0: it is in the tree, not in the kernel.
    result = resolve(nics, [{'name': 'enp94s0f0'}, {'name': 'ens1f1'}], listed=LISTED, sysfs_root='/tmp/fakesys')
    assert result['resolve_errors'] == ['enp94s0f0 (name enp94s0f0) is in /tmp/fakesys but ip link does not list it']
    assert [r['name'] for r in result['resolved']] == ['ens1f1']
    assert resolve(nics, [{'name': 'enp94s0f0'}])['resolve_errors'] == []


def test_a_nic_given_twice_is_an_error_naming_both_entries(nics):
    result = resolve(nics, [{'name': 'ens1f0'}, {'pci': '3b:00.0'}, {'mac': '0c:42:a1:00:00:00'}])
    assert result['resolve_errors'] == [
        'ens1f0 is given twice (name ens1f0, pci 3b:00.0)',
        'ens1f0 is given twice (name ens1f0, mac 0c:42:a1:00:00:00)',
    ]
    assert [r['given'] for r in result['resolved']] == ['name ens1f0']


def test_mac_ignores_virtual_links_that_repeat_it_and_refuses_an_ambiguous_one():
    port = {
        'name': 'ens4',
        'mac': '52:54:00:00:00:04',
        'pci_address': '0000:00:04.0',
        'virtual': False,
        'addresses': [],
    }
    bridge = {'name': 'br-ens4', 'mac': '52:54:00:00:00:04', 'pci_address': None, 'virtual': True, 'addresses': []}
    result = resolve_interfaces([bridge, port], [{'mac': '52:54:00:00:00:04'}], require_pci=True)
    assert [r['name'] for r in result['resolved']] == ['ens4'] and result['resolve_errors'] == []
    twin = dict(port, name='ens5', pci_address='0000:00:05.0')
    result = resolve_interfaces([port, twin], [{'mac': '52:54:00:00:00:04'}])
    assert result['resolve_errors'] == [
        'mac 52:54:00:00:00:04: several NICs have this MAC (ens4, ens5): give them by name or pci'
    ]


def test_other_keys_of_an_entry_are_ignored(nics):
    result = resolve(nics, [{'name': 'ens1f1', 'address': '10.0.2.5/24', 'gateway': '10.0.2.254'}])
    assert [r['name'] for r in result['resolved']] == ['ens1f1']


@pytest.mark.parametrize(
    'entry, fragments',
    [
        (
            {'name': 'nic1', 'mac': '02:00:00:00:00:01'},
            ['resolve.interfaces[0] {"name": "nic1", "mac": "02:00:00:00:00:01"} is not valid', 'exactly one of name'],
        ),
        ({}, ['resolve.interfaces[0] {} is not valid']),
        ({'name': ''}, ['{"name": ""} is not valid']),
        ('ens4', ['resolve.interfaces[0] "ens4" is not valid']),
        ({'pci': '0000:00:08.9'}, ["resolve.interfaces[0].pci '0000:00:08.9' is not a PCI function address"]),
        ({'mac': '52:54:00:12:34'}, ["resolve.interfaces[0].mac '52:54:00:12:34' is not a MAC address"]),
        ({'name': 4}, ['resolve.interfaces[0].name 4 is not an interface name']),
    ],
)
def test_an_invalid_entry_is_named(nics, entry, fragments):
    with pytest.raises(NicError) as exc:
        resolve(nics, [entry])
    for fragment in fragments:
        assert fragment in str(exc.value)


def test_parse_interface_normalises_what_it_matches():
    assert parse_interface({'mac': '52-54-00-AB-CD-EF'}) == ('mac', '52-54-00-AB-CD-EF', '52:54:00:ab:cd:ef')
    assert parse_interface({'pci': '00:09.0', 'name': None}) == ('pci', '00:09.0', '0000:00:09.0')


@pytest.mark.parametrize(
    'interfaces, protected, fragment',
    [
        ({'name': 'eth0'}, None, 'resolve.interfaces {"name": "eth0"} is not a list'),
        ([], ['192.0.2.2'], 'resolve.protected_addresses ["192.0.2.2"] is not a dict'),
    ],
)
def test_wrong_shapes_are_named(nics, interfaces, protected, fragment):
    with pytest.raises(NicError) as exc:
        resolve(nics, interfaces, protected_addresses=protected)
    assert fragment in str(exc.value)
