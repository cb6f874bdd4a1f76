# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's nodes from the inventory, each data address typed once. Documented in cluster_hosts.yml."""

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.cluster_hosts import cluster_hosts as _cluster_hosts
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter

# The only variables read: templating a host's whole hostvars would be slow and could fail on unrelated ones.
_KEYS = ('node_ip', 'ansible_host', 'additional_hosts', 'multihome_nics')


@documented_filter(PlanError)
def cluster_hosts(names, hostvars, interfaces=None, master_nets=None, require_interfaces=False):
    """``[{name, main_ip, additional_hosts, interfaces, interfaces_known}]`` of the hosts ``names``."""
    selected = {}
    for name in names:
        if name not in hostvars:
            raise PlanError('host %s is not in the inventory' % name)
        host = hostvars[name]
        selected[name] = dict((key, host.get(key)) for key in _KEYS if host.get(key) is not None)
    return _cluster_hosts(
        list(names), selected, interfaces=interfaces, master_nets=master_nets, require_interfaces=require_interfaces
    )


class FilterModule:
    """netplumb.multihome inventory filters."""

    def filters(self):
        return {'cluster_hosts': cluster_hosts}
