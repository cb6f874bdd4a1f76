# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OVN-Kubernetes secondary network subnets: parse them and plan per-node host subnets.

The ``subnets`` value of an OVN-Kubernetes NetworkAttachmentDefinition is
checked the way OVN-Kubernetes checks it (go-controller/pkg/config/utils.go,
``ParseClusterSubnetEntriesWithDefaults``; go-controller/pkg/util/multi_network.go):

* entries are separated by commas and trimmed; each is ``CIDR`` or, for
  ``layer3`` only, ``CIDR/hostlength``; an empty entry is malformed;
* ``layer3`` defaults the host length to /24 for IPv4 and /64 for IPv6; an IPv6
  host length must be /64; the host length must be longer than the entry's
  prefix, and an IPv4 host subnet must leave room for addresses (at most /31);
* ``layer2`` and ``localnet`` take no host length: ``10.0.0.0/16/24`` is refused;
* entries must not overlap one another; ``layer3`` needs at least one entry,
  ``layer2``/``localnet`` may have none (then OVN-Kubernetes assigns no IPs);
* ``excludeSubnets`` are plain CIDRs, each inside one of the subnets; only
  ``layer2`` and ``localnet`` read them;
* ``layer3``: all IPv4 entries share one host length (``all IPv4 cluster subnet
  entries must have the same host subnet length``); an IPv4 host length of /32 is
  accepted (OVN-Kubernetes refuses only longer ones);
* ``SubnetOverlapCheck``: ``layer2``/``layer3`` subnets and join subnets (the
  NAD's ``joinSubnet``, else the user-defined join default 100.65.0.0/16 and
  fd99::/64, per family) must not overlap one another, the cluster's pod and
  service networks, or OVN-Kubernetes' own join, masquerade and (``layer3``)
  transit subnets; internal subnets inside an ``excludeSubnets`` entry are left
  out first (:func:`check_internal_overlaps`).

Unlike Go's ``net.ParseCIDR``, which silently drops host bits, a CIDR with host
bits set is refused here, naming the network it would be.

A ``layer3`` node gets one host subnet per IP family, like OVN-Kubernetes'
cluster-manager node allocator: from the first entry of that family that has
a free block, then the next. Plans are stable: a node keeps the host subnets
an earlier plan gave it while they stay valid.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import split_list
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError, Reserved
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import check_names, unwrap_plan

TOPOLOGIES = ('layer3', 'layer2', 'localnet')
DEFAULT_HOST_LENGTH = {4: 24, 6: 64}
IPV6_HOST_LENGTH = 64
MAX_IPV4_HOST_LENGTH = 32

# OVN-Kubernetes' own subnets, which SubnetOverlapCheck keeps every layer2/layer3 NAD away from:
# go-controller/pkg/config/config.go defaults (Gateway.V4/V6JoinSubnet, V4/V6MasqueradeSubnet,
# ClusterManager.V4/V6TransitSubnet), plus the masquerade subnet that kind (contrib/kind.sh) and
# OpenShift deploy. The transit subnet counts for layer3 only. A cluster configured otherwise
# passes its own (the ovnk_internal_subnets option).
INTERNAL_SUBNETS = {
    'join subnet': ['100.64.0.0/16', 'fd98::/64'],
    'masquerade subnet': ['169.254.169.0/29', 'fd69::/125', '169.254.0.0/17', 'fd69::/112'],
    'transit subnet': ['100.88.0.0/16', 'fd97::/64'],
}
LAYER3_ONLY = ('transit subnet',)
# pkg/types/const.go UserDefinedPrimaryNetworkJoinSubnetV4/V6: the join subnets of every layer2/layer3 NAD,
# primary or secondary, unless its joinSubnet replaces one family (parseJoinSubnet).
UDN_JOIN_SUBNETS = ('100.65.0.0/16', 'fd99::/64')

_DIGITS = re.compile(r'^[0-9]+$')


def check_topology(topology: Any) -> str:
    """Return ``topology`` if it is one OVN-Kubernetes supports for secondary networks."""
    if topology not in TOPOLOGIES:
        raise PlanError("topology %r is not supported: expected one of %s" % (topology, ', '.join(TOPOLOGIES)))
    return topology


_SUBNETS_MESSAGES = {
    'type': "subnets %(value)r is not a comma-separated string or a list of CIDRs",
    'item_type': "subnets entry %(index)d %(item)r is not a string: expected 'CIDR' or 'CIDR/hostlength'",
    'item_empty': "subnets entry %(index)d of %(value)r is empty: expected 'CIDR' or 'CIDR/hostlength' between commas",
}


def _raw_entries(subnets):
    """The entries of ``subnets`` (comma string or list) as stripped strings; ``[]`` when empty."""
    return split_list(subnets, 'subnets', PlanError, messages=_SUBNETS_MESSAGES)


