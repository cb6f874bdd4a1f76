# -*- coding: utf-8 -*-
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet's environment file, for the dpdk_vpp_host role. Documented in kubelet_extra_args_line.yml."""


from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.module_utils.kubelet_env import KubeletEnvError, extra_args_line


def kubelet_extra_args_line(text, node_ip):
    """The KUBELET_EXTRA_ARGS= line of environment file ``text`` with --node-ip=``node_ip`` (see kubelet_extra_args_line.yml)."""
    try:
        return extra_args_line(text, node_ip)
    except KubeletEnvError as exc:
        raise AnsibleFilterError('netplumb.multihome.kubelet_extra_args_line: %s' % exc)


class FilterModule(object):
    """netplumb.multihome kubelet filters."""

    def filters(self):
        return {'kubelet_extra_args_line': kubelet_extra_args_line}
