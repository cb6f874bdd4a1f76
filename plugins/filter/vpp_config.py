# -*- coding: utf-8 -*-
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPP startup configuration of Contiv-VPP's vSwitch, for the dpdk_vpp_host role. Documented in vpp_startup_config.yml."""


from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.module_utils.vpp_config import VppConfigError, build

_KEYS = ('devices', 'uio_driver', 'stanzas', 'unix_options', 'dpdk_options', 'comment')


def vpp_startup_config(settings):
    """The text of /etc/vpp/contiv-vswitch.conf from ``settings`` (see vpp_startup_config.yml)."""
    try:
        if not isinstance(settings, Mapping):
            raise VppConfigError('the input %r is not a dict of settings' % (settings,))
        unknown = sorted(set(settings) - set(_KEYS))
        if unknown:
            raise VppConfigError('unknown settings %s: expected only %s' % (', '.join(unknown), ', '.join(_KEYS)))
        return build(list(settings.get('devices') or []), uio_driver=settings.get('uio_driver'),
                     stanzas=dict(settings.get('stanzas') or {}), unix_options=settings.get('unix_options'),
                     dpdk_options=settings.get('dpdk_options'), comment=settings.get('comment'))
    except VppConfigError as exc:
        raise AnsibleFilterError('netplumb.multihome.vpp_startup_config: %s' % exc)


class FilterModule(object):
    """netplumb.multihome VPP filters."""

    def filters(self):
        return {'vpp_startup_config': vpp_startup_config}
