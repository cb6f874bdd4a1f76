# -*- coding: utf-8 -*-
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate an inventory list of secondary networks and build their Kubernetes objects.

One place where every network attachment is checked before anything is applied:
:func:`build_objects` turns the ``networks`` list into Multus
NetworkAttachmentDefinitions (``k8s.cni.cncf.io/v1``, ``spec.config`` a compact
CNI JSON string), Spiderpool SpiderSubnets/SpiderIPPools and Multi-NIC CNI
MultiNicNetworks, or raises one :class:`NadError` listing every problem found.
Nothing is returned half done.

Upstream rules this file follows (see the report in docs or the tests for sources):

* CNI plugins of containernetworking-plugins 1.1.1 accept cniVersion 0.1.0 to
  1.0.0; macvlan modes are bridge/private/vepa/passthru, ipvlan modes l2/l3/l3s;
  the bridge plugin refuses a VLAN outside 0..4094; the static IPAM plugin reads
  addresses in CIDR notation and, for cniVersion 0.1.0/0.2.0, one per family.
* Multus parses ``ns/name@ifname``, checks names against the DNS-1123 label
  pattern and interface names for length (< IFNAMSIZ) and ``/`` or whitespace;
  unnamed attachments get ``net<position>``.
* OVN-Kubernetes (``ovn-k8s-cni-overlay``) refuses an ``ipam`` type, the network
  names ``default`` and ``ovn-kubernetes``, a ``netAttachDefName`` other than
  ``<namespace>/<name>``, persistent IPs on layer3, a role on localnet, and
  treats NADs with one network name as one network (identical settings).

