# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address-block planning in the style of Multi-NIC CNI's ``MultiNicNetwork``.

The pod ``subnet`` is split twice. Interface index ``i`` (the position of a
host network in ``master_nets``, skipping indexes whose whole block one
``exclude`` covers, as the Multi-NIC CNI operator does) owns
``block(subnet, interface_block, i)``, its ``vlan_cidr``. Host index ``h`` on that interface owns
``block(vlan_cidr, host_block, h)``, the host's ``pod_cidr`` there. Host indexes
are handed out per interface the way the Multi-NIC CNI operator does: a host
planned before keeps its index; a new one takes one past the highest index in
use, stepping over blocks that touch ``exclude``; once that runs past the last
block it takes the lowest free one.

Pure standard library, no Ansible import. Every error is a
:class:`~cidr.PlanError` raised before anything is returned.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import socket
from typing import Any, Iterable, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import check_ifname
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import (
    IPNetwork,
    PlanError,
    Reserved,
    block,
    check_bits,
    find_overlaps,
    named_reserved,
    network_text,
    parse_address,
    parse_interface,
    parse_network,
    parse_networks,
)

VLAN_MODES = ('l2', 'l3', 'l3s')

# A canonical dotted quad without leading zeros: socket.inet_aton then reads it exactly as ipaddress would and
# refuses octets over 255. Anything else (IPv6, netmask notation, spaces, typos) goes through
# cidr.parse_interface / parse_address, which are exact but several times slower.
_IPV4 = re.compile(r'(?:(?:0|[1-9][0-9]{0,2})\.){3}(?:0|[1-9][0-9]{0,2})\Z')
# The prefix lengths of a NIC's IPv4 address, '0' to '32' as written without leading zeros (_read_nics).
_IPV4_PREFIX_LENGTHS = dict((str(n), n) for n in range(33))

# Fields of a NIC record (a plain tuple, for speed with many thousands of NICs).
_HOST = 0  # position of the host in ``hosts``
_NAME = 1  # NIC name
_VERSION = 2  # 4 or 6
_VALUE = 3  # address as an integer
_PREFIX = 4  # prefix length of the NIC address
_IP = 5  # address text without prefix
_RAW = 6  # address as given

_MAX_LISTED = 16


def _check_disjoint(named, reserved, expectation):
    """cidr.find_overlaps, raising a PlanError that names both ranges and what was expected."""
    found = find_overlaps(named, reserved)
    if found:
        raise PlanError("%s %s overlaps %s %s: expected %s" % (found + (expectation,)))


def _listed(values):
    values = [str(v) for v in values]
    if len(values) > _MAX_LISTED:
        return '%s, ... (%d in all)' % (', '.join(values[:_MAX_LISTED]), len(values))
    return ', '.join(values)


def _nic_address(value, host, nic):
    """``(version, address as int, prefix length, address text)`` of ``2001:db8::5/64`` or anything else that is not
    the IPv4-with-prefix _read_nics reads itself: through ipaddress, failing with the host and NIC named."""
    iface = parse_interface(value, 'host %s interface %s address' % (host, nic))
    return iface.version, int(iface.ip), iface.network.prefixlen, str(iface.ip)


def _check_main_ip(value, host):
    if value.__class__ is str and _IPV4.match(value):
        try:
            socket.inet_aton(value)
            return
        except (OSError, ValueError):
            pass
    parse_address(value, 'host %s main_ip' % host)


def _check_vlan_mode(vlan_mode):
    if vlan_mode is None:
        return 'l2'
    if not isinstance(vlan_mode, str) or vlan_mode not in VLAN_MODES:
        raise PlanError(
            "vlan_mode %r is not supported: expected one of %s" % (vlan_mode, ', '.join(repr(m) for m in VLAN_MODES))
        )
    return vlan_mode


