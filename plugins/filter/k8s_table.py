# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects as a kubectl-style table, for a play's output. Documented in k8s_table.yml."""

from ansible_collections.netplumb.multihome.plugins.module_utils.k8s_access import AccessError, object_table
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(AccessError)
def k8s_table(objects):
    """``kubectl get -A``-style lines of ``objects``."""
    return object_table(objects)


class FilterModule:
    """netplumb.multihome Kubernetes filters."""

    def filters(self):
        return {'k8s_table': k8s_table}