Standard library only (json, re, ipaddress) plus this collection's CIDR helpers.
"""


import ipaddress
import json
import re

from ansible_collections.netplumb.multihome.plugins.module_utils import checks, cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import DNS_SUBDOMAIN, is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import tabu_interfaces
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import TOPOLOGIES, plan_node_subnets
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import unwrap_plan


class NadError(PlanError):
    """A network definition that cannot be applied; the message names the network, the value and what was expected.

    A :class:`cidr.PlanError` (so a ``ValueError``): callers catching either get it.
    """


NAD_API_VERSION = 'k8s.cni.cncf.io/v1'
NAD_KIND = 'NetworkAttachmentDefinition'
RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName'
NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks'
SPIDERPOOL_API_VERSION = 'spiderpool.spidernet.io/v2beta1'
SPIDERPOOL_IPPOOLS_ANNOTATION = 'ipam.spidernet.io/ippools'
SPIDERPOOL_SUBNETS_ANNOTATION = 'ipam.spidernet.io/subnets'
MULTINIC_API_VERSION = 'multinic.fms.io/v1'

# What containernetworking-plugins 1.1.1 report for CNI_COMMAND=VERSION.
CNI_VERSIONS = ('0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0')
# Accepted by every plugin above, by whereabouts, and the value OVN-Kubernetes documents as required.
DEFAULT_CNI_VERSION = '0.3.1'
OVNK_CNI_VERSION = '0.3.1'
# static IPAM: "CNI version 0.1.0/0.2.0 does not support more than 1 address per family".
_ONE_ADDRESS_PER_FAMILY = ('0.1.0', '0.2.0')

OVNK = 'ovn-k8s-cni-overlay'
NAD_TYPES = ('macvlan', 'ipvlan', 'bridge', 'host-device', 'sriov', OVNK)
KINDS = ('nad', 'spiderpool', 'multinicnetwork')
STATES = ('present', 'absent')
IPAM_TYPES = ('whereabouts', 'host-local', 'static', 'dhcp', 'spiderpool', 'none')
MACVLAN_MODES = ('bridge', 'vepa', 'private', 'passthru')
IPVLAN_MODES = ('l2', 'l3', 'l3s')
OVNK_RESERVED_NAMES = ('default', 'ovn-kubernetes')
OVNK_ROLES = ('primary', 'secondary')
SRIOV_LINK_STATES = ('auto', 'enable', 'disable')
MULTINIC_VLAN_MODES = ('l2', 'l3', 'l3s')
MULTINIC_STRATEGIES = ('none', 'costOpt', 'perfOpt', 'devClass', 'topology')
MTU_MIN, MTU_MAX = 68, 65535

COMMON_KEYS = ('kind', 'name', 'namespace', 'namespaces', 'state', 'type', 'cni_version', 'ipam',
               'labels', 'annotations', 'capabilities', 'extra_config')
TYPE_KEYS = {
    'macvlan': ('master', 'mode', 'mtu'),
    'ipvlan': ('master', 'mode', 'mtu'),
    'bridge': ('bridge', 'mtu', 'vlan', 'is_gateway', 'is_default_gateway', 'force_address', 'ip_masq',
               'hairpin_mode', 'promisc_mode'),
    'host-device': ('device', 'hwaddr', 'kernelpath', 'pci_bus_id'),
    'sriov': ('resource_name', 'vlan', 'vlan_qos', 'spoofchk', 'trust', 'link_state', 'mac', 'min_tx_rate',
              'max_tx_rate'),
    OVNK: ('topology', 'subnets', 'exclude_subnets', 'join_subnet', 'mtu', 'vlan_id', 'physical_network_name',
           'allow_persistent_ips', 'role', 'network_name'),
}
SPIDERPOOL_KEYS = ('kind', 'name', 'state', 'labels', 'annotations', 'subnet', 'ips', 'exclude_ips', 'gateway',
                   'routes', 'create_subnet', 'ippools')
SPIDERPOOL_POOL_KEYS = ('name', 'ips', 'exclude_ips', 'gateway', 'routes', 'namespace_name', 'node_name',
                        'multus_name', 'default', 'labels', 'annotations')
MULTINIC_KEYS = ('kind', 'name', 'state', 'labels', 'annotations', 'subnet', 'ipam', 'multi_nic_ipam', 'plugin',
                 'attach_policy', 'namespaces', 'master_nets', 'cni_version')
DEFAULT_KEYS = tuple(k for k in COMMON_KEYS if k not in ('kind', 'name')) + tuple(
    sorted(set(k for keys in TYPE_KEYS.values() for k in keys)))

IPAM_KEYS = {
    'whereabouts': ('type', 'range', 'range_start', 'range_end', 'exclude', 'gateway', 'routes',
                    'enable_overlapping_ranges', 'network_name', 'node_slice_size', 'from_plan', 'node_slices'),
    'host-local': ('type', 'subnet', 'range_start', 'range_end', 'gateway', 'ranges', 'routes', 'from_plan'),
    'static': ('type', 'addresses', 'routes', 'dns'),
    'dhcp': ('type',),
    'spiderpool': ('type', 'default_ipv4_ippool', 'default_ipv6_ippool', 'clean_gateway'),
    'none': ('type',),
}

_QUALIFIED_NAME = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_MAC = re.compile(r'^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$')
_DIGITS = re.compile(r'^[0-9]+$')
_BANDWIDTH = re.compile(r'^[0-9]+(Gbps|Mbps|Kbps)$')


# ------------------------------------------------------------------ small checks

def _fail(message):
    raise NadError(message)


def check_dns_label(value, what):
    """``value`` if it is a DNS-1123 label (what Kubernetes and Multus accept as a NAD name or namespace)."""
    return checks.check_dns_label(value, what, NadError)


def check_dns_subdomain(value, what):
    """``value`` if it is a DNS-1123 subdomain (the name of a cluster-scoped custom resource)."""
    return checks.check_dns_subdomain(value, what, NadError)


def check_ifname(value, what):
    """``value`` if it is a legal Linux interface name (see :func:`checks.check_ifname`)."""
    return checks.check_ifname(value, what, NadError)


def _check_int(value, what, low, high):
    """A whole number from ``low`` to ``high``; a string of digits (what templating makes of a number) is accepted."""
    if isinstance(value, bool):
        _fail("%s %r is not a whole number: expected %d to %d" % (what, value, low, high))
    if is_text(value) and _DIGITS.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        _fail("%s %r is not a whole number: expected %d to %d" % (what, value, low, high))
    if value < low or value > high:
        _fail("%s %d is out of range: expected %d to %d" % (what, value, low, high))
    return value


def _check_bool(value, what):
    if not isinstance(value, bool):
        _fail("%s %r is not a boolean: expected true or false" % (what, value))
    return value


def _check_choice(value, what, choices):
    if value not in choices:
        _fail("%s %r is not supported: expected one of %s" % (what, value, ', '.join(choices)))
    return value


def _check_text(value, what, example):
    if not is_text(value) or not value.strip():
        _fail("%s %r is not a non-empty string: expected e.g. %r" % (what, value, example))
    return value.strip()


def _check_dict(value, what):
    if not isinstance(value, dict):
        _fail("%s %r is not a dict" % (what, value))
    return value


def _check_list(value, what, example):
    """A list (a comma-separated string is split); ``None`` is an empty list."""
    if value is None:
        return []
    if is_text(value):
        return [v.strip() for v in value.split(',') if v.strip()]
    if not isinstance(value, (list, tuple)):
        _fail("%s %r is not a list: expected e.g. %r" % (what, value, example))
    return list(value)


def _check_names(value, what, example, check):
    """``_check_list``, then ``check(name, '<what>[i]')`` on each element; the list."""
    names = _check_list(value, what, example)
    for i, name in enumerate(names):
        check(name, '%s[%d]' % (what, i))
    return names


def _check_keys(spec, allowed, what):
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        # A misspelt key would silently fall back to a plugin default: refuse what we do not know.
        _fail("%s has unknown key(s) %s: expected only %s" % (what, ', '.join(unknown), ', '.join(allowed)))


def _check_mtu(value, what='mtu'):
    return _check_int(value, what, MTU_MIN, MTU_MAX)


def _address(value, what):
    return cidr.parse_address(value, what)


def _check_host_address(iface, what):
    """An interface address that is neither the network address nor (IPv4) the broadcast address of its subnet."""
    net = iface.network
    if net.num_addresses > 2 and iface.ip == net.network_address:
        _fail("%s %s is the network address of %s: expected a host address" % (what, iface, net))
    if net.version == 4 and net.num_addresses > 2 and iface.ip == net.broadcast_address:
        _fail("%s %s is the broadcast address of %s: expected a host address" % (what, iface, net))
    return iface


def _inside(address, network):
    return address.version == network.version and address in network


def _check_metadata_map(values, what, labels):
    """Kubernetes label or annotation map: qualified-name keys, label values limited like names."""
    if values is None:
        return {}
    _check_dict(values, what)
    out = {}
    for key in values:
        value = values[key]
        if not is_text(key) or not key:
            _fail("%s key %r is not a string" % (what, key))
        prefix, slash, name = key.rpartition('/')
        if (slash and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 \
                or not _QUALIFIED_NAME.match(name):
            _fail("%s key %r is not a valid Kubernetes key: expected [prefix/]name with a DNS subdomain prefix and "
                  "a name of at most 63 letters, digits, '-', '_' or '.'" % (what, key))
        if labels:
            if not is_text(value) or (value and (len(value) > 63 or not _QUALIFIED_NAME.match(value))):
                _fail("%s %r value %r is not a valid label value: expected at most 63 letters, digits, '-', '_' "
                      "or '.', starting and ending with a letter or digit" % (what, key, value))
        elif not is_text(value):
            _fail("%s %r value %r is not a string: annotation values are strings" % (what, key, value))
        out[key] = value
    return out


def _metadata(name, namespace, labels, annotations):
    meta = {'name': name}
    if namespace is not None:
        meta['namespace'] = namespace
    if labels:
        meta['labels'] = dict(labels)
    if annotations:
        meta['annotations'] = dict(annotations)
    return meta


def _compact(value):
    return json.dumps(value, separators=(',', ':'))


def check_cni_config(text, what='spec.config'):
    """Parse a CNI config JSON string; it must be an object with ``cniVersion`` and ``type`` (or ``plugins``)."""
    try:
        conf = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise NadError("%s %r is not valid JSON: %s" % (what, text, exc))
    if not isinstance(conf, dict):
        _fail("%s %r is not a JSON object" % (what, text))
    if conf.get('cniVersion') not in CNI_VERSIONS:
        _fail("%s has cniVersion %r: expected one of %s" % (what, conf.get('cniVersion'), ', '.join(CNI_VERSIONS)))
    if not conf.get('type') and not conf.get('plugins'):
        _fail("%s has neither 'type' nor 'plugins': a CNI config names its plugin" % what)
    return conf


# ------------------------------------------------------------------ routes, ranges

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
                _fail("%s gw %s is IPv%d but dst %s is IPv%d: expected the same family" % (rwhat, gw, gw.version, dst, dst.version))
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


# ------------------------------------------------------------------ the plan

def _plan_networks(plan):
    """``{name: entry}`` of a cidr_plan ``network_ranges`` plan (or a whole result holding one)."""
    plan = unwrap_plan(plan, 'plan')
    entries = plan.get('networks')
    if not isinstance(entries, list):
        _fail("plan %r has no 'networks' list: expected the plan of a cidr_plan network_ranges result" % (plan,))
    out = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and is_text(entry.get('name')) and entry['name'] not in out:
            out[entry['name']] = entry
        else:
            _fail("plan networks[%d] %r is not a {name, range, range_start, range_end} entry" % (i, entry))
    return out


def _from_plan(ref, own_name, plan, what):
    """``(range network, first, last, node slice prefix or None)`` of ``ref`` in ``plan``."""
    name = own_name if ref is True else ref
    if not is_text(name) or not name:
        _fail("%s from_plan %r is not a network name: expected the name of a network in the plan, or true for %r"
              % (what, ref, own_name))
    if plan is None:
        _fail("%s from_plan %r needs a plan: pass the 'plan' of a cidr_plan network_ranges result" % (what, name))
    networks = _plan_networks(plan)
    if name not in networks:
        _fail("%s from_plan %r is not in the plan: expected one of %s" % (what, name, ', '.join(sorted(networks)) or '(none)'))
    entry = networks[name]
    pwhat = 'plan network %r' % name
    network = cidr.parse_network(entry.get('range'), '%s range' % pwhat)
    first, last = _check_range_bounds(network, entry.get('range_start'), entry.get('range_end'), pwhat)
    slice_prefix = None
    nodes = entry.get('nodes') or []
    if nodes:
        slice_prefix = cidr.parse_network(nodes[0].get('range'), '%s nodes[0] range' % pwhat).prefixlen
    return network, first, last, slice_prefix


# ------------------------------------------------------------------ IPAM

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
            _fail("%s exclude[%d] %s is not inside the range %s: expected each excluded CIDR inside it" % (what, i, excl, network))
    if excludes:
        out['exclude'] = [str(e) for e in excludes]
    if spec.get('gateway') is not None:
        out['gateway'] = str(_check_gateway(spec['gateway'], network, what))
    routes = _check_routes(spec.get('routes'), '%s routes' % what)
    if routes:
        out['routes'] = routes
    if spec.get('enable_overlapping_ranges') is not None:
        out['enable_overlapping_ranges'] = _check_bool(spec['enable_overlapping_ranges'], '%s enable_overlapping_ranges' % what)
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
            _fail("%s node_slice_size %r on the IPv6 range %s: whereabouts slices IPv4 ranges only" % (what, size, network))
        if prefix < network.prefixlen or prefix > network.max_prefixlen:
            _fail("%s node_slice_size %r does not fit the range %s: expected /%d to /%d"
                  % (what, size, network, network.prefixlen, network.max_prefixlen))
        # whereabouts hands each node its slice's first to last usable address and reads neither range_start,
        # range_end nor exclude then (pkg/storage/kubernetes/ipam.go): given, they would be ignored silently.
        if spec.get('from_plan') is None:
            ignored = [key for key in ('range_start', 'range_end', 'exclude') if spec.get(key) not in (None, [], '')]
            if ignored:
                _fail("%s gives node_slice_size %r and %s: whereabouts ignores %s when it slices the range per node "
                      "(each node gets its slice's first to last usable address); expected one or the other"
                      % (what, size, ' and '.join(ignored), 'them' if len(ignored) > 1 else 'it'))
        elif excludes:
            _fail("%s gives node_slices and exclude %s: whereabouts ignores exclude when it slices the range per node; "
                  "expected one or the other" % (what, ', '.join(str(e) for e in excludes)))
        # The plan's range_start/range_end are the range's first and last usable address: the slices
        # already keep to them, so they are left out rather than written and ignored.
        out.pop('range_start', None)
        out.pop('range_end', None)
        out['node_slice_size'] = '/%d' % prefix
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
            _fail("%s mixes IPv4 and IPv6: host-local gives one address per range set, so each set holds one family" % swhat)
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
    for i, entry in enumerate(_check_list(spec.get('addresses'), '%s addresses' % what, [{'address': '198.18.0.5/24'}])):
        awhat = '%s addresses[%d]' % (what, i)
        _check_dict(entry, awhat)
        _check_keys(entry, ('address', 'gateway'), awhat)
        iface = _check_host_address(cidr.parse_interface(entry.get('address'), '%s address' % awhat), '%s address' % awhat)
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
        _fail("%s has several addresses of one family but cniVersion %s allows one per family: expected cniVersion "
              "0.3.0 or later" % (what, ctx['cni_version']))
    if addresses:
        out['addresses'] = addresses
    elif not ctx['capabilities'].get('ips'):
        _fail("%s has no addresses and capabilities.ips is not true: the interface would get no address; expected "
              "addresses, or capabilities: {ips: true} so that the pod annotation's ips reach the plugin" % what)
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
        _fail("%s type 'dhcp' cannot be used with ipvlan: ipvlan interfaces share the master's MAC address and the "
              "dhcp plugin does not support a client ID; expected whereabouts, host-local or static" % what)
    if ipam_type == 'none':
        return {}, []
    if ipam_type == 'dhcp':
        return {'type': 'dhcp'}, []
    builder = {'whereabouts': _ipam_whereabouts, 'host-local': _ipam_host_local, 'static': _ipam_static,
               'spiderpool': _ipam_spiderpool}[ipam_type]
    return builder(spec, ctx)


# ------------------------------------------------------------------ NAD items

def _namespaces(item):
    if item.get('namespace') is not None and item.get('namespaces') is not None:
        _fail("both namespace %r and namespaces %r are given: expected one of them" % (item['namespace'], item['namespaces']))
    if item.get('namespaces') is not None:
        values = _check_list(item['namespaces'], 'namespaces', ['aistore'])
    elif item.get('namespace') is not None:
        values = [item['namespace']]
    else:
        values = []
    if not values:
        _fail("no namespace is given: expected namespace: <name> or namespaces: [<name>, ...]")
    seen = set()
    for value in values:
        check_dns_label(value, 'namespace')
        if value in seen:
            _fail("namespaces lists %r twice: expected each namespace once" % (value,))
        seen.add(value)
    return values


def _plugin_macvlan_ipvlan(item, kind):
    out = {}
    if item.get('master') is None:
        # Upstream falls back to the node's default-route interface: never what a secondary network wants.
        _fail("%s needs master, the node interface to attach to (without it the plugin picks the node's "
              "default-route interface)" % kind)
    out['master'] = check_ifname(item['master'], 'master')
    if item.get('mode') is not None:
        modes = MACVLAN_MODES if kind == 'macvlan' else IPVLAN_MODES
        out['mode'] = _check_choice(item['mode'], '%s mode' % kind, modes)
    if item.get('mtu') is not None:
        out['mtu'] = _check_mtu(item['mtu'])
    return out


def _plugin_bridge(item):
    if item.get('bridge') is None:
        # The plugin default is cni0, the bridge of the cluster network on flannel-style nodes.
        _fail("bridge type needs bridge, the name of the node bridge (the plugin default cni0 is often the cluster "
              "network's own bridge)")
    out = {'bridge': check_ifname(item['bridge'], 'bridge')}
    flags = (('is_gateway', 'isGateway'), ('is_default_gateway', 'isDefaultGateway'), ('force_address', 'forceAddress'),
             ('ip_masq', 'ipMasq'))
    for key, out_key in flags:
        if item.get(key) is not None:
            out[out_key] = _check_bool(item[key], key)
    if item.get('mtu') is not None:
        out['mtu'] = _check_mtu(item['mtu'])
    for key, out_key in (('hairpin_mode', 'hairpinMode'), ('promisc_mode', 'promiscMode')):
        if item.get(key) is not None:
            out[out_key] = _check_bool(item[key], key)
    if item.get('vlan') is not None:
        out['vlan'] = _check_int(item['vlan'], 'vlan', 0, 4094)
    return out


def _plugin_host_device(item):
    given = [k for k in ('device', 'hwaddr', 'kernelpath', 'pci_bus_id') if item.get(k) is not None]
    if len(given) != 1:
        _fail("host-device needs exactly one of device, hwaddr, kernelpath or pci_bus_id to find the device; got %s"
              % (', '.join('%s %r' % (k, item[k]) for k in given) or 'none'))
    key = given[0]
    value = item[key]
    if key == 'device':
        return {'device': check_ifname(value, 'device')}
    if key == 'hwaddr':
        return {'hwaddr': _check_mac(value, 'hwaddr')}
    if key == 'kernelpath':
        if not is_text(value) or not value.startswith('/sys/devices/') or '..' in value.split('/'):
            _fail("kernelpath %r is not a device path: expected e.g. '/sys/devices/pci0000:00/0000:00:1f.6'" % (value,))
        return {'kernelpath': value}
    if not is_text(value) or not re.match(r'^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$', value):
        _fail("pci_bus_id %r is not a PCI address: expected e.g. '0000:03:00.1'" % (value,))
    return {'pciBusID': value}


def _plugin_sriov(item):
    out = {}
    if item.get('vlan') is not None:
        out['vlan'] = _check_int(item['vlan'], 'vlan', 0, 4094)
    if item.get('vlan_qos') is not None:
        qos = _check_int(item['vlan_qos'], 'vlan_qos', 0, 7)
        if qos and not out.get('vlan'):
            # sriov-cni (pkg/config: "non-zero vlan QoS must be set together with non-zero vlan") allows 0 with 0.
            _fail("vlan_qos %r needs a non-zero vlan: sriov-cni refuses a VLAN QoS without a VLAN" % (item['vlan_qos'],))
        out['vlanQoS'] = qos
    for key in ('spoofchk', 'trust'):
        if item.get(key) is not None:
            out[key] = _check_choice(item[key], key, ('on', 'off'))
    if item.get('link_state') is not None:
        out['link_state'] = _check_choice(item['link_state'], 'link_state', SRIOV_LINK_STATES)
    if item.get('mac') is not None:
        out['mac'] = _check_mac(item['mac'], 'mac')
    for key in ('min_tx_rate', 'max_tx_rate'):
        if item.get(key) is not None:
            out[key] = _check_int(item[key], key, 0, 10 ** 7)
    if 'min_tx_rate' in out and 'max_tx_rate' in out and out['max_tx_rate'] and out['min_tx_rate'] > out['max_tx_rate']:
        _fail("min_tx_rate %d is above max_tx_rate %d: expected min_tx_rate <= max_tx_rate" % (out['min_tx_rate'], out['max_tx_rate']))
    return out


def _check_mac(value, what):
    """A unicast 48-bit MAC address, returned lower-case with colons."""
    if not is_text(value) or not _MAC.match(value.strip()):
        _fail("%s %r is not a MAC address: expected six hex octets such as '02:00:c6:12:00:05'" % (what, value))
    octets = re.split('[:-]', value.strip().lower())
    if int(octets[0], 16) & 1:
        _fail("%s %r is a multicast address (low bit of the first octet set): an interface needs a unicast MAC" % (what, value))
    if all(o == '00' for o in octets):
        _fail("%s %r is all zeros: expected a real unicast MAC" % (what, value))
    return ':'.join(octets)


def _plugin_ovnk(item, name, ctx):
    """The OVN-Kubernetes keys (without netAttachDefName) and the subnets it hands out."""
    topology = item.get('topology')
    if topology is None:
        _fail("%s needs topology: expected one of %s" % (OVNK, ', '.join(TOPOLOGIES)))
    _check_choice(topology, 'topology', TOPOLOGIES)
    network_name = name if item.get('network_name') is None else item['network_name']
    network_name = _check_text(network_name, 'network_name', 'l2-network')
    if network_name in OVNK_RESERVED_NAMES:
        _fail("network_name %r is reserved by OVN-Kubernetes (%s): expected another name"
              % (network_name, ' and '.join(OVNK_RESERVED_NAMES)))
    if any(c.isspace() or c in '/,' for c in network_name):
        _fail("network_name %r contains whitespace, '/' or ',': expected a plain name such as 'l2-network'" % network_name)
    if item.get('join_subnet') is not None and topology == 'localnet':
        _fail("join_subnet %r given for topology localnet: OVN-Kubernetes refuses a join subnet on localnet "
              "(services are not supported there)" % (item['join_subnet'],))
    try:
        plan = plan_node_subnets(item.get('subnets'), [], topology=topology, exclude_subnets=item.get('exclude_subnets'),
                                 reserved=ctx['reserved'], internal=ctx['ovnk_internal'], join_subnet=item.get('join_subnet'))
    except PlanError as exc:
        raise NadError('%s' % exc)
    subnets = plan['plan']['subnets']
    out = {'topology': topology}
    if subnets:
        entries = item['subnets'] if not is_text(item['subnets']) else item['subnets'].split(',')
        out['subnets'] = ','.join(e.strip() for e in entries)
    if plan['plan']['exclude_subnets']:
        out['excludeSubnets'] = ','.join(plan['plan']['exclude_subnets'])
    if item.get('join_subnet') is not None:
        joins = cidr.parse_networks(item['join_subnet'], 'join_subnet')
        if len(set(n.version for n in joins)) != len(joins):
            _fail("join_subnet %r has two subnets of one family: expected at most one IPv4 and one IPv6" % (item['join_subnet'],))
        out['joinSubnet'] = ','.join(str(n) for n in joins)
    if item.get('mtu') is not None:
        out['mtu'] = _check_mtu(item['mtu'])
    if item.get('vlan_id') is not None:
        if topology != 'localnet':
            _fail("vlan_id %r given for topology %s: OVN-Kubernetes applies vlanID only to localnet" % (item['vlan_id'], topology))
        out['vlanID'] = _check_int(item['vlan_id'], 'vlan_id', 1, 4094)
    if item.get('physical_network_name') is not None:
        if topology != 'localnet':
            _fail("physical_network_name %r given for topology %s: only localnet maps to a physical network"
                  % (item['physical_network_name'], topology))
        out['physicalNetworkName'] = _check_text(item['physical_network_name'], 'physical_network_name', 'physnet')
    if item.get('allow_persistent_ips') is not None:
        if _check_bool(item['allow_persistent_ips'], 'allow_persistent_ips') and topology == 'layer3':
            _fail("allow_persistent_ips is true on topology layer3: OVN-Kubernetes refuses persistent IPs on layer3 "
                  "(expected layer2 or localnet)")
        out['allowPersistentIPs'] = item['allow_persistent_ips']
    if item.get('role') is not None:
        role = _check_choice(item['role'], 'role', OVNK_ROLES)
        if topology == 'localnet' and role != 'secondary':
            _fail("role %r given for topology localnet: OVN-Kubernetes only allows a localnet network as secondary" % role)
        if role == 'primary' and topology == 'layer2' and not subnets:
            _fail("role 'primary' on topology layer2 without subnets: OVN-Kubernetes needs subnets on a layer2 "
                  "primary network")
        out['role'] = role
    ranges = [('OVN-Kubernetes subnet', ipaddress.ip_network(s['cidr'])) for s in subnets]
    return network_name, out, ranges


def _check_capabilities(value, what):
    caps = _plain_dict(value, what)
    for key in caps:
        if not is_text(key) or not key:
            _fail("%s key %r is not a capability name such as 'ips' or 'mac'" % (what, key))
        _check_bool(caps[key], '%s %s' % (what, key))
    return caps


def _plain_dict(value, what):
    if value is None:
        return {}
    return dict(_check_dict(value, what))


def _nad_item(item, ctx):
    """Validate one NAD item (defaults already merged); returns its record."""
    name = ctx['name']
    net_type = item.get('type')
    if net_type is None:
        _fail("type is missing: expected one of %s" % ', '.join(NAD_TYPES))
    _check_choice(net_type, 'type', NAD_TYPES)
    _check_keys(item, COMMON_KEYS + TYPE_KEYS[net_type], 'type %s' % net_type)
    state = _check_choice(item.get('state', 'present'), 'state', STATES)
    namespaces = _namespaces(item)
    labels = _check_metadata_map(item.get('labels'), 'labels', True)
    annotations = _check_metadata_map(item.get('annotations'), 'annotations', False)
    record = {'kind': 'nad', 'name': name, 'type': net_type, 'state': state, 'ranges': [], 'ovnk': None,
              'keys': [(NAD_KIND, ns, name) for ns in namespaces], 'objects': []}
    if state == 'absent':
        record['objects'] = [{'apiVersion': NAD_API_VERSION, 'kind': NAD_KIND, 'metadata': {'name': name, 'namespace': ns}}
                             for ns in namespaces]
        return record

    is_ovnk = net_type == OVNK
    # OVN-Kubernetes does not check cniVersion itself: libcni and the plugin do (every version of CNI_VERSIONS
    # in current releases; OVN-Kubernetes before CNI spec 1.1.0 support, early 2026, stops at 1.0.0).
    cni_version = item.get('cni_version', OVNK_CNI_VERSION if is_ovnk else DEFAULT_CNI_VERSION)
    _check_choice(cni_version, 'cni_version', CNI_VERSIONS)
    capabilities = _check_capabilities(item.get('capabilities'), 'capabilities')

    if is_ovnk:
        if 'ipam' in item:
            ipam_type = item['ipam'].get('type') if isinstance(item['ipam'], dict) else item['ipam']
            _fail("ipam %r given for %s: OVN-Kubernetes networks take no ipam block (OVN-Kubernetes refuses an ipam "
                  "type%s); their addresses come from subnets" % (item['ipam'], OVNK,
                                                                  ", and dhcp is never available there" if ipam_type == 'dhcp' else ''))
        network_name, plugin, ranges = _plugin_ovnk(item, name, ctx)
        config_name = network_name
        ipam = None
    else:
        if net_type in ('macvlan', 'ipvlan'):
            plugin = _plugin_macvlan_ipvlan(item, net_type)
        elif net_type == 'bridge':
            plugin = _plugin_bridge(item)
        elif net_type == 'host-device':
            plugin = _plugin_host_device(item)
        else:
            plugin = _plugin_sriov(item)
        if net_type == 'sriov':
            if item.get('resource_name') is None:
                _fail("sriov needs resource_name, the device plugin resource (e.g. 'intel.com/sriov_netdevice') that "
                      "Multus reads from the %s annotation to find the VF" % RESOURCE_NAME_ANNOTATION)
            resource = _check_text(item['resource_name'], 'resource_name', 'intel.com/sriov_netdevice')
            if not re.match(r'^[A-Za-z0-9][-A-Za-z0-9_.]*(/[-A-Za-z0-9_.]+)?$', resource):
                _fail("resource_name %r is not a device plugin resource name: expected e.g. 'intel.com/sriov_netdevice'" % resource)
            if annotations.get(RESOURCE_NAME_ANNOTATION, resource) != resource:
                _fail("annotations %s %r disagrees with resource_name %r: expected only resource_name"
                      % (RESOURCE_NAME_ANNOTATION, annotations[RESOURCE_NAME_ANNOTATION], resource))
            annotations[RESOURCE_NAME_ANNOTATION] = resource
        config_name = name
        if 'ipam' not in item:
            if net_type != 'host-device':
                _fail("ipam is missing: expected an ipam block (type %s), or ipam: {type: none} for an attachment "
                      "without addresses" % '/'.join(t for t in IPAM_TYPES if t != 'none'))
            ipam, ranges = None, []
        else:
            ipam_ctx = {'what': 'ipam', 'name': name, 'plan': ctx['plan'], 'type': net_type, 'cni_version': cni_version,
                        'capabilities': capabilities}
            ipam, ranges = _build_ipam(item['ipam'], ipam_ctx)

    config = {'cniVersion': cni_version, 'name': config_name, 'type': net_type}
    config.update(plugin)
    if capabilities:
        config['capabilities'] = capabilities
    extra = _plain_dict(item.get('extra_config'), 'extra_config')
    for key in extra:
        if key in config or key in ('ipam', 'netAttachDefName'):
            _fail("extra_config key %r is set from the network's own options: expected only keys the module does "
                  "not manage" % (key,))
        try:
            json.dumps(extra[key])
        except (TypeError, ValueError):
            _fail("extra_config %r value %r is not JSON-serialisable" % (key, extra[key]))
        config[key] = extra[key]
    if ipam is not None:
        config['ipam'] = ipam

    objects = []
    for ns in namespaces:
        conf = dict(config)
        if is_ovnk:
            conf['netAttachDefName'] = '%s/%s' % (ns, name)
        text = _compact(conf)
        check_cni_config(text, 'spec.config of %s/%s' % (ns, name))
        objects.append({'apiVersion': NAD_API_VERSION, 'kind': NAD_KIND,
                        'metadata': _metadata(name, ns, labels, annotations),
                        'spec': {'config': text}})
    record['objects'] = objects
    record['ranges'] = ranges
    record['range_owner'] = ('ovnk', config_name) if is_ovnk else ('item', ctx['index'])
    if is_ovnk:
        record['ovnk'] = (config_name, config)
    return record


# ------------------------------------------------------------------ Spiderpool items
#
# Spiderpool's admission webhooks (pkg/ippoolmanager/ippool_validate.go, ippool_subnet_validate.go,
# pkg/subnetmanager/subnet_validate.go) refuse what the CRD schema lets through: a default route
# (use the gateway), two routes to one dst, a route gw outside the subnet, a gateway inside ips
# unless excludeIPs holds it, and a pool whose addresses (ips less excludeIPs) are not all among
# those of the SpiderSubnet that controls it (the subnet of the same CIDR). Checked here first.

def _spider_routes(routes, what, network):
    out = _check_routes(routes, what, gateway_required=True, within=network)
    seen = {}
    for i, route in enumerate(out):
        if cidr.parse_network(route['dst'], what).prefixlen == 0:
            _fail("%s[%d] dst %s is the default route: Spiderpool refuses it (\"please specify 'spec.gateway' to configure "
                  "the default route\"); set gateway instead" % (what, i, route['dst']))
        if route['dst'] in seen:
            _fail("%s[%d] dst %s is also the dst of %s[%d]: Spiderpool refuses two routes with the same dst"
                  % (what, i, route['dst'], what, seen[route['dst']]))
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
            _fail("%s gateway %s is inside ips %r: Spiderpool refuses a gateway it could hand out to a pod; add it to "
                  "exclude_ips or keep it out of ips" % (what, gateway, text))


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
        _fail("vlan %r: Spiderpool v1.0.0 removed spec.vlan from SpiderSubnet and SpiderIPPool (the CRD no longer has "
              "it); put the VLAN on the attachment instead (e.g. a macvlan master such as ens1f0.100)" % (item['vlan'],))
    _check_keys(item, SPIDERPOOL_KEYS, 'kind spiderpool')
    state = _check_choice(item.get('state', 'present'), 'state', STATES)
    labels = _check_metadata_map(item.get('labels'), 'labels', True)
    annotations = _check_metadata_map(item.get('annotations'), 'annotations', False)
    create_subnet = _check_bool(item.get('create_subnet', True), 'create_subnet')
    pools = _check_list(item.get('ippools'), 'ippools', [{'name': 'storage-v4-a', 'ips': ['198.18.40.10-198.18.40.50']}])
    pool_names = []
    for i, pool in enumerate(pools):
        _check_dict(pool, 'ippools[%d]' % i)
        pool_names.append(check_dns_subdomain(pool.get('name'), 'ippools[%d] name' % i))
    keys = ([('SpiderSubnet', None, name)] if create_subnet else []) + [('SpiderIPPool', None, n) for n in pool_names]
    record = {'kind': 'spiderpool', 'name': name, 'state': state, 'ranges': [], 'ovnk': None, 'keys': keys,
              'range_owner': ('item', ctx['index'])}
    if not create_subnet and not pools:
        _fail("create_subnet is false and there are no ippools: nothing to create")
    if state == 'absent':
        record['objects'] = [{'apiVersion': SPIDERPOOL_API_VERSION, 'kind': kind, 'metadata': {'name': n}}
                             for kind, _ns, n in keys]
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
            _fail("the SpiderSubnet %s has no ips but %d ippools: a SpiderSubnet controls the pools of its subnet, and "
                  "Spiderpool refuses a pool whose addresses the SpiderSubnet does not hold; expected ips covering the "
                  "pools' ips, or create_subnet: false" % (name, len(pools)))
        objects.append({'apiVersion': SPIDERPOOL_API_VERSION, 'kind': 'SpiderSubnet',
                        'metadata': _metadata(name, None, labels, annotations), 'spec': spec})
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
                addresses = str(ipaddress.ip_address(first)) if first == last else '%s-%s' % (
                    ipaddress.ip_address(first), ipaddress.ip_address(last))
                _fail("%s ips %s hold %s, outside the subnet's ips %s%s: a pool takes its addresses from the SpiderSubnet"
                      % (pwhat, ', '.join(pool_ips), addresses, ', '.join(ips),
                         ' less its exclude_ips %s' % ', '.join(exclude) if exclude else ''))
        for first, last, text in p_intervals:
            pool_intervals.append((first, last, '%s ips %r' % (pwhat, text)))
        pspec = {'ipVersion': network.version, 'subnet': str(network), 'ips': pool_ips}
        if pool_exclude:
            pspec['excludeIPs'] = pool_exclude
        pool_gateway = _check_gateway(pool['gateway'], network, pwhat) if pool.get('gateway') is not None else gateway
        if pool_gateway is not None:
            _check_spider_gateway(pool_gateway, p_intervals, pe_intervals,
                                  pwhat if pool.get('gateway') is not None else '%s (from the subnet)' % pwhat)
            pspec['gateway'] = str(pool_gateway)
        proutes = _spider_routes(pool.get('routes'), '%s routes' % pwhat, network)
        if proutes:
            pspec['routes'] = proutes
        elif routes:
            pspec['routes'] = routes
        for key, out_key, check in (('namespace_name', 'namespaceName', check_dns_label),
                                    ('node_name', 'nodeName', check_dns_subdomain),
                                    ('multus_name', 'multusName', _check_multus_name)):
            values = _check_names(pool.get(key), '%s %s' % (pwhat, key), ['aistore'], check)
            if values:
                pspec[out_key] = values
        if pool.get('default') is not None:
            pspec['default'] = _check_bool(pool['default'], '%s default' % pwhat)
        plabels = dict(labels)
        plabels.update(_check_metadata_map(pool.get('labels'), '%s labels' % pwhat, True))
        pannotations = dict(annotations)
        pannotations.update(_check_metadata_map(pool.get('annotations'), '%s annotations' % pwhat, False))
        objects.append({'apiVersion': SPIDERPOOL_API_VERSION, 'kind': 'SpiderIPPool',
                        'metadata': _metadata(pool_names[i], None, plabels, pannotations), 'spec': pspec})
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


# ------------------------------------------------------------------ MultiNicNetwork items

def _multinic_item(item, ctx):
    name = ctx['name']
    _check_keys(item, MULTINIC_KEYS, 'kind multinicnetwork')
    state = _check_choice(item.get('state', 'present'), 'state', STATES)
    labels = _check_metadata_map(item.get('labels'), 'labels', True)
    annotations = _check_metadata_map(item.get('annotations'), 'annotations', False)
    record = {'kind': 'multinicnetwork', 'name': name, 'state': state, 'ranges': [], 'ovnk': None,
              'keys': [('MultiNicNetwork', None, name)], 'range_owner': ('item', ctx['index'])}
    if state == 'absent':
        record['objects'] = [{'apiVersion': MULTINIC_API_VERSION, 'kind': 'MultiNicNetwork', 'metadata': {'name': name}}]
        return record

    spec = {}
    ranges = []
    network = None
    if item.get('subnet') is not None:
        network = cidr.parse_network(item['subnet'], 'subnet')
        if network.version != 4:
            _fail("subnet %s is IPv6: Multi-NIC CNI's subnet supports IPv4 only" % network)
        spec['subnet'] = str(network)
        ranges.append(('MultiNicNetwork subnet', network))
    plugin = _check_dict(item.get('plugin'), 'plugin') if item.get('plugin') is not None else None
    if plugin is None:
        _fail("plugin is missing: expected e.g. {type: ipvlan, args: {mode: l3}}")
    _check_keys(plugin, ('type', 'cni_version', 'args'), 'plugin')
    ptype = _check_text(plugin.get('type'), 'plugin type', 'ipvlan')
    pversion = plugin.get('cni_version', item.get('cni_version', DEFAULT_CNI_VERSION))
    _check_choice(pversion, 'plugin cni_version', CNI_VERSIONS)
    pspec = {'cniVersion': pversion, 'type': ptype}
    args = _plain_dict(plugin.get('args'), 'plugin args')
    if ptype in ('ipvlan', 'macvlan') and args.get('mode') is not None:
        _check_choice(args['mode'], 'plugin args mode', IPVLAN_MODES if ptype == 'ipvlan' else MACVLAN_MODES)
    if args:
        pspec['args'] = args

    ipam = _check_dict(item.get('ipam'), 'ipam') if item.get('ipam') is not None else None
    if ipam is None:
        _fail("ipam is missing: expected e.g. {type: multi-nic-ipam, host_block: 6, interface_block: 2, vlan_mode: l3}")
    master_nets = cidr.parse_networks(item.get('master_nets'), 'master_nets')
    if ipam.get('type') == 'multi-nic-ipam':
        _check_keys(ipam, ('type', 'host_block', 'interface_block', 'vlan_mode', 'exclude_cidrs'), 'ipam (type multi-nic-ipam)')
        if network is None:
            _fail("ipam type multi-nic-ipam needs subnet, the cluster-wide pod subnet its blocks are cut from")
        for key in ('host_block', 'interface_block', 'vlan_mode'):
            if ipam.get(key) is None:
                _fail("ipam type multi-nic-ipam needs %s: expected host_block, interface_block and vlan_mode" % key)
        ib = _check_int(ipam['interface_block'], 'ipam interface_block', 0, 32)
        hb = _check_int(ipam['host_block'], 'ipam host_block', 0, 32)
        if network.prefixlen + ib + hb > 30:
            _fail("ipam interface_block %d + host_block %d on subnet %s leaves /%d pod blocks: expected /30 or shorter "
                  "(the first and last address of each block are reserved)" % (ib, hb, network, network.prefixlen + ib + hb))
        if len(master_nets) > (1 << ib):
            _fail("master_nets has %d networks but interface_block %d gives %d interface indexes: expected at most %d"
                  % (len(master_nets), ib, 1 << ib, 1 << ib))
        mode = _check_choice(ipam['vlan_mode'], 'ipam vlan_mode', MULTINIC_VLAN_MODES)
        out_ipam = {'type': 'multi-nic-ipam', 'hostBlock': hb, 'interfaceBlock': ib, 'vlanMode': mode}
        excludes = cidr.parse_networks(ipam.get('exclude_cidrs'), 'ipam exclude_cidrs')
        for i, excl in enumerate(excludes):
            if excl.version != network.version or not excl.subnet_of(network):
                _fail("ipam exclude_cidrs[%d] %s is not inside the subnet %s" % (i, excl, network))
        if excludes:
            out_ipam['excludeCIDRs'] = [str(e) for e in excludes]
        # Multi-NIC CNI skips an interface index whose whole vlan block is excluded.
        tabu = tabu_interfaces(network, ib, excludes)
        skipped = set(i for first, last, _net in tabu for i in range(first, last + 1))
        if len(master_nets) > (1 << ib) - len(skipped):
            _fail("master_nets has %d networks but interface_block %d leaves %d usable interface indexes: exclude_cidrs %s "
                  "cover%s the whole vlan block of index%s %s, which Multi-NIC CNI skips"
                  % (len(master_nets), ib, (1 << ib) - len(skipped), ', '.join(str(n) for _f, _l, n in tabu),
                     's' if len(tabu) == 1 else '', 'es' if len(skipped) > 1 else '', ', '.join(str(i) for i in sorted(skipped))))
        multi = True
    else:
        ipam_ctx = {'what': 'ipam', 'name': name, 'plan': ctx['plan'], 'type': ptype, 'cni_version': pversion,
                    'capabilities': {}}
        out_ipam, more = _build_ipam(ipam, ipam_ctx)
        ranges.extend(more)
        multi = False
    if item.get('multi_nic_ipam') is not None and _check_bool(item['multi_nic_ipam'], 'multi_nic_ipam') != multi:
        _fail("multi_nic_ipam %r disagrees with ipam type %r: it is true exactly for multi-nic-ipam"
              % (item['multi_nic_ipam'], ipam.get('type')))
    spec['ipam'] = _compact(out_ipam)
    spec['multiNICIPAM'] = multi
    spec['plugin'] = pspec

    policy = _check_dict(item.get('attach_policy') or {'strategy': 'none'}, 'attach_policy')
    _check_keys(policy, ('strategy', 'target'), 'attach_policy')
    out_policy = {'strategy': _check_choice(policy.get('strategy', 'none'), 'attach_policy strategy', MULTINIC_STRATEGIES)}
    if policy.get('target') is not None:
        if not is_text(policy['target']) or not _BANDWIDTH.match(policy['target']):
            _fail("attach_policy target %r is not a bandwidth: expected e.g. '10Gbps', '500Mbps' or '100Kbps'" % (policy['target'],))
        out_policy['target'] = policy['target']
    spec['attachPolicy'] = out_policy
    namespaces = _check_names(item.get('namespaces'), 'namespaces', ['default'], check_dns_label)
    if namespaces:
        spec['namespaces'] = namespaces
    if master_nets:
        found = cidr.find_overlaps([('master_nets[%d]' % i, n) for i, n in enumerate(master_nets)])
        if found:
            _fail("%s %s overlaps %s %s: expected distinct host networks" % found)
        spec['masterNets'] = [str(n) for n in master_nets]
    record['objects'] = [{'apiVersion': MULTINIC_API_VERSION, 'kind': 'MultiNicNetwork',
                          'metadata': _metadata(name, None, labels, annotations), 'spec': spec}]
    record['ranges'] = ranges
    return record


# ------------------------------------------------------------------ build_objects

def _merge_defaults(item, defaults, keys):
    """``item`` over the ``defaults`` whose key is in ``keys``; labels and annotations merge key by key.

    A key the item sets to null (None) takes the default.
    """
    merged = dict((k, v) for k, v in defaults.items() if k in keys)
    if 'namespace' in item or 'namespaces' in item:
        merged.pop('namespace', None)
        merged.pop('namespaces', None)
    for key, value in item.items():
        if value is None and key in merged:
            continue  # a key set to null takes the default
        if key in ('labels', 'annotations') and isinstance(value, dict) and isinstance(merged.get(key), dict):
            both = dict(merged[key])
            both.update(value)
            merged[key] = both
        else:
            merged[key] = value
    return merged


def _check_defaults(defaults):
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        _fail("defaults %r is not a dict of network keys" % (defaults,))
    _check_keys(defaults, DEFAULT_KEYS, 'defaults')
    return dict(defaults)


def _describe(i, item):
    name = item.get('name') if isinstance(item, dict) else None
    return "network %r (networks[%d])" % (name, i) if is_text(name) and name else 'networks[%d]' % i


def _build_item(i, item, defaults, context):
    what = _describe(i, item)
    try:
        if not isinstance(item, dict):
            _fail("%r is not a dict: expected {name, namespace, type, ...}" % (item,))
        kind = item.get('kind', 'nad')
        _check_choice(kind, 'kind', KINDS)
        ctx = dict(context, index=i)
        if kind == 'nad':
            # Type-specific defaults (mtu, mode, ...) apply only to the types that have the key.
            net_type = item.get('type', defaults.get('type'))
            keys = COMMON_KEYS + TYPE_KEYS.get(net_type, ())
            if net_type == OVNK:
                # OVN-Kubernetes takes no ipam and documents cniVersion 0.3.1: those defaults are for the others.
                keys = tuple(k for k in keys if k not in ('ipam', 'cni_version'))
            merged = _merge_defaults(item, defaults, keys)
            ctx['name'] = check_dns_label(merged.get('name'), 'name')
            record = _nad_item(merged, ctx)
        else:
            merged = _merge_defaults(item, defaults, ('labels', 'annotations', 'state'))
            if kind == 'spiderpool':
                ctx['name'] = check_dns_subdomain(merged.get('name'), 'name')
                record = _spiderpool_item(merged, ctx)
            else:
                ctx['name'] = check_dns_label(merged.get('name'), 'name')
                record = _multinic_item(merged, ctx)
    except PlanError as exc:
        raise NadError('%s: %s' % (what, exc))
    record['what'] = what
    record['index'] = i
    return record


def _check_duplicates(records, problems):
    """Report objects defined twice; returns the indexes of the records repeating an earlier one."""
    seen = {}
    repeats = set()
    for record in records:
        for key in record['keys']:
            kind, ns, name = key
            if key in seen and seen[key] != record['index']:
                where = '%s/%s' % (ns, name) if ns else name
                problems.append("%s: %s %s is also defined by networks[%d]: expected each object once"
                                % (record['what'], kind, where, seen[key]))
                repeats.add(record['index'])
            seen.setdefault(key, record['index'])
    return repeats


def _check_ovnk_networks(records, problems):
    first = {}
    for record in records:
        if record['state'] != 'present' or not record['ovnk']:
            continue
        network_name, config = record['ovnk']
        if network_name not in first:
            first[network_name] = (record, config)
            continue
        other, other_config = first[network_name]
        differ = sorted(k for k in set(config) | set(other_config) if config.get(k) != other_config.get(k))
        if differ:
            detail = '; '.join('%s %r vs %r' % (k, other_config.get(k), config.get(k)) for k in differ)
            problems.append("%s: OVN-Kubernetes network %r is already defined differently by %s (%s): NADs sharing "
                            "a network name must be identical apart from netAttachDefName"
                            % (record['what'], network_name, other['what'], detail))


def _check_range_overlaps(records, problems, skip):
    named = []
    owners = set()
    for record in records:
        if record['state'] != 'present' or record['index'] in skip or record.get('range_owner') in owners:
            continue
        owners.add(record.get('range_owner'))
        named.extend(('%s %s' % (record['what'], label), net) for label, net in record['ranges'])
    # Report every overlapping pair: drop the second range of each and look again.
    while True:
        found = cidr.find_overlaps(named)
        if not found:
            return
        label_a, net_a, label_b, net_b = found
        problems.append("%s %s overlaps %s %s: expected every network its own range (plan them with "
                        "netplumb.multihome.cidr_plan scheme network_ranges and use ipam.from_plan)"
                        % (label_a, net_a, label_b, net_b))
        named = [(label, net) for label, net in named if not (label == label_b and net == net_b)]


def _raise_problems(problems):
    if len(problems) == 1:
        raise NadError(problems[0])
    raise NadError('%d problems in networks:\n- %s' % (len(problems), '\n- '.join(problems)))


def build_objects(networks, defaults=None, plan=None, reserved=None, ovnk_internal=None):
    """Validate ``networks`` and return the Kubernetes objects to apply, as ``[{'state', 'object'}]``.

    Each item of ``networks`` is a dict; ``kind`` (default ``nad``) says what it is:

    * ``nad``: one NetworkAttachmentDefinition per namespace of ``namespace``/``namespaces``,
      ``type`` one of :data:`NAD_TYPES`, the type's options and an ``ipam`` block (see the
      module documentation of ``netplumb.multihome.nad_objects`` for every key);
    * ``spiderpool``: a SpiderSubnet (``subnet``, ``ips``, ...) and its ``ippools``;
    * ``multinicnetwork``: a Multi-NIC CNI MultiNicNetwork.

    ``defaults`` holds keys applied to every ``nad`` item that lacks them (``labels``,
    ``annotations`` are merged; ``labels``, ``annotations`` and ``state`` also apply to
    the other kinds). ``plan`` is a cidr_plan ``network_ranges`` plan for ``ipam.from_plan``.
    ``reserved`` (the cluster's pod and service networks) and ``ovnk_internal`` (OVN-Kubernetes'
    own subnets, default :data:`ovnk_subnets.INTERNAL_SUBNETS`) are what OVN-Kubernetes NADs
    must not overlap.

    Every item is checked; all problems are collected and raised as one :class:`NadError`
    (nothing is returned half done). Objects come in the order of ``networks``, one per
    namespace in the order given; ``spec.config`` is compact JSON with keys in a fixed order.
    """
    if networks is None:
        networks = []
    if isinstance(networks, (str, dict)) or not isinstance(networks, (list, tuple)):
        raise NadError("networks %r is not a list: expected a list of network dicts" % (networks,))
    try:
        defaults = _check_defaults(defaults)
        if plan is not None:
            _plan_networks(plan)
    except PlanError as exc:
        raise NadError('%s' % exc)
    problems = []
    records = []
    context = {'plan': plan, 'reserved': reserved, 'ovnk_internal': ovnk_internal}
    for i, item in enumerate(networks):
        try:
            records.append(_build_item(i, item, defaults, context))
        except NadError as exc:
            problems.append('%s' % exc)
    repeats = _check_duplicates(records, problems)
    _check_ovnk_networks(records, problems)
    _check_range_overlaps(records, problems, repeats)
    if problems:
        _raise_problems(problems)
    return [{'state': record['state'], 'object': obj} for record in records for obj in record['objects']]


PRIMARY_UDN_LABEL = 'k8s.ovn.org/primary-user-defined-network'


def primary_namespaces(objects):
    """The namespaces of the present OVN-Kubernetes NADs with ``role: primary``, sorted.

    OVN-Kubernetes uses a primary network only in a namespace that carries the label
    :data:`PRIMARY_UDN_LABEL`, and that label can only be set when the namespace is created.
    """
    out = set()
    for entry in objects:
        obj = entry['object']
        if entry['state'] != 'present' or obj['kind'] != NAD_KIND:
            continue
        conf = json.loads(obj['spec']['config'])
        if conf.get('type') == OVNK and conf.get('role') == 'primary':
            out.add(obj['metadata']['namespace'])
    return sorted(out)


def summarize(objects):
    """One line per object of :func:`build_objects`, for people reading a play's output."""
    lines = []
    for entry in objects:
        obj = entry['object']
        meta = obj['metadata']
        where = '%s/%s' % (meta['namespace'], meta['name']) if meta.get('namespace') else meta['name']
        line = '%-7s %s %s' % (entry['state'], obj['kind'], where)
        spec = obj.get('spec') or {}
        if obj['kind'] == NAD_KIND and spec.get('config'):
            conf = json.loads(spec['config'])
            parts = [conf.get('type', '')]
            for key in ('master', 'mode', 'bridge', 'device', 'topology', 'subnets', 'mtu', 'vlan', 'vlanID'):
                if key in conf:
                    parts.append('%s=%s' % (key, conf[key]))
            ipam = conf.get('ipam')
            if ipam:
                ranges = ipam.get('range') or ','.join(r['subnet'] for s in ipam.get('ranges', []) for r in s) \
                    or ','.join(a['address'] for a in ipam.get('addresses', []))
                parts.append('ipam=%s%s' % (ipam.get('type'), ' %s' % ranges if ranges else ''))
            line += '  ' + ' '.join(parts)
        elif spec.get('subnet'):
            line += '  subnet=%s' % spec['subnet']
            if spec.get('ips'):
                line += ' ips=%s' % ','.join(spec['ips'])
        lines.append(line)
    return lines


