# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod annotation filters for secondary networks. Each is documented in the .yml beside this file.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils import nad
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(PlanError)
def pod_networks_annotation(attachments, default_namespace=None, nads=None):
    """The ``k8s.v1.cni.cncf.io/networks`` value for ``attachments``."""
    return nad.pod_networks_annotation(attachments, default_namespace=default_namespace, nads=nads)


@documented_filter(PlanError)
def spiderpool_annotations(items, kind='ippools', objects=None):
    """The ``ipam.spidernet.io/ippools`` (or ``/subnets``) value for ``items``."""
    return nad.spiderpool_annotations(items, kind=kind, objects=objects)


class FilterModule:
    """netplumb.multihome pod annotation filters."""

    def filters(self):
        return {
            'pod_networks_annotation': pod_networks_annotation,
            'spiderpool_annotations': spiderpool_annotations,
        }
