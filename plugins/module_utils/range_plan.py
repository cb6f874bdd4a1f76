# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carve one supernet into per-network IPAM ranges, with optional per-node slices.

Every network attachment (NetworkAttachmentDefinition) gets its own aligned
block of the supernet, so two NADs never hand out the same addresses. The
result carries the first and last usable address of each block for a
whereabouts ``range_start``/``range_end``, and, when the network has a
``node_prefix`` (whereabouts' node slice size), one slice of the block per node.

Also holds two small helpers shared with :mod:`ovnk_subnets`:
:func:`check_names` and :func:`unwrap_plan`.
"""

from __future__ import annotations

import bisect
import ipaddress
from typing import Any, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import IPNetwork, PlanError, Reserved


def check_names(values: Any, what: str) -> list[str]:
    """Check that ``values`` is a list of unique, non-empty strings; return it as a list.

    ``None`` is an empty list. Errors name ``what[i]`` and the offending value.
    """
    if values is None:
        return []
    if isinstance(values, (str, dict)) or not isinstance(values, (list, tuple)):
        raise PlanError("%s %r is not a list of names: expected e.g. ['worker1', 'worker2']" % (what, values))
    seen: dict[str, int] = {}
    for i, name in enumerate(values):
        if not isinstance(name, str) or not name.strip():
            raise PlanError("%s[%d] %r is not a name: expected a non-empty string" % (what, i, name))
        if name in seen:
            raise PlanError(
                "%s[%d] %r is a duplicate of %s[%d]: names must be unique" % (what, i, name, what, seen[name])
            )
        seen[name] = i
    return list(values)


def unwrap_plan(previous: Any, what: str = 'previous') -> dict[str, Any]:
    """Return the plan dict of ``previous`` (an earlier ``plan``, or a whole result holding one), or ``{}``."""
    if previous is None:
        return {}
    if not isinstance(previous, dict):
        raise PlanError("%s %r is not a plan: expected an earlier result's 'plan' dict" % (what, previous))
    if isinstance(previous.get('plan'), dict):
        return previous['plan']
    return previous


def _previous_list(plan, key, what):
    values = plan.get(key)
    if values is None:
        return []
    if not isinstance(values, list):
        raise PlanError("%s %s %r is not a list" % (what, key, values))
    for i, value in enumerate(values):
        if not isinstance(value, dict):
            raise PlanError("%s %s[%d] %r is not a dict with 'name' and 'range'" % (what, key, i, value))
    return values


def prefix_for_size(size: Any, max_prefixlen: int, what: str = 'size') -> int:
    """The longest prefix whose block holds at least ``size`` addresses (256 -> /24, 257 -> /23 for IPv4)."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise PlanError("%s %r is not a whole number of addresses" % (what, size))
    if size <= 0:
        raise PlanError("%s %d is not a number of addresses: expected 1 or more" % (what, size))
    bits = (size - 1).bit_length()
    if bits > max_prefixlen:
        raise PlanError(
            "%s %d is more addresses than an IPv%d address space holds (2**%d)"
            % (what, size, 4 if max_prefixlen == 32 else 6, max_prefixlen)
        )
    return max_prefixlen - bits


def usable_bounds(network: IPNetwork) -> tuple[str, str]:
    """First and last address whereabouts should hand out from ``network``, as strings.

    IPv4 skips the network and broadcast addresses when the prefix is /30 or
    shorter (a /31 or /32 has no such addresses). IPv6 skips only the first
    address, the subnet-router anycast address (a /128 keeps its one address).
    """
    first = int(network.network_address)
    last = int(network.broadcast_address)
    if network.version == 4 and network.prefixlen <= 30:
        first, last = first + 1, last - 1
    elif network.version == 6 and network.prefixlen < 128:
        first += 1
    return str(_address(network.version, first)), str(_address(network.version, last))


def _address(version, value):
    # ip_address() of a small integer is always IPv4, so pick the class by version.
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


class _Occupied:
    """Sorted, possibly overlapping ``(start, end)`` integer intervals of one address space."""

    def __init__(self):
        self.starts = []
        self.ends = []

    def add(self, start, end):
        i = bisect.bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def is_free(self, start, end):
        # Intervals starting at or before ``end``; any of them reaching ``start`` overlaps.
        stop = bisect.bisect_right(self.starts, end)
        for i in range(stop - 1, -1, -1):
            if self.ends[i] >= start:
                return False
        return True

    def first_fit(self, low, high, size):
        """Lowest ``size``-aligned start in ``[low, high]`` whose block is free, or ``None``."""
        cand = low
        for start, end in zip(self.starts, self.ends):
            if cand + size - 1 > high:
                return None
            if end < cand:
                continue
            if start > cand + size - 1:
                break
            cand = ((end + 1 + size - 1) // size) * size
        if cand + size - 1 > high:
            return None
        return cand


def _net(version, start, prefixlen):
    if version == 4:
        return ipaddress.IPv4Network((start, prefixlen))
    return ipaddress.IPv6Network((start, prefixlen))


NETWORK_KEYS = ('name', 'prefix', 'size', 'node_prefix')


def _check_network_spec(i, spec, supernet, seen):
    """Validate one ``networks`` entry; returns ``(name, prefix, node_prefix)``."""
    if not isinstance(spec, dict):
        raise PlanError("networks[%d] %r is not a dict: expected {name, prefix} or {name, size}" % (i, spec))
    name = spec.get('name')
    if not isinstance(name, str) or not name.strip():
        raise PlanError("networks[%d] name %r is not a name: expected a non-empty string" % (i, name))
    if name in seen:
        raise PlanError(
            "networks[%d] name %r is a duplicate of networks[%d]: network names must be unique" % (i, name, seen[name])
        )
    seen[name] = i
    what = 'network %r' % name
    unknown = sorted(str(key) for key in spec if key not in NETWORK_KEYS)
    if unknown:
        # A misspelt node_prefix would silently mean "no slices": refuse what we do not know.
        raise PlanError(
            "%s has unknown key(s) %s: expected only %s" % (what, ', '.join(unknown), ', '.join(NETWORK_KEYS))
        )
    has_prefix = spec.get('prefix') is not None
    has_size = spec.get('size') is not None
    if has_prefix == has_size:
        raise PlanError(
            "%s has %s: expected exactly one of 'prefix' (a prefix length) or 'size' (a number of addresses)"
            % (
                what,
                'both prefix %r and size %r' % (spec.get('prefix'), spec.get('size'))
                if has_prefix
                else 'neither prefix nor size',
            )
        )
    maximum = supernet.max_prefixlen
    if has_prefix:
        prefix = cidr.check_bits(spec['prefix'], '%s prefix' % what, maximum)
    else:
        prefix = prefix_for_size(spec['size'], maximum, '%s size' % what)
    if prefix < supernet.prefixlen:
        raise PlanError(
            "%s needs a /%d, larger than the supernet %s: expected a prefix of /%d or longer"
            % (what, prefix, supernet, supernet.prefixlen)
        )
    node_prefix = spec.get('node_prefix')
    if node_prefix is not None:
        node_prefix = cidr.check_bits(node_prefix, '%s node_prefix' % what, maximum)
        if node_prefix <= prefix:
            raise PlanError(
                "%s node_prefix /%d is not longer than its range's /%d: expected /%d to /%d"
                % (what, node_prefix, prefix, prefix + 1, maximum)
            )
    return name, prefix, node_prefix


def _previous_ranges(plan):
    """``{name: (network, {node: slice})}`` from an earlier plan; malformed entries are errors."""
    out = {}
    for i, entry in enumerate(_previous_list(plan, 'networks', 'previous')):
        what = 'previous networks[%d]' % i
        name = entry.get('name')
        if not isinstance(name, str) or name in out:
            continue
        network = cidr.parse_network(entry.get('range'), '%s range' % what)
        slices = {}
        for j, node in enumerate(_previous_list(entry, 'nodes', what)):
            if isinstance(node.get('name'), str) and node['name'] not in slices:
                slices[node['name']] = cidr.parse_network(node.get('range'), '%s nodes[%d] range' % (what, j))
        out[name] = (network, slices)
    return out


def _plan_slices(name, network, node_prefix, nodes, old_slices):
    """Per-node slices of ``network``: kept when still valid, else the lowest free one."""
    extra = node_prefix - network.prefixlen
    count = 1 << extra
    if len(nodes) > count:
        raise PlanError(
            "network %r range %s holds %d /%d node slices, fewer than the %d nodes: "
            "expected a shorter node_prefix or a larger range" % (name, network, count, node_prefix, len(nodes))
        )
    size = 1 << (network.max_prefixlen - node_prefix)
    base = int(network.network_address)
    used = set()
    chosen = {}
    for node in nodes:
        old = old_slices.get(node)
        if old is None or old.version != network.version or old.prefixlen != node_prefix or not old.subnet_of(network):
            continue
        index = (int(old.network_address) - base) // size
        if index not in used:
            used.add(index)
            chosen[node] = index
    nxt = 0
    out = []
    for node in nodes:
        if node not in chosen:
            while nxt in used:
                nxt += 1
            used.add(nxt)
            chosen[node] = nxt
        out.append({'name': node, 'range': str(_net(network.version, base + chosen[node] * size, node_prefix))})
    return out


def plan_ranges(
    supernet: str | IPNetwork,
    networks: Sequence[dict[str, Any]],
    nodes: Sequence[str] | None = None,
    previous: dict[str, Any] | None = None,
    reserved: Reserved = None,
) -> dict[str, Any]:
    """Give every network of ``networks`` its own aligned block of ``supernet``.

    ``networks`` is a list of ``{name, prefix}`` or ``{name, size}`` (``size``
    is a number of addresses, rounded up to the smallest block holding that
    many, e.g. 200 -> /24, 257 -> /23), each optionally with ``node_prefix``,
    the prefix length of a per-node slice. Names are unique and non-empty.

    Blocks are taken first fit from the low end of ``supernet``, in the order
    given, skipping blocks that overlap ``reserved`` (any form
    :func:`cidr.named_reserved` accepts) or an earlier network. A network that
    ``previous`` (an earlier result's ``plan``) already placed keeps its range
    when the prefix is unchanged and the range is still inside ``supernet`` and
    free; networks keeping their range are placed before new ones. Likewise
    each of ``nodes`` keeps its slice, new nodes take the lowest free slice and
    nodes no longer listed release theirs.

    Returns ``{'plan': {'supernet', 'networks': [{'name', 'range', 'range_start',
    'range_end', 'nodes': [{'name', 'range'}]}]}}`` in the order of ``networks``;
    ``nodes`` is empty for a network without ``node_prefix``. Raises
    :class:`cidr.PlanError` on bad input or when a network finds no room.
    """
    supernet = cidr.parse_network(supernet, 'supernet')
    if networks is None or isinstance(networks, (str, dict)) or not isinstance(networks, (list, tuple)):
        raise PlanError("networks %r is not a list: expected a list of {name, prefix} or {name, size}" % (networks,))
    reserved_named = cidr.named_reserved(reserved)
    nodes = check_names(nodes, 'nodes')
    seen: dict[str, int] = {}
    specs = [_check_network_spec(i, spec, supernet, seen) for i, spec in enumerate(networks)]
    old = _previous_ranges(unwrap_plan(previous))

    version = supernet.version
    low = int(supernet.network_address)
    high = int(supernet.broadcast_address)
    occupied = _Occupied()
    # The same without the reserved networks: when a range fits there and not here, they are what blocks it.
    planned_only = _Occupied()
    blocking = []
    for label, net in reserved_named:
        if net.version == version and net.overlaps(supernet):
            occupied.add(max(low, int(net.network_address)), min(high, int(net.broadcast_address)))
            blocking.append('%s %s' % (label, net))

    placed = {}
    # Keep earlier ranges first, in the order given, so that new networks cannot take them.
    for name, prefix, _node_prefix in specs:
        if name not in old:
            continue
        net = old[name][0]
        if net.version != version or net.prefixlen != prefix or not net.subnet_of(supernet):
            continue
        start, end = int(net.network_address), int(net.broadcast_address)
        if occupied.is_free(start, end):
            occupied.add(start, end)
            planned_only.add(start, end)
            placed[name] = net
    for name, prefix, _node_prefix in specs:
        if name in placed:
            continue
        size = 1 << (supernet.max_prefixlen - prefix)
        start = occupied.first_fit(low, high, size)
        if start is None:
            taken = ', '.join('%s %s' % (other, placed[other]) for other in placed) or 'none'
            if blocking and planned_only.first_fit(low, high, size) is not None:
                raise PlanError(
                    "no room left for network %r: no free /%d in supernet %s because of %s (the ranges planned "
                    "before it: %s); expected a larger supernet, a longer prefix, or a supernet clear of %s"
                    % (name, prefix, supernet, ' and '.join(blocking), taken, 'them' if len(blocking) > 1 else 'it')
                )
            raise PlanError(
                "no room left for network %r: no free /%d in supernet %s after the ranges planned before it (%s)%s"
                % (name, prefix, supernet, taken, ' and ' + ' and '.join(blocking) if blocking else '')
            )
        occupied.add(start, start + size - 1)
        planned_only.add(start, start + size - 1)
        placed[name] = _net(version, start, prefix)

    out = []
    for name, _prefix, node_prefix in specs:
        net = placed[name]
        first, last = usable_bounds(net)
        slices = []
        if node_prefix is not None and nodes:
            slices = _plan_slices(name, net, node_prefix, nodes, old.get(name, (None, {}))[1])
        out.append({'name': name, 'range': str(net), 'range_start': first, 'range_end': last, 'nodes': slices})

    cidr.check_overlaps([('network %s range' % n['name'], placed[n['name']]) for n in out], reserved_named)
    cidr.check_overlaps(
        [
            ('network %s node %s slice' % (n['name'], s['name']), ipaddress.ip_network(s['range']))
            for n in out
            for s in n['nodes']
        ]
    )
    return {'plan': {'supernet': str(supernet), 'networks': out}}
