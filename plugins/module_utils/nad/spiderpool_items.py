# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ``kind: spiderpool`` item: a SpiderSubnet and its SpiderIPPools.

Spiderpool's admission webhooks (pkg/ippoolmanager/ippool_validate.go, ippool_subnet_validate.go,
pkg/subnetmanager/subnet_validate.go) refuse what the CRD schema lets through: a default route
(use the gateway), two routes to one dst, a route gw outside the subnet, a gateway inside ips
unless excludeIPs holds it, and a pool whose addresses (ips less excludeIPs) are not all among
those of the SpiderSubnet that controls it (the subnet of the same CIDR). Checked here first.
"""

import ipaddress

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    SPIDERPOOL_API_VERSION,
    SPIDERPOOL_KEYS,
    SPIDERPOOL_POOL_KEYS,
    STATES,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.ranges import (
    _check_gateway,
    _check_routes,
    _intervals_overlap,
    _parse_ip_range,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    _check_bool,
    _check_choice,
    _check_dict,
    _check_keys,
    _check_list,
    _check_metadata_map,
    _check_names,
    _fail,
    _metadata,
    check_dns_label,
    check_dns_subdomain,
)


def _spider_routes(routes, what, network):
    out = _check_routes(routes, what, gateway_required=True, within=network)
    seen = {}
    for i, route in enumerate(out):
        if cidr.parse_network(route['dst'], what).prefixlen == 0:
            _fail(
                "%s[%d] dst %s is the default route: Spiderpool refuses it (\"please specify 'spec.gateway' to configure "
                "the default route\"); set gateway instead" % (what, i, route['dst'])
            )
        if route['dst'] in seen:
            _fail(
                "%s[%d] dst %s is also the dst of %s[%d]: Spiderpool refuses two routes with the same dst"
                % (what, i, route['dst'], what, seen[route['dst']])
            )
        seen[route['dst']] = i
    return out


def _merged(intervals):
    """Sorted, merged ``[(first, last)]`` of ``(first, last, ...)`` intervals (inclusive integers)."""
    out = []
    for first, last in sorted((i[0], i[1]) for i in intervals):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def _minus(intervals, removed):
    """``intervals`` less ``removed``, both ``[(first, last)]``, merged."""
    out = []
    removed = _merged(removed)
    for first, last in _merged(intervals):
        for rfirst, rlast in removed:
            if rlast < first or rfirst > last:
                continue
            if rfirst > first:
                out.append((first, rfirst - 1))
            first = rlast + 1
            if first > last:
                break
        if first <= last:
            out.append((first, last))
    return out


def _check_spider_gateway(gateway, intervals, excluded, what):
    """Spiderpool refuses a gateway inside ``ips`` unless ``excludeIPs`` holds it."""
    value = int(gateway)
    if any(a <= value <= b for a, b in _merged(excluded)):
        return
    for first, last, text in intervals:
        if first <= value <= last:
            _fail(
                "%s gateway %s is inside ips %r: Spiderpool refuses a gateway it could hand out to a pod; add it to "
                "exclude_ips or keep it out of ips" % (what, gateway, text)
            )


def _spider_ips(values, what, network):
    out = []
    intervals = []
    for i, value in enumerate(_check_list(values, what, ['198.18.40.10-198.18.40.200'])):
        first, last = _parse_ip_range(value, '%s[%d]' % (what, i), network)
        intervals.append((first, last, value))
        out.append(value.strip())
    return out, intervals


def _spiderpool_item(item, ctx):
    name = ctx['name']
    check_dns_subdomain(name, 'name')
    if 'vlan' in item:
        _fail(
            "vlan %r: Spiderpool v1.0.0 removed spec.vlan from SpiderSubnet and SpiderIPPool (the CRD no longer has "
            "it); put the VLAN on the attachment instead (e.g. a macvlan master such as ens1f0.100)" % (item['vlan'],)
        )
    _check_keys(item, SPIDERPOOL_KEYS, 'kind spiderpool')
    state = _check_choice(item.get('state', 'present'), 'state', STATES)
    labels = _check_metadata_map(item.get('labels'), 'labels', True)
    annotations = _check_metadata_map(item.get('annotations'), 'annotations', False)
    create_subnet = _check_bool(item.get('create_subnet', True), 'create_subnet')
    pools = _check_list(
        item.get('ippools'), 'ippools', [{'name': 'storage-v4-a', 'ips': ['198.18.40.10-198.18.40.50']}]
    )
    pool_names = []
    for i, pool in enumerate(pools):
        _check_dict(pool, 'ippools[%d]' % i)
        pool_names.append(check_dns_subdomain(pool.get('name'), 'ippools[%d] name' % i))
    keys = ([('SpiderSubnet', None, name)] if create_subnet else []) + [('SpiderIPPool', None, n) for n in pool_names]
    record = {
        'kind': 'spiderpool',
        'name': name,
        'state': state,
        'ranges': [],
        'ovnk': None,
        'keys': keys,
        'range_owner': ('item', ctx['index']),
    }
    if not create_subnet and not pools:
        _fail("create_subnet is false and there are no ippools: nothing to create")
    if state == 'absent':
        record['objects'] = [
            {'apiVersion': SPIDERPOOL_API_VERSION, 'kind': kind, 'metadata': {'name': n}} for kind, _ns, n in keys
        ]
        return record

    if item.get('subnet') is None:
        _fail("subnet is missing: expected a CIDR such as '198.18.40.0/24'")
    network = cidr.parse_network(item['subnet'], 'subnet')
    ips, intervals = _spider_ips(item.get('ips'), 'ips', network)
    exclude, excl_intervals = _spider_ips(item.get('exclude_ips'), 'exclude_ips', network)
    found = _intervals_overlap(intervals)
    if found:
        _fail("ips %r overlaps ips %r: expected distinct ranges" % (found[0][2], found[1][2]))
    gateway = _check_gateway(item['gateway'], network, 'subnet') if item.get('gateway') is not None else None
    if gateway is not None:
        _check_spider_gateway(gateway, intervals, excl_intervals, 'subnet')
    routes = _spider_routes(item.get('routes'), 'routes', network)
    spec = {'ipVersion': network.version, 'subnet': str(network)}
    if ips:
        spec['ips'] = ips
    if exclude:
        spec['excludeIPs'] = exclude
    if gateway is not None:
        spec['gateway'] = str(gateway)
    if routes:
        spec['routes'] = routes
    objects = []
    if create_subnet:
        if pools and not ips:
            _fail(
                "the SpiderSubnet %s has no ips but %d ippools: a SpiderSubnet controls the pools of its subnet, and "
                "Spiderpool refuses a pool whose addresses the SpiderSubnet does not hold; expected ips covering the "
                "pools' ips, or create_subnet: false" % (name, len(pools))
            )
        objects.append(
            {
                'apiVersion': SPIDERPOOL_API_VERSION,
                'kind': 'SpiderSubnet',
                'metadata': _metadata(name, None, labels, annotations),
                'spec': spec,
            }
        )
    subnet_total = _minus(intervals, excl_intervals)

    seen = {}
    pool_intervals = []
    for i, pool in enumerate(pools):
        pwhat = 'ippools[%d] (%s)' % (i, pool_names[i])
        _check_keys(pool, SPIDERPOOL_POOL_KEYS, pwhat)
        if pool_names[i] in seen:
            _fail("%s repeats the name of ippools[%d]: expected unique pool names" % (pwhat, seen[pool_names[i]]))
        seen[pool_names[i]] = i
        pool_ips, p_intervals = _spider_ips(pool.get('ips'), '%s ips' % pwhat, network)
        if not pool_ips:
            _fail("%s has no ips: expected e.g. ['198.18.40.10-198.18.40.50'] inside the subnet %s" % (pwhat, network))
        pool_exclude, pe_intervals = _spider_ips(pool.get('exclude_ips'), '%s exclude_ips' % pwhat, network)
        if create_subnet:
            outside = _minus(_minus(p_intervals, pe_intervals), subnet_total)
            if outside:
                first, last = outside[0]
                addresses = (
                    str(ipaddress.ip_address(first))
                    if first == last
                    else '%s-%s' % (ipaddress.ip_address(first), ipaddress.ip_address(last))
                )
                _fail(
                    "%s ips %s hold %s, outside the subnet's ips %s%s: a pool takes its addresses from the SpiderSubnet"
                    % (
                        pwhat,
                        ', '.join(pool_ips),
                        addresses,
                        ', '.join(ips),
                        ' less its exclude_ips %s' % ', '.join(exclude) if exclude else '',
                    )
                )
        for first, last, text in p_intervals:
            pool_intervals.append((first, last, '%s ips %r' % (pwhat, text)))
        pspec = {'ipVersion': network.version, 'subnet': str(network), 'ips': pool_ips}
        if pool_exclude:
            pspec['excludeIPs'] = pool_exclude
        pool_gateway = _check_gateway(pool['gateway'], network, pwhat) if pool.get('gateway') is not None else gateway
        if pool_gateway is not None:
            _check_spider_gateway(
                pool_gateway,
                p_intervals,
                pe_intervals,
                pwhat if pool.get('gateway') is not None else '%s (from the subnet)' % pwhat,
            )
            pspec['gateway'] = str(pool_gateway)
        proutes = _spider_routes(pool.get('routes'), '%s routes' % pwhat, network)
        if proutes:
            pspec['routes'] = proutes
        elif routes:
            pspec['routes'] = routes
        for key, out_key, check in (
            ('namespace_name', 'namespaceName', check_dns_label),
            ('node_name', 'nodeName', check_dns_subdomain),
            ('multus_name', 'multusName', _check_multus_name),
        ):
            values = _check_names(pool.get(key), '%s %s' % (pwhat, key), ['aistore'], check)
            if values:
                pspec[out_key] = values
        if pool.get('default') is not None:
            pspec['default'] = _check_bool(pool['default'], '%s default' % pwhat)
        plabels = dict(labels)
        plabels.update(_check_metadata_map(pool.get('labels'), '%s labels' % pwhat, True))
        pannotations = dict(annotations)
        pannotations.update(_check_metadata_map(pool.get('annotations'), '%s annotations' % pwhat, False))
        objects.append(
            {
                'apiVersion': SPIDERPOOL_API_VERSION,
                'kind': 'SpiderIPPool',
                'metadata': _metadata(pool_names[i], None, plabels, pannotations),
                'spec': pspec,
            }
        )
    found = _intervals_overlap(pool_intervals)
    if found:
        _fail("%s overlaps %s: two SpiderIPPools cannot hand out the same addresses" % (found[0][2], found[1][2]))
    record['objects'] = objects
    record['ranges'] = [('Spiderpool subnet', network)]
    return record


def _check_multus_name(value, what):
    """A NAD reference as Spiderpool's multusName takes it: ``name`` or ``namespace/name``."""
    if not is_text(value):
        _fail("%s %r is not a NAD name: expected 'name' or 'namespace/name'" % (what, value))
    parts = value.split('/')
    if len(parts) > 2:
        _fail("%s %r is not a NAD name: expected 'name' or 'namespace/name'" % (what, value))
    for part in parts:
        check_dns_label(part, what)
    return value
