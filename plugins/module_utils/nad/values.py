# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of single values that every part of the NAD builder uses, and the :class:`NadError` they raise.

Names, numbers, choices, lists, Kubernetes label and annotation maps, addresses and MACs. The
DNS-1123 and interface name rules are the collection's (``module_utils/checks.py``); here they
raise :class:`NadError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.netplumb.multihome.plugins.module_utils import checks, cidr, cni_config
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import DNS_SUBDOMAIN, is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.constants import MTU_MAX, MTU_MIN


class NadError(PlanError):
    """A network definition that cannot be applied; the message names the network, the value and what was expected.

    A :class:`cidr.PlanError` (so a ``ValueError``): callers catching either get it.
    """


_QUALIFIED_NAME = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_MAC = re.compile(r'^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$')
_DIGITS = re.compile(r'^[0-9]+$')


def _fail(message):
    raise NadError(message)


def check_dns_label(value: Any, what: str) -> str:
    """``value`` if it is a DNS-1123 label (what Kubernetes and Multus accept as a NAD name or namespace)."""
    return checks.check_dns_label(value, what, NadError)


def check_dns_subdomain(value: Any, what: str) -> str:
    """``value`` if it is a DNS-1123 subdomain (the name of a cluster-scoped custom resource)."""
    return checks.check_dns_subdomain(value, what, NadError)


def check_ifname(value: Any, what: str) -> str:
    """``value`` if it is a legal Linux interface name (see :func:`checks.check_ifname`)."""
    return checks.check_ifname(value, what, NadError)


def _check_int(value, what, low, high):
    """A whole number from ``low`` to ``high``; a string of digits (what templating makes of a number) is accepted."""
    if isinstance(value, bool):
        _fail("%s %r is not a whole number: expected %d to %d" % (what, value, low, high))
    if is_text(value) and _DIGITS.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        _fail("%s %r is not a whole number: expected %d to %d" % (what, value, low, high))
    if value < low or value > high:
        _fail("%s %d is out of range: expected %d to %d" % (what, value, low, high))
    return value


def _check_bool(value, what):
    if not isinstance(value, bool):
        _fail("%s %r is not a boolean: expected true or false" % (what, value))
    return value


def _check_choice(value, what, choices):
    if value not in choices:
        _fail("%s %r is not supported: expected one of %s" % (what, value, ', '.join(choices)))
    return value


def _check_text(value, what, example):
    if not is_text(value) or not value.strip():
        _fail("%s %r is not a non-empty string: expected e.g. %r" % (what, value, example))
    return value.strip()


def _check_dict(value, what):
    if not isinstance(value, dict):
        _fail("%s %r is not a dict" % (what, value))
    return value


def _check_list(value, what, example):
    """A list (a comma-separated string is split); ``None`` is an empty list."""
    if value is None:
        return []
    if is_text(value):
        return [v.strip() for v in value.split(',') if v.strip()]
    if not isinstance(value, (list, tuple)):
        _fail("%s %r is not a list: expected e.g. %r" % (what, value, example))
    return list(value)


def _check_names(value, what, example, check):
    """``_check_list``, then ``check(name, '<what>[i]')`` on each element; the list."""
    names = _check_list(value, what, example)
    for i, name in enumerate(names):
        check(name, '%s[%d]' % (what, i))
    return names


def _check_keys(spec, allowed, what):
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        # A misspelt key would silently fall back to a plugin default: refuse what we do not know.
        _fail("%s has unknown key(s) %s: expected only %s" % (what, ', '.join(unknown), ', '.join(allowed)))


def _check_mtu(value, what='mtu'):
    return _check_int(value, what, MTU_MIN, MTU_MAX)


def _address(value, what):
    return cidr.parse_address(value, what)


def _check_host_address(iface, what):
    """An interface address that is neither the network address nor (IPv4) the broadcast address of its subnet."""
    net = iface.network
    if net.num_addresses > 2 and iface.ip == net.network_address:
        _fail("%s %s is the network address of %s: expected a host address" % (what, iface, net))
    if net.version == 4 and net.num_addresses > 2 and iface.ip == net.broadcast_address:
        _fail("%s %s is the broadcast address of %s: expected a host address" % (what, iface, net))
    return iface


def _inside(address, network):
    return address.version == network.version and address in network


def _check_metadata_map(values, what, labels):
    """Kubernetes label or annotation map: qualified-name keys, label values limited like names."""
    if values is None:
        return {}
    _check_dict(values, what)
    out = {}
    for key in values:
        value = values[key]
        if not is_text(key) or not key:
            _fail("%s key %r is not a string" % (what, key))
        prefix, slash, name = key.rpartition('/')
        if (
            (slash and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
            or len(name) > 63
            or not _QUALIFIED_NAME.match(name)
        ):
            _fail(
                "%s key %r is not a valid Kubernetes key: expected [prefix/]name with a DNS subdomain prefix and "
                "a name of at most 63 letters, digits, '-', '_' or '.'" % (what, key)
            )
        if labels:
            if not is_text(value) or (value and (len(value) > 63 or not _QUALIFIED_NAME.match(value))):
                _fail(
                    "%s %r value %r is not a valid label value: expected at most 63 letters, digits, '-', '_' "
                    "or '.', starting and ending with a letter or digit" % (what, key, value)
                )
        elif not is_text(value):
            _fail("%s %r value %r is not a string: annotation values are strings" % (what, key, value))
        out[key] = value
    return out


def _metadata(name, namespace, labels, annotations):
    meta = {'name': name}
    if namespace is not None:
        meta['namespace'] = namespace
    if labels:
        meta['labels'] = dict(labels)
    if annotations:
        meta['annotations'] = dict(annotations)
    return meta


def _compact(value):
    return json.dumps(value, separators=(',', ':'))


def check_cni_config(text: Any, what: str = 'spec.config') -> dict[str, Any]:
    """A CNI config (JSON text) parsed and checked by cni_config.parse_config, the one check; NadError when it is not valid."""
    try:
        return cni_config.parse_config(text, what)
    except cni_config.CniConfigError as exc:
        raise NadError(str(exc))


def _check_mac(value, what):
    """A unicast 48-bit MAC address, returned lower-case with colons."""
    if not is_text(value) or not _MAC.match(value.strip()):
        _fail("%s %r is not a MAC address: expected six hex octets such as '02:00:c6:12:00:05'" % (what, value))
    octets = re.split('[:-]', value.strip().lower())
    if int(octets[0], 16) & 1:
        _fail(
            "%s %r is a multicast address (low bit of the first octet set): an interface needs a unicast MAC"
            % (what, value)
        )
    if all(o == '00' for o in octets):
        _fail("%s %r is all zeros: expected a real unicast MAC" % (what, value))
    return ':'.join(octets)


def _plain_dict(value, what):
    if value is None:
        return {}
    return dict(_check_dict(value, what))
