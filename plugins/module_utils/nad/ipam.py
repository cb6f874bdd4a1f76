# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``ipam`` block of a NAD or MultiNicNetwork: whereabouts, host-local, static, dhcp, spiderpool or none.

Each builder returns the CNI ``ipam`` dict and the networks it hands out, for the overlap check.
"""

import ipaddress

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    _ONE_ADDRESS_PER_FAMILY,
    IPAM_KEYS,
    IPAM_TYPES,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.plan import _from_plan
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.ranges import (
    _check_gateway,
    _check_range_bounds,
    _check_routes,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    _DIGITS,
    _address,
    _check_bool,
    _check_dict,
    _check_host_address,
    _check_keys,
    _check_list,
    _check_names,
    _check_text,
    _fail,
    check_dns_subdomain,
)


def _ipam_whereabouts(spec, ctx):
    what = ctx['what']
    out = {'type': 'whereabouts'}
    if spec.get('from_plan') is not None:
        for key in ('range', 'range_start', 'range_end'):
            if spec.get(key) is not None:
                _fail("%s gives both from_plan and %s %r: expected one source for the range" % (what, key, spec[key]))
        network, first, last, slice_prefix = _from_plan(spec['from_plan'], ctx['name'], ctx['plan'], what)
    else:
        if spec.get('range') is None:
            _fail("%s has no range: expected a CIDR such as '198.18.32.0/24', or from_plan" % what)
        network = cidr.parse_network(spec['range'], '%s range' % what)
        first, last = _check_range_bounds(network, spec.get('range_start'), spec.get('range_end'), what)
        slice_prefix = None
    out['range'] = str(network)
    if first is not None:
        out['range_start'] = str(first)
    if last is not None:
        out['range_end'] = str(last)
    excludes = cidr.parse_networks(spec.get('exclude'), '%s exclude' % what)
    for i, excl in enumerate(excludes):
        if excl.version != network.version or not excl.subnet_of(network):
            _fail(
                "%s exclude[%d] %s is not inside the range %s: expected each excluded CIDR inside it"
                % (what, i, excl, network)
            )
    if excludes:
        out['exclude'] = [str(e) for e in excludes]
    if spec.get('gateway') is not None:
        out['gateway'] = str(_check_gateway(spec['gateway'], network, what))
    routes = _check_routes(spec.get('routes'), '%s routes' % what)
    if routes:
        out['routes'] = routes
    if spec.get('enable_overlapping_ranges') is not None:
        out['enable_overlapping_ranges'] = _check_bool(
            spec['enable_overlapping_ranges'], '%s enable_overlapping_ranges' % what
        )
    if spec.get('network_name') is not None:
        out['network_name'] = _check_text(spec['network_name'], '%s network_name' % what, 'storage')
    size = spec.get('node_slice_size')
    if spec.get('node_slices') is not None and _check_bool(spec['node_slices'], '%s node_slices' % what):
        if size is not None:
            _fail("%s gives both node_slices and node_slice_size %r: expected one" % (what, size))
        if spec.get('from_plan') is None or slice_prefix is None:
            _fail("%s node_slices needs from_plan naming a plan network with per-node slices (node_prefix)" % what)
        size = slice_prefix
    if size is not None:
        text = size[1:] if is_text(size) and size.startswith('/') else size
        if isinstance(text, bool) or not (isinstance(text, int) or (is_text(text) and _DIGITS.match(text))):
            _fail("%s node_slice_size %r is not a prefix length: expected e.g. '/28'" % (what, size))
        prefix = int(text)
        if network.version != 4:
            _fail(
                "%s node_slice_size %r on the IPv6 range %s: whereabouts slices IPv4 ranges only"
                % (what, size, network)
            )
        if prefix < network.prefixlen or prefix > network.max_prefixlen:
            _fail(
                "%s node_slice_size %r does not fit the range %s: expected /%d to /%d"
                % (what, size, network, network.prefixlen, network.max_prefixlen)
            )
        # whereabouts hands each node its slice's first to last usable address and reads neither range_start,
        # range_end nor exclude then (pkg/storage/kubernetes/ipam.go): given, they would be ignored silently.
        if spec.get('from_plan') is None:
            ignored = [key for key in ('range_start', 'range_end', 'exclude') if spec.get(key) not in (None, [], '')]
            if ignored:
                _fail(
                    "%s gives node_slice_size %r and %s: whereabouts ignores %s when it slices the range per node "
                    "(each node gets its slice's first to last usable address); expected one or the other"
                    % (what, size, ' and '.join(ignored), 'them' if len(ignored) > 1 else 'it')
                )
        elif excludes:
            _fail(
                "%s gives node_slices and exclude %s: whereabouts ignores exclude when it slices the range per node; "
                "expected one or the other" % (what, ', '.join(str(e) for e in excludes))
            )
        # The plan's range_start/range_end are the range's first and last usable address: the slices
        # already keep to them, so they are left out rather than written and ignored.
        out.pop('range_start', None)
        out.pop('range_end', None)
        out['node_slice_size'] = '/%d' % prefix
        # whereabouts' node-slice controller takes every whereabouts NAD of one network_name (none given counts as
        # one name) for the same network and refuses to slice when their ranges differ (pkg/node-controller,
        # checkForMultiNadMismatch): a sliced NAD gets its own name unless one is given.
        out.setdefault('network_name', ctx['name'])
    return out, [('whereabouts range', network)]


def _host_local_range(entry, what):
    _check_dict(entry, what)
    _check_keys(entry, ('subnet', 'range_start', 'range_end', 'gateway'), what)
    if entry.get('subnet') is None:
        _fail("%s has no subnet: expected a CIDR such as '198.18.32.0/24'" % what)
    network = cidr.parse_network(entry['subnet'], '%s subnet' % what)
    first, last = _check_range_bounds(network, entry.get('range_start'), entry.get('range_end'), what)
    out = {'subnet': str(network)}
    if first is not None:
        out['rangeStart'] = str(first)
    if last is not None:
        out['rangeEnd'] = str(last)
    if entry.get('gateway') is not None:
        out['gateway'] = str(_check_gateway(entry['gateway'], network, what))
    return out, network


def _ipam_host_local(spec, ctx):
    what = ctx['what']
    flat = dict((k, spec[k]) for k in ('subnet', 'range_start', 'range_end', 'gateway') if spec.get(k) is not None)
    if spec.get('from_plan') is not None:
        if flat or spec.get('ranges') is not None:
            _fail("%s gives from_plan together with subnet/ranges: expected one source for the range" % what)
        network, first, last, _slices = _from_plan(spec['from_plan'], ctx['name'], ctx['plan'], what)
        flat = {'subnet': str(network)}
        if first is not None:
            flat['range_start'] = str(first)
        if last is not None:
            flat['range_end'] = str(last)
    if flat and spec.get('ranges') is not None:
        _fail("%s gives both ranges and subnet/range_start/range_end/gateway: expected one form" % what)
    range_sets = [[flat]] if flat else spec.get('ranges')
    if not isinstance(range_sets, list) or not range_sets:
        _fail("%s has no subnet or ranges: expected subnet: <CIDR> or ranges: [[{subnet: <CIDR>}]]" % what)
    out_sets = []
    named = []
    for i, range_set in enumerate(range_sets):
        swhat = '%s ranges[%d]' % (what, i)
        if isinstance(range_set, dict):
            range_set = [range_set]
        if not isinstance(range_set, list) or not range_set:
            _fail("%s %r is not a list of ranges: expected [{subnet: <CIDR>}]" % (swhat, range_set))
        built = [_host_local_range(entry, '%s[%d]' % (swhat, j)) for j, entry in enumerate(range_set)]
        families = set(net.version for _entry, net in built)
        if len(families) > 1:
            # host-local: one address per range set, so a set holds one family ("mixed address families").
            _fail(
                "%s mixes IPv4 and IPv6: host-local gives one address per range set, so each set holds one family"
                % swhat
            )
        found = cidr.find_overlaps([('%s[%d] subnet' % (swhat, j), net) for j, (_entry, net) in enumerate(built)])
        if found:
            _fail("%s %s overlaps %s %s: expected distinct subnets in one range set" % found)
        out_sets.append([entry for entry, _net in built])
        named.extend(('host-local subnet', net) for _entry, net in built)
    out = {'type': 'host-local', 'ranges': out_sets}
    routes = _check_routes(spec.get('routes'), '%s routes' % what)
    if routes:
        out['routes'] = routes
    return out, named


def _ipam_static(spec, ctx):
    what = ctx['what']
    out = {'type': 'static'}
    addresses = []
    named = []
    per_family = {}
    for i, entry in enumerate(
        _check_list(spec.get('addresses'), '%s addresses' % what, [{'address': '198.18.0.5/24'}])
    ):
        awhat = '%s addresses[%d]' % (what, i)
        _check_dict(entry, awhat)
        _check_keys(entry, ('address', 'gateway'), awhat)
        iface = _check_host_address(
            cidr.parse_interface(entry.get('address'), '%s address' % awhat), '%s address' % awhat
        )
        net = iface.network
        item = {'address': str(iface)}
        if entry.get('gateway') is not None:
            gateway = _check_gateway(entry['gateway'], net, awhat)
            if gateway == iface.ip:
                _fail("%s gateway %s is the address itself: expected another address of %s" % (awhat, gateway, net))
            item['gateway'] = str(gateway)
        per_family[net.version] = per_family.get(net.version, 0) + 1
        addresses.append(item)
        named.append(('static address', ipaddress.ip_network(iface.ip)))
    if ctx['cni_version'] in _ONE_ADDRESS_PER_FAMILY and any(n > 1 for n in per_family.values()):
        _fail(
            "%s has several addresses of one family but cniVersion %s allows one per family: expected cniVersion "
            "0.3.0 or later" % (what, ctx['cni_version'])
        )
    if addresses:
        out['addresses'] = addresses
    elif not ctx['capabilities'].get('ips'):
        _fail(
            "%s has no addresses and capabilities.ips is not true: the interface would get no address; expected "
            "addresses, or capabilities: {ips: true} so that the pod annotation's ips reach the plugin" % what
        )
    routes = _check_routes(spec.get('routes'), '%s routes' % what)
    if routes:
        out['routes'] = routes
    if spec.get('dns') is not None:
        dns = _check_dict(spec['dns'], '%s dns' % what)
        _check_keys(dns, ('nameservers', 'domain', 'search', 'options'), '%s dns' % what)
        out['dns'] = dict((k, dns[k]) for k in ('nameservers', 'domain', 'search', 'options') if dns.get(k) is not None)
        for j, server in enumerate(out['dns'].get('nameservers') or []):
            _address(server, '%s dns nameservers[%d]' % (what, j))
    return out, named


def _ipam_spiderpool(spec, ctx):
    what = ctx['what']
    out = {'type': 'spiderpool'}
    for key in ('default_ipv4_ippool', 'default_ipv6_ippool'):
        names = _check_names(spec.get(key), '%s %s' % (what, key), ['storage-v4'], check_dns_subdomain)
        if names:
            out[key] = names
    if spec.get('clean_gateway') is not None:
        out['clean_gateway'] = _check_bool(spec['clean_gateway'], '%s clean_gateway' % what)
    return out, []


def _build_ipam(spec, ctx):
    """``(ipam dict for the CNI config, [(label, network)] it hands out)``."""
    what = ctx['what']
    spec = _check_dict(spec, what)
    ipam_type = spec.get('type')
    if ipam_type is None:
        ipam_type = 'whereabouts' if spec.get('from_plan') is not None else None
    if ipam_type not in IPAM_TYPES:
        _fail("%s type %r is not supported: expected one of %s" % (what, ipam_type, ', '.join(IPAM_TYPES)))
    _check_keys(spec, IPAM_KEYS[ipam_type], '%s (type %s)' % (what, ipam_type))
    if ipam_type == 'dhcp' and ctx['type'] == 'ipvlan':
        # ipvlan interfaces share the master's MAC; the dhcp plugin has no client-id support (ipvlan README).
        _fail(
            "%s type 'dhcp' cannot be used with ipvlan: ipvlan interfaces share the master's MAC address and the "
            "dhcp plugin does not support a client ID; expected whereabouts, host-local or static" % what
        )
    if ipam_type == 'none':
        return {}, []
    if ipam_type == 'dhcp':
        return {'type': 'dhcp'}, []
    builder = {
        'whereabouts': _ipam_whereabouts,
        'host-local': _ipam_host_local,
        'static': _ipam_static,
        'spiderpool': _ipam_spiderpool,
    }[ipam_type]
    return builder(spec, ctx)