def _parse_entry(entry, topology):
    """``(network, host_length)`` of one entry; ``host_length`` is None outside layer3."""
    parts = entry.split('/')
    if topology == 'layer3':
        expected = "expected 'CIDR' or 'CIDR/hostlength', such as '10.128.0.0/16/24' or 'fd00:10:128::/48'"
    else:
        expected = "expected a CIDR such as '10.100.200.0/24' (topology %s takes no host length)" % topology
    if len(parts) < 2 or len(parts) > 3:
        raise PlanError("subnets entry %r is not properly formatted: %s" % (entry, expected))
    network = cidr.parse_network('%s/%s' % (parts[0], parts[1]), 'subnets entry %r: CIDR' % entry)
    if topology != 'layer3':
        if len(parts) == 3:
            raise PlanError(
                "subnets entry %r has a host length (/%s) but topology %s has no per-node subnets: %s"
                % (entry, parts[2], topology, expected)
            )
        return network, None
    if len(parts) == 3:
        if not _DIGITS.match(parts[2]):
            raise PlanError("subnets entry %r host length %r is not a whole number of bits" % (entry, parts[2]))
        host_length = int(parts[2])
    else:
        host_length = DEFAULT_HOST_LENGTH[network.version]
    if network.version == 6 and host_length != IPV6_HOST_LENGTH:
        raise PlanError(
            "subnets entry %r host length /%d is not allowed: OVN-Kubernetes only supports /%d host "
            "subnets for IPv6" % (entry, host_length, IPV6_HOST_LENGTH)
        )
    if network.version == 4 and host_length > MAX_IPV4_HOST_LENGTH:
        raise PlanError(
            "subnets entry %r host length /%d is too long: expected at most /%d for IPv4 "
            "(a /32 host subnet has no room for pods)" % (entry, host_length, MAX_IPV4_HOST_LENGTH)
        )
    if host_length <= network.prefixlen:
        raise PlanError(
            "subnets entry %r host length /%d is not longer than the subnet's /%d: expected a host "
            "length longer than /%d" % (entry, host_length, network.prefixlen, network.prefixlen)
        )
    return network, host_length


def _parse(subnets, topology):
    check_topology(topology)
    entries = _raw_entries(subnets)
    if not entries and topology == 'layer3':
        raise PlanError(
            "subnets %r is empty: topology layer3 needs at least one subnet, such as '10.128.0.0/16/24'" % (subnets,)
        )
    parsed = [_parse_entry(entry, topology) for entry in entries]
    cidr.check_overlaps([('subnets entry %r' % entry, net) for entry, (net, _hl) in zip(entries, parsed)])
    ipv4 = [(entry, hl) for entry, (net, hl) in zip(entries, parsed) if net.version == 4]
    for entry, host_length in ipv4[1:]:
        if host_length != ipv4[0][1]:
            raise PlanError(
                "subnets entries %r and %r have IPv4 host lengths /%d and /%d: OVN-Kubernetes requires "
                "the same host subnet length for all IPv4 entries" % (ipv4[0][0], entry, ipv4[0][1], host_length)
            )
    return parsed


def parse_subnets(subnets: str | Sequence[str] | None, topology: str) -> list[dict[str, Any]]:
    """Parse an OVN-Kubernetes ``subnets`` value for ``topology``.

    ``subnets`` is a comma-separated string (``'10.128.0.0/16/24,fd00:10:128::/48'``)
    or a list of entries. Returns ``[{'cidr': str, 'host_length': int or None}]``
    in the order given; ``host_length`` is None for ``layer2`` and ``localnet``.
    """
    return [{'cidr': str(net), 'host_length': host_length} for net, host_length in _parse(subnets, topology)]


def _parse_excludes(exclude_subnets, parsed, topology):
    excludes = cidr.parse_networks(exclude_subnets, 'exclude_subnets')
    if excludes and topology == 'layer3':
        raise PlanError(
            "exclude_subnets %s given for topology layer3: OVN-Kubernetes reads excludeSubnets only "
            "for layer2 and localnet networks and ignores it on layer3; expected no exclude_subnets"
            % ', '.join(str(n) for n in excludes)
        )
    nets = [net for net, _hl in parsed]
    for i, excl in enumerate(excludes):
        if not any(excl.version == net.version and excl.subnet_of(net) for net in nets):
            raise PlanError(
                "exclude_subnets[%d] %s is not inside any of the subnets %s: expected each excluded "
                "range inside one of them" % (i, excl, ', '.join(str(n) for n in nets) or '(none given)')
            )
    return excludes


