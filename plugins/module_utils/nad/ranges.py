# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routes, address ranges and gateways inside a network, for the IPAM blocks and Spiderpool."""

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    _address,
    _check_dict,
    _check_keys,
    _check_list,
    _fail,
    _inside,
)


def _check_routes(routes, what, gateway_required=False, within=None):
    """``[{dst, gw}]``: dst a CIDR, gw an address of the same family (inside ``within`` when given)."""
    out = []
    for i, route in enumerate(_check_list(routes, what, [{'dst': '198.19.0.0/16', 'gw': '198.18.0.1'}])):
        rwhat = '%s[%d]' % (what, i)
        _check_dict(route, rwhat)
        _check_keys(route, ('dst', 'gw'), rwhat)
        dst = cidr.parse_network(route.get('dst'), '%s dst' % rwhat)
        entry = {'dst': str(dst)}
        if route.get('gw') is not None:
            gw = _address(route['gw'], '%s gw' % rwhat)
            if gw.version != dst.version:
                _fail(
                    "%s gw %s is IPv%d but dst %s is IPv%d: expected the same family"
                    % (rwhat, gw, gw.version, dst, dst.version)
                )
            if within is not None and not _inside(gw, within):
                _fail("%s gw %s is outside %s: expected a next hop inside it" % (rwhat, gw, within))
            entry['gw'] = str(gw)
        elif gateway_required:
            _fail("%s has no gw: expected e.g. {dst: %s, gw: <address>}" % (rwhat, dst))
        out.append(entry)
    return out


def _check_range_bounds(network, start, end, what):
    """range_start/range_end (either may be None) inside ``network`` and ordered; returns the addresses."""
    first = last = None
    if start is not None:
        first = _address(start, '%s range_start' % what)
        if not _inside(first, network):
            _fail("%s range_start %s is outside the range %s: expected an address inside it" % (what, first, network))
    if end is not None:
        last = _address(end, '%s range_end' % what)
        if not _inside(last, network):
            _fail("%s range_end %s is outside the range %s: expected an address inside it" % (what, last, network))
    if first is not None and last is not None and int(first) > int(last):
        _fail("%s range_start %s is after range_end %s: expected range_start <= range_end" % (what, first, last))
    return first, last


def _check_gateway(value, network, what):
    gateway = _address(value, '%s gateway' % what)
    if not _inside(gateway, network):
        _fail("%s gateway %s is outside %s: expected an address inside it" % (what, gateway, network))
    return gateway


def _parse_ip_range(value, what, network):
    """Spiderpool IP notation: ``a`` or ``a-b`` (inclusive), inside ``network``; returns ``(int a, int b)``."""
    if not is_text(value) or not value.strip():
        _fail("%s %r is not an IP or IP range: expected e.g. '198.18.40.10-198.18.40.200'" % (what, value))
    parts = value.split('-')
    if len(parts) > 2:
        _fail("%s %r is not an IP or IP range: expected 'first-last'" % (what, value))
    first = _address(parts[0], what)
    last = _address(parts[-1], what)
    for addr in (first, last):
        if not _inside(addr, network):
            _fail("%s %r: %s is outside the subnet %s" % (what, value, addr, network))
    if int(first) > int(last):
        _fail("%s %r starts after it ends: expected 'first-last' with first <= last" % (what, value))
    return int(first), int(last)


def _intervals_overlap(intervals):
    """The first two overlapping ``(start, end, label)`` intervals, or None."""
    ordered = sorted(intervals)
    for prev, cur in zip(ordered, ordered[1:]):
        if cur[0] <= prev[1]:
            return prev, cur
    return None
