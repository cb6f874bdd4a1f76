# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a host's NICs are, where they sit on the bus, and which of them to use.

Plain functions over the standard library, used by the nic_facts module; no Ansible
import, so they are unit-testable against a sysfs tree built in a temporary directory.
Every error is a :class:`NicError` whose message names the bad value and what was expected.

Where a NIC sits (see :func:`device_location`):

- ``pci_address`` is the PCI function that *is* the NIC: the ``device`` link itself for a
  plain PCI NIC or an SR-IOV VF, or its parent for a virtio NIC (``device`` points at
  ``.../0000:00:03.0/virtio2``; Ansible's own ``pciid`` fact stops at ``virtio2``).
- A USB NIC's chain also passes a PCI function, the USB host controller
  (``.../0000:00:14.0/usb2/2-1/2-1:1.0``). That address is not the NIC's: binding it,
  passing it to a VM or matching it in a DeviceClass would hit the controller and every
  USB device behind it. So ``pci_address`` is None for USB (and any other non-PCI bus) NICs;
  ``bus`` (``usb``) and ``bus_path`` (the device path under ``<sysfs>/devices``) say where they are.
- veths, bridges, bonds, VLANs and loopback have no ``device`` link: ``virtual`` is true and
  every bus field is None.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Container, Iterable, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, load_ip_json

# domain:bus:device.function, as the kernel names PCI functions in sysfs.
PCI_FUNCTION = re.compile(r'^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
# lspci's short form without the domain (implies 0000).
PCI_SHORT = re.compile(r'^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$')
VIRTIO_DEVICE = re.compile(r'^virtio[0-9]+$')
# Ethernet MACs are 6 octets; IPoIB hardware addresses are 20.
MAC_ADDRESS = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$|^[0-9a-f]{2}(:[0-9a-f]{2}){19}$')
PCI_ID = re.compile(r'^[0-9a-f]{4}(:[0-9a-f]{4})?$')
ARPHRD_LOOPBACK = 772
# Drivers that cannot tell report -1 (SPEED_UNKNOWN); older kernels printed it unsigned.
UNKNOWN_SPEEDS = (65535, 4294967295)


class NicError(ValueError):
    """A NIC input or selection that cannot be used; the message says why."""


# ---------------------------------------------------------------------------
# sysfs


def _read(path):
    """The stripped text of a sysfs attribute, or None when it is missing or unreadable.

    Reading ``speed`` of a link that is down (or of a driver without ethtool
    support) fails with EINVAL: that is "unknown", not an error.
    """
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _read_int(path):
    try:
        return int(_read(path))
    except (TypeError, ValueError):
        return None


def _link_basename(path):
    """The last component of a symlink's target (``device/driver`` -> ``ixgbe``), None when no link."""
    try:
        return os.path.basename(os.readlink(path).rstrip('/'))
    except OSError:
        return None


def _hex_id(path):
    """A PCI ``vendor``/``device`` attribute (``0x15b3``) as lspci prints it (``15b3``)."""
    text = _read(path)
    if not text:
        return None
    text = text.lower()
    return text[2:] if text.startswith('0x') else text


def read_speed(path: str) -> int | None:
    """``speed`` in Mb/s, or None when unreadable (EINVAL), not a number, or SPEED_UNKNOWN."""
    value = _read_int(path)
    if value is None or value <= 0 or value in UNKNOWN_SPEEDS:
        return None
    return value


def device_location(sysfs_root: str, device: str | None) -> dict[str, Any]:
    """Where the resolved ``device`` directory of a NIC sits: bus, bus_path, pci_address, is_virtio.

    ``device`` is the real path of ``class/net/<name>/device`` (None for virtual NICs).
    See the module docstring for why a USB NIC gets no ``pci_address``.
    """
    if device is None:
        return {'bus': None, 'bus_path': None, 'pci_address': None, 'is_virtio': False}
    base = os.path.basename(device)
    parent = os.path.basename(os.path.dirname(device))
    bus = _link_basename(os.path.join(device, 'subsystem'))
    is_virtio = bus == 'virtio' or bool(VIRTIO_DEVICE.match(base))
    pci_address = None
    if PCI_FUNCTION.match(base):
        pci_address = base
    elif is_virtio and PCI_FUNCTION.match(parent):
        # virtio-pci: the virtio device is a child of the PCI function that carries it.
        pci_address = parent
    devices_dir = os.path.join(sysfs_root, 'devices')
    if device.startswith(devices_dir + os.sep):
        bus_path = os.path.relpath(device, devices_dir)
    else:
        bus_path = device
    return {'bus': bus, 'bus_path': bus_path, 'pci_address': pci_address, 'is_virtio': is_virtio}


def read_interface(sysfs_root: str, name: str) -> dict[str, Any]:
    """The facts of one interface under ``<sysfs_root>/class/net/<name>``.

    ``sysfs_root`` must already be a real path, so that relative links resolve inside it.
    """
    iface = os.path.join(sysfs_root, 'class', 'net', name)
    device_link = os.path.join(iface, 'device')
    device = os.path.realpath(device_link) if os.path.lexists(device_link) else None
    where = device_location(sysfs_root, device)
    pci_dir = None
    if where['pci_address']:
        # A pci_address comes only from a device (device_location), so device is not None here.
        pci_dir = device if os.path.basename(device) == where['pci_address'] else os.path.dirname(device)  # type: ignore[type-var]

    numa_node = None
    if device is not None:
        numa_node = _read_int(os.path.join(device, 'numa_node'))
        if numa_node is None and pci_dir is not None:
            # A virtio device has no numa_node of its own; its PCI function has.
            numa_node = _read_int(os.path.join(pci_dir, 'numa_node'))
    if numa_node is not None and numa_node < 0:
        numa_node = None

    mac = _read(os.path.join(iface, 'address'))
    return {
        'name': name,
        'mac': mac.lower() if mac else None,
        'mtu': _read_int(os.path.join(iface, 'mtu')),
        'operstate': _read(os.path.join(iface, 'operstate')),
        'loopback': _read_int(os.path.join(iface, 'type')) == ARPHRD_LOOPBACK or name == 'lo',
        'driver': _link_basename(os.path.join(device, 'driver')) if device else None,
        'speed': read_speed(os.path.join(iface, 'speed')),
        'numa_node': numa_node,
        'pci_address': where['pci_address'],
        'bus': where['bus'],
        'bus_path': where['bus_path'],
        'is_virtio': where['is_virtio'],
        # An SR-IOV VF links to its PF; the PF's address is what a sriov device plugin pool names.
        'physfn': _link_basename(os.path.join(pci_dir, 'physfn')) if pci_dir else None,
        'vendor_id': _hex_id(os.path.join(pci_dir, 'vendor')) if pci_dir else None,
        'device_id': _hex_id(os.path.join(pci_dir, 'device')) if pci_dir else None,
        'virtual': device is None,
    }


def read_sysfs(sysfs_root: str = '/sys') -> list[dict[str, Any]]:
    """Every interface under ``<sysfs_root>/class/net``, sorted by name, as a list of dicts.

    Each dict has ``name``, ``mac``, ``mtu``, ``operstate``, ``loopback``, ``driver``,
    ``speed`` (Mb/s or None), ``numa_node`` (None when unknown or -1; a virtio device has none
    of its own, so its PCI function's), ``pci_address``,
    ``bus``, ``bus_path``, ``is_virtio``, ``physfn``, ``vendor_id``, ``device_id`` and ``virtual``.
    Entries of ``class/net`` that are not interface directories (``bonding_masters``) are skipped.
    """
    root = os.path.realpath(sysfs_root)
    net_dir = os.path.join(root, 'class', 'net')
    try:
        names = sorted(os.listdir(net_dir))
    except OSError as exc:
        raise NicError(
            "sysfs_root %r has no readable class/net directory (%s): expected the root of a sysfs "
            "tree such as '/sys'" % (sysfs_root, exc.strerror or exc)
        )
    return [read_interface(root, name) for name in names if os.path.isdir(os.path.join(net_dir, name))]


# ---------------------------------------------------------------------------
# iproute2 JSON


def _ip_json(text, what, allow_empty=True):
    """``ip -j`` output (text, or already a list) through the one loader, hostcmd.load_ip_json; NicError when it is not a JSON list."""
    try:
        return load_ip_json(text, what, allow_empty)
    except CommandError as exc:
        raise NicError(str(exc))


def parse_ip_addr(json_text: str | list[Any] | None, include_link_local: bool = False) -> dict[str, list[str]]:
    """``ip -j addr show`` output -> ``{ifname: ['192.0.2.2/24', 'fd00::2/64', ...]}``.

    IPv4 and IPv6 addresses in the order iproute2 lists them; IPv6 link-local
    (``scope: link``) addresses are left out unless ``include_link_local``.
    Every interface is present, with an empty list when it has no address.
    """
    out: dict[str, list[str]] = {}
    # Every host has at least lo: no output at all means ip did not answer as it should.
    for entry in _ip_json(json_text, 'ip -j addr show', allow_empty=False):
        # Old iproute2 releases emit {} for interfaces a filter skipped.
        if not isinstance(entry, dict) or not entry.get('ifname'):
            continue
        addresses = out.setdefault(entry['ifname'], [])
        for info in entry.get('addr_info') or []:
            family = info.get('family')
            if family not in ('inet', 'inet6') or not info.get('local'):
                continue
            if family == 'inet6' and info.get('scope') == 'link' and not include_link_local:
                continue
            address = '%s/%s' % (info['local'], info.get('prefixlen', 128 if family == 'inet6' else 32))
            if address not in addresses:
                addresses.append(address)
    return out


def parse_ip_route(json_text: str | list[Any] | None) -> list[str]:
    """``ip -j route show default`` (or ``ip -6 -j ...``) output -> the interfaces carrying a default route.

    Names in the order listed, each once; a multipath default route names every
    nexthop's device; ``unreachable``/``blackhole``/``prohibit`` defaults (shown on ``lo``) name none.
    """
    names = []
    for route in _ip_json(json_text, 'ip -j route show default'):
        if not isinstance(route, dict) or route.get('dst') not in ('default', '0.0.0.0/0', '::/0'):
            continue
        # 'unreachable default dev lo' and friends send nothing anywhere.
        if route.get('type', 'unicast') != 'unicast':
            continue
        devices = [route.get('dev')] + [hop.get('dev') for hop in route.get('nexthops') or [] if isinstance(hop, dict)]
        for dev in devices:
            if dev and dev not in names:
                names.append(dev)
    return names


def parse_ip_admin_up(json_text: str | list[Any] | None) -> dict[str, bool]:
    """``ip -j addr show`` (or ``ip -j link show``) output -> ``{ifname: administratively up?}``.

    Up is iproute2's ``UP`` flag (``ip link set dev X up``), not whether a carrier is there (``LOWER_UP``).
    Every interface ip lists is present.
    """
    out = {}
    for entry in _ip_json(json_text, 'ip -j addr show', allow_empty=False):
        if isinstance(entry, dict) and entry.get('ifname'):
            out[entry['ifname']] = 'UP' in (entry.get('flags') or [])
    return out


# ---------------------------------------------------------------------------
# management interface


def parse_connection_ip(value: Any, what: str = 'connection_ip') -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A bare IP address, accepting ``[v6]``, ``fe80::1%eth0`` and IPv4-mapped IPv6 (``::ffff:192.0.2.2``)."""
    text = str(value).strip().strip('[]').split('%', 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise NicError(
            "%s %r is not an IP address: expected the address the Ansible connection came in on, "
            "such as '192.0.2.2' or 'fd00::2'" % (what, value)
        )
    # sshd on a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def connection_ip_from_ssh(ssh_connection: str | None) -> str | None:
    """The server address of ``SSH_CONNECTION`` (``client_ip client_port server_ip server_port``), else None.

    A malformed variable is not the user's input, so it means "unknown" rather than an error.
    """
    fields = (ssh_connection or '').split()
    if len(fields) != 4:
        return None
    try:
        parse_connection_ip(fields[2])
    except NicError:
        return None
    return fields[2]


def first_ip_address(values: Iterable[Any] | None) -> str | None:
    """The first of ``values`` that is an IP address, as given; None when none is.

    For addresses that stand in for the connection's when no SSH connection names one: an
    inventory's ``ansible_host`` may be a host name, ``node_ip`` may be unset (``''``).
    """
    for value in values or ():
        if value is None or isinstance(value, bool):
            continue
        try:
            parse_connection_ip(value)
        except NicError:
            continue
        return str(value).strip()
    return None


def management_interface(addresses: Mapping[str, Iterable[str]], connection_ip: str | None) -> str | None:
    """The interface holding ``connection_ip``, the address the Ansible connection came in on.

    ``addresses`` is :func:`parse_ip_addr`'s result. None when there is no connection
    address (local, podman and other non-SSH connections) or no interface holds it.
    """
    if not connection_ip:
        return None
    wanted = parse_connection_ip(connection_ip)
    for name in sorted(addresses):
        for address in addresses[name]:
            try:
                if ipaddress.ip_interface(address).ip == wanted:
                    return name
            except ValueError:
                continue
    return None


def merge_facts(
    sysfs_nics: Iterable[Mapping[str, Any]],
    addresses: Mapping[str, Iterable[str]],
    default_route_interfaces: Container[str] = (),
    management: str | None = None,
    include_loopback: bool = False,
    admin_up: Mapping[str, bool] | None = None,
) -> list[dict[str, Any]]:
    """Join sysfs facts with addresses and routing: a list of NIC dicts sorted by name.

    Each NIC gets ``addresses`` (empty when ``ip`` listed none), ``default_route`` and
    ``management`` (booleans), and ``up`` from ``admin_up`` (:func:`parse_ip_admin_up`'s result;
    None for an interface it does not list, or when it is not given). Loopback is dropped
    unless ``include_loopback``.
    """
    out = []
    for nic in sorted(sysfs_nics, key=lambda n: n['name']):
        if nic.get('loopback') and not include_loopback:
            continue
        merged = dict(nic)
        merged['addresses'] = list(addresses.get(nic['name'], []))
        merged['default_route'] = nic['name'] in default_route_interfaces
        merged['management'] = nic['name'] == management
        merged['up'] = (admin_up or {}).get(nic['name'])
        out.append(merged)
    return out


# ---------------------------------------------------------------------------
# selection


def _as_list(value, what):
    # An empty list is "not given", as an option left out is.
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise NicError("select.%s %r is not a value or a list of values" % (what, value))


def _strings(value, what, example):
    values = _as_list(value, what)
    if values is None:
        return None
    for item in values:
        if not isinstance(item, str) or not item.strip():
            raise NicError("select.%s %r is not a non-empty string: expected e.g. %r" % (what, item, example))
    return [v.strip() for v in values]


def normalize_mac(value: Any, what: str = 'select.mac') -> str:
    """``52-54-00-AB-CD-EF`` -> ``52:54:00:ab:cd:ef``; NicError when it is not a MAC address."""
    text = value.strip().lower().replace('-', ':') if isinstance(value, str) else value
    if not isinstance(text, str) or not MAC_ADDRESS.match(text):
        raise NicError(
            "%s %r is not a MAC address: expected six hex pairs separated by ':', "
            "such as '52:54:00:12:34:56'" % (what, value)
        )
    return text


def normalize_pci_address(value: Any, what: str = 'select.pci_address') -> str:
    """``3B:00.0`` -> ``0000:3b:00.0``; NicError when it is not a PCI function address."""
    text = value.strip().lower() if isinstance(value, str) else value
    if isinstance(text, str) and PCI_SHORT.match(text):
        text = '0000:' + text
    if not isinstance(text, str) or not PCI_FUNCTION.match(text):
        raise NicError(
            "%s %r is not a PCI function address: expected domain:bus:device.function in hex, "
            "such as '0000:3b:00.0' (function 0-7)" % (what, value)
        )
    return text


def _count(value, what, minimum):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise NicError(
            "select.%s %r is not valid: expected a whole number >= %d%s"
            % (what, value, minimum, ' (leave count out to take every match)' if what == 'count' else '')
        )
    return value


def _flag(value, what):
    if value is None or isinstance(value, bool):
        return value
    raise NicError("select.%s %r is not a boolean: expected true or false" % (what, value))


def _pci_ids(value):
    values = _strings(value, 'pci_ids', '15b3:1019')
    if values is None:
        return None
    out = []
    for item in values:
        text = item.lower()
        if not PCI_ID.match(text):
            raise NicError(
                "select.pci_ids %r is not a PCI ID: expected vendor or vendor:device in 4-digit hex "
                "as lspci -nn prints them, such as '15b3' or '15b3:1019'" % item
            )
        out.append(tuple(text.split(':')))
    return out


def _networks(value):
    values = _strings(value, 'master_nets', '10.0.1.0/24')
    if values is None:
        return None
    out = []
    for item in values:
        try:
            out.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise NicError(
                "select.master_nets %r is not a network address: expected a CIDR such as "
                "'10.0.1.0/24' (%s)" % (item, exc)
            )
    return out


def validate_selector(
    name: str | Sequence[str] | None = None,
    mac: str | Sequence[str] | None = None,
    pci_address: str | Sequence[str] | None = None,
    driver: str | Sequence[str] | None = None,
    min_speed: int | None = None,
    count: int | None = None,
    exclude_default_route: bool | None = False,
    exclude_management: bool | None = False,
    master_nets: str | Sequence[str] | None = None,
    pci_ids: str | Sequence[str] | None = None,
    numa_node: int | Sequence[int] | None = None,
    virtual: bool | None = None,
    operstate: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Check and normalise selector values; a dict of the criteria that are set. Raises NicError."""
    numa = _as_list(numa_node, 'numa_node')
    if numa is not None:
        numa = [_count(n, 'numa_node', 0) for n in numa]
    macs = _as_list(mac, 'mac')
    pcis = _as_list(pci_address, 'pci_address')
    return {
        'name': _strings(name, 'name', 'ens*'),
        'mac': None if macs is None else [normalize_mac(m) for m in macs],
        'pci_address': None if pcis is None else [normalize_pci_address(p) for p in pcis],
        'driver': _strings(driver, 'driver', 'mlx5_core'),
        'min_speed': _count(min_speed, 'min_speed', 0),
        'count': _count(count, 'count', 1),
        'exclude_default_route': bool(_flag(exclude_default_route, 'exclude_default_route')),
        'exclude_management': bool(_flag(exclude_management, 'exclude_management')),
        'master_nets': _networks(master_nets),
        'pci_ids': _pci_ids(pci_ids),
        'numa_node': numa,
        'virtual': _flag(virtual, 'virtual'),
        'operstate': _lower(_strings(operstate, 'operstate', 'up')),
    }


def _lower(values):
    return None if values is None else [v.lower() for v in values]


def _in_networks(addresses, networks):
    for address in addresses or []:
        try:
            ip = ipaddress.ip_interface(address).ip
        except ValueError:
            continue
        if any(ip.version == net.version and ip in net for net in networks):
            return True
    return False


def rejection(nic: Mapping[str, Any], criteria: Mapping[str, Any]) -> str | None:
    """Why ``nic`` fails ``criteria`` (from :func:`validate_selector`), or None when it matches."""
    c = criteria
    if c['name'] is not None and not any(fnmatch.fnmatchcase(nic['name'], p) for p in c['name']):
        return 'name does not match %s' % ', '.join(c['name'])
    if c['mac'] is not None and (nic.get('mac') or '').lower() not in c['mac']:
        return 'mac %s not in %s' % (nic.get('mac'), ', '.join(c['mac']))
    if c['pci_address'] is not None and nic.get('pci_address') not in c['pci_address']:
        return 'pci_address %s not in %s' % (nic.get('pci_address'), ', '.join(c['pci_address']))
    if c['driver'] is not None and nic.get('driver') not in c['driver']:
        return 'driver %s not in %s' % (nic.get('driver'), ', '.join(c['driver']))
    if c['min_speed'] is not None:
        if nic.get('speed') is None:
            return 'speed unknown (need >= %d Mb/s)' % c['min_speed']
        if nic['speed'] < c['min_speed']:
            return 'speed %d Mb/s < %d' % (nic['speed'], c['min_speed'])
    if c['exclude_default_route'] and nic.get('default_route'):
        return 'carries the default route'
    if c['exclude_management'] and nic.get('management'):
        return 'is the management interface'
    if c['master_nets'] is not None and not _in_networks(nic.get('addresses'), c['master_nets']):
        return 'no address in %s' % ', '.join(str(n) for n in c['master_nets'])
    if c['pci_ids'] is not None:
        ids = (nic.get('vendor_id'), nic.get('device_id'))
        if not any(ids[0] == want[0] and (len(want) == 1 or ids[1] == want[1]) for want in c['pci_ids']):
            return 'PCI ID %s not in %s' % (
                '%s:%s' % ids if ids[0] else 'none',
                ', '.join(':'.join(w) for w in c['pci_ids']),
            )
    if c['numa_node'] is not None and nic.get('numa_node') not in c['numa_node']:
        return 'numa_node %s not in %s' % (nic.get('numa_node'), ', '.join(str(n) for n in c['numa_node']))
    if c['virtual'] is not None and bool(nic.get('virtual')) != c['virtual']:
        return 'virtual' if nic.get('virtual') else 'not virtual'
    if c['operstate'] is not None and (nic.get('operstate') or '').lower() not in c['operstate']:
        return 'operstate %s not in %s' % (nic.get('operstate'), ', '.join(c['operstate']))
    return None


def select_nics(
    nics: Iterable[Mapping[str, Any]],
    name: str | Sequence[str] | None = None,
    mac: str | Sequence[str] | None = None,
    pci_address: str | Sequence[str] | None = None,
    driver: str | Sequence[str] | None = None,
    min_speed: int | None = None,
    count: int | None = None,
    exclude_default_route: bool | None = False,
    exclude_management: bool | None = False,
    master_nets: str | Sequence[str] | None = None,
    pci_ids: str | Sequence[str] | None = None,
    numa_node: int | Sequence[int] | None = None,
    virtual: bool | None = None,
    operstate: str | Sequence[str] | None = None,
) -> list[str]:
    """Names of the NICs that meet every given criterion, sorted by name; the first ``count`` of them.

    Criteria (each optional, all must hold): ``name`` glob(s) (fnmatch, case-sensitive);
    ``mac``, ``pci_address``, ``driver`` lists; ``min_speed`` in Mb/s (unknown speed fails);
    ``exclude_default_route``/``exclude_management``; ``master_nets`` CIDRs one of the NIC's
    addresses must lie in; ``pci_ids`` (``vendor`` or ``vendor:device``); ``numa_node`` list;
    ``virtual`` true/false; ``operstate`` list. Raises NicError for an invalid value, and
    when fewer than ``count`` (or, without ``count``, no) NICs match, naming why each NIC was left out.
    """
    criteria = validate_selector(
        name=name,
        mac=mac,
        pci_address=pci_address,
        driver=driver,
        min_speed=min_speed,
        count=count,
        exclude_default_route=exclude_default_route,
        exclude_management=exclude_management,
        master_nets=master_nets,
        pci_ids=pci_ids,
        numa_node=numa_node,
        virtual=virtual,
        operstate=operstate,
    )
    matched = []
    rejected = []
    for nic in sorted(nics, key=lambda n: n['name']):
        reason = rejection(nic, criteria)
        if reason is None:
            matched.append(nic['name'])
        else:
            rejected.append('%s: %s' % (nic['name'], reason))
    wanted = criteria['count'] or 1
    if len(matched) < wanted:
        if criteria['count']:
            head = 'select.count %d: only %d NIC(s) match (%s)' % (
                criteria['count'],
                len(matched),
                ', '.join(matched) or 'none',
            )
        else:
            head = 'no NIC matches the selection'
        raise NicError('%s; left out: %s' % (head, '; '.join(rejected) or 'no NICs found'))
    return matched[: criteria['count']] if criteria['count'] else matched


# ---------------------------------------------------------------------------
# resolution: the NICs a list of {name|mac|pci} entries means, and which of them must not be touched

INTERFACE_KEYS = ('name', 'mac', 'pci')
DEFAULT_ROUTE_REASON = 'it carries the default route'
CONNECTION_REASON = 'it holds the Ansible connection address %s'


def _json(value):
    return json.dumps(value, default=str)


def parse_interface(entry: Any, what: str = 'resolve.interfaces[0]') -> tuple[str, Any, str]:
    """One ``{name|mac|pci}`` entry -> ``(key, value as given, value to match)``; other keys are ignored.

    Raises NicError unless exactly one of name, mac or pci is given (and not empty), naming the
    entry; or when the MAC or PCI address is not one.
    """
    keys = [
        key
        for key in INTERFACE_KEYS
        if isinstance(entry, Mapping) and entry.get(key) is not None and entry.get(key) != ''
    ]
    if len(keys) != 1:
        raise NicError(
            "%s %s is not valid: give exactly one of name (an interface name such as 'ens4'), mac (such as "
            "'52:54:00:12:34:56') or pci (a PCI function such as '0000:00:09.0' or '00:09.0')" % (what, _json(entry))
        )
    key = keys[0]
    value = entry[key]
    if key == 'mac':
        return key, value, normalize_mac(value, '%s.mac' % what)
    if key == 'pci':
        return key, value, normalize_pci_address(value, '%s.pci' % what)
    if not isinstance(value, str) or not value.strip():
        raise NicError("%s.name %s is not an interface name: expected e.g. 'ens4'" % (what, _json(value)))
    return key, value, value


def _ip(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def protected_ips(
    protected_addresses: Mapping[str, Any] | None,
) -> list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, list[str]]]:
    """``{label: address or [addresses]}`` -> ``[(ip, [labels])]``: each IP once, in the order first given.

    Values that are not IP addresses are skipped, so that inventory values can be passed as they are
    (``ansible_host`` may be a host name, ``node_ip`` unset); check those a user must give as IPs beforehand.
    """
    if not protected_addresses:
        return []
    if not isinstance(protected_addresses, Mapping):
        raise NicError(
            "resolve.protected_addresses %s is not a dict: expected {label: address or list of addresses}, "
            "such as {node_ip: '192.0.2.10'}" % _json(protected_addresses)
        )
    labels_of: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, list[str]] = {}
    for label, values in protected_addresses.items():
        for value in values if isinstance(values, (list, tuple)) else [values]:
            ip = _ip(value)
            if ip is None:
                continue
            labels = labels_of.setdefault(ip, [])
            if label not in labels:
                labels.append(label)
    return list(labels_of.items())


