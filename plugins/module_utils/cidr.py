# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR math shared by every planning scheme, the cidr_plan module and the filters.

Plain functions over the standard library's ``ipaddress``; no Ansible import, so
they are unit-testable on their own. Every error is a :class:`PlanError` whose
message names the bad value and what was expected.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Dict, Iterable, Union

# Either IP version's ipaddress class, for type hints (Union: these are evaluated on Python 3.8 too).
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPInterface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
# What named_reserved (and the planners passing ``reserved`` on to it) accept: {name: CIDR or [CIDRs]},
# [CIDR], [{name, cidr}] or None.
Reserved = Union[Dict[str, Any], Iterable[Any], None]


class PlanError(ValueError):
    """A planning input or result that cannot be used; the message says why."""


def network_text(version: int, start: int, prefixlen: int) -> str:
    """``start/prefixlen`` as text, from the network's first address as an integer: what ``str()`` of the ipaddress
    network writes, through the C library (the planners write tens of thousands of these).

    IPv6 as RFC 5952 and ipaddress write it (the first longest run of two or more zero groups becomes ``::``); the
    C library differs only for addresses whose upper 80 bits are zero (an IPv4 tail), which go through ipaddress.
    """
    if version == 4:
        return '%s/%d' % (socket.inet_ntoa(start.to_bytes(4, 'big')), prefixlen)
    if start >> 48:
        return '%s/%d' % (socket.inet_ntop(socket.AF_INET6, start.to_bytes(16, 'big')), prefixlen)
    return '%s/%d' % (ipaddress.IPv6Address(start), prefixlen)


def parse_network(value: Any, what: str = 'CIDR') -> IPNetwork:
    """Parse ``value`` as a network address with prefix (``10.0.0.0/16``).

    ``what`` names the input in the error (``"subnet"``, ``"exclude[2]"``).
    A CIDR with host bits set is refused, naming the network it would be.
    """
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    if not isinstance(value, str) or '/' not in value:
        raise PlanError(
            "%s %r is not a CIDR: expected an address with a prefix length, "
            "such as '10.0.0.0/16' or 'fd00::/48'" % (what, value)
        )
    try:
        return ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise PlanError("%s %r is not a valid CIDR: %s" % (what, value, exc))
        raise PlanError(
            "%s %r is not a network address: it has host bits set "
            "(the network containing it is %s)" % (what, value, loose)
        )


def parse_interface(value: Any, what: str = 'address') -> IPInterface:
    """Parse an interface address with prefix (``10.0.1.5/24``) into an ``ip_interface``."""
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return value
    if not isinstance(value, str) or '/' not in value:
        raise PlanError("%s %r is not an address with prefix: expected e.g. '10.0.1.5/24'" % (what, value))
    try:
        return ipaddress.ip_interface(value.strip())
    except ValueError as exc:
        raise PlanError("%s %r is not a valid address with prefix: %s" % (what, value, exc))


def parse_address(value: Any, what: str = 'address') -> IPAddress:
    """Parse a bare IP address (``10.0.1.5``)."""
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise PlanError("%s %r is not a valid IP address" % (what, value))


def parse_networks(values: str | Iterable[Any] | None, what: str) -> list[IPNetwork]:
    """Parse a list of CIDRs (``None`` is an empty list); errors name ``what[i]``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.split(',') if v.strip()]
    return [parse_network(v.strip() if isinstance(v, str) else v, '%s[%d]' % (what, i)) for i, v in enumerate(values)]


def check_bits(value: Any, what: str, maximum: int) -> int:
    """Check that ``value`` is an integer between 0 and ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError("%s %r is not a whole number of bits" % (what, value))
    if value < 0 or value > maximum:
        raise PlanError("%s %d is out of range: expected 0 to %d bits" % (what, value, maximum))
    return value


def block(network: str | IPNetwork, extra_bits: int, index: int) -> IPNetwork:
    """The ``index``-th subnet of ``network`` with prefix ``network.prefixlen + extra_bits``.

    ``block(10.0.0.0/16, 8, 3)`` is ``10.0.3.0/24``. Fails naming the limit when
    the prefix does not fit in the address length or the index is past the last block.
    """
    network = parse_network(network)
    new_prefix = network.prefixlen + extra_bits
    if extra_bits < 0 or new_prefix > network.max_prefixlen:
        raise PlanError(
            "%s plus %d bits is /%d, longer than the %d bits of an IPv%d address"
            % (network, extra_bits, new_prefix, network.max_prefixlen, network.version)
        )
    count = 1 << extra_bits
    if index < 0 or index >= count:
        raise PlanError(
            "block index %d does not fit in %s split into /%d blocks: expected 0 to %d"
            % (index, network, new_prefix, count - 1)
        )
    size = 1 << (network.max_prefixlen - new_prefix)
    start = int(network.network_address) + index * size
    # Build by version: ip_network((int, prefix)) would make '::/16' an IPv4 network.
    return network.__class__((start, new_prefix))


