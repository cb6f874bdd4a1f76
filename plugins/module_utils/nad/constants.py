# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a networks list may say: API versions and annotations, CNI versions, plugin types and
modes, and the keys each kind of item accepts.
"""

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_config

NAD_API_VERSION = 'k8s.cni.cncf.io/v1'
NAD_KIND = 'NetworkAttachmentDefinition'
RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName'
NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks'
SPIDERPOOL_API_VERSION = 'spiderpool.spidernet.io/v2beta1'
SPIDERPOOL_IPPOOLS_ANNOTATION = 'ipam.spidernet.io/ippools'
SPIDERPOOL_SUBNETS_ANNOTATION = 'ipam.spidernet.io/subnets'
MULTINIC_API_VERSION = 'multinic.fms.io/v1'

# The CNI specification's versions, the ones a configuration may name: the same list the check uses.
CNI_VERSIONS = cni_config.CNI_VERSIONS
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

COMMON_KEYS = (
    'kind',
    'name',
    'namespace',
    'namespaces',
    'state',
    'type',
    'cni_version',
    'ipam',
    'labels',
    'annotations',
    'capabilities',
    'extra_config',
)
TYPE_KEYS = {
    'macvlan': ('master', 'mode', 'mtu'),
    'ipvlan': ('master', 'mode', 'mtu'),
    'bridge': (
        'bridge',
        'mtu',
        'vlan',
        'is_gateway',
        'is_default_gateway',
        'force_address',
        'ip_masq',
        'hairpin_mode',
        'promisc_mode',
    ),
    'host-device': ('device', 'hwaddr', 'kernelpath', 'pci_bus_id'),
    'sriov': (
        'resource_name',
        'vlan',
        'vlan_qos',
        'spoofchk',
        'trust',
        'link_state',
        'mac',
        'min_tx_rate',
        'max_tx_rate',
    ),
    OVNK: (
        'topology',
        'subnets',
        'exclude_subnets',
        'join_subnet',
        'mtu',
        'vlan_id',
        'physical_network_name',
        'allow_persistent_ips',
        'role',
        'network_name',
    ),
}
SPIDERPOOL_KEYS = (
    'kind',
    'name',
    'state',
    'labels',
    'annotations',
    'subnet',
    'ips',
    'exclude_ips',
    'gateway',
    'routes',
    'create_subnet',
    'ippools',
)
SPIDERPOOL_POOL_KEYS = (
    'name',
    'ips',
    'exclude_ips',
    'gateway',
    'routes',
    'namespace_name',
    'node_name',
    'multus_name',
    'default',
    'labels',
    'annotations',
)
MULTINIC_KEYS = (
    'kind',
    'name',
    'state',
    'labels',
    'annotations',
    'subnet',
    'ipam',
    'multi_nic_ipam',
    'plugin',
    'attach_policy',
    'namespaces',
    'master_nets',
    'cni_version',
)
DEFAULT_KEYS = tuple(k for k in COMMON_KEYS if k not in ('kind', 'name')) + tuple(
    sorted(set(k for keys in TYPE_KEYS.values() for k in keys))
)

IPAM_KEYS = {
    'whereabouts': (
        'type',
        'range',
        'range_start',
        'range_end',
        'exclude',
        'gateway',
        'routes',
        'enable_overlapping_ranges',
        'network_name',
        'node_slice_size',
        'from_plan',
        'node_slices',
    ),
    'host-local': ('type', 'subnet', 'range_start', 'range_end', 'gateway', 'ranges', 'routes', 'from_plan'),
    'static': ('type', 'addresses', 'routes', 'dns'),
    'dhcp': ('type',),
    'spiderpool': ('type', 'default_ipv4_ippool', 'default_ipv6_ippool', 'clean_gateway'),
    'none': ('type',),
}
