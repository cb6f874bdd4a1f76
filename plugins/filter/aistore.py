# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for AIStore multihome, for templates. Each is documented in the .yml beside this file.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from collections.abc import Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_resource import (
    AisResourceError,
    build_resource,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import SmapError, hostname_map
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


def _host_entry(item, index, hostvars):
    """``{name, primary_ip, additional_hosts}`` from a dict or, with ``hostvars``, from an inventory host name."""
    if isinstance(item, Mapping):
        name = item.get('name', item.get('inventory_hostname'))
        primary = item.get('primary_ip', item.get('main_ip', item.get('ansible_host', name)))
        return {'name': name, 'primary_ip': primary, 'additional_hosts': item.get('additional_hosts')}
    if isinstance(item, str):
        if hostvars is None:
            raise SmapError(
                "hosts[%d] is the host name %r: pass hostvars=hostvars to look its addresses up, "
                "or give {name, primary_ip, additional_hosts}" % (index, item)
            )
        if item not in hostvars:
            raise SmapError("host %s is not in hostvars" % item)
        hvars = hostvars[item]
        return {
            'name': item,
            'primary_ip': hvars.get('ansible_host', item),
            'additional_hosts': hvars.get('additional_hosts'),
        }
    raise SmapError(
        "hosts[%d] is a %s: expected a host name or {name, primary_ip, additional_hosts}" % (index, type(item).__name__)
    )


@documented_filter(SmapError)
def aistore_hostname_map(hosts, attachments=None, hostvars=None):
    """spec.hostnameMap and the verify module's ``expected`` from the inventory's hosts."""
    entries = [_host_entry(item, i, hostvars) for i, item in enumerate(hosts)]
    return hostname_map(entries, attachments)


@documented_filter(AisResourceError)
def aistore_resource(settings):
    """The AIS operator's AIStore resource from the aistore role's settings (see aistore_resource.yml)."""
    try:
        return build_resource(dict(settings))
    except KeyError as exc:
        raise AisResourceError('the setting %s is missing' % exc)


class FilterModule:
    """netplumb.multihome AIStore filters."""

    def filters(self):
        return {'aistore_hostname_map': aistore_hostname_map, 'aistore_resource': aistore_resource}