def check_subnet(subnet: str | IPNetwork, what: str = 'subnet') -> IPNetwork:
    """The MultiNicNetwork's pod network ``subnet``, parsed; PlanError when it is not an IPv4 network.

    Multi-NIC CNI's subnet and its IPAM (multi-nic-ipam) are IPv4 only: a block of an IPv6 subnet would be planned
    here and then refused, or misread, by the cluster.
    """
    network = parse_network(subnet, what)
    if network.version != 4:
        raise PlanError(
            "%s %s is IPv6: Multi-NIC CNI's subnet supports IPv4 only (its IPAM hands out IPv4 pod blocks); "
            "expected an IPv4 network such as 192.168.0.0/16" % (what, network)
        )
    return network


def _check_layout(subnet: str | IPNetwork, interface_block: int, host_block: int) -> IPNetwork:
    subnet = check_subnet(subnet)
    bits = subnet.max_prefixlen
    check_bits(interface_block, 'interface_block', bits)
    check_bits(host_block, 'host_block', bits)
    total = subnet.prefixlen + interface_block + host_block
    if total > bits:
        raise PlanError(
            "subnet %s with interface_block %d and host_block %d needs /%d pod blocks "
            "(%d + %d + %d bits), longer than the %d bits of an IPv%d address: "
            "expected prefix + interface_block + host_block <= %d"
            % (
                subnet,
                interface_block,
                host_block,
                total,
                subnet.prefixlen,
                interface_block,
                host_block,
                bits,
                subnet.version,
                bits,
            )
        )
    return subnet


def _read_hosts(hosts):
    """Validate ``hosts``; return ``(names, nics)``: host names and NIC records in input order."""
    if not isinstance(hosts, (list, tuple)):
        raise PlanError("hosts %r is not a list: expected a list of {name, interfaces} dicts" % (hosts,))
    names = []
    seen = {}
    nics = []
    good_names = set()  # interface names already found legal: thousands of hosts share a few (nic1, nic2, ...)
    for pos, host in enumerate(hosts):
        if not isinstance(host, dict):
            raise PlanError("hosts[%d] %r is not a dict: expected {name, main_ip, interfaces}" % (pos, host))
        name = host.get('name')
        if not isinstance(name, str) or not name.strip():
            raise PlanError("hosts[%d] has no name (got %r): expected a non-empty string" % (pos, name))
        if name in seen:
            raise PlanError(
                "hosts[%d] name %r is a duplicate of hosts[%d]: host names must be unique" % (pos, name, seen[name])
            )
        seen[name] = pos
        names.append(name)
        main_ip = host.get('main_ip')
        if main_ip not in (None, ''):
            _check_main_ip(main_ip, name)
        _read_nics(pos, name, host.get('interfaces'), nics, good_names)
    return names, nics


def _read_nics(pos, host, interfaces, nics, good_names):
    """Append a NIC record to ``nics`` for each of a host's ``interfaces``; ``good_names``: names found legal so far."""
    if interfaces is None:
        return
    if not isinstance(interfaces, (list, tuple)):
        raise PlanError("host %s interfaces %r is not a list: expected a list of {name, address}" % (host, interfaces))
    nic_names = set()
    append = nics.append
    prefix_lengths = _IPV4_PREFIX_LENGTHS
    inet_pton = socket.inet_pton
    af_inet = socket.AF_INET
    for num, nic in enumerate(interfaces):
        if nic.__class__ is not dict and not isinstance(nic, dict):
            raise PlanError("host %s interfaces[%d] %r is not a dict: expected {name, address}" % (host, num, nic))
        name = nic.get('name')
        # A name found legal before needs no second look (thousands of hosts share nic1, nic2, ...).
        if name.__class__ is not str or name not in good_names:
            if not isinstance(name, str) or not name.strip():
                raise PlanError(
                    "host %s interfaces[%d] has no name (got %r): expected a non-empty "
                    "string such as 'eth1'" % (host, num, name)
                )
            check_ifname(name, 'host %s interfaces[%d] name' % (host, num), PlanError)
            good_names.add(name)
        if name in nic_names:
            raise PlanError("host %s lists interface %s twice: expected each NIC once" % (host, name))
        nic_names.add(name)
        address = nic.get('address')
        if address in (None, ''):
            raise PlanError(
                "host %s interface %s has no address: expected an address with "
                "prefix such as '10.0.1.5/24'" % (host, name)
            )
        # IPv4 with a prefix, the common case, inline (131,072 NICs in 0.1 s): inet_pton takes exactly the dotted
        # quads ipaddress takes (no leading zeros, no short forms); anything else goes through ipaddress.
        if address.__class__ is str:
            text, _sep, prefixlen = address.partition('/')
            if prefixlen in prefix_lengths:
                try:
                    append(
                        (
                            pos,
                            name,
                            4,
                            int.from_bytes(inet_pton(af_inet, text), 'big'),
                            prefix_lengths[prefixlen],
                            text,
                            address,
                        )
                    )
                    continue
                except OSError:
                    pass
        append((pos, name) + _nic_address(address, host, name) + (address,))