# ------------------------------------------------------------------ pod annotations

def _nad_index(nads):
    """``{(namespace, name): (state, config dict)}`` of the NADs in a build_objects result."""
    out = {}
    for entry in nads or []:
        obj = entry.get('object', entry) if isinstance(entry, dict) else None
        if not isinstance(obj, dict) or obj.get('kind') != NAD_KIND:
            continue
        meta = obj.get('metadata') or {}
        conf = {}
        if (obj.get('spec') or {}).get('config'):
            conf = json.loads(obj['spec']['config'])
        out[(meta.get('namespace'), meta.get('name'))] = (entry.get('state', 'present'), conf)
    return out


def _parse_short(text, what):
    """Multus' short form ``[namespace/]name[@ifname]``."""
    slash = text.split('/')
    if len(slash) > 2:
        _fail("%s %r is not [namespace/]name[@interface]: it has more than one '/'" % (what, text))
    namespace = slash[0].strip() if len(slash) == 2 else None
    at_items = slash[-1].split('@')
    if len(at_items) > 2:
        _fail("%s %r is not [namespace/]name[@interface]: it has more than one '@'" % (what, text))
    name = at_items[0].strip()
    ifname = at_items[1].strip() if len(at_items) == 2 else None
    return {'name': name, 'namespace': namespace, 'interface': ifname}