def _nic_ips(nic):
    out = set()
    for address in nic.get('addresses') or []:
        try:
            out.add(ipaddress.ip_interface(address).ip)
        except ValueError:
            continue
    return out


def protection_reasons(
    nic: Mapping[str, Any],
    protected: Iterable[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, Sequence[str]]] = (),
    connection_ip: str | None = None,
) -> list[str]:
    """Why ``nic`` must not be taken away from the host: a list of reasons, empty when none.

    It carries a default route, the Ansible connection came in on it (``management``, see
    :func:`management_interface`), or it holds one of ``protected`` (:func:`protected_ips`' result).
    """
    reasons = []
    if nic.get('default_route'):
        reasons.append(DEFAULT_ROUTE_REASON)
    if nic.get('management'):
        reasons.append(CONNECTION_REASON % (connection_ip or 'unknown'))
    held = _nic_ips(nic)
    for ip, labels in protected:
        if ip in held:
            reasons.append('it holds %s (%s)' % (ip, ', '.join(str(label) for label in labels)))
    return reasons


def _find(nics, key, wanted):
    if key == 'name':
        return [nic for nic in nics if nic['name'] == wanted]
    if key == 'mac':
        # Bridges, VLANs and bond masters repeat a port's MAC: only the NIC itself counts.
        return [nic for nic in nics if (nic.get('mac') or '').lower() == wanted and not nic.get('virtual')]
    return [nic for nic in nics if nic.get('pci_address') == wanted]