def _int_or_none(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _previous_entries(previous):
    """``{master_net text: (interface index, {host name: host index})}`` from an earlier plan."""
    if not previous:
        return {}
    if isinstance(previous, dict) and 'interfaces' not in previous and isinstance(previous.get('plan'), dict):
        previous = previous['plan']
    if not isinstance(previous, dict) or not isinstance(previous.get('interfaces'), (list, tuple)):
        raise PlanError("previous %r is not an earlier plan: expected a dict with an 'interfaces' list" % (previous,))
    out = {}
    for num, entry in enumerate(previous['interfaces']):
        what = 'previous interfaces[%d]' % num
        if not isinstance(entry, dict):
            raise PlanError("%s %r is not a dict: expected {index, master_net, vlan_cidr, hosts}" % (what, entry))
        master = str(parse_network(entry.get('master_net'), '%s master_net' % what))
        index = entry.get('index')
        if index is not None and _int_or_none(index) is None:
            raise PlanError("%s index %r is not an interface index: expected an integer >= 0" % (what, index))
        hosts = entry.get('hosts') or []
        if not isinstance(hosts, (list, tuple)):
            raise PlanError("%s hosts %r is not a list: expected a list of {name, index, ...}" % (what, hosts))
        indexes = {}
        for hnum, host in enumerate(hosts):
            if not isinstance(host, dict) or not isinstance(host.get('name'), str):
                raise PlanError("%s hosts[%d] %r has no name: expected {name, index, ...}" % (what, hnum, host))
            if _int_or_none(host.get('index')) is None:
                raise PlanError(
                    "%s hosts[%d] (%s) index %r is not a host index: expected an "
                    "integer >= 0" % (what, hnum, host['name'], host.get('index'))
                )
            indexes.setdefault(host['name'], host['index'])
        out.setdefault(master, (index, indexes))
    return out


def tabu_interfaces(
    subnet: IPNetwork, interface_block: int, excludes: Iterable[IPNetwork]
) -> list[tuple[int, int, IPNetwork]]:
    """``[(first index, last index, exclude)]``: interface indexes whose whole vlan block lies inside one exclude.

    Multi-NIC CNI (controllers/cidr_handler.go ``NewCIDR``, internal/compute ``CheckIfTabuIndex``) skips
    such an index: an exclude at least as large as a vlan block that holds the block's first address.
    Smaller excludes are handled host block by host block instead.
    """
    vprefix = subnet.prefixlen + interface_block
    shift = subnet.max_prefixlen - vprefix
    sstart = int(subnet.network_address)
    send = int(subnet.broadcast_address)
    out = []
    for net in excludes:
        if net.version != subnet.version or net.prefixlen > vprefix:
            continue
        low = max(int(net.network_address), sstart)
        high = min(int(net.broadcast_address), send)
        if low <= high:
            out.append(((low - sstart) >> shift, (high - sstart) >> shift, net))
    return sorted(out, key=lambda t: (t[0], t[1]))


def _next_usable(index, tabu):
    """The first interface index >= ``index`` that no exclude takes whole."""
    moved = True
    while moved:
        moved = False
        for first, last, _net in tabu:
            if first <= index <= last:
                index = last + 1
                moved = True
    return index


def _no_index_left(what, max_interfaces, interface_block, tabu):
    return PlanError(
        "%s gets no interface index: interface_block %d gives indexes 0 to %d, and %s; Multi-NIC CNI skips an "
        "index whose whole vlan block is excluded, so expected fewer master nets or a smaller exclude"
        % (
            what,
            interface_block,
            max_interfaces - 1,
            '; '.join(
                'exclude %s covers the vlan blocks of index%s %s'
                % (net, 'es' if last > first else '', first if first == last else '%d to %d' % (first, last))
                for first, last, net in tabu
            )
            or 'the others are taken',
        )
    )


def _explicit_indexes(masters, max_interfaces, interface_block, tabu):
    """Interface indexes of ``master_nets`` in their order, skipping excluded ones (Multi-NIC CNI's NewCIDR)."""
    indexes = []
    index = 0
    for num, net in enumerate(masters):
        index = _next_usable(index, tabu)
        if index >= max_interfaces:
            raise _no_index_left('master_nets[%d] %s' % (num, net), max_interfaces, interface_block, tabu)
        indexes.append(index)
        index += 1
    return indexes


def _explicit_masters(master_nets, max_interfaces, interface_block):
    masters = parse_networks(master_nets, 'master_nets')
    seen = {}
    for num, net in enumerate(masters):
        if net in seen:
            raise PlanError(
                "master_nets[%d] %s is listed twice (also master_nets[%d]): "
                "expected each host network once" % (num, net, seen[net])
            )
        seen[net] = num
    _check_disjoint(
        [('master_nets[%d]' % num, net) for num, net in enumerate(masters)],
        None,
        'master_nets that do not overlap, so that each NIC belongs to one',
    )
    if len(masters) > max_interfaces:
        raise PlanError(
            "%d master_nets (%s) do not fit interface_block %d: at most 2^%d = %d "
            "interfaces" % (len(masters), _listed(masters), interface_block, interface_block, max_interfaces)
        )
    return masters


def _match_masters(nics, masters, names):
    """The position of the master net containing each NIC's address, in NIC order.

    One dict per (version, prefix length) of the master nets, keyed by the
    network bits, so the cost per NIC is one lookup per distinct prefix length.
    """
    tables = {}
    for num, net in enumerate(masters):
        shift = net.max_prefixlen - net.prefixlen
        tables.setdefault((net.version, net.prefixlen, shift), {})[int(net.network_address) >> shift] = num
    by_version = {}
    for key in sorted(tables, key=lambda k: -k[1]):
        by_version.setdefault(key[0], []).append((key[2], tables[key]))
    owners = []
    for nic in nics:
        found = None
        for shift, table in by_version.get(nic[_VERSION], ()):
            found = table.get(nic[_VALUE] >> shift)
            if found is not None:
                break
        if found is None:
            raise PlanError(
                "host %s interface %s address %s is in none of the master_nets (%s): "
                "expected every NIC inside one of them" % (names[nic[_HOST]], nic[_NAME], nic[_RAW], _listed(masters))
            )
        owners.append(found)
    return owners


def _derive_masters(nics, names, max_interfaces, interface_block):
    """Master nets from the NIC networks, first seen first, and each NIC's position among them."""
    keys = {}
    masters = []
    labels = []
    owners = []
    for nic in nics:
        shift = (32 if nic[_VERSION] == 4 else 128) - nic[_PREFIX]
        key = (nic[_VERSION], nic[_PREFIX], nic[_VALUE] >> shift)
        num = keys.get(key)
        if num is None:
            num = keys[key] = len(masters)
            network_class = ipaddress.IPv4Network if nic[_VERSION] == 4 else ipaddress.IPv6Network
            masters.append(network_class((key[2] << shift, nic[_PREFIX])))
            labels.append('network of host %s interface %s' % (names[nic[_HOST]], nic[_NAME]))
        owners.append(num)
    if len(masters) > max_interfaces:
        raise PlanError(
            "the NICs are on %d networks (%s), more than interface_block %d allows: "
            "at most 2^%d = %d interfaces"
            % (len(masters), _listed(masters), interface_block, interface_block, max_interfaces)
        )
    _check_disjoint(
        list(zip(labels, masters)), None, 'NIC networks that do not overlap, or master_nets listing the host networks'
    )
    return masters, owners


def _derived_indexes(masters, previous, max_interfaces, interface_block, tabu):
    """Interface indexes of derived master nets: an earlier plan's if it still fits, else the lowest free.

    Indexes whose whole vlan block is excluded are skipped, as Multi-NIC CNI does.
    """
    indexes = [None] * len(masters)
    taken = set()
    for num, net in enumerate(masters):
        index = previous.get(str(net), (None, None))[0]
        if index is not None and index < max_interfaces and index not in taken and _next_usable(index, tabu) == index:
            indexes[num] = index
            taken.add(index)
    free = 0
    for num, index in enumerate(indexes):
        if index is None:
            free = _next_usable(free, tabu)
            while free in taken:
                free = _next_usable(free + 1, tabu)
            if free >= max_interfaces:
                raise _no_index_left('the network %s' % masters[num], max_interfaces, interface_block, tabu)
            indexes[num] = free
            taken.add(free)
    return indexes


def _group_nics(nics, owners, masters, names):
    """NIC records per master net, in host order; at most one per host and master net."""
    members = [[] for _master in masters]
    last_host = [-1] * len(masters)
    for nic, num in zip(nics, owners):
        if last_host[num] == nic[_HOST]:
            raise PlanError(
                "host %s has interfaces %s and %s both in master net %s: expected at "
                "most one NIC per host in each master net"
                % (names[nic[_HOST]], members[num][-1][_NAME], nic[_NAME], masters[num])
            )
        last_host[num] = nic[_HOST]
        members[num].append(nic)
    return members


def _merge(spans):
    """Merge sorted ``(low, high, net)`` spans; touching ones join. Returns starts, ends, nets."""
    starts, ends, nets = [], [], []
    for low, high, net in spans:
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
            nets[-1].append(net)
        else:
            starts.append(low)
            ends.append(high)
            nets.append([net])
    return starts, ends, nets


def _excluded_ranges(vlan, shift, excludes, where):
    """Merged ``(starts, ends, count)`` of the host indexes in ``vlan`` whose block touches ``excludes``."""
    vstart = int(vlan.network_address)
    vend = int(vlan.broadcast_address)
    spans = []
    for net in excludes:
        if net.version == vlan.version:
            low = max(int(net.network_address), vstart)
            high = min(int(net.broadcast_address), vend)
            if low <= high:
                spans.append(((low - vstart) >> shift, (high - vstart) >> shift, net))
    spans.sort(key=lambda s: (s[0], s[1]))
    starts, ends, nets = _merge(spans)
    count = sum(high - low + 1 for low, high in zip(starts, ends))
    size = (vend - vstart + 1) >> shift
    if count >= size:
        raise PlanError(
            "exclude (%s) covers every /%d host block of %s: no pod block is left "
            "there; expected exclude to leave at least one of its %d blocks free"
            % (_listed(n for group in nets for n in group), vlan.max_prefixlen - shift, where, size)
        )
    return starts, ends, count


def _allocate(members, keep, size, starts, ends):
    """Host index of every member (host positions, in input order).

    ``keep`` maps host positions to their index in an earlier plan; one that
    still fits and is clear of exclude is kept, the others are placed like new
    hosts: one past the highest index in use, stepping over excluded blocks,
    then the lowest free index once that no longer fits.
    """

    def allowed(index):
        # The first index >= ``index`` whose block is clear of exclude.
        if starts:
            pos = bisect.bisect_right(starts, index) - 1
            if pos >= 0 and index <= ends[pos]:
                return ends[pos] + 1
        return index

    used = set()
    result = [None] * len(members)
    for num, member in enumerate(members):
        index = keep.get(member)
        if index is not None and index < size and index not in used and allowed(index) == index:
            used.add(index)
            result[num] = index
    top = max(used) if used else -1
    lowest = 0
    for num, index in enumerate(result):
        if index is not None:
            continue
        index = allowed(top + 1)
        if index < size:
            top = index
        else:
            index = allowed(lowest)
            while index in used:
                index = allowed(index + 1)
            lowest = index + 1
        used.add(index)
        result[num] = index
    return result


class _Planner:
    """One plan's fixed inputs: the block layout, exclude, the earlier plan and the host names."""

    def __init__(self, subnet, interface_block, host_block, excludes, previous, names):
        # pylint: disable=too-many-arguments,too-many-positional-arguments
        self.subnet = subnet
        self.interface_block = interface_block
        self.host_block = host_block
        self.excludes = excludes
        self.previous = previous
        self.names = names

    @property
    def size(self):
        """Number of host blocks in a vlan block."""
        return 1 << self.host_block

    @property
    def pod_prefix(self):
        """Prefix length of a pod block."""
        return self.subnet.prefixlen + self.interface_block + self.host_block

    @property
    def shift(self):
        """Host bits of a pod block: host index ``h`` starts at ``vlan start + (h << shift)``."""
        return self.subnet.max_prefixlen - self.pod_prefix

    def plan_interface(self, index, net, nics):
        """``(index, master net, vlan block, [(host index, NIC record)] by host index)``."""
        vlan = block(self.subnet, self.interface_block, index)
        where = 'interface %d (master net %s, vlan_cidr %s)' % (index, net, vlan)
        starts, ends, count = _excluded_ranges(vlan, self.shift, self.excludes, where)
        if len(nics) > self.size - count:
            raise PlanError(
                "%s has %d hosts but only %d free /%d blocks: host_block %d gives 2^%d = %d "
                "blocks, minus %d excluded"
                % (
                    where,
                    len(nics),
                    self.size - count,
                    self.pod_prefix,
                    self.host_block,
                    self.host_block,
                    self.size,
                    count,
                )
            )
        keep = {}
        earlier = self.previous.get(str(net))
        if earlier:
            earlier = earlier[1]
            for nic in nics:
                name = self.names[nic[_HOST]]
                if name in earlier:
                    keep[nic[_HOST]] = earlier[name]
        indexes = _allocate([nic[_HOST] for nic in nics], keep, self.size, starts, ends)
        return index, net, vlan, sorted(zip(indexes, nics), key=lambda row: row[0])

    def check_reserved(self, interfaces, reserved):
        """Pod and vlan blocks against reserved ranges.

        A pod block lies inside its vlan block, so only a vlan block that touches a
        reserved range can hold a pod block that does; only then are the pod blocks
        built and checked (cidr.find_overlaps), so that the error names the host.
        Pod blocks need no check among themselves: those of one interface have
        distinct host indexes and the vlan blocks have distinct interface indexes.
        """
        vlans = [
            ('vlan_cidr of interface %d (master net %s)' % (index, net), vlan) for index, net, vlan, _rows in interfaces
        ]
        if find_overlaps(vlans, reserved) is None:
            return
        pods = []
        for index, _net, vlan, rows in interfaces:
            start = int(vlan.network_address)
            for hindex, nic in rows:
                pods.append(
                    (
                        'pod_cidr of host %s interface %s (interface %d, host index %d)'
                        % (self.names[nic[_HOST]], nic[_NAME], index, hindex),
                        type(vlan)((start + (hindex << self.shift), self.pod_prefix)),
                    )
                )
        _check_disjoint(pods, reserved, 'pod blocks clear of the reserved ranges')
        _check_disjoint(vlans, reserved, 'vlan blocks clear of the reserved ranges')

    def entries(self, interfaces):
        """The ``plan['interfaces']`` list of plain dicts."""
        names = self.names
        shift = self.shift
        pod_prefix = self.pod_prefix
        plan = []
        for index, net, vlan, rows in interfaces:
            start = int(vlan.network_address)
            if vlan.version == 4:
                # 131,072 host NICs: the C library writes the addresses (inet_ntoa), the tuples unpack in place.
                suffix = '/%d' % pod_prefix
                ntoa = socket.inet_ntoa
                hosts = [
                    {
                        'name': names[pos],
                        'index': hindex,
                        'interface': nic_name,
                        'host_ip': host_ip,
                        'pod_cidr': ntoa((start + (hindex << shift)).to_bytes(4, 'big')) + suffix,
                    }
                    for hindex, (pos, nic_name, _version, _value, _prefix, host_ip, _raw) in rows
                ]
            else:
                hosts = [
                    {
                        'name': names[nic[_HOST]],
                        'index': hindex,
                        'interface': nic[_NAME],
                        'host_ip': nic[_IP],
                        'pod_cidr': network_text(6, start + (hindex << shift), pod_prefix),
                    }
                    for hindex, nic in rows
                ]
            plan.append({'index': index, 'master_net': str(net), 'vlan_cidr': str(vlan), 'hosts': hosts})
        return plan


def _routes(plan, host_order):
    """L3 routes: on each interface, every host reaches every other host's pod block via its NIC."""
    routes = dict((name, []) for name in host_order)
    for entry in plan:
        hosts = entry['hosts']
        for host in hosts:
            dev = host['interface']
            routes[host['name']].extend(
                {'dst': peer['pod_cidr'], 'via': peer['host_ip'], 'dev': dev} for peer in hosts if peer is not host
            )
    return routes


def plan_multinic(
    subnet: str | IPNetwork,
    interface_block: int,
    host_block: int,
    hosts: Sequence[dict[str, Any]],
    master_nets: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
    vlan_mode: str | None = 'l2',
    previous: dict[str, Any] | None = None,
    reserved: Reserved = None,
) -> dict[str, Any]:
    # pylint: disable=too-many-arguments,too-many-positional-arguments,too-many-locals
    """Plan the Multi-NIC CNI vlan and pod blocks of every host NIC.

    ``subnet`` is the pod CIDR, ``interface_block`` and ``host_block`` bit counts,
    ``hosts`` a list of ``{name, main_ip, interfaces: [{name, address}]}``.
    ``master_nets`` lists the host networks in interface-index order (default:
    the NIC networks, first seen first). No pod block touches ``exclude``; no pod
    or vlan block touches ``reserved``. ``previous`` is an earlier result's
    ``plan``: hosts keep their index on each interface. ``vlan_mode`` ``l3`` or
    ``l3s`` adds the routes between hosts.

    Returns ``{'plan': {'interfaces': [{index, master_net, vlan_cidr, hosts:
    [{name, index, interface, host_ip, pod_cidr}]}]}, 'routes': {host: [{dst,
    via, dev}]}}`` with interfaces by index and hosts by host index. Raises
    :class:`PlanError` naming the bad input and the limit.
    """
    vlan_mode = _check_vlan_mode(vlan_mode)
    subnet = _check_layout(subnet, interface_block, host_block)
    excludes = parse_networks(exclude, 'exclude')
    reserved = named_reserved(reserved)
    names, nics = _read_hosts(hosts)
    planner = _Planner(subnet, interface_block, host_block, excludes, _previous_entries(previous), names)

    max_interfaces = 1 << interface_block
    tabu = tabu_interfaces(subnet, interface_block, excludes)
    if master_nets:
        masters = _explicit_masters(master_nets, max_interfaces, interface_block)
        owners = _match_masters(nics, masters, names)
        indexes = _explicit_indexes(masters, max_interfaces, interface_block, tabu)
    else:
        masters, owners = _derive_masters(nics, names, max_interfaces, interface_block)
        indexes = _derived_indexes(masters, planner.previous, max_interfaces, interface_block, tabu)
    members = _group_nics(nics, owners, masters, names)

    interfaces = sorted(
        (planner.plan_interface(indexes[num], net, members[num]) for num, net in enumerate(masters)),
        key=lambda item: item[0],
    )
    if reserved:
        planner.check_reserved(interfaces, reserved)

    plan = planner.entries(interfaces)
    routes = {}
    if vlan_mode != 'l2':
        with_nics = set(nic[_HOST] for nic in nics)
        routes = _routes(plan, [name for pos, name in enumerate(names) if pos in with_nics])
    return {'plan': {'interfaces': plan}, 'routes': routes}
