# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One ``kind: multinicnetwork`` item: a Multi-NIC CNI MultiNicNetwork, with multi-nic-ipam or a plain
IPAM block.
"""

import re

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import check_subnet, tabu_interfaces
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import (
    CNI_VERSIONS,
    DEFAULT_CNI_VERSION,
    IPVLAN_MODES,
    MACVLAN_MODES,
    MULTINIC_API_VERSION,
    MULTINIC_KEYS,
    MULTINIC_STRATEGIES,
    MULTINIC_VLAN_MODES,
    STATES,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.ipam import _build_ipam
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import (
    _check_bool,
    _check_choice,
    _check_dict,
    _check_int,
    _check_keys,
    _check_metadata_map,
    _check_names,
    _check_text,
    _compact,
    _fail,
    _metadata,
    _plain_dict,
    check_dns_label,
)

_BANDWIDTH = re.compile(r'^[0-9]+(Gbps|Mbps|Kbps)$')


def _multinic_item(item, ctx):
    name = ctx['name']
    _check_keys(item, MULTINIC_KEYS, 'kind multinicnetwork')
    state = _check_choice(item.get('state', 'present'), 'state', STATES)
    labels = _check_metadata_map(item.get('labels'), 'labels', True)
    annotations = _check_metadata_map(item.get('annotations'), 'annotations', False)
    record = {
        'kind': 'multinicnetwork',
        'name': name,
        'state': state,
        'ranges': [],
        'ovnk': None,
        'keys': [('MultiNicNetwork', None, name)],
        'range_owner': ('item', ctx['index']),
    }
    if state == 'absent':
        record['objects'] = [
            {'apiVersion': MULTINIC_API_VERSION, 'kind': 'MultiNicNetwork', 'metadata': {'name': name}}
        ]
        return record

    spec = {}
    ranges = []
    network = None
    if item.get('subnet') is not None:
        try:
            network = check_subnet(item['subnet'])
        except cidr.PlanError as exc:
            _fail(str(exc))
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
        _check_keys(
            ipam, ('type', 'host_block', 'interface_block', 'vlan_mode', 'exclude_cidrs'), 'ipam (type multi-nic-ipam)'
        )
        if network is None:
            _fail("ipam type multi-nic-ipam needs subnet, the cluster-wide pod subnet its blocks are cut from")
        for key in ('host_block', 'interface_block', 'vlan_mode'):
            if ipam.get(key) is None:
                _fail("ipam type multi-nic-ipam needs %s: expected host_block, interface_block and vlan_mode" % key)
        ib = _check_int(ipam['interface_block'], 'ipam interface_block', 0, 32)
        hb = _check_int(ipam['host_block'], 'ipam host_block', 0, 32)
        if network.prefixlen + ib + hb > 30:
            _fail(
                "ipam interface_block %d + host_block %d on subnet %s leaves /%d pod blocks: expected /30 or shorter "
                "(the first and last address of each block are reserved)"
                % (ib, hb, network, network.prefixlen + ib + hb)
            )
        if len(master_nets) > (1 << ib):
            _fail(
                "master_nets has %d networks but interface_block %d gives %d interface indexes: expected at most %d"
                % (len(master_nets), ib, 1 << ib, 1 << ib)
            )
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
            _fail(
                "master_nets has %d networks but interface_block %d leaves %d usable interface indexes: exclude_cidrs %s "
                "cover%s the whole vlan block of index%s %s, which Multi-NIC CNI skips"
                % (
                    len(master_nets),
                    ib,
                    (1 << ib) - len(skipped),
                    ', '.join(str(n) for _f, _l, n in tabu),
                    's' if len(tabu) == 1 else '',
                    'es' if len(skipped) > 1 else '',
                    ', '.join(str(i) for i in sorted(skipped)),
                )
            )
        multi = True
    else:
        ipam_ctx = {
            'what': 'ipam',
            'name': name,
            'plan': ctx['plan'],
            'type': ptype,
            'cni_version': pversion,
            'capabilities': {},
        }
        out_ipam, more = _build_ipam(ipam, ipam_ctx)
        ranges.extend(more)
        multi = False
    if item.get('multi_nic_ipam') is not None and _check_bool(item['multi_nic_ipam'], 'multi_nic_ipam') != multi:
        _fail(
            "multi_nic_ipam %r disagrees with ipam type %r: it is true exactly for multi-nic-ipam"
            % (item['multi_nic_ipam'], ipam.get('type'))
        )
    spec['ipam'] = _compact(out_ipam)
    spec['multiNICIPAM'] = multi
    spec['plugin'] = pspec

    policy = _check_dict(item.get('attach_policy') or {'strategy': 'none'}, 'attach_policy')
    _check_keys(policy, ('strategy', 'target'), 'attach_policy')
    out_policy = {
        'strategy': _check_choice(policy.get('strategy', 'none'), 'attach_policy strategy', MULTINIC_STRATEGIES)
    }
    if policy.get('target') is not None:
        if not is_text(policy['target']) or not _BANDWIDTH.match(policy['target']):
            _fail(
                "attach_policy target %r is not a bandwidth: expected e.g. '10Gbps', '500Mbps' or '100Kbps'"
                % (policy['target'],)
            )
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
    record['objects'] = [
        {
            'apiVersion': MULTINIC_API_VERSION,
            'kind': 'MultiNicNetwork',
            'metadata': _metadata(name, None, labels, annotations),
            'spec': spec,
        }
    ]
    record['ranges'] = ranges
    return record