def _internal(internal, topology):
    """``[(label, network)]`` of OVN-Kubernetes' own subnets for ``topology`` (``internal``: dict label -> CIDRs)."""
    if internal is None:
        internal = INTERNAL_SUBNETS
    if not isinstance(internal, dict):
        raise PlanError(
            "ovnk_internal_subnets %r is not a dict of name to CIDRs, such as {'join subnet': "
            "['100.64.0.0/16', 'fd98::/64']}" % (internal,)
        )
    out = []
    for name in internal:
        if name in LAYER3_ONLY and topology != 'layer3':
            continue
        values = internal[name]
        if isinstance(values, str):
            values = [v for v in values.split(',') if v.strip()]
        for value in values or []:
            net = cidr.parse_network(
                value.strip() if isinstance(value, str) else value, 'ovnk_internal_subnets %s' % name
            )
            out.append(("OVN-Kubernetes' %s" % name, net))
    return out


def check_internal_overlaps(
    topology: str,
    subnets: str | Sequence[str] | None,
    join_subnet: str | Iterable[str] | None = None,
    exclude_subnets: str | Iterable[str] | None = None,
    reserved: Reserved = None,
    internal: dict[str, Any] | None = None,
) -> None:
    """Refuse what OVN-Kubernetes' ``SubnetOverlapCheck`` (pkg/util/multi_network.go) refuses.

    For ``layer2`` and ``layer3`` (``localnet`` skips the check): the NAD's ``subnets`` and
    its join subnets (``join_subnet`` per family, else :data:`UDN_JOIN_SUBNETS`) must not
    overlap each other, ``reserved`` (the cluster's pod and service networks, any form
    :func:`cidr.named_reserved` takes) or ``internal`` (default :data:`INTERNAL_SUBNETS`;
    the transit subnet for ``layer3`` only). A subnet inside an ``exclude_subnets`` entry is
    left out first, as OVN-Kubernetes does. Raises :class:`cidr.PlanError` naming both.
    """
    check_topology(topology)
    if topology == 'localnet':
        return
    parsed = _parse(subnets, topology)
    excludes = cidr.parse_networks(exclude_subnets, 'exclude_subnets') if topology != 'layer3' else []
    joins = dict(
        (n.version, ('default user-defined join subnet', n))
        for n in (ipaddress.ip_network(j) for j in UDN_JOIN_SUBNETS)
    )
    for net in cidr.parse_networks(join_subnet, 'join_subnet'):
        joins[net.version] = ('join_subnet', net)
    own = [('subnets entry', net) for net, _hl in parsed] + [joins[v] for v in sorted(joins)]
    theirs = cidr.named_reserved(reserved) + _internal(internal, topology)

    def kept(named):
        return [
            (label, net)
            for label, net in named
            if not any(net.version == e.version and net.subnet_of(e) for e in excludes)
        ]

    found = cidr.find_overlaps(kept(own), kept(theirs))
    if found:
        label_a, net_a, label_b, net_b = found
        raise PlanError(
            "%s %s overlaps %s %s: OVN-Kubernetes refuses a %s network whose subnets or join subnets overlap "
            "its own or the cluster's (\"pod or join subnet overlaps with already configured internal "
            "subnets\")" % (label_a, net_a, label_b, net_b, topology)
        )


def _previous_nodes(plan):
    """``{node: [network, ...]}`` from an earlier plan's ``nodes``."""
    values = plan.get('nodes')
    if values is None:
        return {}
    if not isinstance(values, list):
        raise PlanError("previous nodes %r is not a list" % (values,))
    out = {}
    for i, node in enumerate(values):
        if not isinstance(node, dict):
            raise PlanError("previous nodes[%d] %r is not a dict with 'name' and 'subnets'" % (i, node))
        name = node.get('name')
        if not isinstance(name, str) or name in out:
            continue
        subnets = node.get('subnets') or []
        if isinstance(subnets, str):
            subnets = [s for s in subnets.split(',') if s.strip()]
        out[name] = [
            cidr.parse_network(s.strip() if isinstance(s, str) else s, 'previous nodes[%d] (%s) subnet' % (i, name))
            for s in subnets
        ]
    return out


class _Pool:
    """The host-subnet blocks of one subnet entry; indexes in use, lowest free found by a moving cursor."""

    def __init__(self, network, host_length):
        self.network = network
        self.host_length = host_length
        self.base = int(network.network_address)
        self.size = 1 << (network.max_prefixlen - host_length)
        self.count = 1 << (host_length - network.prefixlen)
        self.used = set()
        self.cursor = 0

    def index_of(self, subnet):
        """The block index of ``subnet`` here, or None when it is not one of this pool's blocks."""
        if subnet.version != self.network.version or subnet.prefixlen != self.host_length:
            return None
        index = (int(subnet.network_address) - self.base) // self.size
        return index if 0 <= index < self.count else None

    def take_lowest(self):
        while self.cursor in self.used:
            self.cursor += 1
        if self.cursor >= self.count:
            return None
        index = self.cursor
        self.used.add(index)
        return index

    def text(self, index):
        """The block at ``index`` as CIDR text."""
        return cidr.network_text(self.network.version, self.base + index * self.size, self.host_length)


