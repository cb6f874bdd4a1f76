# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ``kind: nad`` item: the plugin configuration of its type (macvlan, ipvlan, bridge, host-device,
sriov, OVN-Kubernetes) and its NetworkAttachmentDefinitions, one per namespace.
"""

import ipaddress
import json
import re

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    CNI_VERSIONS,
    COMMON_KEYS,
    DEFAULT_CNI_VERSION,
    IPAM_TYPES,
    IPVLAN_MODES,
    MACVLAN_MODES,
    NAD_API_VERSION,
    NAD_KIND,
    NAD_TYPES,
    OVNK,
    OVNK_CNI_VERSION,
    OVNK_RESERVED_NAMES,
    OVNK_ROLES,
    RESOURCE_NAME_ANNOTATION,
    SRIOV_LINK_STATES,
    STATES,
    TYPE_KEYS,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.ipam import _build_ipam
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    NadError,
    _check_bool,
    _check_choice,
    _check_int,
    _check_keys,
    _check_list,
    _check_mac,
    _check_metadata_map,
    _check_mtu,
    _check_text,
    _compact,
    _fail,
    _metadata,
    _plain_dict,
    check_cni_config,
    check_dns_label,
    check_ifname,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import TOPOLOGIES, plan_node_subnets


def _namespaces(item):
    if item.get('namespace') is not None and item.get('namespaces') is not None:
        _fail(
            "both namespace %r and namespaces %r are given: expected one of them"
            % (item['namespace'], item['namespaces'])
        )
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
        _fail(
            "%s needs master, the node interface to attach to (without it the plugin picks the node's "
            "default-route interface)" % kind
        )
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
        _fail(
            "bridge type needs bridge, the name of the node bridge (the plugin default cni0 is often the cluster "
            "network's own bridge)"
        )
    out = {'bridge': check_ifname(item['bridge'], 'bridge')}
    flags = (
        ('is_gateway', 'isGateway'),
        ('is_default_gateway', 'isDefaultGateway'),
        ('force_address', 'forceAddress'),
        ('ip_masq', 'ipMasq'),
    )
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
        _fail(
            "host-device needs exactly one of device, hwaddr, kernelpath or pci_bus_id to find the device; got %s"
            % (', '.join('%s %r' % (k, item[k]) for k in given) or 'none')
        )
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
            _fail(
                "vlan_qos %r needs a non-zero vlan: sriov-cni refuses a VLAN QoS without a VLAN" % (item['vlan_qos'],)
            )
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
            out[key] = _check_int(item[key], key, 0, 10**7)
    if 'min_tx_rate' in out and 'max_tx_rate' in out and out['max_tx_rate'] and out['min_tx_rate'] > out['max_tx_rate']:
        _fail(
            "min_tx_rate %d is above max_tx_rate %d: expected min_tx_rate <= max_tx_rate"
            % (out['min_tx_rate'], out['max_tx_rate'])
        )
    return out


def _plugin_ovnk(item, name, ctx):
    """The OVN-Kubernetes keys (without netAttachDefName) and the subnets it hands out."""
    topology = item.get('topology')
    if topology is None:
        _fail("%s needs topology: expected one of %s" % (OVNK, ', '.join(TOPOLOGIES)))
    _check_choice(topology, 'topology', TOPOLOGIES)
    network_name = name if item.get('network_name') is None else item['network_name']
    network_name = _check_text(network_name, 'network_name', 'l2-network')
    if network_name in OVNK_RESERVED_NAMES:
        _fail(
            "network_name %r is reserved by OVN-Kubernetes (%s): expected another name"
            % (network_name, ' and '.join(OVNK_RESERVED_NAMES))
        )
    if any(c.isspace() or c in '/,' for c in network_name):
        _fail(
            "network_name %r contains whitespace, '/' or ',': expected a plain name such as 'l2-network'" % network_name
        )
    if item.get('join_subnet') is not None and topology == 'localnet':
        _fail(
            "join_subnet %r given for topology localnet: OVN-Kubernetes refuses a join subnet on localnet "
            "(services are not supported there)" % (item['join_subnet'],)
        )
    try:
        plan = plan_node_subnets(
            item.get('subnets'),
            [],
            topology=topology,
            exclude_subnets=item.get('exclude_subnets'),
            reserved=ctx['reserved'],
            internal=ctx['ovnk_internal'],
            join_subnet=item.get('join_subnet'),
        )
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
            _fail(
                "join_subnet %r has two subnets of one family: expected at most one IPv4 and one IPv6"
                % (item['join_subnet'],)
            )
        out['joinSubnet'] = ','.join(str(n) for n in joins)
    if item.get('mtu') is not None:
        out['mtu'] = _check_mtu(item['mtu'])
    if item.get('vlan_id') is not None:
        if topology != 'localnet':
            _fail(
                "vlan_id %r given for topology %s: OVN-Kubernetes applies vlanID only to localnet"
                % (item['vlan_id'], topology)
            )
        out['vlanID'] = _check_int(item['vlan_id'], 'vlan_id', 1, 4094)
    if item.get('physical_network_name') is not None:
        if topology != 'localnet':
            _fail(
                "physical_network_name %r given for topology %s: only localnet maps to a physical network"
                % (item['physical_network_name'], topology)
            )
        out['physicalNetworkName'] = _check_text(item['physical_network_name'], 'physical_network_name', 'physnet')
    if item.get('allow_persistent_ips') is not None:
        if _check_bool(item['allow_persistent_ips'], 'allow_persistent_ips') and topology == 'layer3':
            _fail(
                "allow_persistent_ips is true on topology layer3: OVN-Kubernetes refuses persistent IPs on layer3 "
                "(expected layer2 or localnet)"
            )
        out['allowPersistentIPs'] = item['allow_persistent_ips']
    if item.get('role') is not None:
        role = _check_choice(item['role'], 'role', OVNK_ROLES)
        if topology == 'localnet' and role != 'secondary':
            _fail(
                "role %r given for topology localnet: OVN-Kubernetes only allows a localnet network as secondary" % role
            )
        if role == 'primary' and topology == 'layer2' and not subnets:
            _fail(
                "role 'primary' on topology layer2 without subnets: OVN-Kubernetes needs subnets on a layer2 "
                "primary network"
            )
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
    record = {
        'kind': 'nad',
        'name': name,
        'type': net_type,
        'state': state,
        'ranges': [],
        'ovnk': None,
        'keys': [(NAD_KIND, ns, name) for ns in namespaces],
        'objects': [],
    }
    if state == 'absent':
        record['objects'] = [
            {'apiVersion': NAD_API_VERSION, 'kind': NAD_KIND, 'metadata': {'name': name, 'namespace': ns}}
            for ns in namespaces
        ]
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
            _fail(
                "ipam %r given for %s: OVN-Kubernetes networks take no ipam block (OVN-Kubernetes refuses an ipam "
                "type%s); their addresses come from subnets"
                % (item['ipam'], OVNK, ", and dhcp is never available there" if ipam_type == 'dhcp' else '')
            )
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
                _fail(
                    "sriov needs resource_name, the device plugin resource (e.g. 'intel.com/sriov_netdevice') that "
                    "Multus reads from the %s annotation to find the VF" % RESOURCE_NAME_ANNOTATION
                )
            resource = _check_text(item['resource_name'], 'resource_name', 'intel.com/sriov_netdevice')
            if not re.match(r'^[A-Za-z0-9][-A-Za-z0-9_.]*(/[-A-Za-z0-9_.]+)?$', resource):
                _fail(
                    "resource_name %r is not a device plugin resource name: expected e.g. 'intel.com/sriov_netdevice'"
                    % resource
                )
            if annotations.get(RESOURCE_NAME_ANNOTATION, resource) != resource:
                _fail(
                    "annotations %s %r disagrees with resource_name %r: expected only resource_name"
                    % (RESOURCE_NAME_ANNOTATION, annotations[RESOURCE_NAME_ANNOTATION], resource)
                )
            annotations[RESOURCE_NAME_ANNOTATION] = resource
        config_name = name
        if 'ipam' not in item:
            if net_type != 'host-device':
                _fail(
                    "ipam is missing: expected an ipam block (type %s), or ipam: {type: none} for an attachment "
                    "without addresses" % '/'.join(t for t in IPAM_TYPES if t != 'none')
                )
            ipam, ranges = None, []
        else:
            ipam_ctx = {
                'what': 'ipam',
                'name': name,
                'plan': ctx['plan'],
                'type': net_type,
                'cni_version': cni_version,
                'capabilities': capabilities,
            }
            ipam, ranges = _build_ipam(item['ipam'], ipam_ctx)

    config = {'cniVersion': cni_version, 'name': config_name, 'type': net_type}
    config.update(plugin)
    if capabilities:
        config['capabilities'] = capabilities
    extra = _plain_dict(item.get('extra_config'), 'extra_config')
    for key in extra:
        if key in config or key in ('ipam', 'netAttachDefName'):
            _fail(
                "extra_config key %r is set from the network's own options: expected only keys the module does "
                "not manage" % (key,)
            )
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
        objects.append(
            {
                'apiVersion': NAD_API_VERSION,
                'kind': NAD_KIND,
                'metadata': _metadata(name, ns, labels, annotations),
                'spec': {'config': text},
            }
        )
    record['objects'] = objects
    record['ranges'] = ranges
    record['range_owner'] = ('ovnk', config_name) if is_ovnk else ('item', ctx['index'])
    if is_ovnk:
        record['ovnk'] = (config_name, config)
    if ipam is not None and ipam.get('type') == 'whereabouts':
        record['whereabouts'] = (ipam.get('network_name', ''), ipam['range'], ipam.get('node_slice_size', ''))
    return record
