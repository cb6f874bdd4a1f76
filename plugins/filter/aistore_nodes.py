# -*- coding: utf-8 -*-
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter that checks the AIStore hostnameMap against the cluster's Nodes; documented in aistore_node_ips.yml."""


from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import SmapError, check_node_ips


def _plain(value):
    """Plain dicts and lists all the way down (Ansible hands filters its own container types)."""
    if isinstance(value, Mapping):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def aistore_node_ips(hostname_map, nodes):
    """``{hostnameMap key: node name}``; fails naming every key that is no Node's InternalIP."""
    try:
        return check_node_ips(_plain(hostname_map), _plain(nodes))
    except SmapError as exc:
        raise AnsibleFilterError('netplumb.multihome.aistore_node_ips: %s' % exc)


class FilterModule(object):
    """netplumb.multihome AIStore node filters."""

    def filters(self):
        return {'aistore_node_ips': aistore_node_ips}
