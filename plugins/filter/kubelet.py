# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet's environment file, for the dpdk_vpp_host role. Documented in kubelet_extra_args_line.yml.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.kubelet_env import KubeletEnvError, extra_args_line
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(KubeletEnvError)
def kubelet_extra_args_line(text, node_ip):
    """The KUBELET_EXTRA_ARGS= line of environment file ``text`` with --node-ip=``node_ip`` (see kubelet_extra_args_line.yml)."""
    return extra_args_line(text, node_ip)


class FilterModule:
    """netplumb.multihome kubelet filters."""

    def filters(self):
        return {'kubelet_extra_args_line': kubelet_extra_args_line}
