# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter that checks the AIStore hostnameMap against the cluster's Nodes; documented in aistore_node_ips.yml.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from collections.abc import Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import SmapError, check_node_ips
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


def _plain(value):
    """Plain dicts and lists all the way down (Ansible hands filters its own container types)."""
    if isinstance(value, Mapping):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


@documented_filter(SmapError)
def aistore_node_ips(hostname_map, nodes):
    """``{hostnameMap key: node name}``; fails naming every key that is no Node's InternalIP."""
    return check_node_ips(_plain(hostname_map), _plain(nodes))


class FilterModule:
    """netplumb.multihome AIStore node filters."""

    def filters(self):
        return {'aistore_node_ips': aistore_node_ips}
