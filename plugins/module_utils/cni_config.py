# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CNI configuration, in one place: parse and check it, its plugin chain, its attachment type.

A NetworkAttachmentDefinition's ``spec.config`` is a CNI configuration: one plugin
(``{"cniVersion", "name", "type", ...}``) or a conflist (``{"cniVersion", "name", "plugins": [...]}``).
The NAD builder (module_utils/nad.py) checks what it writes with :func:`parse_config`, and the
data-plane preflight reads what it runs with the same function, so both agree on what a valid
configuration is. :func:`plugin_chain` is what a runtime runs, in order, as libcni does;
:func:`attachment_type` is the type of the plugin that makes the interface.

Plain functions over the standard library. Every error is a :class:`CniConfigError` naming the
input, the value and what was expected.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Iterable

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text

# The CNI specification's versions, what containernetworking-plugins 1.1.1 report for CNI_COMMAND=VERSION:
# those a runtime (libcni) and the plugins accept in a configuration.
CNI_VERSIONS = ('0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0')
# A plugin type is the name of a binary in the CNI directory.
_PLUGIN_NAME = re.compile(r'^[A-Za-z0-9_.+-]+$')


class CniConfigError(ValueError):
    """A CNI configuration a runtime could not run; the message names the input and what was expected."""


def check_plugin_type(value: Any, what: str = 'type') -> str:
    """``value`` if it is a plugin name: a binary in the CNI directory, no path, nothing hidden."""
    if not is_text(value) or not value or value.startswith('.') or not _PLUGIN_NAME.match(value):
        raise CniConfigError(
            "%s %r is not a plugin name: expected the name of a binary in the CNI directory, "
            "such as 'macvlan'" % (what, value)
        )
    return value


def parse_config(config: Any, what: str = 'config') -> dict[str, Any]:
    """A CNI configuration (JSON text or a dict) as a dict, checked as a runtime would take it.

    It must be a JSON object with a ``cniVersion`` of :data:`CNI_VERSIONS`, and either ``plugins``
    (a conflist: a non-empty list of plugin configurations, each with a ``type``) or a ``type``; every
    type must be a plugin name (:func:`check_plugin_type`). A dict is returned as it is, not copied.
    """
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError as exc:
            raise CniConfigError(
                "%s %r is not valid JSON (%s): expected a CNI configuration, such as a NAD's spec.config"
                % (what, config, exc)
            )
    if not isinstance(config, dict):
        raise CniConfigError(
            "%s %r is not a JSON object: expected a CNI configuration, such as a NAD's spec.config" % (what, config)
        )
    version = config.get('cniVersion')
    if version in (None, ''):
        raise CniConfigError(
            "%s has no cniVersion (cniVersion %r): expected one of %s; a runtime refuses a configuration "
            "without one" % (what, version, ', '.join(CNI_VERSIONS))
        )
    if version not in CNI_VERSIONS:
        raise CniConfigError("%s has cniVersion %r: expected one of %s" % (what, version, ', '.join(CNI_VERSIONS)))
    if 'plugins' in config:
        plugins = config['plugins']
        if not isinstance(plugins, list) or not plugins:
            raise CniConfigError("%s plugins %r is not a non-empty list of plugin configurations" % (what, plugins))
        for i, plugin in enumerate(plugins):
            if not isinstance(plugin, dict) or not plugin.get('type'):
                raise CniConfigError(
                    "%s plugins[%d] %r has no type: expected a plugin configuration" % (what, i, plugin)
                )
            check_plugin_type(plugin['type'], '%s plugins[%d] type' % (what, i))
    elif config.get('type'):
        check_plugin_type(config['type'], '%s type' % what)
    else:
        raise CniConfigError("%s has neither 'type' nor 'plugins': a CNI configuration names its plugin" % what)
    return config


def plugin_chain(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The plugin configurations a runtime runs for a parsed ``config``, in order (copies).

    As libcni does for a conflist: each plugin gets the list's ``name`` and ``cniVersion``.
    A single plugin configuration is a chain of one.
    """
    if 'plugins' not in config:
        return [copy.deepcopy(config)]
    out = []
    for plugin in config['plugins']:
        conf = copy.deepcopy(plugin)
        conf['name'] = config.get('name')
        conf['cniVersion'] = config['cniVersion']
        out.append(conf)
    return out


def main_plugin(config: dict[str, Any]) -> dict[str, Any]:
    """The plugin that creates the interface: the first of the chain."""
    return plugin_chain(config)[0]


def attachment_type(config: dict[str, Any]) -> str | None:
    """The main plugin's type (``macvlan``...): what kind of attachment the configuration makes."""
    return main_plugin(config).get('type')


def ipam_index(chain: Iterable[dict[str, Any]]) -> int | None:
    """Index of the plugin of ``chain`` whose IPAM assigns addresses (the first with an IPAM type), or None."""
    for i, conf in enumerate(chain):
        ipam = conf.get('ipam')
        if isinstance(ipam, dict) and ipam.get('type'):
            return i
    return None
