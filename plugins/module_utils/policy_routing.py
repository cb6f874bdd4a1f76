# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-NIC source policy routing: one routing table and one ``from <address>`` rule per secondary NIC.

Plain functions over the standard library, used by the policy_routing module; no Ansible
import, so they are unit-testable with ``rt_tables`` files and ``ip -j`` output built by the test.
Every error is a :class:`PolicyRoutingError` whose message names the bad value and what was expected.

Why: a host with several NICs, each in its own subnet, answers a packet that came in on nic2
from the address of nic2, but routes the answer by destination through the main table, so it
may leave by nic1 (asymmetric routing; a strict ``rp_filter`` on either end drops it). A rule
``from <nic2 address> lookup <table>`` sends everything sourced from nic2's address through a
table of nic2's own (its subnet, its gateway), so the answer leaves where the question came in.

Which tables are ours: the entries of our own file in ``rt_tables.d`` (``<number> multihome-<nic>``),
and every rule whose table is one of those numbers at priority equal to it (our signature: rule
priority = table number). Everything else on the host is someone else's and its numbers are
never handed out: other ``rt_tables`` entries, tables that hold routes, rules' tables and priorities.
"""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import re
from typing import Any, Collection, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, Ip, load_ip_json

# The file of ours in rt_tables.d, and the name prefix of our tables in it.
OUR_FILE = 'netplumb-multihome.conf'
NAME_PREFIX = 'multihome-'
DEFAULT_BASE = 1000
# Rules run in priority order and main's rule is 32766: ours must come before it.
MAX_NUMBER = 32765
# Numbers iproute2 knows without any file, and what the kernel reserves.
BUILTIN_TABLES = {'unspec': 0, 'default': 253, 'main': 254, 'local': 255}
# Linux interface names: at most 15 bytes, no '/', no whitespace, not '.' or '..'.
IFNAME = re.compile(r'^[^/\s:]{1,15}$')
# Where iproute2 (6.x) keeps its vendor defaults; /etc overrides them.
VENDOR_DIRS = ('/usr/share/iproute2', '/usr/lib/iproute2')
# Rule keys that only describe a rule we would make; any other selector makes it another rule.
RULE_PLAIN_KEYS = ('priority', 'src', 'srclen', 'table', 'protocol', 'flags')

BATCH_HEADER = """\
# Per-NIC policy routing of netplumb.multihome (module policy_routing). Do not edit: it is rewritten.
# Idempotent: run it at any time with   ip -force -batch <this file>
# (netplumb-multihome-routing.service does so at boot, after network-online.target).
"""


class PolicyRoutingError(ValueError):
    """An input that cannot be used, or a host state that cannot be planned; the message says why."""


# ---------------------------------------------------------------------------
# rt_tables files


def parse_rt_tables(text: str | None) -> list[tuple[int, str]]:
    """``rt_tables`` text -> ``[(number, name), ...]`` in file order.

    Lines are ``<number> <name>`` (number decimal or ``0x`` hex, as iproute2 reads them); ``#``
    starts a comment. Lines iproute2 would skip (no number, no name) are skipped.
    """
    out = []
    for line in (text or '').splitlines():
        fields = line.split('#', 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            number = int(fields[0], 16) if fields[0].lower().startswith('0x') else int(fields[0], 10)
        except ValueError:
            continue
        if 0 <= number <= 0xFFFFFFFF:
            out.append((number, fields[1]))
    return out


def rt_tables_paths(rt_tables_dir: str, vendor_dirs: Iterable[str] | None = None) -> list[str]:
    """Every file iproute2 reads table names from, vendor defaults first: ``rt_tables`` and ``rt_tables.d/*.conf``.

    ``rt_tables_dir`` is the ``rt_tables.d`` directory under /etc; its parent holds ``rt_tables``.
    ``vendor_dirs`` defaults to :data:`VENDOR_DIRS`.
    """
    vendor_dirs = VENDOR_DIRS if vendor_dirs is None else tuple(vendor_dirs)
    paths = []
    for base in list(vendor_dirs) + [os.path.dirname(os.path.normpath(rt_tables_dir))]:
        paths.append(os.path.join(base, 'rt_tables'))
        directory = rt_tables_dir if base not in vendor_dirs else os.path.join(base, 'rt_tables.d')
        paths.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return paths


def read_rt_tables(paths: Iterable[str]) -> list[tuple[int, str, str]]:
    """``[(number, name, path), ...]`` of the files that exist among ``paths`` (unreadable ones are skipped)."""
    out: list[tuple[int, str, str]] = []
    for path in paths:
        try:
            with open(path) as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        out.extend((number, name, path) for number, name in parse_rt_tables(text))
    return out


def render_rt_tables(tables: Mapping[str, int]) -> str:
    """The text of our rt_tables.d file for ``{nic: number}``, in number order."""
    lines = ['# Routing tables of netplumb.multihome policy routing (one per NIC). Do not edit: it is rewritten.']
    lines += [
        '%d %s%s' % (number, NAME_PREFIX, nic) for nic, number in sorted(tables.items(), key=lambda item: item[1])
    ]
    return '\n'.join(lines) + '\n'


def table_name_map(entries: Iterable[Sequence[Any]]) -> dict[str, int]:
    """``{name: number}`` for resolving the table names ``ip`` prints; later entries win, as in iproute2."""
    names = dict(BUILTIN_TABLES)
    for entry in entries:
        names[entry[1]] = entry[0]
    return names


# ---------------------------------------------------------------------------
# ip -j output


def _ip_json(text, what):
    """``ip -j`` output (text, or already a list) through the one loader, hostcmd.load_ip_json; PolicyRoutingError otherwise."""
    try:
        return load_ip_json(text, what)
    except CommandError as exc:
        raise PolicyRoutingError(str(exc))


def _table_number(value, names, default=None):
    """A table as ``ip`` prints it (number, or a name from rt_tables) -> its number; None when unknown."""
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.isdigit():
        return int(text)
    return names.get(text)


def _cidr(value, length=None):
    """``ip``'s way of printing a prefix (``default``, ``all``, ``10.0.0.5``, ``10.0.0.0/24``) -> a CIDR string."""
    if value in (None, 'all'):
        return None
    if value == 'default':
        return '0.0.0.0/0'
    text = str(value)
    if '/' not in text and length is not None:
        text = '%s/%s' % (text, length)
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def parse_ip_rules(json_text: str | list[Any] | None, names: Mapping[str, int]) -> list[dict[str, Any]]:
    """``ip -j rule show`` -> ``[{'priority', 'src', 'table', 'other'}]``.

    ``src`` is a CIDR or None (``from all``); ``table`` a number, or None for rules that look
    nothing up (``unreachable``, ``goto``) or name a table no rt_tables file we read knows;
    ``other`` the sorted selectors beyond priority/from/table (``iif``, ``fwmark``...), empty for plain rules.
    """
    out = []
    for rule in _ip_json(json_text, 'ip -j rule show'):
        out.append(
            {
                'priority': rule.get('priority', 0),
                'src': _cidr(rule.get('src'), rule.get('srclen')),
                'table': _table_number(rule.get('table'), names),
                'other': tuple(
                    sorted(
                        (key, json.dumps(value, sort_keys=True))
                        for key, value in rule.items()
                        if key not in RULE_PLAIN_KEYS
                    )
                ),
            }
        )
    return out


def parse_ip_routes(json_text: str | list[Any] | None, names: Mapping[str, int]) -> list[dict[str, Any]]:
    """``ip -j route show table all`` -> ``[{'table', 'dst', 'gateway', 'dev', 'prefsrc', 'type'}]``.

    A route without ``table`` is in main (iproute2 leaves it out there); ``dst`` is a CIDR
    (``default`` is ``0.0.0.0/0``); ``table`` is None for a name no rt_tables file we read knows.
    """
    out = []
    for route in _ip_json(json_text, 'ip -j route show table all'):
        out.append(
            {
                'table': _table_number(route.get('table'), names, default=BUILTIN_TABLES['main']),
                'dst': _cidr(route.get('dst')),
                'gateway': route.get('gateway'),
                'dev': route.get('dev'),
                'prefsrc': route.get('prefsrc'),
                'type': route.get('type', 'unicast'),
            }
        )
    return out


def live_state(ip: Ip, names: Mapping[str, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int | None]]:
    """The host's rules and routes as :func:`plan` takes them, read with ``ip`` (a :class:`hostcmd.Ip`).

    ``(rules, routes, extra)``: ``extra`` are the table numbers IPv6 rules and routes use, none
    on a host without IPv6. CommandError when ``ip`` fails, PolicyRoutingError when its output is not JSON.
    """
    rules = parse_ip_rules(ip.query('rule', 'show'), names)
    routes = parse_ip_routes(ip.query('route', 'show', 'table', 'all'), names)
    # A table number is one namespace for both families: avoid the IPv6 ones too.
    extra = [r['table'] for r in parse_ip_rules(ip.query('rule', 'show', family=6, optional=True), names)]
    extra += [
        r['table'] for r in parse_ip_routes(ip.query('route', 'show', 'table', 'all', family=6, optional=True), names)
    ]
    return rules, routes, extra


# ---------------------------------------------------------------------------
# inputs


def check_table_base(base: Any) -> int:
    """``base`` as an int in 1..32765; PolicyRoutingError otherwise."""
    if isinstance(base, bool) or not isinstance(base, int) or not 1 <= base <= MAX_NUMBER:
        raise PolicyRoutingError(
            "table_base %r is out of range: expected a whole number from 1 to %d (a table's number is "
            "also its rule's priority, which must stay below main's 32766)" % (base, MAX_NUMBER)
        )
    return base


def _host_in(value, network, what, nic_ip):
    try:
        ip = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise PolicyRoutingError(
            "%s %r is not an IPv4 address: expected an address in the NIC's subnet %s, such as %r"
            % (what, value, network, str(next(network.hosts(), network.network_address)))
        )
    if ip.version != 4 or ip not in network:
        raise PolicyRoutingError(
            "%s %s is outside the NIC's subnet %s: expected an address in it (a router on that link)"
            % (what, value, network)
        )
    if ip == nic_ip:
        raise PolicyRoutingError(
            "%s %s is the NIC's own address: expected another host of %s (a router on that link)"
            % (what, value, network)
        )
    return str(ip)


def normalize_interfaces(interfaces: Any) -> list[dict[str, Any]]:
    """Check the NIC list; ``[{'name', 'address', 'ip', 'network', 'gateway', 'routes'}]`` in the given order.

    Each item: ``name``; ``address`` IPv4 with prefix (``198.18.1.11/24``); optional ``gateway``
    (in the NIC's subnet); optional ``routes`` ``[{dst, via}]`` (``via`` optional, in the subnet).
    Raises PolicyRoutingError naming the NIC and the value.
    """
    if interfaces is None:
        return []
    if not isinstance(interfaces, (list, tuple)):
        raise PolicyRoutingError(
            "interfaces %r is not a list: expected [{name: nic1, address: 198.18.1.11/24}, ...]" % (interfaces,)
        )
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(interfaces):
        if not isinstance(item, dict):
            raise PolicyRoutingError(
                "interfaces[%d] %r is not a dict: expected {name: nic1, address: 198.18.1.11/24}" % (index, item)
            )
        name = item.get('name')
        if not isinstance(name, str) or not IFNAME.match(name) or name in ('.', '..'):
            raise PolicyRoutingError(
                "interfaces[%d].name %r is not an interface name: expected up to 15 characters "
                "without '/', ':' or spaces, such as 'nic1' or 'ens1f0'" % (index, name)
            )
        if name in seen:
            raise PolicyRoutingError(
                "interfaces names %s twice (items %d and %d): expected each NIC once, as each gets one table"
                % (name, seen[name], index)
            )
        seen[name] = index
        what = 'interfaces[%s]' % name
        address = item.get('address')
        try:
            if not isinstance(address, str) or '/' not in address:
                raise ValueError('no prefix length')
            iface = ipaddress.ip_interface(address.strip())
        except ValueError:
            raise PolicyRoutingError(
                "%s.address %r is not an address with prefix length: expected the NIC's IPv4 address "
                "and subnet, such as '198.18.1.11/24'" % (what, address)
            )
        if iface.version != 4:
            raise PolicyRoutingError(
                "%s.address %s is IPv6: policy_routing handles IPv4 only, expected such as '198.18.1.11/24'"
                % (what, address)
            )
        if iface.network.prefixlen == 0:
            raise PolicyRoutingError(
                "%s.address %s has prefix length 0: expected the NIC's subnet, such as '198.18.1.11/24'"
                % (what, address)
            )
        gateway = item.get('gateway')
        if gateway not in (None, ''):
            gateway = _host_in(gateway, iface.network, what + '.gateway', iface.ip)
        else:
            gateway = None
        routes: list[dict[str, Any]] = []
        for rindex, route in enumerate(item.get('routes') or []):
            rwhat = '%s.routes[%d]' % (what, rindex)
            if not isinstance(route, dict):
                raise PolicyRoutingError(
                    "%s %r is not a dict: expected {dst: 10.20.0.0/16, via: <router in the subnet>}" % (rwhat, route)
                )
            raw_dst = route.get('dst')
            try:
                dst = ipaddress.ip_network('0.0.0.0/0' if raw_dst == 'default' else str(raw_dst).strip(), strict=True)
            except ValueError:
                raise PolicyRoutingError(
                    "%s.dst %r is not a network: expected an IPv4 CIDR with the host bits zero, such as "
                    "'10.20.0.0/16', or 'default'" % (rwhat, raw_dst)
                )
            if dst.version != 4:
                raise PolicyRoutingError("%s.dst %s is IPv6: policy_routing handles IPv4 only" % (rwhat, raw_dst))
            via = route.get('via')
            via = _host_in(via, iface.network, rwhat + '.via', iface.ip) if via not in (None, '') else None
            if dst == iface.network:
                raise PolicyRoutingError(
                    "%s.dst %s is the NIC's own subnet, whose route the table always has: leave it out" % (rwhat, dst)
                )
            if dst.prefixlen == 0 and gateway:
                raise PolicyRoutingError(
                    "%s.dst %s repeats the default route of %s.gateway %s: give one of them"
                    % (rwhat, dst, what, gateway)
                )
            if any(r['dst'] == str(dst) for r in routes):
                raise PolicyRoutingError(
                    "%s.dst %s is given twice for %s: expected each destination once" % (rwhat, dst, name)
                )
            routes.append({'dst': str(dst), 'via': via})
        out.append(
            {
                'name': name,
                'address': str(iface),
                'ip': str(iface.ip),
                'network': str(iface.network),
                'gateway': gateway,
                'routes': routes,
            }
        )
    by_ip: dict[str, str] = {}
    for nic in out:
        if nic['ip'] in by_ip:
            raise PolicyRoutingError(
                "interfaces %s and %s both have address %s: expected one address per NIC (the rule "
                "'from %s' can send it through one table only)" % (by_ip[nic['ip']], nic['name'], nic['ip'], nic['ip'])
            )
        by_ip[nic['ip']] = nic['name']
    return out


def check_addresses(
    nics: Iterable[Mapping[str, Any]],
    addresses: Mapping[str, Sequence[str]],
    admin_up: Mapping[str, bool] | None = None,
) -> None:
    """Fail unless every NIC exists, is up and holds its address; ``addresses`` is ``{ifname: ['a.b.c.d/len', ...]}``,
    ``admin_up`` ``{ifname: up?}`` (a NIC down since the plan: its routes could not be set, half a change)."""
    nics = list(nics)
    down = [
        nic['name']
        for nic in nics
        if admin_up is not None and nic['name'] in addresses and not admin_up.get(nic['name'], True)
    ]
    if down:
        raise PolicyRoutingError(
            'interfaces %s %s down on this host: the kernel refuses routes through a NIC that is down, so nothing was changed. '
            'Bring %s up (ip link set dev %s up) or leave %s out'
            % (
                ', '.join(down),
                'is' if len(down) == 1 else 'are',
                'it' if len(down) == 1 else 'them',
                ' / '.join(down),
                'it' if len(down) == 1 else 'them',
            )
        )
    for nic in nics:
        if nic['name'] not in addresses:
            raise PolicyRoutingError(
                "interfaces[%s]: this host has no interface %s (it has %s): expected the names of "
                "its NICs" % (nic['name'], nic['name'], ', '.join(sorted(addresses)) or 'none')
            )
        have = addresses[nic['name']]
        if nic['address'] not in have:
            raise PolicyRoutingError(
                "interfaces[%s].address %s is not on %s (it has %s): expected the address and prefix "
                "the NIC holds" % (nic['name'], nic['address'], nic['name'], ', '.join(have) or 'no address')
            )


# ---------------------------------------------------------------------------
# table numbers


def foreign_numbers(
    entries: Iterable[tuple[int, str, str]],
    our_path: str,
    rules: Iterable[Mapping[str, Any]],
    routes: Iterable[Mapping[str, Any]],
    ours: Mapping[str, int],
    extra_tables: Iterable[int | None] = (),
) -> set[int]:
    """The numbers someone else holds: never ours to hand out.

    ``entries`` from :func:`read_rt_tables` (those of ``our_path`` are ours); ``rules`` and
    ``routes`` from :func:`parse_ip_rules`/:func:`parse_ip_routes`; ``ours`` our previous
    ``{nic: number}``. A rule is ours when its table is one of ours and its priority equals it;
    a table's routes are ours when the table is. ``extra_tables`` adds numbers in use elsewhere
    (the IPv6 tables).
    """
    mine = set(ours.values())
    used = set(BUILTIN_TABLES.values())
    used.update(number for number, _name, path in entries if path != our_path)
    for rule in rules:
        if rule['table'] in mine and rule['priority'] == rule['table']:
            continue
        used.add(rule['priority'])
        if rule['table'] is not None:
            used.add(rule['table'])
    used.update(route['table'] for route in routes if route['table'] is not None and route['table'] not in mine)
    used.update(number for number in extra_tables if number is not None and number not in mine)
    return used


def assign_tables(
    nics: Sequence[str], ours: Mapping[str, int], used: Collection[int], base: int = DEFAULT_BASE
) -> dict[str, int]:
    """``{nic: number}`` for the NIC names ``nics``.

    A NIC keeps its number from ``ours`` (our previous assignment) unless someone else now holds
    it (``used``) or it lies below ``base``; any other NIC gets the lowest number >= ``base`` that
    nobody holds, that no other NIC of ours has, and that no table of ours being dropped has.
    """
    check_table_base(base)
    out: dict[str, int] = {}
    for nic in nics:
        number = ours.get(nic)
        if number is not None and number not in used and base <= number <= MAX_NUMBER and number not in out.values():
            out[nic] = number
    taken = set(used) | set(ours.values()) | set(out.values())
    candidate = base
    for nic in nics:
        if nic in out:
            continue
        while candidate in taken:
            candidate += 1
        if candidate > MAX_NUMBER:
            raise PolicyRoutingError(
                "no free table number from table_base %d to %d for %s: every one is in an rt_tables file, "
                "holds routes or is a rule's priority; expected a lower table_base" % (base, MAX_NUMBER, nic)
            )
        out[nic] = candidate
        taken.add(candidate)
    return out


# ---------------------------------------------------------------------------
# desired state, diff, commands


def desired_state(
    nics: Iterable[Mapping[str, Any]], tables: Mapping[str, int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rules, routes) for the checked ``nics`` and their ``tables``; rules and routes as the parse functions give them."""
    rules = []
    routes = []
    for nic in nics:
        number = tables[nic['name']]
        rules.append({'priority': number, 'src': nic['ip'] + '/32', 'table': number, 'other': ()})
        routes.append(
            {
                'table': number,
                'dst': nic['network'],
                'gateway': None,
                'dev': nic['name'],
                'prefsrc': nic['ip'],
                'type': 'unicast',
            }
        )
        if nic['gateway']:
            routes.append(
                {
                    'table': number,
                    'dst': '0.0.0.0/0',
                    'gateway': nic['gateway'],
                    'dev': nic['name'],
                    'prefsrc': None,
                    'type': 'unicast',
                }
            )
        for route in nic['routes']:
            routes.append(
                {
                    'table': number,
                    'dst': route['dst'],
                    'gateway': route['via'],
                    'dev': nic['name'],
                    'prefsrc': None,
                    'type': 'unicast',
                }
            )
    return rules, routes


def _rule_key(rule):
    return (rule['priority'], rule['src'], rule['table'], tuple(rule['other']))


def _route_key(route):
    return (route['table'], route['dst'], route['gateway'], route['dev'], route['prefsrc'], route['type'])


def _dst_text(dst):
    if dst == '0.0.0.0/0':
        return 'default'
    return dst


def rule_text(rule: Mapping[str, Any]) -> str:
    """``ip rule`` arguments of a rule: ``from 198.18.1.11 table 1000 priority 1000``."""
    src = rule['src']
    if src and src.endswith('/32'):
        src = src[:-3]
    return ' '.join((['from', src] if src else []) + ['table', str(rule['table']), 'priority', str(rule['priority'])])


def route_text(route: Mapping[str, Any], with_src: bool = True) -> str:
    """``ip route`` arguments of a route: ``198.18.1.0/24 dev nic1 scope link src 198.18.1.11 table 1000``."""
    words = [_dst_text(route['dst'])]
    if route['type'] not in (None, 'unicast'):
        words.insert(0, route['type'])
    if route['gateway']:
        words += ['via', route['gateway']]
    if route['dev']:
        words += ['dev', route['dev']]
    if route['prefsrc'] and with_src:
        words += ['scope', 'link', 'src', route['prefsrc']]
    words += ['table', str(route['table'])]
    return ' '.join(words)


def state_lines(rules: Iterable[Mapping[str, Any]], routes: Iterable[Mapping[str, Any]]) -> str:
    """A readable listing of rules and routes, one per line, for diffs."""
    lines = [
        'rule %s' % rule_text(r) + (' %s' % ' '.join('%s=%s' % kv for kv in r['other']) if r['other'] else '')
        for r in sorted(rules, key=lambda r: (r['priority'], r['table'] or 0, r['src'] or ''))
    ]
    lines += [
        'route %s' % route_text(r)
        for r in sorted(routes, key=lambda r: (r['table'], r['dst'], r['dev'] or '', r['gateway'] or ''))
    ]
    return '\n'.join(lines) + ('\n' if lines else '')


def plan(
    nics: Sequence[Mapping[str, Any]],
    state: str,
    base: int,
    entries: Sequence[tuple[int, str, str]],
    our_path: str,
    rules: Sequence[Mapping[str, Any]],
    routes: Sequence[Mapping[str, Any]],
    extra_tables: Iterable[int | None] = (),
) -> dict[str, Any]:
    """Everything to do, without doing it: a dict.

    ``nics`` from :func:`normalize_interfaces`; ``entries`` every rt_tables entry read (ours
    included, from ``our_path``); ``rules``/``routes`` the live IPv4 state. Returns ``tables``
    (``{nic: number}``), ``dropped`` (NICs of our previous assignment that have no table any more),
    ``rules``/``routes`` (desired), ``commands`` (the ``ip -batch`` lines
    that make the live state the desired one, empty when it already is), ``before``/``after``
    (our live rules and routes, and the desired ones, as text), ``rt_tables`` (the text of our
    file, None for absent) and ``batch`` (the boot-time batch text, None for absent).
    """
    check_table_base(base)
    ours = dict(
        (name[len(NAME_PREFIX) :], number)
        for number, name, path in entries
        if path == our_path and name.startswith(NAME_PREFIX)
    )
    mine = set(ours.values())
    used = foreign_numbers(entries, our_path, rules, routes, ours, extra_tables)
    tables = assign_tables([n['name'] for n in nics], ours, used, base) if state == 'present' else {}
    want_rules, want_routes = desired_state(nics, tables) if state == 'present' else ([], [])
    kept = set(tables.values())
    # Tables of ours given up (NIC dropped, state absent, or someone else claimed the number):
    # our rule goes; the routes too unless the table is now someone else's.
    claimed = set(number for number, _name, path in entries if path != our_path) | set(
        r['table'] for r in rules if r['table'] is not None and not (r['table'] in mine and r['priority'] == r['table'])
    )
    live_rules = [r for r in rules if r['table'] in (mine | kept) and r['priority'] == r['table']]
    live_routes = [r for r in routes if r['table'] in (mine | kept) and r['table'] not in (claimed - kept)]

    want_rule_keys = set(_rule_key(r) for r in want_rules)
    want_route_keys = set(_route_key(r) for r in want_routes)
    live_rule_keys = set(_rule_key(r) for r in live_rules)
    live_route_keys = set(_route_key(r) for r in live_routes)
    commands = []
    for rule in live_rules:
        if _rule_key(rule) not in want_rule_keys:
            commands.append('rule del %s' % rule_text(rule))
    for number in sorted((mine - kept) - claimed):
        if any(r['table'] == number for r in live_routes):
            commands.append('route flush table %d' % number)
    for route in live_routes:
        if route['table'] in kept and _route_key(route) not in want_route_keys:
            commands.append('route del %s' % route_text(route, with_src=False))
    for route in want_routes:
        if _route_key(route) not in live_route_keys:
            commands.append('route replace %s proto static' % route_text(route))
    for rule in want_rules:
        if _rule_key(rule) not in live_rule_keys:
            commands.append('rule add %s' % rule_text(rule))
    return {
        'tables': tables,
        'dropped': sorted(nic for nic in ours if nic not in tables),
        'rules': want_rules,
        'routes': want_routes,
        'commands': commands,
        'before': state_lines(live_rules, live_routes),
        'after': state_lines(want_rules, want_routes),
        'rt_tables': render_rt_tables(tables) if state == 'present' else None,
        'batch': batch_text(nics, tables, want_routes) if state == 'present' else None,
    }


def batch_text(
    nics: Iterable[Mapping[str, Any]], tables: Mapping[str, int], routes: Sequence[Mapping[str, Any]]
) -> str:
    """The boot-time ``ip -batch`` text: idempotent when run with ``ip -force -batch``.

    Per table: ``rule flush table T`` (only rules that look up our table: nothing else is touched,
    and nothing fails when there is none, as at boot), the routes with ``route replace``, then the
    rule, so that no packet is sent to a table still being filled.
    """
    lines = [BATCH_HEADER.rstrip('\n')]
    for nic in sorted(nics, key=lambda n: tables[n['name']]):
        number = tables[nic['name']]
        lines.append('')
        lines.append('# %s %s -> table %d (%s%s)' % (nic['name'], nic['address'], number, NAME_PREFIX, nic['name']))
        lines.append('rule flush table %d' % number)
        for route in routes:
            if route['table'] == number:
                lines.append('route replace %s proto static' % route_text(route))
        lines.append('rule add from %s table %d priority %d' % (nic['ip'], number, number))
    return '\n'.join(lines) + '\n'


def rules_summary(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules as the module returns them: ``[{'priority', 'from', 'table'}]``."""
    return [
        {'priority': r['priority'], 'from': r['src'].split('/')[0] if r['src'] else 'all', 'table': r['table']}
        for r in rules
    ]


def routes_summary(routes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Routes as the module returns them: ``[{'table', 'dst', 'via', 'dev', 'src'}]``."""
    return [
        {'table': r['table'], 'dst': _dst_text(r['dst']), 'via': r['gateway'], 'dev': r['dev'], 'src': r['prefsrc']}
        for r in routes
    ]


# ---------------------------------------------------------------------------
# The NICs' sysctls and the boot-time unit (set by the same module call as the rules, so that a run that
# changes nothing is one call: issue 16)

SYSCTL_KEY = re.compile(r'^[a-z_]+$')
# Where the live values are (a test points it elsewhere).
PROC_SYS = '/proc/sys'
SYSCTL_HEADER = (
    '# The NICs\' sysctls of netplumb.multihome policy routing (module policy_routing). Do not edit: it is rewritten.'
)
UNIT_HEADER = '# Per-NIC policy routing of netplumb.multihome (module policy_routing). Do not edit: it is rewritten.'
UNIT_WANTS = 'multi-user.target.wants'


def check_sysctls(sysctls: Any) -> dict[str, int]:
    """``{key: value}`` of ``net.ipv4.conf.<nic>.<key>`` settings, values as ints; PolicyRoutingError otherwise."""
    if not isinstance(sysctls, Mapping):
        raise PolicyRoutingError(
            'sysctls %s is not a map: expected net.ipv4.conf.<nic> keys to numbers, e.g. {rp_filter: 2, arp_ignore: 1}'
            % json.dumps(sysctls, default=str)
        )
    out = {}
    for key, value in sysctls.items():
        text = str(value).strip()
        if not isinstance(key, str) or not SYSCTL_KEY.match(key) or isinstance(value, bool) or not text.isdigit():
            raise PolicyRoutingError(
                'sysctls %s: %s=%s is not a net.ipv4.conf.<nic> key and number: expected e.g. '
                '{rp_filter: 2, arp_ignore: 1, arp_announce: 2}' % (json.dumps(sysctls, default=str), key, value)
            )
        out[key] = int(text)
    return out


def sysctl_entries(nic_names: Iterable[str], sysctls: Mapping[str, int]) -> list[tuple[str, str, int]]:
    """``[(key, proc_path, value)]`` for every NIC and setting, in NIC then key order.

    A NIC name's dots are slashes in the sysctl key (``net.ipv4.conf.eth0/100.rp_filter``), as sysctl(8) reads them;
    the /proc path keeps the name as it is.
    """
    return [
        ('net.ipv4.conf.%s.%s' % (nic.replace('.', '/'), key), '%s/net/ipv4/conf/%s/%s' % (PROC_SYS, nic, key), value)
        for nic in nic_names
        for key, value in sorted(sysctls.items())
    ]


def sysctl_lines(values: Iterable[tuple[str, Any]]) -> str:
    """``key = value`` lines (the sysctl.d format), one per ``(key, value)``."""
    return ''.join('%s = %s\n' % (key, value) for key, value in values)


def sysctl_file_text(entries: Iterable[tuple[str, str, int]]) -> str:
    """The sysctl.d file that sets the NICs' values again at boot."""
    return SYSCTL_HEADER + '\n' + sysctl_lines((key, value) for key, _path, value in entries)


def unit_text(nic_names: Iterable[str], batch_command: Sequence[str]) -> str:
    """The boot-time systemd unit that runs the batch file (``ip -force -batch <file>``) after the network is up."""
    return '\n'.join(
        [
            UNIT_HEADER,
            '# Idempotent: `systemctl restart <this unit>` sets it all again (e.g. after a NIC went down and up).',
            '[Unit]',
            'Description=netplumb.multihome per-NIC policy routing (%s)' % ', '.join(sorted(nic_names)),
            'Documentation=man:ip-rule(8) man:ip-route(8)',
            'After=network-online.target',
            'Wants=network-online.target',
            '',
            '[Service]',
            'Type=oneshot',
            'RemainAfterExit=yes',
            'ExecStart=%s' % ' '.join(batch_command),
            '',
            '[Install]',
            'WantedBy=multi-user.target',
            '',
        ]
    )


def unit_paths(unit_dir: str, name: str) -> tuple[str, str]:
    """The unit's file and its ``multi-user.target.wants`` link (what ``systemctl enable`` makes)."""
    if not name or '/' in name or not name.endswith('.service'):
        raise PolicyRoutingError(
            'unit.name %r is not a unit file name: expected e.g. netplumb-multihome-routing.service' % (name,)
        )
    return os.path.join(unit_dir, name), os.path.join(unit_dir, UNIT_WANTS, name)


def check_absolute(paths: Mapping[str, Any], files: bool = True) -> None:
    """Each ``{option: path}`` an absolute path (of a file: no trailing slash); PolicyRoutingError naming the first
    that is not."""
    for what, path in paths.items():
        if path is None:
            continue
        if not isinstance(path, str) or not path.startswith('/') or (files and path.endswith('/')):
            raise PolicyRoutingError(
                '%s %s is not an absolute %s path: expected one such as %s'
                % (
                    what,
                    json.dumps(path),
                    'file' if files else 'directory',
                    '/etc/sysctl.d/90-netplumb-multihome.conf' if files else '/etc/systemd/system',
                )
            )
