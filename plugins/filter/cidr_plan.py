# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the planner's CIDR math, for templates. Each is documented in the .yml beside this file.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import (
    PlanError,
    block,
    check_bits,
    find_overlaps,
    named_reserved,
    parse_networks,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import check_subnet
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import parse_subnets
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(PlanError)
def cidr_block(network, extra_bits, index):
    """Block ``index`` of ``network`` split into blocks ``extra_bits`` longer."""
    return str(block(network, check_bits(extra_bits, 'extra_bits', 128), _index(index, 'index')))


@documented_filter(PlanError)
def multinic_pod_block(subnet, interface_block, host_block, interface_index, host_index):
    """The pod block of host index ``host_index`` on interface index ``interface_index``."""
    subnet = check_subnet(subnet)
    check_bits(interface_block, 'interface_block', 32)
    check_bits(host_block, 'host_block', 32)
    vlan = block(subnet, interface_block, _index(interface_index, 'interface_index'))
    return str(block(vlan, host_block, _index(host_index, 'host_index')))


@documented_filter(PlanError)
def multinic_host_blocks(plan, host):
    """``{nic name: pod_cidr}`` of ``host`` in a cidr_plan multinic_blocks result's ``plan``."""
    if not isinstance(plan.get('interfaces'), list):
        raise PlanError(
            "the input has no 'interfaces' list (its keys: %s): expected the 'plan' of a cidr_plan "
            "multinic_blocks result" % (', '.join(sorted(str(k) for k in plan)) or 'none',)
        )
    found = {}
    for iface in plan['interfaces']:
        for entry in iface.get('hosts', []):
            if entry.get('name') == host:
                found[entry['interface']] = entry['pod_cidr']
    if not found:
        raise PlanError("host %r is not in the plan" % (host,))
    return found


@documented_filter(PlanError)
def ovnk_subnets(subnets, topology='layer3'):
    """Parse an OVN-Kubernetes ``subnets`` value into ``[{cidr, host_length}]``."""
    return parse_subnets(subnets, topology)


@documented_filter(PlanError)
def cidr_overlaps(cidrs, reserved=None):
    """The first overlap among ``cidrs`` or with ``reserved`` as ``[a, b]``; ``[]`` when there is none."""
    named = [(str(n), n) for n in parse_networks(cidrs, 'cidrs')]
    found = find_overlaps(named, named_reserved(reserved))
    if not found:
        return []
    return [str(found[1]), str(found[3])]


def _index(value, what):
    """The documentation makes an index a whole number; a boolean is one to Python, not to a user."""
    if isinstance(value, bool):
        raise PlanError("%s %r is not a whole number" % (what, value))
    return value


class FilterModule:
    """netplumb.multihome CIDR planning filters."""

    def filters(self):
        funcs = (cidr_block, multinic_pod_block, multinic_host_blocks, ovnk_subnets, cidr_overlaps)
        return {f.__name__: f for f in funcs}
