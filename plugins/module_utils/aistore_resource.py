# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AIS operator's ``AIStore`` resource, built from the aistore role's settings.

Plain functions over the standard library, for the ``aistore_resource`` filter and its tests.
What the operator (NVIDIA/ais-k8s, ``operator/api/v1beta1/aistore_types.go`` and
``operator/internal/resources/aistore/``) and ais-init (NVIDIA/aistore ``cmd/aisinit``) do with
the fields, which decides what is refused here:

* ``proxySpec`` and ``targetSpec`` require ``portPublic``, ``portIntraControl``, ``portIntraData``
  and ``servicePort`` in every CRD version. The operator's container port is ``servicePort`` and
  its ``hostPort`` maps to it (``cmn/res.go`` ``NewDaemonPorts``), while aisnode listens on
  ``portPublic``: with a ``hostPort`` the two must be equal, or the node's port leads nowhere.
* Operators up to v3.0.0 predate ``stateStorage`` and also require ``spec.enableExternalLB``;
  ``hostpathPrefix`` is deprecated from v3.0.0 on (a warning, still honoured when
  ``stateStorage`` is not set).
* ``hostnameMap`` reaches ``pub_extra`` only through ais-init: it looks the daemon's public
  hostname up in the map. That hostname is the node's IP (``status.hostIP``) only when the daemon
  uses a ``hostPort`` (targets: and have no external access) and ``publicNetDNSMode`` is ``IP``
  (the default); ``Node`` gives the node's name and ``Pod`` the pod's DNS name. For a target on
  ``hostNetwork`` in IP mode ais-init clears the hostname before the lookup. Any of these, with a
  map whose keys are node IPs, starts AIStore without ``pub_extra`` and nothing says why:
  :func:`multihome_conflicts` names them.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import (
    check_ifname,
    dns_label_problem,
)

API_VERSION = 'ais.nvidia.com/v1beta1'
KIND = 'AIStore'
DNS_MODES = ('IP', 'Node', 'Pod')


class AisResourceError(ValueError):
    """Settings that would build an AIStore resource the operator refuses or misreads; the message says why."""


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged into ``base`` recursively (dicts merge key by key, anything else is replaced).

    The same rule as Ansible's ``combine(recursive=True)``, which the role's users know from
    ``aistore_extra_spec``.
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _port(value, what):
    if isinstance(value, bool):
        raise AisResourceError("%s %r is not a port: expected a number from 1 to 65535" % (what, value))
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise AisResourceError("%s %r is not a port: expected a number from 1 to 65535" % (what, value))
    if not 1 <= port <= 65535:
        raise AisResourceError("%s %r is not a port: expected a number from 1 to 65535" % (what, value))
    return port


def _daemon(settings, role):
    """proxySpec or targetSpec, every port the CRD requires included."""
    public = _port(settings['%s_port' % role], 'aistore_%s_port' % role)
    service = _port(settings.get('%s_service_port' % role, public), 'aistore_%s_service_port' % role)
    spec = {
        'size': int(settings['%s_size' % role]),
        'servicePort': service,
        'portPublic': public,
        'portIntraControl': _port(settings['intra_control_port'], 'aistore_intra_control_port'),
        'portIntraData': _port(settings['intra_data_port'], 'aistore_intra_data_port'),
    }
    if settings.get('host_port'):
        if service != public:
            raise AisResourceError(
                "aistore_%s_service_port %d differs from aistore_%s_port %d while aistore_host_port is true: the operator "
                "maps the hostPort to the container port servicePort, but aisnode listens on portPublic, so the node's "
                "port %d would lead nowhere; expected both equal" % (role, service, role, public, public)
            )
        spec['hostPort'] = public
    return spec


def check_attachment(value: Any) -> str:
    """``value`` if it is one of Multus' network selection elements, ``[namespace/]name[@interface]``.

    The operator puts ``spec.networkAttachment`` into the pods' ``k8s.v1.cni.cncf.io/networks`` annotation as it is;
    a name that is no Kubernetes name would leave every AIS pod unscheduled. AisResourceError names it otherwise.
    """
    what = 'aistore_network_attachments item %r' % (value,)
    if not isinstance(value, str) or not value:
        raise AisResourceError('%s is not a NetworkAttachmentDefinition name: expected [namespace/]name' % what)
    rest, iface = value.split('@', 1) if '@' in value else (value, '')
    if '@' in value:
        check_ifname(iface, '%s: the interface after @' % what, AisResourceError)
    namespace, name = rest.rsplit('/', 1) if '/' in rest else ('', rest)
    if '/' in rest:
        problem = dns_label_problem(namespace)
        if problem:
            raise AisResourceError('%s: namespace %r %s' % (what, namespace, problem))
    # Multus v4 (pkg/k8sclient parsePodNetworkObjectName) wants a DNS-1123 label for both.
    problem = dns_label_problem(name)
    if problem:
        raise AisResourceError('%s: name %r %s' % (what, name, problem))
    return value


