# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure part of the data-plane preflight (module cni_preflight): no commands run here.

The preflight runs a network attachment's real CNI plugin on a node the way a container
runtime does, into a throwaway network namespace, with the attachment's IPAM replaced by a
``static`` one holding a test address, so that no cluster IPAM state (whereabouts) is touched.
This file holds what can be decided without the node:

* :func:`runtime_configs`: the plugin configurations a runtime would run (the chain of
  module_utils/cni_config.py, which parses and checks the configuration), IPAM swapped for ``static``;
* :func:`derive_test_address`: the address a node tests with, counted down from the END of
  the attachment's range by node index, or the top of the node's own slice when the plan has
  per-node slices (real pods get addresses from the START of a range or slice first);
* :func:`netns_name`: ``npf-<attachment>-<hash>``, recognisable and unique per input;
* parsers of the plugins' output and ``ip netns list`` (``ip -j`` and ``ping`` are read by
  module_utils/hostcmd.py), the per-attachment checks and one-line summaries the module returns;
* for the role: :func:`pick_attachments` (which NADs to test), :func:`result_rows`,
  :func:`report_lines` and :func:`failure_lines` (the report of every node).

The commands themselves run in module_utils/preflight_run.py.

Every error is a :class:`PreflightError` naming the attachment, the value and what was expected.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils import nad
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_name
from ansible_collections.netplumb.multihome.plugins.module_utils.cni_config import (
    CniConfigError,
    attachment_type,
    ipam_index,
    main_plugin,
    parse_config,
    plugin_chain,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, load_ip_json
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import unwrap_plan, usable_bounds

NETNS_PREFIX = 'npf-'
NETNS_DIR = '/var/run/netns'
# Written into the alias (IFLA_IFALIAS) of a node link the preflight caused a plugin to create
# (a bridge): the mark survives an interrupted run, so the next run can find and remove it.
LINK_MARK = 'netplumb-preflight'
STATES = ('present', 'probe', 'absent')
# Kept in the namespace name; everything else becomes '-'.
_NAME_SAFE = re.compile(r'[^A-Za-z0-9_.-]+')
_NETNS_NAME_MAX = 60
_HASH_LEN = 8


class PreflightError(ValueError):
    """An attachment the preflight cannot run; the message names the input and what was expected."""


# ------------------------------------------------------------------ configurations


def static_ipam(test_address: str) -> dict[str, Any]:
    """The IPAM block that gives the interface ``test_address`` and nothing else."""
    return {'type': 'static', 'addresses': [{'address': test_address}]}


def runtime_configs(config: dict[str, Any], test_address: str | None) -> list[dict[str, Any]]:
    """The chain with the IPAM replaced: static ``test_address``, or no IPAM when there is no test address.

    Only the plugin with an IPAM type changes. An attachment without IPAM (L2 only) runs as written,
    unless a test address is given for it: then its first plugin gets the static IPAM.
    """
    chain = plugin_chain(config)
    index = ipam_index(chain)
    if index is None and test_address:
        index = 0
    if index is not None:
        chain[index]['ipam'] = static_ipam(test_address) if test_address else {}
    return chain


def with_prev_result(conf: dict[str, Any], prev_result: Any) -> dict[str, Any]:
    """``conf`` with ``prevResult`` for a chained plugin (libcni adds it from CNI 0.3.0 on)."""
    if prev_result is None:
        return conf
    conf = dict(conf)
    conf['prevResult'] = prev_result
    return conf


def config_mtu(config: dict[str, Any]) -> int | None:
    """The MTU the configuration asks for (main plugin's ``mtu``), or None."""
    mtu = main_plugin(config).get('mtu')
    if isinstance(mtu, bool) or not isinstance(mtu, int) or mtu <= 0:
        return None
    return mtu


def mtu_source(config: dict[str, Any]) -> str | None:
    """The node link whose MTU the interface inherits when the configuration gives none, or None.

    macvlan and ipvlan children take their master's MTU; host-device moves the device as it is.
    """
    plugin = main_plugin(config)
    kind = plugin.get('type')
    if kind in ('macvlan', 'ipvlan') and is_name(plugin.get('master')):
        return plugin['master']
    if kind == 'host-device' and is_name(plugin.get('device')):
        return plugin['device']
    return None


def bridge_name(config: dict[str, Any]) -> str | None:
    """The node bridge a ``bridge`` attachment uses (the plugin's default is cni0), or None."""
    plugin = main_plugin(config)
    if plugin.get('type') != 'bridge':
        return None
    return plugin.get('bridge') or 'cni0'


# ------------------------------------------------------------------ test addresses


def _parse_range(value, what):
    """A whereabouts ``range``: a CIDR, or ``first-last/prefix``; returns (network, first, last or None)."""
    if not is_name(value):
        raise PreflightError("%s %r is not a range: expected a CIDR such as '198.18.32.0/24'" % (what, value))
    try:
        if '-' in value:
            span, prefix = value.rsplit('/', 1)
            start, end = span.split('-', 1)
            network = ipaddress.ip_network('%s/%s' % (start.strip(), prefix), strict=False)
            return network, ipaddress.ip_address(start.strip()), ipaddress.ip_address(end.strip())
        network = ipaddress.ip_network(value.strip(), strict=False)
        return network, None, None
    except ValueError as exc:
        raise PreflightError("%s %r is not a range (%s): expected a CIDR such as '198.18.32.0/24'" % (what, value, exc))


def _optional_address(value, what, network):
    if value is None or value == '':
        return None
    try:
        address = ipaddress.ip_address(str(value).split('/', 1)[0].strip())
    except ValueError:
        raise PreflightError("%s %r is not an IP address" % (what, value))
    if address.version != network.version or address not in network:
        raise PreflightError("%s %s is not inside the range %s" % (what, address, network))
    return address


def address_pool(config: dict[str, Any], what: str = 'config') -> dict[str, Any] | None:
    """Where the attachment's pods get addresses: ``{network, first, last, excluded}``, or None.

    From the IPAM of the plugin that has one: whereabouts ``range`` (``range_start``,
    ``range_end``, ``exclude``, ``gateway``) or host-local (``subnet`` with ``rangeStart``,
    ``rangeEnd``, ``gateway``, or the first range of ``ranges``). Other IPAM types (static,
    dhcp, none...) have no pool: the attachment is tested without an address.
    """
    chain = plugin_chain(config)
    index = ipam_index(chain)
    if index is None:
        return None
    ipam = chain[index]['ipam']
    kind = ipam.get('type')
    excluded = []
    if kind == 'whereabouts':
        network, first, last = _parse_range(ipam.get('range'), '%s ipam range' % what)
        first = _optional_address(ipam.get('range_start'), '%s ipam range_start' % what, network) or first
        last = _optional_address(ipam.get('range_end'), '%s ipam range_end' % what, network) or last
        for i, value in enumerate(ipam.get('exclude') or []):
            try:
                excl = ipaddress.ip_network(str(value).strip(), strict=False)
            except ValueError:
                raise PreflightError("%s ipam exclude[%d] %r is not a CIDR" % (what, i, value))
            excluded.append(excl)
        gateway = _optional_address(ipam.get('gateway'), '%s ipam gateway' % what, network)
    elif kind == 'host-local':
        entry = ipam
        if ipam.get('ranges'):
            ranges = ipam['ranges']
            if (
                not isinstance(ranges, list)
                or not isinstance(ranges[0], list)
                or not ranges[0]
                or not isinstance(ranges[0][0], dict)
            ):
                raise PreflightError("%s ipam ranges %r is not a list of range sets" % (what, ranges))
            entry = ranges[0][0]
        if not is_name(entry.get('subnet')):
            raise PreflightError("%s host-local ipam has no subnet: expected a CIDR" % what)
        network, _first, _last = _parse_range(entry['subnet'], '%s ipam subnet' % what)
        first = _optional_address(entry.get('rangeStart'), '%s ipam rangeStart' % what, network)
        last = _optional_address(entry.get('rangeEnd'), '%s ipam rangeEnd' % what, network)
        gateway = _optional_address(entry.get('gateway'), '%s ipam gateway' % what, network)
    else:
        return None
    if gateway is not None:
        excluded.append(ipaddress.ip_network(gateway))
    low, high = (ipaddress.ip_address(a) for a in usable_bounds(network))
    first = max(first, low) if first is not None else low
    last = min(last, high) if last is not None else high
    return {'network': network, 'first': first, 'last': last, 'excluded': excluded, 'ipam_type': kind}


def _count_down(first, last, excluded, index):
    """The ``index``-th address (0 = ``last``) from ``last`` down to ``first``, skipping ``excluded``; or None."""
    current = int(last)
    low = int(first)
    version = first.version
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    seen = 0
    while current >= low:
        hit = None
        for excl in excluded:
            if excl.version == version and int(excl.network_address) <= current <= int(excl.broadcast_address):
                hit = excl
                break
        if hit is not None:
            # Jump below the whole excluded block at once.
            current = int(hit.network_address) - 1
            continue
        if seen == index:
            return make(current)
        seen += 1
        current -= 1
    return None


def _plan_entry(plan, network):
    """The plan network whose range is ``network``, or None."""
    plan = unwrap_plan(plan, 'plan') if plan else {}
    for entry in plan.get('networks') or []:
        if not isinstance(entry, dict):
            continue
        try:
            if ipaddress.ip_network(str(entry.get('range')), strict=False) == network:
                return entry
        except ValueError:
            continue
    return None


def derive_test_address(
    name: str,
    config: dict[str, Any],
    plan: dict[str, Any] | None = None,
    node: str | None = None,
    node_index: int = 0,
) -> tuple[str | None, str]:
    """The address ``node`` tests attachment ``name`` with, as ``(address/prefix or None, how it was chosen)``.

    From the END of the attachment's pool (:func:`address_pool`): node index 0 takes the last
    usable address, index 1 the one below, and so on, skipping excluded blocks and the gateway,
    so that nodes never collide and real pods, which whereabouts and host-local give the lowest
    free address first, are the least likely to hold it. When ``plan`` (a cidr_plan
    network_ranges plan) has per-node slices for the attachment's range, the node takes the top
    usable address of its own slice instead. The prefix is the range's.
    """
    what = 'attachment %r' % name
    pool = address_pool(config, what)
    if pool is None:
        return None, 'no address pool (IPAM %s): tested without an address, no peers probed' % (_ipam_type_text(config))
    network = pool['network']
    entry = _plan_entry(plan, network)
    slices = (entry or {}).get('nodes') or []
    if slices:
        if not node:
            raise PreflightError(
                "%s: the plan gives %s per-node slices, but no node name was given to pick this "
                "node's slice" % (what, network)
            )
        mine = [s for s in slices if isinstance(s, dict) and s.get('name') == node]
        if not mine:
            raise PreflightError(
                "%s: the plan has no slice of %s for node %r: expected one of %s (re-plan with "
                "this node in the node list)" % (what, network, node, ', '.join(str(s.get('name')) for s in slices))
            )
        try:
            slice_net = ipaddress.ip_network(str(mine[0].get('range')), strict=False)
        except ValueError:
            raise PreflightError("%s: plan slice %r of node %r is not a CIDR" % (what, mine[0].get('range'), node))
        low, high = (ipaddress.ip_address(a) for a in usable_bounds(slice_net))
        first, last = max(low, pool['first']), min(high, pool['last'])
        address = _count_down(first, last, pool['excluded'], 0) if first <= last else None
        if address is None:
            raise PreflightError(
                "%s: node %r's slice %s has no usable address inside the range bounds and "
                "outside the excluded blocks" % (what, node, slice_net)
            )
        how = 'top of node slice %s' % slice_net
    else:
        if isinstance(node_index, bool) or not isinstance(node_index, int) or node_index < 0:
            raise PreflightError("%s: node_index %r is not a whole number of 0 or more" % (what, node_index))
        address = _count_down(pool['first'], pool['last'], pool['excluded'], node_index)
        if address is None:
            raise PreflightError(
                "%s: the range %s (%s to %s) has fewer than %d usable addresses: expected one per "
                "node counted down from the end" % (what, network, pool['first'], pool['last'], node_index + 1)
            )
        how = 'end of range %s, node index %d' % (network, node_index)
    return '%s/%d' % (address, network.prefixlen), how


def _ipam_type_text(config):
    chain = plugin_chain(config)
    index = ipam_index(chain)
    return chain[index]['ipam']['type'] if index is not None else 'none'


def check_test_address(value: Any, what: str) -> str:
    """``value`` as ``address/prefix`` text (an interface address, not a network or broadcast one)."""
    if not is_name(value) or '/' not in value:
        raise PreflightError(
            "%s test_address %r is not an address with prefix: expected e.g. '198.18.61.254/24'" % (what, value)
        )
    try:
        iface = ipaddress.ip_interface(value.strip())
    except ValueError as exc:
        raise PreflightError("%s test_address %r is not a valid address with prefix: %s" % (what, value, exc))
    net = iface.network
    if net.version == 4 and net.num_addresses > 2 and iface.ip in (net.network_address, net.broadcast_address):
        raise PreflightError(
            "%s test_address %s is the network or broadcast address of %s: expected a host address" % (what, iface, net)
        )
    return str(iface)


def check_peer(value: Any, what: str) -> str:
    """A peer as a bare IP address (a prefix is dropped); names are refused so that nothing is resolved."""
    text = str(value).split('/', 1)[0].strip() if value is not None else ''
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise PreflightError("%s peer %r is not an IP address: expected e.g. '198.18.61.253'" % (what, value))


# ------------------------------------------------------------------ names


def check_ifname(value: Any, what: str = 'ifname') -> str:
    """``value`` if it is a legal interface name (the rules of the NAD validator)."""
    try:
        return nad.check_ifname(value, what)
    except ValueError as exc:
        raise PreflightError(str(exc))


def netns_name(name: str, chain: list[dict[str, Any]], test_address: str | None, ifname: str) -> str:
    """``npf-<attachment>-<8 hex>``: recognisable, and different whenever the test differs.

    The hash covers the attachment name, the runtime configuration, the test address and the
    interface name, so that present, probe and absent given the same input agree on the name.
    """
    safe = _NAME_SAFE.sub('-', str(name)).strip('-.') or 'attachment'
    digest = hashlib.sha256(json.dumps([name, chain, test_address, ifname], sort_keys=True).encode('utf-8')).hexdigest()
    room = _NETNS_NAME_MAX - len(NETNS_PREFIX) - 1 - _HASH_LEN
    return '%s%s-%s' % (NETNS_PREFIX, safe[:room], digest[:_HASH_LEN])


def same_attachment(netns: str, name: str) -> bool:
    """True when ``netns`` is a namespace of attachment ``name`` (any hash): an earlier incarnation."""
    safe = _NAME_SAFE.sub('-', str(name)).strip('-.') or 'attachment'
    room = _NETNS_NAME_MAX - len(NETNS_PREFIX) - 1 - _HASH_LEN
    return (
        re.match(r'^%s%s-[0-9a-f]{%d}$' % (re.escape(NETNS_PREFIX), re.escape(safe[:room]), _HASH_LEN), netns)
        is not None
    )


def parse_netns_list(text: str | None) -> list[str]:
    """Names from ``ip -j netns list`` (JSON) or plain ``ip netns list`` (``name (id: 0)``)."""
    text = (text or '').strip()
    if not text:
        return []
    try:
        data = load_ip_json(text, 'ip -j netns list')
    except CommandError:
        # An iproute2 without JSON for netns: one ``name (id: 0)`` per line.
        return [line.split()[0] for line in text.splitlines() if line.strip()]
    return [item['name'] for item in data if is_name(item.get('name'))]


def preflight_namespaces(names: Iterable[str]) -> list[str]:
    """The names of ``names`` that the preflight makes (prefix ``npf-``)."""
    return sorted(n for n in names if n.startswith(NETNS_PREFIX))


# ------------------------------------------------------------------ plugin output


def parse_cni_output(rc: int, stdout: str | None, stderr: str | None) -> tuple[Any, str | None]:
    """``(result, error)`` of one plugin run: the result JSON on success, else the plugin's own words.

    A plugin reports an error as JSON on stdout (``{"code", "msg", "details"}``); some write
    to stderr. The error text is ``msg`` (with ``details`` when they add something), else the
    raw output.
    """
    stdout = (stdout or '').strip()
    stderr = (stderr or '').strip()
    data = None
    if stdout:
        try:
            data = json.loads(stdout)
        except ValueError:
            data = None
    if rc == 0:
        if data is None and stdout:
            return None, 'exit code 0 but the output is not JSON: %s' % _clip(stdout)
        return data if data is not None else {}, None
    if isinstance(data, dict) and data.get('msg'):
        text = str(data['msg'])
        details = data.get('details')
        if details and str(details) not in text:
            text = '%s (%s)' % (text, details)
        return None, text
    text = stderr or stdout or 'exit code %d and no output' % rc
    return None, _clip(text)


def _clip(text, limit=2000):
    text = str(text).strip()
    return text if len(text) <= limit else text[:limit] + '...'


def result_addresses(result: Any) -> list[str]:
    """The addresses (``a/p``) of a CNI result, for versions 0.3.0+ (``ips``) and 0.1/0.2 (``ip4``/``ip6``)."""
    out: list[str] = []
    if not isinstance(result, dict):
        return out
    for ip in result.get('ips') or []:
        if isinstance(ip, dict) and ip.get('address'):
            out.append(ip['address'])
    for key in ('ip4', 'ip6'):
        block = result.get(key)
        if isinstance(block, dict) and block.get('ip'):
            out.append(block['ip'])
    return out


# ------------------------------------------------------------------ interface checks


def find_link(links: Iterable[Any], ifname: str) -> dict[str, Any] | None:
    for link in links:
        if isinstance(link, dict) and link.get('ifname') == ifname:
            return link
    return None


def link_addresses(link: Mapping[str, Any] | None) -> list[str]:
    """``address/prefix`` of every address of ``link`` (``ip -j addr`` entry)."""
    return [
        '%s/%s' % (a['local'], a['prefixlen'])
        for a in (link or {}).get('addr_info') or []
        if isinstance(a, dict) and a.get('local') is not None and a.get('prefixlen') is not None
    ]


def check_interface(
    link: Mapping[str, Any] | None, ifname: str, test_address: str | None = None, mtu: int | None = None
) -> dict[str, Any]:
    """What ``ip -j -n NS addr`` says of the attachment's interface, and what is wrong with it.

    Returns ``{found, up, carrier, operstate, mtu, expected_mtu, addresses, errors}``. The
    interface must exist, be administratively up with a carrier (a macvlan on a master without
    carrier is UP but not LOWER_UP), hold ``test_address`` when given, and have ``mtu`` when given.
    """
    out: dict[str, Any] = {
        'found': link is not None,
        'ifname': ifname,
        'up': False,
        'carrier': False,
        'operstate': None,
        'mtu': None,
        'expected_mtu': mtu,
        'addresses': [],
        'errors': [],
    }
    if link is None:
        out['errors'].append('interface %s not found in the namespace' % ifname)
        return out
    flags = link.get('flags') or []
    out['up'] = 'UP' in flags
    out['carrier'] = 'LOWER_UP' in flags
    out['operstate'] = link.get('operstate')
    out['mtu'] = link.get('mtu')
    out['addresses'] = link_addresses(link)
    if not out['up']:
        out['errors'].append('interface %s is down (flags %s)' % (ifname, ','.join(flags)))
    elif not out['carrier']:
        out['errors'].append('interface %s has no carrier (flags %s): is its master down?' % (ifname, ','.join(flags)))
    if test_address:
        want = ipaddress.ip_interface(test_address)
        have = []
        for text in out['addresses']:
            try:
                have.append(ipaddress.ip_interface(text))
            except ValueError:
                continue
        if want not in have:
            out['errors'].append(
                'interface %s has %s, not the test address %s'
                % (ifname, ', '.join(out['addresses']) or 'no address', test_address)
            )
    if mtu is not None and out['mtu'] != mtu:
        out['errors'].append('interface %s has MTU %s, expected %d' % (ifname, out['mtu'], mtu))
    return out


def marked_links(links: Sequence[Any]) -> list[tuple[str, int]]:
    """Names of node links carrying the preflight's mark, with the number of ports enslaved to each."""
    ports: dict[str, int] = {}
    for link in links:
        if isinstance(link, dict) and link.get('master'):
            ports[link['master']] = ports.get(link['master'], 0) + 1
    return [
        (link['ifname'], ports.get(link['ifname'], 0))
        for link in links
        if isinstance(link, dict) and link.get('ifalias') == LINK_MARK and link.get('ifname')
    ]


# ------------------------------------------------------------------ probes


def probe_verdict(probe: Mapping[str, Any], max_loss: float) -> bool:
    """True when the peer answered (a :func:`hostcmd.ping_result`) with at most ``max_loss`` percent of the pings lost."""
    return bool(probe.get('connected')) and probe.get('loss') is not None and probe['loss'] <= max_loss


def peer_problem(probe: Mapping[str, Any]) -> str:
    """What is wrong with a peer that failed: ping's own words when it sent nothing, else the loss."""
    if probe.get('transmitted') is None:
        return probe.get('error') or 'ping failed'
    return '%s%% packet loss' % number_text(probe.get('loss'))


def peers_for(
    name: str, explicit: Iterable[Any] | None, records: Iterable[Any] | None, node: str | None = None
) -> list[dict[str, Any]]:
    """The peers of attachment ``name``: ``explicit`` ones plus those of ``records`` (other nodes' attachments).

    ``records`` are dicts with ``name``, ``address`` (or ``test_address``) and optionally
    ``node`` and ``ok``/``status``; records of this ``node``, of other attachments, without an
    address or whose ADD failed are left out. Returns ``[{address, node}]`` without duplicates.
    """
    out = []
    seen = set()
    what = 'attachment %r' % name
    for peer in explicit or []:
        if isinstance(peer, dict):
            address, peer_node = peer.get('address') or peer.get('test_address'), peer.get('node')
        else:
            address, peer_node = peer, None
        address = check_peer(address, what)
        if address not in seen:
            seen.add(address)
            out.append({'address': address, 'node': peer_node})
    for record in records or []:
        if not isinstance(record, dict) or record.get('name') != name:
            continue
        if node is not None and record.get('node') == node:
            continue
        if record.get('status', 'ok') != 'ok' or record.get('ok') is False:
            continue
        address = record.get('address') or record.get('test_address')
        if not address:
            continue
        address = check_peer(address, what)
        if address not in seen:
            seen.add(address)
            out.append({'address': address, 'node': record.get('node')})
    return out


# ------------------------------------------------------------------ summaries


def describe_add(record: Mapping[str, Any]) -> str:
    """One line of a present (ADD) record, for people."""
    where = '%s %s' % (record['name'], record['type'])
    if record['status'] == 'would-run':
        return '%s: would create %s and run ADD with %s' % (
            where,
            record['netns'],
            record.get('test_address') or 'no address',
        )
    if record['status'] != 'ok':
        return '%s: FAILED %s' % (where, '; '.join(record['errors']))
    iface = record.get('interface') or {}
    address = record.get('test_address') or 'no address (L2 only)'
    return '%s: ADD ok, %s up in %s with %s, MTU %s' % (
        where,
        record['ifname'],
        record['netns'],
        address,
        iface.get('mtu'),
    )


def describe_probe(record: Mapping[str, Any]) -> str:
    """One line of a probe record, for people."""
    if record['status'] == 'skipped':
        return '%s: probe skipped: %s' % (record['name'], record.get('reason'))
    if record['status'] == 'would-run':
        return '%s: would ping %s' % (record['name'], ', '.join(p['address'] for p in record['peers']) or 'no peers')
    parts = []
    for peer in record['peers']:
        who = '%s (%s)' % (peer['address'], peer['node']) if peer.get('node') else peer['address']
        if peer['ok']:
            rtt = (peer.get('rtt') or {}).get('avg')
            parts.append('%s ok %s%% loss rtt %s ms' % (who, number_text(peer['loss']), number_text(rtt)))
        elif peer.get('transmitted') is None:
            parts.append('%s UNREACHABLE %s' % (who, peer['error']))
        else:
            parts.append('%s UNREACHABLE %s%% loss' % (who, number_text(peer['loss'])))
    if not parts:
        return '%s: no peers to probe' % record['name']
    return '%s: %s' % (record['name'], '; '.join(parts))


def describe_del(record: Mapping[str, Any]) -> str:
    """One line of an absent (DEL) record, for people."""
    text = '%s: DEL %s' % (record['name'], 'ok' if record['del_ok'] else 'error: %s' % record.get('del_error'))
    if record.get('removed'):
        text += ', removed %s' % record['netns']
    if record['status'] != 'ok':
        text += '; FAILED %s' % '; '.join(record['errors'])
    return text


def number_text(value: float | None) -> str:
    """A float without trailing zeros (0.05, 50), '?' for None."""
    if value is None:
        return '?'
    return ('%.3f' % value).rstrip('0').rstrip('.') if isinstance(value, float) else str(value)


# ------------------------------------------------------------------ the role: what to test, the report of every node


def pick_attachments(objects: Iterable[Any] | None, types: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """``{tested: [{name, config}], untested: [{name, type}]}`` from the NADs among ``objects``.

    ``objects`` are the ``objects`` of a nad_objects result (``{state, object}``; the network_attachments
    role's, or the preflight role's own); only present NetworkAttachmentDefinitions count, one per
    name (a NAD in several namespaces has one configuration, the first). Those whose attachment type
    (:func:`cni_config.attachment_type`) is in ``types`` are tested, the others listed as untested.
    """
    if not isinstance(types, (list, tuple)):
        raise PreflightError('types %r is not a list of plugin types, e.g. [macvlan, ipvlan, bridge]' % (types,))
    tested, untested, seen = [], [], set()
    for i, item in enumerate(objects or []):
        obj = item.get('object') if isinstance(item, dict) else None
        if not isinstance(obj, dict):
            raise PreflightError(
                'objects[%d] %r is not a nad_objects result object: expected {state, object}' % (i, item)
            )
        if item.get('state', 'present') != 'present' or obj.get('kind') != 'NetworkAttachmentDefinition':
            continue
        name = (obj.get('metadata') or {}).get('name')
        if not is_name(name):
            raise PreflightError('objects[%d] is a NetworkAttachmentDefinition without metadata.name' % i)
        if name in seen:
            continue
        seen.add(name)
        text = (obj.get('spec') or {}).get('config')
        try:
            kind = attachment_type(parse_config(text, 'objects[%d] %s spec.config' % (i, name)))
        except CniConfigError as exc:
            raise PreflightError(str(exc))
        if kind in types:
            tested.append({'name': name, 'config': text})
        else:
            untested.append({'name': name, 'type': kind})
    return {'tested': tested, 'untested': untested}


def _by_name(result, name):
    """The record of attachment ``name`` in a registered cni_preflight result, or {}."""
    for rec in (result or {}).get('attachments') or []:
        if isinstance(rec, dict) and rec.get('name') == name:
            return rec
    return {}


def result_rows(
    nodes: Iterable[str],
    present: Sequence[Mapping[str, Any] | None],
    probe: Sequence[Mapping[str, Any] | None],
    absent: Sequence[Mapping[str, Any] | None],
    expected: bool = True,
) -> list[dict[str, Any]]:
    """One row per node and attachment from the three registered results of every node (the role's report).

    ``present``, ``probe`` and ``absent`` are lists in the order of ``nodes``, each a registered
    cni_preflight result or {} when the node has none. A phase that failed as a whole gives a row
    ``{node, attachment: '*', ok: false, errors: [its msg]}``; so does a node without a present result
    when attachments were ``expected`` (unreachable, or failed before it). Every attachment of a
    present result gives ``{node, attachment, type, ok, errors, test_address, netns, plugin_error,
    result, interface, peers, add, probe, del}``, its errors those of the three phases.
    """
    rows = []
    for index, node in enumerate(nodes):
        add, pings, cleanup = (
            (phase[index] if index < len(phase) else None) or {} for phase in (present, probe, absent)
        )
        for phase in (add, pings, cleanup):
            if phase.get('failed'):
                rows.append({'node': node, 'attachment': '*', 'ok': False, 'errors': [phase.get('msg', 'failed')]})
        if expected and 'attachments' not in add and not add.get('failed'):
            rows.append(
                {
                    'node': node,
                    'attachment': '*',
                    'ok': False,
                    'errors': ['the preflight did not run on this node (unreachable, or failed before it)'],
                }
            )
        for rec in add.get('attachments') or []:
            p, d = _by_name(pings, rec['name']), _by_name(cleanup, rec['name'])
            errors = list(rec.get('errors') or []) + list(p.get('errors') or []) + list(d.get('errors') or [])
            rows.append(
                {
                    'node': node,
                    'attachment': rec['name'],
                    'type': rec.get('type'),
                    'ok': not errors,
                    'errors': errors,
                    'test_address': rec.get('test_address'),
                    'netns': rec.get('netns'),
                    'plugin_error': rec['plugin_error'] if 'plugin_error' in rec else d.get('plugin_error'),
                    'result': rec.get('result'),
                    'interface': rec.get('interface'),
                    'peers': p.get('peers', []),
                    'add': rec.get('summary', 'not run'),
                    'probe': p.get('summary', 'not run'),
                    'del': d.get('summary', 'not run'),
                }
            )
    return rows


def report_lines(rows: Iterable[Mapping[str, Any]], untested: Iterable[Mapping[str, Any]] | None = ()) -> list[str]:
    """The report for people: a line per row (then the plugin's result or error), then the untested attachments."""
    lines = []
    for row in rows:
        head = '%s %s: %s' % (row['node'], row['attachment'], 'ok' if row['ok'] else 'FAILED')
        if row['attachment'] == '*':
            lines.append('%s - %s' % (head, '; '.join(row['errors'])))
            continue
        lines.append('%s | %s | %s | %s' % (head, row['add'], row['probe'], row['del']))
        if row.get('result'):
            lines.append('  plugin result: %s' % json.dumps(row['result']))
        if row.get('plugin_error'):
            lines.append('  plugin error: %s' % row['plugin_error'])
    for item in untested or []:
        lines.append('not tested: %s (%s: not in cni_preflight_types)' % (item['name'], item['type']))
    return lines or ['No network attachments to test.']


def failure_lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """``node/attachment: errors`` of every row that failed."""
    return ['%s/%s: %s' % (row['node'], row['attachment'], '; '.join(row['errors'])) for row in rows if not row['ok']]
