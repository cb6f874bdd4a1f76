# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
""":func:`build_objects`: every item of a networks list checked and built, then the checks across
items (an object defined twice, OVN-Kubernetes NADs sharing a network name, overlapping ranges);
and what a play prints or needs from the result (:func:`summarize`, :func:`primary_namespaces`).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError, Reserved
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    COMMON_KEYS,
    DEFAULT_KEYS,
    KINDS,
    NAD_KIND,
    OVNK,
    TYPE_KEYS,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.multinic_items import _multinic_item
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.nad_items import _nad_item
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.plan import _plan_networks
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.spiderpool_items import _spiderpool_item
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    NadError,
    _check_choice,
    _check_keys,
    _fail,
    check_dns_label,
    check_dns_subdomain,
)


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
                problems.append(
                    "%s: %s %s is also defined by networks[%d]: expected each object once"
                    % (record['what'], kind, where, seen[key])
                )
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
            problems.append(
                "%s: OVN-Kubernetes network %r is already defined differently by %s (%s): NADs sharing "
                "a network name must be identical apart from netAttachDefName"
                % (record['what'], network_name, other['what'], detail)
            )


def _check_whereabouts_networks(records, problems):
    """Whereabouts NADs of one network_name beside a sliced one (node_slice_size) must have its range and slices.

    whereabouts' node-slice controller compares every whereabouts NAD of the cluster with the one it reconciles and
    refuses to make its NodeSlicePool when one of the same network_name (none given counts as one name) differs in
    range or node_slice_size (pkg/node-controller, checkForMultiNadMismatch): pods of that NAD never start.
    """
    by_name = {}
    for record in records:
        if record['state'] == 'present' and record.get('whereabouts'):
            by_name.setdefault(record['whereabouts'][0], []).append(record)
    for network_name, group in sorted(by_name.items()):
        sliced = [r for r in group if r['whereabouts'][2]]
        for record in sliced:
            for other in group:
                if other['index'] == record['index'] or other['whereabouts'][1:] == record['whereabouts'][1:]:
                    continue
                problems.append(
                    "%s: whereabouts network_name %s is also %s's, whose range %s%s differs from its %s%s: "
                    "whereabouts' node-slice controller refuses to slice a network whose NADs differ "
                    "(checkForMultiNadMismatch); expected each its own ipam.network_name"
                    % (
                        record['what'],
                        repr(network_name) if network_name else '(none given)',
                        other['what'],
                        other['whereabouts'][1],
                        ' node_slice_size %s' % other['whereabouts'][2] if other['whereabouts'][2] else '',
                        record['whereabouts'][1],
                        ' node_slice_size %s' % record['whereabouts'][2],
                    )
                )
                break


def _check_node_slice_namespaces(records, problems, namespace):
    """A sliced whereabouts NAD (node_slice_size) must be in whereabouts' own ``namespace``.

    whereabouts' node-slice controller (pkg/node-controller) creates each NodeSlicePool in the namespace it runs in
    (WHEREABOUTS_NAMESPACE, kube-system in upstream's manifest) with an owner reference to the NAD; Kubernetes'
    garbage collector deletes a namespaced object whose owner is in another namespace, so the pool does not stay
    and pods of the NAD get no address. whereabouts' README asks for NADs and whereabouts in one namespace.
    """
    if not namespace:
        return
    for record in records:
        if record['state'] != 'present' or not (record.get('whereabouts') or ('', '', ''))[2]:
            continue
        elsewhere = sorted(
            set(obj['metadata'].get('namespace') for obj in record['objects']) - set([namespace]), key=str
        )
        if elsewhere:
            problems.append(
                "%s: node_slice_size %s in namespace %s: whereabouts' node-slice controller keeps the NodeSlicePool "
                "in its own namespace %s with the NAD as its owner, and the garbage collector deletes an object whose "
                "owner is in another namespace (pods of the NAD would get no address); expected namespace %s for a "
                "sliced NAD (pods elsewhere attach it as %s/<name>), or whereabouts_namespace set to the namespace "
                "whereabouts runs in"
                % (
                    record['what'],
                    record['whereabouts'][2],
                    ', '.join(elsewhere),
                    namespace,
                    namespace,
                    namespace,
                )
            )


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
        problems.append(
            "%s %s overlaps %s %s: expected every network its own range (plan them with "
            "netplumb.multihome.cidr_plan scheme network_ranges and use ipam.from_plan)"
            % (label_a, net_a, label_b, net_b)
        )
        named = [(label, net) for label, net in named if not (label == label_b and net == net_b)]


def _raise_problems(problems):
    if len(problems) == 1:
        raise NadError(problems[0])
    raise NadError('%d problems in networks:\n- %s' % (len(problems), '\n- '.join(problems)))


def build_objects(
    networks: Sequence[dict[str, Any]] | None,
    defaults: dict[str, Any] | None = None,
    plan: dict[str, Any] | None = None,
    reserved: Reserved = None,
    ovnk_internal: dict[str, Any] | None = None,
    whereabouts_namespace: str | None = None,
) -> list[dict[str, Any]]:
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
    must not overlap. ``whereabouts_namespace``, when given, is where whereabouts (its node-slice
    controller) runs: a NAD with per-node slices anywhere else is refused.

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
    _check_whereabouts_networks(records, problems)
    _check_node_slice_namespaces(records, problems, whereabouts_namespace)
    _check_range_overlaps(records, problems, repeats)
    if problems:
        _raise_problems(problems)
    return [{'state': record['state'], 'object': obj} for record in records for obj in record['objects']]


PRIMARY_UDN_LABEL = 'k8s.ovn.org/primary-user-defined-network'


def primary_namespaces(objects: Iterable[Mapping[str, Any]]) -> list[str]:
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


def summarize(objects: Iterable[Mapping[str, Any]]) -> list[str]:
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
                ranges = (
                    ipam.get('range')
                    or ','.join(r['subnet'] for s in ipam.get('ranges', []) for r in s)
                    or ','.join(a['address'] for a in ipam.get('addresses', []))
                )
                parts.append('ipam=%s%s' % (ipam.get('type'), ' %s' % ranges if ranges else ''))
            line += '  ' + ' '.join(parts)
        elif spec.get('subnet'):
            line += '  subnet=%s' % spec['subnet']
            if spec.get('ips'):
                line += ' ips=%s' % ','.join(spec['ips'])
        lines.append(line)
    return lines