def _unusable(nic, given, require_pci, listed, sysfs_root, resolved):
    """Why a NIC an entry resolved to cannot be used, or None."""
    if require_pci and not nic.get('pci_address'):
        where = (
            'it is a virtual link (veth, bridge, bond, VLAN...)'
            if nic.get('virtual')
            else 'it sits on the %s bus' % nic.get('bus')
        )
        return '%s (%s) has no PCI address: %s, and DPDK only takes PCI NICs' % (nic['name'], given, where)
    if listed is not None and nic['name'] not in listed:
        return '%s (%s) is in %s but ip link does not list it' % (nic['name'], given, sysfs_root)
    for earlier in resolved:
        if earlier['name'] == nic['name']:
            return '%s is given twice (%s, %s)' % (nic['name'], earlier['given'], given)
    return None


def resolve_interfaces(
    nics: Sequence[Mapping[str, Any]],
    interfaces: Sequence[Any],
    require_pci: bool = False,
    protected_addresses: Mapping[str, Any] | None = None,
    connection_ip: str | None = None,
    listed: Iterable[str] | None = None,
    sysfs_root: str = '/sys',
) -> dict[str, Any]:
    """The NICs that ``interfaces`` (``{name|mac|pci}`` entries) mean, and which of them must not be touched.

    ``nics`` as :func:`merge_facts` returns them. An entry gives exactly one of ``name`` (exact),
    ``mac`` (any case, ``-`` or ``:``; virtual links that repeat a port's MAC do not count) or
    ``pci`` (``00:09.0`` means domain 0000; a virtio NIC has its parent function's). Other keys are
    ignored. ``require_pci``: a NIC without a PCI address cannot be used. ``listed``: the names
    ``ip`` lists (None: not checked), for a sysfs tree that is not the running kernel's.
    ``protected_addresses``: ``{label: address or [addresses]}`` whose NICs must stay (values
    that are not IPs are skipped); ``connection_ip``: the address named in the reason for a
    ``management`` NIC.

    Returns a dict:

    - ``resolved``: every NIC an entry resolved to that can be used, in the order of the entries:
      ``name``, ``given`` (``'mac 52-54-00-...'``: the entry's key and value as given),
      ``pci_address``, ``up``, ``default_route``, ``management``, ``addresses``;
    - ``refused``: those of them that must not be touched: ``name``, ``given``, ``reasons``
      (``it carries the default route``, ``it holds the Ansible connection address <ip>``,
      ``it holds <ip> (<labels>)``) and ``message`` (``'eth0 (name eth0: <reasons>)'``);
    - ``unresolved``: the entries, as given, that no NIC matched;
    - ``resolve_errors``: one message per problem: no such interface, several NICs with the MAC,
      no PCI address, not listed by ip, given twice.

    Raises NicError for an entry that is not valid (see :func:`parse_interface`).
    """
    if not isinstance(interfaces, (list, tuple)):
        raise NicError(
            "resolve.interfaces %s is not a list: expected e.g. [{name: ens4}, {mac: '52:54:00:12:34:56'}, "
            "{pci: '0000:00:09.0'}]" % _json(interfaces)
        )
    specs = [parse_interface(entry, 'resolve.interfaces[%d]' % index) for index, entry in enumerate(interfaces)]
    protected = protected_ips(protected_addresses)
    listed = None if listed is None else set(listed)
    by_name = dict((nic['name'], nic) for nic in nics)
    resolved: list[dict[str, Any]]
    resolved, unresolved, errors = [], [], []
    for entry, (key, value, wanted) in zip(interfaces, specs):
        given = '%s %s' % (key, value)
        found = _find(nics, key, wanted)
        if not found:
            unresolved.append(entry)
            if require_pci:
                candidates = 'NICs with a PCI address: %s' % (
                    ', '.join(nic['name'] for nic in nics if nic.get('pci_address')) or 'none'
                )
            else:
                candidates = 'NICs: %s' % (', '.join(nic['name'] for nic in nics) or 'none')
            errors.append('%s: no such interface (%s)' % (given, candidates))
        elif key == 'mac' and len(found) > 1:
            errors.append(
                '%s: several NICs have this MAC (%s): give them by name or pci'
                % (given, ', '.join(nic['name'] for nic in found))
            )
        for nic in found:
            problem = _unusable(nic, given, require_pci, listed, sysfs_root, resolved)
            if problem:
                errors.append(problem)
                continue
            resolved.append(
                {
                    'name': nic['name'],
                    'given': given,
                    'pci_address': nic.get('pci_address'),
                    'up': nic.get('up'),
                    'default_route': bool(nic.get('default_route')),
                    'management': bool(nic.get('management')),
                    'addresses': list(nic.get('addresses') or []),
                }
            )
    refused = []
    for item in resolved:
        reasons = protection_reasons(by_name[item['name']], protected, connection_ip)
        if reasons:
            refused.append(
                {
                    'name': item['name'],
                    'given': item['given'],
                    'reasons': reasons,
                    'message': '%s (%s: %s)' % (item['name'], item['given'], ', '.join(reasons)),
                }
            )
    return {'resolved': resolved, 'refused': refused, 'unresolved': unresolved, 'resolve_errors': errors}