def pod_networks_annotation(attachments, default_namespace=None, nads=None):
    """The value of the pod annotation ``k8s.v1.cni.cncf.io/networks`` (a compact JSON list).

    ``attachments`` is a list (or Multus' comma-separated string) whose items are strings
    ``name``, ``namespace/name``, ``namespace/name@interface`` or dicts ``{name, namespace,
    interface, ips, mac}``. ``default_namespace`` fills a missing namespace. Each element of
    the result has ``name`` and the non-empty ones of ``namespace``, ``interface``, ``ips``
    (addresses with prefix) and ``mac``.

    Refused: bad names (DNS-1123 labels), interface names, MACs and IPs; the same
    attachment twice; two attachments with one interface name, counting the ``net<N>``
    names Multus gives unnamed ones (N = position, from 1) and ``eth0`` (the cluster
    network's). With ``nads`` (a :func:`build_objects` result) the attachments that name
    one of its NADs are also checked against it: not being removed, ``ips``/``mac`` only
    with the matching capability, and the OVN-Kubernetes rules (a NAD once per pod; ips
    only on layer2/localnet without subnets).
    """
    if attachments is None:
        attachments = []
    if is_text(attachments):
        attachments = [a for a in attachments.split(',') if a.strip()]
    if isinstance(attachments, dict) or not isinstance(attachments, (list, tuple)):
        raise NadError("attachments %r is not a list: expected e.g. ['storage-net', 'aistore/repl-net@net2']" % (attachments,))
    if default_namespace is not None:
        check_dns_label(default_namespace, 'default_namespace')
    known = _nad_index(nads)
    out = []
    seen_attachment = {}
    seen_ifname = {'eth0': None}
    seen_ips = {}
    for i, item in enumerate(attachments):
        what = 'attachments[%d]' % i
        try:
            if is_text(item):
                entry = _parse_short(item.strip(), what)
                entry['ips'] = entry['mac'] = None
            elif isinstance(item, dict):
                _check_keys(item, ('name', 'namespace', 'interface', 'ips', 'mac'), what)
                entry = dict((k, item.get(k)) for k in ('name', 'namespace', 'interface', 'ips', 'mac'))
            else:
                _fail("%s %r is not a string or a dict" % (what, item))
            name = check_dns_label(entry['name'], '%s name' % what)
            what = '%s (%s)' % (what, name)
            namespace = entry['namespace'] if entry['namespace'] else default_namespace
            if namespace is not None:
                check_dns_label(namespace, '%s namespace' % what)
            element = {'name': name}
            if namespace is not None:
                element['namespace'] = namespace
            ifname = entry['interface'] or None
            if ifname is not None:
                check_ifname(ifname, '%s interface' % what)
                element['interface'] = ifname
            ips = []
            for j, value in enumerate(_check_list(entry['ips'], '%s ips' % what, ['198.18.0.5/24'])):
                if not is_text(value) or '/' not in value:
                    _fail("%s ips[%d] %r has no prefix: expected an address with prefix such as '198.18.0.5/24' (the "
                          "static IPAM plugin that serves Multus' ips reads CIDR notation)" % (what, j, value))
                iface = _check_host_address(cidr.parse_interface(value, '%s ips[%d]' % (what, j)), '%s ips[%d]' % (what, j))
                if iface.ip in seen_ips:
                    _fail("%s ips[%d] %s is also requested by %s: two interfaces of one pod cannot share an address"
                          % (what, j, iface.ip, seen_ips[iface.ip]))
                seen_ips[iface.ip] = what
                ips.append(str(iface))
            if ips:
                element['ips'] = ips
            if entry['mac']:
                element['mac'] = _check_mac(entry['mac'], '%s mac' % what)
            key = (namespace, name, ifname)
            if key in seen_attachment:
                _fail("%s attaches %s%s%s again (as %s did): expected each attachment once; give each an interface "
                      "name to attach one network twice" % (what, '%s/' % namespace if namespace else '', name,
                                                            '@%s' % ifname if ifname else '', seen_attachment[key]))
            seen_attachment[key] = what
            effective = ifname or 'net%d' % (i + 1)
            if effective in seen_ifname:
                owner = seen_ifname[effective]
                _fail("%s interface %r is %s: expected a distinct interface name per attachment"
                      % (what, effective, 'the cluster network interface of the pod' if owner is None
                         else 'also used by %s (Multus names an unnamed attachment net<position>)' % owner))
            seen_ifname[effective] = what
            _check_against_nad(element, known, what, out)
        except PlanError as exc:
            raise NadError('pod networks annotation: %s' % exc)
        out.append(element)
    return _compact(out)


