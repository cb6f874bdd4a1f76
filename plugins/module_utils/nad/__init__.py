# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate an inventory list of secondary networks and build their Kubernetes objects.

One place where every network attachment is checked before anything is applied:
:func:`build_objects` turns the ``networks`` list into Multus
NetworkAttachmentDefinitions (``k8s.cni.cncf.io/v1``, ``spec.config`` a compact
CNI JSON string), Spiderpool SpiderSubnets/SpiderIPPools and Multi-NIC CNI
MultiNicNetworks, or raises one :class:`NadError` listing every problem found.
Nothing is returned half done.

Upstream rules this package follows (see the report in docs or the tests for sources):

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

One module per concept; this file only gathers the public names, so that callers import
``module_utils.nad`` and need not know the layout:

* ``constants``: API versions, CNI versions, plugin types and modes, the keys of each item;
* ``values``: :class:`NadError` and the checks of single values (names, numbers, MACs, ...);
* ``ranges``: routes, address ranges and gateways inside a network;
* ``plan``: ``ipam.from_plan``, a range taken from a cidr_plan ``network_ranges`` plan;
* ``ipam``: the IPAM blocks (whereabouts, host-local, static, dhcp, spiderpool, none);
* ``nad_items``, ``spiderpool_items``, ``multinic_items``: one item of each kind;
* ``build``: :func:`build_objects` and the checks across items, :func:`summarize`,
  :func:`primary_namespaces`;
* ``annotations``: the Multus and Spiderpool pod annotations.

Standard library only (json, re, ipaddress) plus this collection's own helpers. Imports are
absolute, so that Ansible ships the submodules a module needs with it.
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.nad.annotations import (
    pod_networks_annotation,
    spiderpool_annotations,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.build import (
    PRIMARY_UDN_LABEL,
    build_objects,
    primary_namespaces,
    summarize,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    CNI_VERSIONS,
    COMMON_KEYS,
    DEFAULT_CNI_VERSION,
    DEFAULT_KEYS,
    IPAM_KEYS,
    IPAM_TYPES,
    IPVLAN_MODES,
    KINDS,
    MACVLAN_MODES,
    MTU_MAX,
    MTU_MIN,
    MULTINIC_API_VERSION,
    MULTINIC_KEYS,
    MULTINIC_STRATEGIES,
    MULTINIC_VLAN_MODES,
    NAD_API_VERSION,
    NAD_KIND,
    NAD_TYPES,
    NETWORKS_ANNOTATION,
    OVNK,
    OVNK_CNI_VERSION,
    OVNK_RESERVED_NAMES,
    OVNK_ROLES,
    RESOURCE_NAME_ANNOTATION,
    SPIDERPOOL_API_VERSION,
    SPIDERPOOL_IPPOOLS_ANNOTATION,
    SPIDERPOOL_KEYS,
    SPIDERPOOL_POOL_KEYS,
    SPIDERPOOL_SUBNETS_ANNOTATION,
    SRIOV_LINK_STATES,
    STATES,
    TYPE_KEYS,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    NadError,
    check_cni_config,
    check_dns_label,
    check_dns_subdomain,
    check_ifname,
)

__all__ = (
    'CNI_VERSIONS',
    'COMMON_KEYS',
    'DEFAULT_CNI_VERSION',
    'DEFAULT_KEYS',
    'IPAM_KEYS',
    'IPAM_TYPES',
    'IPVLAN_MODES',
    'KINDS',
    'MACVLAN_MODES',
    'MTU_MAX',
    'MTU_MIN',
    'MULTINIC_API_VERSION',
    'MULTINIC_KEYS',
    'MULTINIC_STRATEGIES',
    'MULTINIC_VLAN_MODES',
    'NAD_API_VERSION',
    'NAD_KIND',
    'NAD_TYPES',
    'NETWORKS_ANNOTATION',
    'OVNK',
    'OVNK_CNI_VERSION',
    'OVNK_RESERVED_NAMES',
    'OVNK_ROLES',
    'PRIMARY_UDN_LABEL',
    'RESOURCE_NAME_ANNOTATION',
    'SPIDERPOOL_API_VERSION',
    'SPIDERPOOL_IPPOOLS_ANNOTATION',
    'SPIDERPOOL_KEYS',
    'SPIDERPOOL_POOL_KEYS',
    'SPIDERPOOL_SUBNETS_ANNOTATION',
    'SRIOV_LINK_STATES',
    'STATES',
    'TYPE_KEYS',
    'NadError',
    'build_objects',
    'check_cni_config',
    'check_dns_label',
    'check_dns_subdomain',
    'check_ifname',
    'pod_networks_annotation',
    'primary_namespaces',
    'spiderpool_annotations',
    'summarize',
)