def plan_node_subnets(
    subnets: str | Sequence[str] | None,
    nodes: Sequence[str] | None,
    topology: str = 'layer3',
    exclude_subnets: str | Iterable[str] | None = None,
    previous: dict[str, Any] | None = None,
    reserved: Reserved = None,
    internal: dict[str, Any] | None = None,
    join_subnet: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    # pylint: disable=too-many-arguments,too-many-positional-arguments
    """Plan the host subnets of an OVN-Kubernetes secondary network.

    ``subnets`` is parsed with :func:`parse_subnets`; ``exclude_subnets`` (list or
    comma string, ``layer2``/``localnet`` only) must each lie inside one of the
    subnets. ``nodes`` is a list of unique node names.

    ``layer3``: each node gets one host subnet (a host-length block) per IP
    family of ``subnets``, so a dual-stack network gives every node an IPv4 and
    an IPv6 host subnet; with several entries of one family, the first entry
    with a free block is used. A node listed in ``previous`` (an earlier
    result's ``plan``) keeps its host subnets while they are still blocks of
    ``subnets``; new nodes take the lowest free block, in the order of
    ``nodes``; nodes no longer listed release theirs.

    ``layer2`` and ``localnet``: the network is one switch across the cluster,
    so there are no per-node subnets; ``nodes`` is validated but the plan's
    ``nodes`` is an empty list.

    The subnets and every host subnet are checked against ``reserved`` (any
    form :func:`cidr.named_reserved` accepts), and with :func:`check_internal_overlaps`
    against OVN-Kubernetes' own subnets (``internal``, default :data:`INTERNAL_SUBNETS`) and the
    network's join subnets (``join_subnet``, else the user-defined join defaults). Returns ``{'plan': {'topology',
    'subnets': [{'cidr', 'host_length'}], 'exclude_subnets': [str], 'nodes':
    [{'name', 'subnets': [str]}]}}``, nodes in the order given, each node's
    host subnets in the order their IP family first appears in ``subnets``.
    Raises :class:`cidr.PlanError` on bad input or when a family runs out of blocks.
    """
    check_topology(topology)
    parsed = _parse(subnets, topology)
    excludes = _parse_excludes(exclude_subnets, parsed, topology)
    nodes = check_names(nodes, 'nodes')
    reserved_named = cidr.named_reserved(reserved)
    cidr.check_overlaps([('subnet', net) for net, _hl in parsed], reserved_named)
    check_internal_overlaps(
        topology, subnets, join_subnet=join_subnet, exclude_subnets=exclude_subnets, internal=internal
    )

    plan: dict[str, Any] = {
        'topology': topology,
        'subnets': [{'cidr': str(net), 'host_length': hl} for net, hl in parsed],
        'exclude_subnets': [str(net) for net in excludes],
        'nodes': [],
    }
    if topology != 'layer3':
        return {'plan': plan}

    families = []
    pools: dict[int, list[_Pool]] = {}
    for net, host_length in parsed:
        if net.version not in pools:
            families.append(net.version)
            pools[net.version] = []
        pools[net.version].append(_Pool(net, host_length))

    # First keep every valid earlier host subnet, so that new nodes cannot take them.
    old = _previous_nodes(unwrap_plan(previous))
    chosen: dict[str, dict[int, tuple[_Pool, int]]] = dict((name, {}) for name in nodes)
    for name in nodes:
        for subnet in old.get(name, []):
            if subnet.version in chosen[name] or subnet.version not in pools:
                continue
            for pool in pools[subnet.version]:
                index = pool.index_of(subnet)
                if index is not None:
                    if index not in pool.used:
                        pool.used.add(index)
                        chosen[name][subnet.version] = (pool, index)
                    break

    for name in nodes:
        for version in families:
            if version in chosen[name]:
                continue
            for pool in pools[version]:
                index = pool.take_lowest()
                if index is not None:
                    chosen[name][version] = (pool, index)
                    break
            else:
                raise PlanError(
                    "no free IPv%d host subnet left for node %r (node %d of %d): %s"
                    % (
                        version,
                        name,
                        nodes.index(name) + 1,
                        len(nodes),
                        '; '.join(
                            'subnet %s with host length %d has %d blocks, all taken'
                            % (p.network, p.host_length, p.count)
                            for p in pools[version]
                        ),
                    )
                )

    # No overlap check of the host subnets: each is a block of one subnet, distinct blocks of one subnet are
    # disjoint, and the subnets were checked above against each other and against the reserved ranges.
    plan['nodes'] = [
        {'name': name, 'subnets': [chosen[name][version][0].text(chosen[name][version][1]) for version in families]}
        for name in nodes
    ]
    return {'plan': plan}
