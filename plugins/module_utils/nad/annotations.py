# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod annotations, checked against the NADs they name: Multus' ``k8s.v1.cni.cncf.io/networks`` and
Spiderpool's ``ipam.spidernet.io/ippools`` / ``ipam.spidernet.io/subnets``.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    NAD_KIND,
    OVNK,
    SPIDERPOOL_API_VERSION,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    NadError,
    _check_bool,
    _check_choice,
    _check_dict,
    _check_host_address,
    _check_keys,
    _check_list,
    _check_mac,
    _compact,
    _fail,
    check_dns_label,
    check_dns_subdomain,
    check_ifname,
)


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


def pod_networks_annotation(
    attachments: str | Sequence[str | dict[str, Any]] | None,
    default_namespace: str | None = None,
    nads: Iterable[Any] | None = None,
) -> str:
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
        raise NadError(
            "attachments %r is not a list: expected e.g. ['storage-net', 'aistore/repl-net@net2']" % (attachments,)
        )
    if default_namespace is not None:
        check_dns_label(default_namespace, 'default_namespace')
    known = _nad_index(nads)
    out: list[dict[str, Any]] = []
    seen_attachment: dict[tuple[str | None, str, str | None], str] = {}
    seen_ifname: dict[str, str | None] = {'eth0': None}
    seen_ips: dict[cidr.IPAddress, str] = {}
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
            element: dict[str, Any] = {'name': name}
            if namespace is not None:
                element['namespace'] = namespace
            ifname = entry['interface'] or None
            if ifname is not None:
                check_ifname(ifname, '%s interface' % what)
                element['interface'] = ifname
            ips = []
            for j, value in enumerate(_check_list(entry['ips'], '%s ips' % what, ['198.18.0.5/24'])):
                if not is_text(value) or '/' not in value:
                    _fail(
                        "%s ips[%d] %r has no prefix: expected an address with prefix such as '198.18.0.5/24' (the "
                        "static IPAM plugin that serves Multus' ips reads CIDR notation)" % (what, j, value)
                    )
                iface = _check_host_address(
                    cidr.parse_interface(value, '%s ips[%d]' % (what, j)), '%s ips[%d]' % (what, j)
                )
                if iface.ip in seen_ips:
                    _fail(
                        "%s ips[%d] %s is also requested by %s: two interfaces of one pod cannot share an address"
                        % (what, j, iface.ip, seen_ips[iface.ip])
                    )
                seen_ips[iface.ip] = what
                ips.append(str(iface))
            if ips:
                element['ips'] = ips
            if entry['mac']:
                element['mac'] = _check_mac(entry['mac'], '%s mac' % what)
            key = (namespace, name, ifname)
            if key in seen_attachment:
                _fail(
                    "%s attaches %s%s%s again (as %s did): expected each attachment once; give each an interface "
                    "name to attach one network twice"
                    % (
                        what,
                        '%s/' % namespace if namespace else '',
                        name,
                        '@%s' % ifname if ifname else '',
                        seen_attachment[key],
                    )
                )
            seen_attachment[key] = what
            effective = ifname or 'net%d' % (i + 1)
            if effective in seen_ifname:
                owner = seen_ifname[effective]
                _fail(
                    "%s interface %r is %s: expected a distinct interface name per attachment"
                    % (
                        what,
                        effective,
                        'the cluster network interface of the pod'
                        if owner is None
                        else 'also used by %s (Multus names an unnamed attachment net<position>)' % owner,
                    )
                )
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
            _fail(
                "%s attaches OVN-Kubernetes NAD %s a second time: OVN-Kubernetes refuses the same NAD twice in one pod"
                % (what, where)
            )
        if element.get('ips') and (conf.get('topology') == 'layer3' or conf.get('subnets')):
            subnets = ', subnets %s' % conf['subnets'] if conf.get('subnets') else ''
            _fail(
                "%s requests ips on OVN-Kubernetes NAD %s (topology %s%s): static IPs are only for layer2 or "
                "localnet networks without subnets" % (what, where, conf.get('topology'), subnets)
            )
        return
    if element.get('ips') and not caps.get('ips'):
        _fail(
            "%s requests ips but NAD %s has no capabilities.ips: Multus passes ips to the plugin only when the "
            "NAD enables that capability" % (what, where)
        )
    if element.get('mac') and not caps.get('mac'):
        _fail(
            "%s requests mac but NAD %s has no capabilities.mac: Multus passes mac to the plugin only when the "
            "NAD enables that capability" % (what, where)
        )


def spiderpool_annotations(
    items: Sequence[dict[str, Any]], kind: str = 'ippools', objects: Iterable[Any] | None = None
) -> str:
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
                declared[(obj.get('kind'), obj['metadata']['name'])] = (
                    entry.get('state', 'present'),
                    (obj.get('spec') or {}).get('ipVersion'),
                )
        want_kind = 'SpiderIPPool' if kind == 'ippools' else 'SpiderSubnet'
        other_kind = 'SpiderSubnet' if kind == 'ippools' else 'SpiderIPPool'
        keys = ('interface', 'ipv4', 'ipv6', 'cleangateway') if kind == 'ippools' else ('interface', 'ipv4', 'ipv6')
        out = []
        seen: dict[str | None, str] = {}
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
                _fail(
                    "%s interface %r is also used by %s: expected one item per interface"
                    % (what, element['interface'], seen[element['interface']])
                )
            seen[element.get('interface')] = what
            for family, version in (('ipv4', 4), ('ipv6', 6)):
                names = _check_list(item.get(family), '%s %s' % (what, family), ['storage-v4'])
                for j, name in enumerate(names):
                    check_dns_subdomain(name, '%s %s[%d]' % (what, family, j))
                    if (other_kind, name) in declared and (want_kind, name) not in declared:
                        _fail(
                            "%s %s[%d] %r is a %s, not a %s: expected the %s annotation to name %ss"
                            % (what, family, j, name, other_kind, want_kind, kind, want_kind)
                        )
                    if (want_kind, name) in declared:
                        state, ip_version = declared[(want_kind, name)]
                        if state == 'absent':
                            _fail(
                                "%s %s[%d] %r is a %s the networks list removes (state absent)"
                                % (what, family, j, name, want_kind)
                            )
                        if ip_version is not None and ip_version != version:
                            _fail(
                                "%s %s[%d] %r is an IPv%d %s: expected IPv%d ones under %s"
                                % (what, family, j, name, ip_version, want_kind, version, family)
                            )
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
