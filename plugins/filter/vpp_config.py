# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPP startup configuration of Contiv-VPP's vSwitch, for the dpdk_vpp_host role. Documented in vpp_startup_config.yml.

The argument is checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.vpp_config import VppConfigError, build
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter

_KEYS = ('devices', 'uio_driver', 'stanzas', 'unix_options', 'dpdk_options', 'comment')


@documented_filter(VppConfigError)
def vpp_startup_config(settings):
    """The text of /etc/vpp/contiv-vswitch.conf from ``settings`` (see vpp_startup_config.yml)."""
    unknown = sorted(set(settings) - set(_KEYS))
    if unknown:
        raise VppConfigError('unknown settings %s: expected only %s' % (', '.join(unknown), ', '.join(_KEYS)))
    return build(
        list(settings.get('devices') or []),
        uio_driver=settings.get('uio_driver'),
        stanzas=dict(settings.get('stanzas') or {}),
        unix_options=settings.get('unix_options'),
        dpdk_options=settings.get('dpdk_options'),
        comment=settings.get('comment'),
    )


class FilterModule:
    """netplumb.multihome VPP filters."""

    def filters(self):
        return {'vpp_startup_config': vpp_startup_config}