def block_index(network: str | IPNetwork, extra_bits: int, subnet: str | IPNetwork) -> int:
    """Inverse of :func:`block`: the index of ``subnet`` inside ``network``."""
    network = parse_network(network)
    subnet = parse_network(subnet)
    # mypy cannot tell that both are of one IP version: subnet_of wants its own class.
    if subnet.prefixlen != network.prefixlen + extra_bits or not subnet.subnet_of(network):  # type: ignore[arg-type]
        raise PlanError("%s is not a /%d block of %s" % (subnet, network.prefixlen + extra_bits, network))
    size = 1 << (network.max_prefixlen - subnet.prefixlen)
    return (int(subnet.network_address) - int(network.network_address)) // size


def overlaps_any(network: IPNetwork, others: Iterable[IPNetwork]) -> IPNetwork | None:
    """The first network of ``others`` (same IP version) that overlaps ``network``, else None."""
    for other in others:
        if other.version == network.version and network.overlaps(other):
            return other
    return None


def find_overlaps(
    named: Iterable[tuple[str, IPNetwork]], reserved: Iterable[tuple[str, IPNetwork]] | None = None
) -> tuple[str, IPNetwork, str, IPNetwork] | None:
    """Check planned ranges against each other and against reserved ones.

    ``named`` is a list of ``(label, network)``; ``reserved`` a list of
    ``(label, network)`` that no planned range may touch (pod, service and
    node networks). Returns ``(label_a, net_a, label_b, net_b)`` of the first
    overlap found, or ``None``. Sort-based, so O(n log n) in the number of ranges.
    """
    items = [(n.version, int(n.network_address), int(n.broadcast_address), label, n, False) for label, n in named]
    items.extend(
        (n.version, int(n.network_address), int(n.broadcast_address), label, n, True) for label, n in (reserved or [])
    )
    items.sort(key=lambda t: (t[0], t[1], -t[2]))
    # Sweep: remember the range reaching furthest so far; any start inside it overlaps.
    # Overlaps between two reserved ranges are the cluster's business, not the plan's.
    reach = None
    reach_planned = None
    for item in items:
        version, start, end, label, net, is_reserved = item
        if reach is not None and reach[0] == version and start <= reach[2]:
            if not (is_reserved and reach[5]):
                return _ordered(reach, item)
            if reach_planned is not None and reach_planned[0] == version and start <= reach_planned[2]:
                return _ordered(reach_planned, item)
        if not is_reserved and (reach_planned is None or reach_planned[0] != version or end > reach_planned[2]):
            reach_planned = item
        if reach is None or reach[0] != version or end > reach[2]:
            reach = item
    return None


def _ordered(a, b):
    # Name the planned range first and the reserved one second.
    if a[5] and not b[5]:
        a, b = b, a
    return a[3], a[4], b[3], b[4]


def check_overlaps(
    named: Iterable[tuple[str, IPNetwork]], reserved: Iterable[tuple[str, IPNetwork]] | None = None
) -> None:
    """Raise :class:`PlanError` naming both ranges when :func:`find_overlaps` finds one."""
    found = find_overlaps(named, reserved)
    if found:
        label_a, net_a, label_b, net_b = found
        raise PlanError("%s %s overlaps %s %s" % (label_a, net_a, label_b, net_b))


def named_reserved(reserved: Reserved) -> list[tuple[str, IPNetwork]]:
    """Normalise ``reserved`` into ``[(label, network)]``.

    Accepts a list of CIDRs (labelled ``reserved[i]``), a list of
    ``{name, cidr}`` dicts, or a dict ``{name: cidr or [cidrs]}`` such as
    ``{pod_network: 10.128.0.0/14, service_network: 172.30.0.0/16}``.
    """
    out: list[tuple[str, IPNetwork]] = []
    if not reserved:
        return out
    if isinstance(reserved, dict):
        for name in reserved:
            values = reserved[name]
            if isinstance(values, str):
                values = [v for v in values.split(',') if v.strip()]
            for i, value in enumerate(values or []):
                label = 'reserved %s' % name if len(values) == 1 else 'reserved %s[%d]' % (name, i)
                out.append(
                    (label, parse_network(value.strip() if isinstance(value, str) else value, 'reserved %s' % name))
                )
        return out
    for i, value in enumerate(reserved):
        if isinstance(value, dict):
            name = value.get('name') or 'reserved[%d]' % i
            out.append(('reserved %s' % name, parse_network(value.get('cidr'), 'reserved %s' % name)))
        else:
            out.append(('reserved[%d]' % i, parse_network(value, 'reserved[%d]' % i)))
    return out
