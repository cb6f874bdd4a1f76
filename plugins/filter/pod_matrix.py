# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod matrix's probe pods as matrix nodes. Documented in pod_address_sets.yml."""

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import ConnectivityError
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import (
    pod_address_sets as _pod_address_sets,
)
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(ConnectivityError)
def pod_address_sets(pods, networks):
    """``{hosts, address_sets, missing}`` of the probe pods."""
    return _pod_address_sets(pods, networks)


class FilterModule:
    """netplumb.multihome pod matrix filters."""

    def filters(self):
        return {'pod_address_sets': pod_address_sets}
