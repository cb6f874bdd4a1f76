# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's nodes as the inventory describes them, each data address typed once.

A node's data addresses come in one of two forms:

* ``additional_hosts=198.18.1.11,198.18.2.11`` on its line of ``hosts.ini``, as the AIS multihome
  guide writes them: addresses only, in the order of the AIS attachments;
* ``multihome_nics: [{name: nic1, address: 198.18.1.11/24}, ...]`` in its host_vars: each data NIC
  with its address and prefix.

Either is enough; the other is derived from it. ``additional_hosts`` follows from
``multihome_nics`` (the addresses, in order). ``multihome_nics`` follows from ``additional_hosts``
when the NIC names are known (``interfaces``: the AIS guide's ``network_interface``, paired by
position) and so is each prefix (the master network that holds the address). Both given must
say the same: the same addresses in the same order, or the play stops naming the host.

The primary IP is ``node_ip``, else ``ansible_host`` (a lab inventory's ``ansible_host`` is a
container name), else the host's name.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import check_ifname


class HostsError(PlanError):
    """An inventory whose hosts cannot be read as cluster nodes; the message names the host."""


def _split(value, what):
    """A list of stripped, non-empty strings from a comma-separated string or a list; None is empty."""
    if value is None or value == '':
        return []
    if isinstance(value, str):
        items = value.split(',')
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise HostsError("%s %r is not a comma-separated string or a list" % (what, value))
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise HostsError("%s %r has an empty or non-string entry at position %d" % (what, value, i))
        out.append(item.strip())
    return out


def _address(value, what):
    try:
        return ipaddress.ip_address(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise HostsError("%s %r is not an IP address" % (what, value))


def _nics(value, host):
    """``multihome_nics`` of ``host``, checked: ``[{'name', 'address': 'ip/prefix'}]`` (other keys kept)."""
    what = 'host %s multihome_nics' % host
    if isinstance(value, (str, dict)) or not isinstance(value, (list, tuple)):
        raise HostsError("%s %r is not a list: expected [{name: nic1, address: 198.18.1.11/24}, ...]" % (what, value))
    out = []
    names = set()
    for i, nic in enumerate(value):
        if not isinstance(nic, dict):
            raise HostsError("%s[%d] %r is not a dict with name and address" % (what, i, nic))
        name = check_ifname(nic.get('name'), '%s[%d] name' % (what, i))
        if name in names:
            raise HostsError("%s lists %s twice: expected each NIC once" % (what, name))
        names.add(name)
        iface = cidr.parse_interface(nic.get('address'), '%s[%d] (%s) address' % (what, i, name))
        entry = dict(nic)
        entry['address'] = str(iface)
        out.append(entry)
    return out


def _derive_nics(host, extras, interfaces, masters):
    """``multihome_nics`` from ``additional_hosts``: names by position from ``interfaces``, prefixes from ``masters``."""
    if len(interfaces) != len(extras):
        raise HostsError(
            "host %s has %d additional_hosts (%s) but %d interfaces are named (%s): each extra IP is on "
            "the interface at the same position of network_interface; expected as many, or multihome_nics "
            "for the host" % (host, len(extras), ', '.join(extras), len(interfaces), ', '.join(interfaces) or 'none')
        )
    out = []
    for name, ip in zip(interfaces, extras):
        addr = ipaddress.ip_address(ip)
        holders = [m for m in masters if m.version == addr.version and addr in m]
        if not holders:
            raise HostsError(
                "host %s extra IP %s (interface %s) is in none of the master networks (%s): its prefix is "
                "unknown; expected it inside one of them, or multihome_nics for the host"
                % (host, ip, name, ', '.join(str(m) for m in masters) or 'none given')
            )
        out.append(
            {'name': check_ifname(name, 'network_interface entry'), 'address': '%s/%d' % (ip, holders[0].prefixlen)}
        )
    return out


def node(
    name: str,
    hostvars: dict[str, Any],
    interfaces: str | Sequence[str] | None = None,
    master_nets: str | Iterable[str] | None = None,
) -> dict[str, Any]:
    """One node: ``{name, main_ip, additional_hosts: [ip], interfaces: [{name, address}], interfaces_known}``.

    ``hostvars`` is the host's variables (``node_ip``, ``ansible_host``, ``additional_hosts``,
    ``multihome_nics``). ``interfaces`` (a list or comma-separated names) and ``master_nets``
    (CIDRs) let ``multihome_nics`` be derived from ``additional_hosts``; without them such a
    host's ``interfaces`` is empty and ``interfaces_known`` false.
    """
    if not isinstance(hostvars, dict):
        raise HostsError("host %s has no variables to read (got %r)" % (name, hostvars))
    primary = hostvars.get('node_ip') or hostvars.get('ansible_host') or name
    extras = [
        str(_address(ip, 'host %s additional_hosts entry' % name))
        for ip in _split(hostvars.get('additional_hosts'), 'host %s additional_hosts' % name)
    ]
    nics = _nics(hostvars['multihome_nics'], name) if hostvars.get('multihome_nics') not in (None, '') else None
    if nics is not None:
        ips = [n['address'].split('/')[0] for n in nics]
        if extras and extras != ips:
            raise HostsError(
                "host %s: additional_hosts %s disagrees with multihome_nics (%s): expected the same extra IPs "
                "in the same order, or only one of them (the other is derived)"
                % (name, ','.join(extras), ', '.join('%s %s' % (n['name'], n['address']) for n in nics))
            )
        return {'name': name, 'main_ip': primary, 'additional_hosts': ips, 'interfaces': nics, 'interfaces_known': True}
    names = _split(interfaces, 'network_interface')
    if extras and names:
        masters = cidr.parse_networks(master_nets, 'master_nets')
        return {
            'name': name,
            'main_ip': primary,
            'additional_hosts': extras,
            'interfaces': _derive_nics(name, extras, names, masters),
            'interfaces_known': True,
        }
    return {
        'name': name,
        'main_ip': primary,
        'additional_hosts': extras,
        'interfaces': [],
        'interfaces_known': not extras,
    }


def cluster_hosts(
    names: Sequence[str],
    hostvars: Mapping[str, Mapping[str, Any]],
    interfaces: str | Sequence[str] | None = None,
    master_nets: str | Iterable[str] | None = None,
    require_interfaces: bool = False,
) -> list[dict[str, Any]]:
    """Every host of ``names`` (in order) as :func:`node` reads it, from ``hostvars`` (name -> variables).

    With ``require_interfaces``, a host whose data NICs cannot be known (``additional_hosts``
    without ``multihome_nics`` nor named interfaces) fails naming it and what to add.
    """
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise HostsError("the hosts %r are not a list of inventory host names" % (names,))
    out = []
    for name in names:
        if name not in hostvars:
            raise HostsError("host %s is not in the inventory's hostvars" % name)
        entry = node(name, dict(hostvars[name]), interfaces, master_nets)
        if require_interfaces and not entry['interfaces_known']:
            raise HostsError(
                "host %s has additional_hosts (%s) but its data NICs are not named: give it multihome_nics "
                "([{name: nic1, address: %s/24}, ...]) or name the interfaces in network_interface"
                % (name, ','.join(entry['additional_hosts']), entry['additional_hosts'][0])
            )
        out.append(entry)
    return out
