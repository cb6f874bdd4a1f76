# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter that checks the AIStore hostnameMap against the cluster's Nodes; documented in aistore_node_ips.yml.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import SmapError, check_node_ips
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter, plain


@documented_filter(SmapError)
def aistore_node_ips(hostname_map, nodes):
    """``{hostnameMap key: node name}``; fails naming every key that is no Node's InternalIP."""
    return check_node_ips(hostname_map, plain(nodes))


class FilterModule:
    """netplumb.multihome AIStore node filters."""

    def filters(self):
        return {'aistore_node_ips': aistore_node_ips}