def build_resource(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The AIStore resource (a dict) for the role's ``settings``; raises :class:`AisResourceError`.

    ``settings``: ``name``, ``namespace``, ``node_image``, ``init_image``, ``hostname_map``
    (primary IP to ``"primary,extra..."``), ``attachments`` (NAD names), ``proxy_size``,
    ``target_size``, ``proxy_port``, ``target_port``, ``proxy_service_port``,
    ``target_service_port``, ``intra_control_port``, ``intra_data_port``, ``host_port``,
    ``mounts``, ``state_storage``, ``hostpath_prefix`` (non-empty: the pre-``stateStorage``
    layout) and ``extra_spec`` (merged into ``spec`` last). The merged spec is then checked with
    :func:`multihome_conflicts`.
    """
    spec = {
        'nodeImage': settings['node_image'],
        'initImage': settings['init_image'],
        'hostnameMap': dict(settings.get('hostname_map') or {}),
    }
    attachments = list(settings.get('attachments') or [])
    for attachment in attachments:
        check_attachment(attachment)
    if attachments:
        spec['networkAttachment'] = ','.join(attachments)
    spec['proxySpec'] = _daemon(settings, 'proxy')
    spec['targetSpec'] = _daemon(settings, 'target')
    spec['targetSpec']['mounts'] = copy.deepcopy(settings['mounts'])
    if settings.get('hostpath_prefix'):
        # Operators before stateStorage (up to v3.0.0) require enableExternalLB.
        spec['hostpathPrefix'] = settings['hostpath_prefix']
        spec['enableExternalLB'] = False
    else:
        spec['stateStorage'] = copy.deepcopy(settings['state_storage'])
    extra = settings.get('extra_spec') or {}
    if not isinstance(extra, dict):
        raise AisResourceError("aistore_extra_spec %r is not a dict to merge into spec" % (extra,))
    spec = merge(spec, extra)
    problems = multihome_conflicts(spec)
    if problems:
        raise AisResourceError(
            "the AIStore spec would make the operator ignore hostnameMap, so no node would publish its extra IPs "
            "(pub_extra): %s. Multi-homing needs both daemons on a hostPort, publicNetDNSMode IP (the default), "
            "targets neither on hostNetwork nor behind an external load balancer" % '; '.join(problems)
        )
    return {
        'apiVersion': API_VERSION,
        'kind': KIND,
        'metadata': {
            'name': settings['name'],
            'namespace': settings['namespace'],
            'labels': {'app.kubernetes.io/name': 'aistore', 'app.kubernetes.io/managed-by': 'netplumb.multihome'},
        },
        'spec': spec,
    }


def _multihomed(hostname_map):
    return sorted(
        key
        for key, value in (hostname_map or {}).items()
        if isinstance(value, str) and len([h for h in value.split(',') if h.strip()]) > 1
    )


def multihome_conflicts(spec: Mapping[str, Any]) -> list[str]:
    """The settings of an AIStore ``spec`` that keep ais-init from using its ``hostnameMap``, as messages.

    Empty when no node has extra IPs (a map of single addresses changes nothing) or when none
    applies. Each message names the field, the role setting behind it and why.
    """
    multihomed = _multihomed(spec.get('hostnameMap'))
    if not multihomed:
        return []
    out = []
    mode = spec.get('publicNetDNSMode') or 'IP'
    if mode not in DNS_MODES:
        out.append("publicNetDNSMode %r is not one of %s" % (mode, ', '.join(DNS_MODES)))
    elif mode == 'Node':
        out.append(
            "publicNetDNSMode Node (aistore_extra_spec): ais-init then looks the node's name up in hostnameMap, "
            "whose keys are the nodes' IPs"
        )
    elif mode == 'Pod':
        out.append(
            "publicNetDNSMode Pod (aistore_extra_spec): ais-init then uses the pod's DNS name and never "
            "looks at hostnameMap's node IPs"
        )
    proxy = spec.get('proxySpec') or {}
    target = spec.get('targetSpec') or {}
    if proxy.get('hostPort') is None:
        out.append(
            "proxySpec has no hostPort (aistore_host_port is false, or aistore_extra_spec removed it): the "
            "operator gives ais-init the node's IP (AIS_PUBLIC_HOSTNAME) only for daemons on a hostPort"
        )
    external = target.get('externalAccess') is not None or (
        target.get('externalAccess') is None and spec.get('enableExternalLB') is True
    )
    if target.get('hostPort') is None:
        out.append(
            "targetSpec has no hostPort (aistore_host_port is false, or aistore_extra_spec removed it): the "
            "operator gives ais-init the node's IP (AIS_PUBLIC_HOSTNAME) only for daemons on a hostPort"
        )
    elif external:
        out.append(
            "targets have external access (%s, aistore_extra_spec): ais-init then takes the load balancer's IP "
            "as the hostname, and the operator does not pass the node's IP"
            % ('targetSpec.externalAccess' if target.get('externalAccess') is not None else 'enableExternalLB')
        )
    if target.get('hostNetwork') is True and mode == 'IP':
        out.append(
            "targetSpec.hostNetwork is true (aistore_extra_spec): in IP mode ais-init clears a host-network "
            "target's hostname before it looks it up in hostnameMap"
        )
    return out