def _check_against_nad(element, known, what, previous):
    key = (element.get('namespace'), element['name'])
    if key not in known:
        return
    state, conf = known[key]
    where = '%s/%s' % key
    if state == 'absent':
        _fail("%s refers to NAD %s, which the networks list removes (state absent)" % (what, where))
    caps = conf.get('capabilities') or {}
    if conf.get('type') == OVNK:
        if any((p.get('namespace'), p['name']) == key for p in previous):
            _fail("%s attaches OVN-Kubernetes NAD %s a second time: OVN-Kubernetes refuses the same NAD twice in one pod" % (what, where))
        if element.get('ips') and (conf.get('topology') == 'layer3' or conf.get('subnets')):
            subnets = ', subnets %s' % conf['subnets'] if conf.get('subnets') else ''
            _fail("%s requests ips on OVN-Kubernetes NAD %s (topology %s%s): static IPs are only for layer2 or "
                  "localnet networks without subnets" % (what, where, conf.get('topology'), subnets))
        return
    if element.get('ips') and not caps.get('ips'):
        _fail("%s requests ips but NAD %s has no capabilities.ips: Multus passes ips to the plugin only when the "
              "NAD enables that capability" % (what, where))
    if element.get('mac') and not caps.get('mac'):
        _fail("%s requests mac but NAD %s has no capabilities.mac: Multus passes mac to the plugin only when the "
              "NAD enables that capability" % (what, where))


def spiderpool_annotations(items, kind='ippools', objects=None):
    """The value of the Spiderpool pod annotation ``ipam.spidernet.io/ippools`` or ``.../subnets``.

    ``items`` is a list of ``{interface, ipv4: [names], ipv6: [names]}`` (``ippools`` items may
    also have ``cleangateway``). ``kind`` is ``ippools`` or ``subnets``. The interface is
    required when there is more than one item, and unique; every item names at least one
    pool/subnet; names are DNS-1123 subdomains. With ``objects`` (a :func:`build_objects`
    result) names declared there must be of the right kind and IP version and not removed.
    Returns the compact JSON list, e.g. ``[{"interface":"net1","ipv4":["storage-v4"],"cleangateway":false}]``.
    """
    try:
        _check_choice(kind, 'kind', ('ippools', 'subnets'))
        entries = _check_list(items, kind, [{'interface': 'net1', 'ipv4': ['storage-v4']}])
        if is_text(items) or not entries:
            _fail("%s %r is not a non-empty list of {interface, ipv4, ipv6}" % (kind, items))
        declared = {}
        for entry in objects or []:
            obj = entry.get('object', entry) if isinstance(entry, dict) else {}
            if isinstance(obj, dict) and obj.get('apiVersion') == SPIDERPOOL_API_VERSION:
                declared[(obj.get('kind'), obj['metadata']['name'])] = (entry.get('state', 'present'),
                                                                        (obj.get('spec') or {}).get('ipVersion'))
        want_kind = 'SpiderIPPool' if kind == 'ippools' else 'SpiderSubnet'
        other_kind = 'SpiderSubnet' if kind == 'ippools' else 'SpiderIPPool'
        keys = ('interface', 'ipv4', 'ipv6', 'cleangateway') if kind == 'ippools' else ('interface', 'ipv4', 'ipv6')
        out = []
        seen = {}
        for i, item in enumerate(entries):
            what = '%s[%d]' % (kind, i)
            _check_dict(item, what)
            _check_keys(item, keys, what)
            element = {}
            if item.get('interface') is not None:
                element['interface'] = check_ifname(item['interface'], '%s interface' % what)
            elif len(entries) > 1:
                _fail("%s has no interface: with several items each names the pod interface it is for" % what)
            if element.get('interface') in seen:
                _fail("%s interface %r is also used by %s: expected one item per interface" % (what, element['interface'], seen[element['interface']]))
            seen[element.get('interface')] = what
            for family, version in (('ipv4', 4), ('ipv6', 6)):
                names = _check_list(item.get(family), '%s %s' % (what, family), ['storage-v4'])
                for j, name in enumerate(names):
                    check_dns_subdomain(name, '%s %s[%d]' % (what, family, j))
                    if (other_kind, name) in declared and (want_kind, name) not in declared:
                        _fail("%s %s[%d] %r is a %s, not a %s: expected the %s annotation to name %ss"
                              % (what, family, j, name, other_kind, want_kind, kind, want_kind))
                    if (want_kind, name) in declared:
                        state, ip_version = declared[(want_kind, name)]
                        if state == 'absent':
                            _fail("%s %s[%d] %r is a %s the networks list removes (state absent)" % (what, family, j, name, want_kind))
                        if ip_version is not None and ip_version != version:
                            _fail("%s %s[%d] %r is an IPv%d %s: expected IPv%d ones under %s"
                                  % (what, family, j, name, ip_version, want_kind, version, family))
                if len(set(names)) != len(names):
                    _fail("%s %s %r names a pool twice" % (what, family, names))
                if names:
                    element[family] = names
            if not element.get('ipv4') and not element.get('ipv6'):
                _fail("%s names no %s: expected ipv4 and/or ipv6 lists" % (what, kind))
            if kind == 'ippools':
                element['cleangateway'] = _check_bool(item.get('cleangateway', False), '%s cleangateway' % what)
            out.append(element)
        return _compact(out)
    except PlanError as exc:
        raise NadError('spiderpool %s annotation: %s' % (kind, exc))
