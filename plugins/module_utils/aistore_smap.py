# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AIStore cluster map (Smap) and multihome, for the aistore_smap_verify module and the filters.

Plain functions over the standard library and the collection's checks; no Ansible
import, so they are unit-testable on their own. Every error is a :class:`SmapError`
whose message names the bad value and what was expected.

The Smap's JSON, as AIStore writes it (``core/meta/smap.go``, ``Smap``, ``Snode``
and ``NetInfo``), and as both ``GET /v1/daemon?what=smap`` on a proxy and
``ais show cluster smap --json`` print it::

    {"pmap": {"<proxy ID>": <node>}, "tmap": {"<target ID>": <node>},
     "proxy_si": <the primary's node>, "uuid": "...", "creation_time": "...",
     "version": "42"}            # an int64 with the ",string" tag: a JSON string

    <node>: {"daemon_id": "...", "daemon_type": "proxy" | "target",
             "public_net": <net>, "intra_control_net": <net>, "intra_data_net": <net>,
             "pub_extra": [<net>, ...],     # "omitempty": absent when the node has none
             "flags": 0, "id_digest": 123}
    <net>:  {"node_ip_addr": "10.51.248.68", "daemon_port": "51081",
             "direct_url": "http://10.51.248.68:51081"}

``tmap`` has no "omitempty": a cluster without targets has ``"tmap": null``.
A multi-homed node's ``host_net.hostname`` is ``"primary,extra1,..."``; aisnode
(``ais/htrun.go``) publishes the first as ``public_net`` and each other one as a
``pub_extra`` entry with the same public port and protocol.
"""

from __future__ import annotations

import ipaddress
import json
import time
from typing import Any, Callable, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import json_type, split_list
from ansible_collections.netplumb.multihome.plugins.module_utils.text_table import fixed_width

PROXY = 'proxy'
TARGET = 'target'
SMAP_PATH = '/v1/daemon?what=smap'
# Every daemon answers it on its public port; any answer means the address reaches it.
HEALTH_PATH = '/v1/health'

# How many problems the one-line summary names before it says "and N more".
_SUMMARY_PROBLEMS = 6


class SmapError(ValueError):
    """A cluster map, expectation or inventory that cannot be used; the message says why."""


class FetchError(Exception):
    """Getting the cluster map failed (HTTP error, refused, timed out); worth another try.

    ``status`` is the HTTP status of an answer that was an error, None when nothing answered.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _ip(value):
    """The normalised IP address of ``value`` (a string), or None when it is not one."""
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _ip_key(value):
    """A comparable form of an address: the normalised IP, or the stripped string (a DNS name)."""
    addr = _ip(value)
    return str(addr) if addr is not None else str(value).strip()


def parse_ip(value: Any, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse a bare IP address, naming ``what`` when it is not one."""
    if isinstance(value, bool) or not isinstance(value, str) or not value.strip():
        raise SmapError("%s %r is not an IP address: expected e.g. '10.51.248.68'" % (what, value))
    addr = _ip(value)
    if addr is None:
        raise SmapError("%s %r is not a valid IP address" % (what, value))
    return addr


# A list entry that is empty or not a string: one message for both, positions from 0.
_LIST_MESSAGES = {
    'item_type': "%(what)s %(value)r has an empty or non-string entry at position %(index)d",
    'item_empty': "%(what)s %(value)r has an empty or non-string entry at position %(index)d",
}


def _split_list(value, what):
    """A list of stripped strings from a comma-separated string or a list; None is empty."""
    return split_list(value, what, SmapError, messages=_LIST_MESSAGES)


# ---------------------------------------------------------------------------
# Reading the map


def load_smap(data: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """The cluster map as a dict, from a dict or from JSON text (str or bytes).

    Checks the top level only: an object with a ``pmap`` object and a ``tmap``
    that is an object, null or absent.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise SmapError("the cluster map is not UTF-8 text: %s" % exc)
    if isinstance(data, str):
        if not data.strip():
            raise SmapError(
                "the cluster map is empty: expected the JSON of GET %s or of 'ais show cluster smap --json'" % SMAP_PATH
            )
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise SmapError("the cluster map is not valid JSON: %s" % _json_error(exc))
    if not isinstance(data, dict):
        raise SmapError("the cluster map is a JSON %s: expected an object with 'pmap' and 'tmap'" % json_type(data))
    if 'pmap' not in data:
        keys = ', '.join(sorted(str(k) for k in data)[:8]) or 'none'
        raise SmapError(
            "the cluster map has no 'pmap' (top-level keys: %s): expected the JSON of GET %s "
            "or of 'ais show cluster smap --json'" % (keys, SMAP_PATH)
        )
    if not isinstance(data['pmap'], dict):
        raise SmapError(
            "the cluster map's 'pmap' is a JSON %s: expected an object of proxies by daemon ID"
            % json_type(data['pmap'])
        )
    if data.get('tmap') is not None and not isinstance(data['tmap'], dict):
        raise SmapError(
            "the cluster map's 'tmap' is a JSON %s: expected an object of targets by daemon ID"
            % json_type(data['tmap'])
        )
    return data


def _json_error(exc):
    msg = getattr(exc, 'msg', None)
    if msg is None:
        return str(exc)
    doc, pos = exc.doc, exc.pos
    near = doc[max(0, pos - 25) : pos + 25].replace('\n', ' ')
    return "%s at line %d column %d (near %r)" % (msg, exc.lineno, exc.colno, near)


def smap_version(data: dict[str, Any] | str | bytes) -> int | None:
    """The map's ``version`` as an int (AIStore writes it as a JSON string), or None."""
    if isinstance(data, (str, bytes)):
        data = load_smap(data)
    version = data.get('version') if isinstance(data, dict) else None
    if isinstance(version, bool):
        return None
    if isinstance(version, int):
        return version
    if isinstance(version, str) and version.strip().isdigit():
        return int(version.strip())
    return None


def _parse_net(value, where, required):
    """A ``NetInfo`` object as ``{node_ip, port, direct_url}``; None when absent and not required."""
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise SmapError(
            "%s is a JSON %s: expected an object with node_ip_addr, daemon_port and direct_url"
            % (where, json_type(value))
        )
    host = value.get('node_ip_addr')
    if not isinstance(host, str) or (required and not host.strip()):
        raise SmapError("%s.node_ip_addr is %r: expected the node's address as a string" % (where, host))
    port = value.get('daemon_port', '')
    if isinstance(port, int) and not isinstance(port, bool):
        port = str(port)
    if not isinstance(port, str):
        raise SmapError("%s.daemon_port is a JSON %s: expected a string such as '51081'" % (where, json_type(port)))
    url = value.get('direct_url', '')
    if url is None:
        url = ''
    if not isinstance(url, str):
        raise SmapError("%s.direct_url is a JSON %s: expected a URL string" % (where, json_type(url)))
    return {'node_ip': host.strip(), 'port': port.strip(), 'direct_url': url.strip()}


def _parse_node(key, value, daemon_type, mapname, primary_id):
    where = "%s[%r]" % (mapname, key)
    if not isinstance(value, dict):
        raise SmapError("%s is a JSON %s: expected a node object" % (where, json_type(value)))
    daemon_id = value.get('daemon_id', key)
    if not isinstance(daemon_id, str) or not daemon_id:
        raise SmapError("%s.daemon_id is %r: expected the node's ID as a string" % (where, daemon_id))
    found_type = value.get('daemon_type', daemon_type)
    if found_type != daemon_type:
        raise SmapError(
            "%s.daemon_type is %r: every node in %s must be a %r" % (where, found_type, mapname, daemon_type)
        )
    pub = _parse_net(value.get('public_net'), where + '.public_net', True)
    extra = value.get('pub_extra')
    if extra is None:
        extra = []
    if not isinstance(extra, list):
        raise SmapError("%s.pub_extra is a JSON %s: expected an array of networks" % (where, json_type(extra)))
    flags = value.get('flags', 0)
    if isinstance(flags, bool) or not isinstance(flags, int):
        flags = 0
    return {
        'daemon_id': daemon_id,
        'daemon_type': daemon_type,
        'node_ip': pub['node_ip'],
        'port': pub['port'],
        'direct_url': pub['direct_url'],
        'pub_extra': [_parse_net(e, '%s.pub_extra[%d]' % (where, i), True) for i, e in enumerate(extra)],
        'intra_control': _parse_net(value.get('intra_control_net'), where + '.intra_control_net', False),
        'intra_data': _parse_net(value.get('intra_data_net'), where + '.intra_data_net', False),
        'flags': flags,
        'primary': daemon_id == primary_id,
    }


def _nodes(data):
    primary = data.get('proxy_si')
    primary_id = primary.get('daemon_id') if isinstance(primary, dict) else None
    out = []
    for mapname, daemon_type in (('pmap', PROXY), ('tmap', TARGET)):
        nodemap = data.get(mapname) or {}
        for key in sorted(nodemap):
            out.append(_parse_node(key, nodemap[key], daemon_type, mapname, primary_id))
    return out


def parse_smap(data: dict[str, Any] | str | bytes) -> list[dict[str, Any]]:
    """The nodes of a cluster map, proxies then targets, each sorted by daemon ID.

    ``data`` is the map as a dict or as JSON text. Each node is
    ``{daemon_id, daemon_type, node_ip, port, direct_url, pub_extra, intra_control,
    intra_data, flags, primary}``: ``node_ip``/``port``/``direct_url`` are its
    ``public_net``; ``pub_extra`` is a list of ``{node_ip, port, direct_url}`` (empty
    when the JSON has none, as AIStore omits an empty one); ``intra_control`` and
    ``intra_data`` are such a dict or None. A map without ``tmap`` (or with
    ``"tmap": null``) has no targets; :func:`verify_smap` says so in its notes.
    """
    return _nodes(load_smap(data))


# ---------------------------------------------------------------------------
# Checking it


def normalize_expected(expected: dict[str, Any]) -> dict[str, list[str]]:
    """``{primary IP: [extra IPs]}`` with normalised addresses, checked for duplicates.

    Each value is a list of extra IPs, a comma-separated string of them, or a
    ``spec.hostnameMap`` value (``"primary,extra1,..."``: a first entry equal to the
    key is dropped, since aisnode refuses an extra address equal to the primary).
    """
    if not isinstance(expected, dict) or not expected:
        raise SmapError("expected %r is not a non-empty dict of primary IP to its list of extra IPs" % (expected,))
    seen: dict[str, str] = {}
    out = {}
    for key in expected:
        primary = str(parse_ip(key, 'expected node'))
        if primary in seen:
            raise SmapError("expected node %s is listed twice (as %r and %r)" % (primary, seen[primary], key))
        seen[primary] = key
        extras = _split_list(expected[key], 'expected[%s]' % key)
        if extras and _ip_key(extras[0]) == primary:
            extras = extras[1:]
        norm = []
        for extra in extras:
            addr = str(parse_ip(extra, 'expected[%s] extra IP' % key))
            if addr in seen:
                raise SmapError("expected[%s] extra IP %s is also %s" % (key, addr, _owner(seen[addr], addr)))
            seen[addr] = '%s/extra' % key
            norm.append(addr)
        out[primary] = norm
    return out


def _owner(label, addr):
    if label.endswith('/extra'):
        return "an extra IP of expected node %s" % label[: -len('/extra')]
    return "expected node %s" % addr


def _check_count(value, what):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SmapError("%s %r is not a whole number of nodes (0 or more)" % (what, value))
    return value


def _bracket(addr):
    return '[%s]' % addr if ':' in addr else addr


def _scheme(url):
    for scheme in ('https', 'http'):
        if url.startswith(scheme + '://'):
            return scheme
    return None


def _check_daemon(node, extras):
    """The report of one daemon whose public IP is expected with ``extras`` (None: not expected)."""
    seen = [_ip_key(e['node_ip']) for e in node['pub_extra']]
    report = {
        'daemon_id': node['daemon_id'],
        'daemon_type': node['daemon_type'],
        'node_ip': node['node_ip'],
        'port': node['port'],
        'pub_extra': seen,
        'missing_extra': [],
        'unexpected_extra': [],
        'wrong_port': [],
        'wrong_url': [],
        'unreachable_extra': [],
    }
    if extras is None:
        report['status'] = 'unexpected'
        return report
    report['missing_extra'] = [e for e in extras if e not in seen]
    report['unexpected_extra'] = [e for e in seen if e not in extras]
    scheme = _scheme(node['direct_url'])
    for entry, addr in zip(node['pub_extra'], seen):
        if addr not in extras:
            continue
        # aisnode gives every extra address the node's public port and protocol.
        if entry['port'] != node['port']:
            report['wrong_port'].append({'node_ip': addr, 'port': entry['port'], 'expected': node['port']})
        schemes = [scheme] if scheme else ['http', 'https']
        wanted = ['%s://%s:%s' % (s, _bracket(addr), entry['port']) for s in schemes]
        if entry['direct_url'] not in wanted:
            report['wrong_url'].append({'node_ip': addr, 'direct_url': entry['direct_url'], 'expected': wanted[0]})
    bad = report['missing_extra'] or report['unexpected_extra'] or report['wrong_port'] or report['wrong_url']
    report['status'] = 'mismatch' if bad else 'ok'
    return report


def _plural(count, one, many):
    return '%d %s' % (count, one if count == 1 else many)


def _name(report):
    return '%s %s at %s' % (report['daemon_type'], report['daemon_id'], report['node_ip'])


def _problems(report):
    out = []
    if report['status'] == 'unexpected':
        out.append('%s is not an expected node' % _name(report))
        return out
    if report['missing_extra']:
        out.append('%s lacks pub_extra %s' % (_name(report), ', '.join(report['missing_extra'])))
    if report['unexpected_extra']:
        out.append('%s has unexpected pub_extra %s' % (_name(report), ', '.join(report['unexpected_extra'])))
    for bad in report['wrong_port']:
        out.append(
            '%s: pub_extra %s has port %s, expected %s'
            % (_name(report), bad['node_ip'], bad['port'] or "''", bad['expected'])
        )
    for bad in report['wrong_url']:
        out.append(
            '%s: pub_extra %s has direct_url %r, expected %r'
            % (_name(report), bad['node_ip'], bad['direct_url'], bad['expected'])
        )
    for bad in report['unreachable_extra']:
        out.append('%s: pub_extra %s is unreachable (%s)' % (_name(report), bad['node_ip'], bad['error']))
    return out


def _probe_extras(reports, nodes, probe):
    """Ask ``probe`` once for every expected pub_extra of the daemons that passed; mark those that do not answer."""
    wanted = []
    for report, node in zip(reports, nodes):
        if report['status'] != 'ok':
            continue
        for entry, addr in zip(node['pub_extra'], report['pub_extra']):
            wanted.append((report, addr, entry['direct_url']))
    if not wanted:
        return
    errors = probe([url for _report, _addr, url in wanted]) or {}
    for report, addr, url in wanted:
        error = errors.get(url)
        if error:
            report['unreachable_extra'].append({'node_ip': addr, 'direct_url': url, 'error': error})
            report['status'] = 'mismatch'


def verify_smap(
    smap: dict[str, Any] | str | bytes | list[dict[str, Any]],
    expected: dict[str, Any],
    proxies: int | None = None,
    targets: int | None = None,
    probe: Callable[[list[str]], dict[str, str | None]] | None = None,
) -> dict[str, Any]:
    """Check a cluster map against the multihome plan.

    ``smap`` is the map (dict or JSON text) or :func:`parse_smap`'s node list;
    ``expected`` is ``{primary IP: [extra IPs]}`` (see :func:`normalize_expected`);
    ``proxies``/``targets`` are the expected numbers of each, or None.

    Nodes are matched by ``public_net.node_ip_addr``. Every expected IP must be in the
    map as a proxy, a target or both (AIS on Kubernetes runs one of each per node),
    and every daemon at that IP must list exactly the expected extra IPs in
    ``pub_extra``, each with the node's public port and ``direct_url``
    ``<protocol>://<extra IP>:<port>``. A daemon at an IP that is not expected is
    ``unexpected``. With ``probe`` (called once with the ``direct_url`` of every expected
    extra of the daemons that passed; it returns ``{url: error or None}``), an extra that
    does not answer fails its daemon too (``unreachable_extra``): the map keeps an extra
    whose NIC went down, only asking it tells. Returns ``{ok, summary, nodes, absent, counts, version, uuid,
    primary, notes}``; ``nodes`` has one report per daemon (``status`` ok, mismatch
    or unexpected) and one ``missing`` entry per expected IP not in the map.
    """
    want = normalize_expected(expected)
    proxies = _check_count(proxies, 'proxies')
    targets = _check_count(targets, 'targets')
    notes = []
    version = uuid = primary = None
    if isinstance(smap, list):
        nodes = smap
    else:
        data = load_smap(smap)
        nodes = _nodes(data)
        version = smap_version(data)
        uuid = data.get('uuid') if isinstance(data.get('uuid'), str) else None
        primary = next((n['daemon_id'] for n in nodes if n.get('primary')), None)
        if data.get('tmap') is None:
            notes.append("the map has no tmap: zero targets")
    reports = []
    present = set()
    for node in nodes:
        addr = _ip_key(node['node_ip'])
        present.add(addr)
        reports.append(_check_daemon(node, want.get(addr)))
    if probe is not None:
        _probe_extras(reports, nodes, probe)
    absent = [ip for ip in want if ip not in present]
    for ip in absent:
        reports.append(
            {
                'daemon_id': None,
                'daemon_type': None,
                'node_ip': ip,
                'port': None,
                'pub_extra': [],
                'status': 'missing',
                'missing_extra': list(want[ip]),
                'unexpected_extra': [],
                'wrong_port': [],
                'wrong_url': [],
                'unreachable_extra': [],
            }
        )
    n_proxies = sum(1 for n in nodes if n['daemon_type'] == PROXY)
    n_targets = sum(1 for n in nodes if n['daemon_type'] == TARGET)
    counts = {
        'proxies': n_proxies,
        'targets': n_targets,
        'expected_proxies': proxies,
        'expected_targets': targets,
        'expected_nodes': len(want),
    }
    for status in ('ok', 'mismatch', 'unexpected', 'missing'):
        counts[status] = sum(1 for r in reports if r['status'] == status)

    problems = ['%s is not in the map' % ip for ip in absent]
    for report in reports:
        if report['status'] in ('mismatch', 'unexpected'):
            problems.extend(_problems(report))
    if proxies is not None and n_proxies != proxies:
        problems.append('%s, expected %d' % (_plural(n_proxies, 'proxy', 'proxies'), proxies))
    if targets is not None and n_targets != targets:
        problems.append('%s, expected %d' % (_plural(n_targets, 'target', 'targets'), targets))

    head = 'smap v%s' % version if version is not None else 'smap'
    tally = '%s, %s' % (_plural(n_proxies, 'proxy', 'proxies'), _plural(n_targets, 'target', 'targets'))
    if problems:
        shown = problems[:_SUMMARY_PROBLEMS]
        more = len(problems) - len(shown)
        tail = '; and %d more' % more if more else ''
        summary = '%s: %s (%s): %s%s' % (
            head,
            _plural(len(problems), 'problem', 'problems'),
            tally,
            '; '.join(shown),
            tail,
        )
    else:
        summary = '%s: all %s carry their extra IPs (%s)' % (
            head,
            _plural(len(want), 'expected node', 'expected nodes'),
            tally,
        )
    if notes:
        summary += ' [%s]' % '; '.join(notes)
    return {
        'ok': not problems,
        'summary': summary,
        'nodes': reports,
        'absent': absent,
        'counts': counts,
        'version': version,
        'uuid': uuid,
        'primary': primary,
        'notes': notes,
    }


def smap_table(report: dict[str, Any], names: dict[str, str] | None = None) -> list[str]:
    """The cluster map of :func:`verify_smap`'s ``report`` as table lines, one per daemon and missing node.

    Columns: NODE (``names[primary IP]``, else the IP), PRIMARY IP, DAEMON (type and ID, ``*`` for the
    primary proxy), PUB_EXTRA and STATUS (with what is wrong).
    """
    names = dict((_ip_key(ip), name) for ip, name in (names or {}).items())
    rows = []
    for node in sorted(report.get('nodes') or [], key=lambda n: (_ip_key(n['node_ip']), n['daemon_type'] or '')):
        ip = node['node_ip']
        if node['status'] == 'missing':
            daemon = '-'
        else:
            daemon = '%s %s%s' % (
                node['daemon_type'],
                node['daemon_id'],
                ' *' if node['daemon_id'] == report.get('primary') else '',
            )
        status = node['status']
        bad = ['lacks ' + e for e in node['missing_extra']] + ['unexpected ' + e for e in node['unexpected_extra']]
        bad += ['%s unreachable' % e['node_ip'] for e in node.get('unreachable_extra') or []]
        bad += ['%s wrong port' % e['node_ip'] for e in node['wrong_port']]
        bad += ['%s wrong url' % e['node_ip'] for e in node['wrong_url']]
        if bad:
            status += ' (%s)' % ', '.join(bad)
        rows.append([names.get(_ip_key(ip), ip), ip, daemon, ','.join(node['pub_extra']) or '-', status])
    return fixed_width(['NODE', 'PRIMARY IP', 'DAEMON', 'PUB_EXTRA', 'STATUS'], rows)


def wait_for_smap(
    fetch: Callable[[], dict[str, Any] | str | bytes],
    expected: dict[str, Any],
    proxies: int | None = None,
    targets: int | None = None,
    timeout: float = 120.0,
    interval: float = 5.0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    probe: Callable[[list[str]], dict[str, str | None]] | None = None,
) -> dict[str, Any]:
    """Call ``fetch()`` until the map it returns passes :func:`verify_smap` or ``timeout`` seconds pass.

    ``fetch`` returns the map (dict or JSON text) or raises :class:`FetchError`; a map
    that does not parse counts as a failed try too (a proxy that is starting up may
    answer with something else). Nodes join one by one, so a map that does not verify
    yet is fetched again after ``interval`` seconds. At least one try is made.
    ``expected``, ``proxies`` and ``targets`` are checked before the first try: a bad
    expectation raises :class:`SmapError` at once. ``probe`` is :func:`verify_smap`'s, asked
    on every try.

    Returns ``{ok, report, attempts, elapsed, last_error, smap_version}``: ``report``
    is the last map's :func:`verify_smap` result (None when no map was read) and
    ``last_error`` the error of the last try (None when it read a map).
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    want = normalize_expected(expected)
    _check_count(proxies, 'proxies')
    _check_count(targets, 'targets')
    start = clock()
    deadline = start + max(0.0, float(timeout))
    interval = max(0.0, float(interval))
    attempts = 0
    report = None
    version = None
    while True:
        attempts += 1
        last_error = None
        try:
            data = load_smap(fetch())
            report = verify_smap(data, want, proxies, targets, probe)
            version = report['version']
        except FetchError as exc:
            last_error = str(exc)
        except SmapError as exc:
            last_error = str(exc)
        if report is not None and report['ok'] and last_error is None:
            break
        if clock() + interval > deadline:
            break
        sleep(interval)
    return {
        'ok': bool(report and report['ok'] and last_error is None),
        'report': report,
        'attempts': attempts,
        'elapsed': round(clock() - start, 3),
        'last_error': last_error,
        'smap_version': version,
    }


# ---------------------------------------------------------------------------
# Planning the AIStore CR's spec.hostnameMap


def hostname_map(hosts: Sequence[dict[str, Any]], attachments: str | Sequence[str] | None) -> dict[str, Any]:
    """The AIStore CR's ``spec.hostnameMap`` and the matching ``expected`` for the verify module.

    ``hosts`` is a list of ``{name, primary_ip, additional_hosts}`` as in the inventory
    (``worker1 ansible_host=10.51.248.68 additional_hosts=10.51.248.116``);
    ``additional_hosts`` is a comma-separated string or a list. ``attachments`` is the
    list (or comma-separated string) of NetworkAttachmentDefinition names that go
    into ``spec.networkAttachment``: each adds one interface to every AIS pod, so a
    multi-homed host needs exactly one extra IP per attachment.

    Every IP must be valid and unique across the cluster, primaries included (aisnode
    exits on a duplicated address in ``host_net.hostname``). Returns
    ``{hostname_map: {primary: "primary,extra1,..."}, expected: {primary: [extras]},
    single_homed: [host names]}``.

    A host without additional_hosts is mapped to itself (``"10.0.0.5": "10.0.0.5"``),
    not left out. ais-init (``cmd/aisinit``) looks the pod's public host up in the map
    and keeps it unchanged when the key is missing, so both give the same single-homed
    node; but the operator also puts every address of the map into the TLS
    certificate it generates (an address left out of the map is left out of the
    certificate), and a complete map lets :func:`check_node_ips` catch a wrong primary
    IP for every node, not only the multi-homed ones. Such hosts are listed in
    ``single_homed`` and expected with no ``pub_extra``.
    """
    if not isinstance(hosts, (list, tuple)) or not hosts:
        raise SmapError("hosts %r is not a non-empty list of {name, primary_ip, additional_hosts}" % (hosts,))
    names = _split_list(attachments, 'attachments')
    for i, name in enumerate(names):
        if name in names[:i]:
            raise SmapError("network attachment %r is listed twice in %r" % (name, attachments))
    owners: dict[str, tuple[str, str]] = {}
    result = {}
    expected = {}
    single = []
    seen_names = set()
    for i, host in enumerate(hosts):
        if not isinstance(host, dict):
            raise SmapError("hosts[%d] is a %s: expected {name, primary_ip, additional_hosts}" % (i, json_type(host)))
        name = host.get('name')
        if not isinstance(name, str) or not name.strip():
            raise SmapError("hosts[%d] has no name" % i)
        if name in seen_names:
            raise SmapError("host %s is listed twice" % name)
        seen_names.add(name)
        primary = str(parse_ip(host.get('primary_ip'), 'host %s primary_ip' % name))
        _claim(owners, primary, name, 'primary IP')
        extras = []
        for extra in _split_list(host.get('additional_hosts'), 'host %s additional_hosts' % name):
            addr = str(parse_ip(extra, 'host %s additional_hosts entry' % name))
            _claim(owners, addr, name, 'additional_hosts')
            extras.append(addr)
        if not extras:
            single.append(name)
        elif len(extras) != len(names):
            raise SmapError(
                "host %s has %d extra IP%s (%s) but %d network attachment%s (%s): expected one extra IP "
                "per attachment"
                % (
                    name,
                    len(extras),
                    '' if len(extras) == 1 else 's',
                    ', '.join(extras),
                    len(names),
                    '' if len(names) == 1 else 's',
                    ', '.join(names) or 'none',
                )
            )
        result[primary] = ','.join([primary] + extras)
        expected[primary] = extras
    return {'hostname_map': result, 'expected': expected, 'single_homed': single}


def _claim(owners, addr, name, role):
    if addr in owners:
        other, other_role = owners[addr]
        whose = 'its own' if other == name else "host %s's" % other
        raise SmapError(
            "host %s %s %s is already %s %s: every IP must be unique across the cluster"
            % (name, role, addr, whose, other_role)
        )
    owners[addr] = (name, role)


def check_node_ips(hostname_map: dict[str, Any], nodes: Any) -> dict[str, str]:
    """Check that every key of ``spec.hostnameMap`` is a Kubernetes node's InternalIP.

    ``hostname_map`` is the map (or :func:`hostname_map`'s result); ``nodes`` the
    Node objects as the API returns them (a list, a NodeList with ``items`` or a
    k8s_info result with ``resources``). ais-init looks the pod's host IP up in the map
    and, when no key matches, silently keeps the single address: AIStore then starts
    without ``pub_extra``. Returns ``{key: node name}``; raises :class:`SmapError`
    naming every key that matches no InternalIP and the nodes and InternalIPs seen.
    """
    if isinstance(hostname_map, dict) and isinstance(hostname_map.get('hostname_map'), dict):
        hostname_map = hostname_map['hostname_map']
    if not isinstance(hostname_map, dict):
        raise SmapError("hostname_map %r is not a dict of primary IP to 'primary,extra,...'" % (hostname_map,))
    if isinstance(nodes, dict):
        nodes = nodes.get('items', nodes.get('resources'))
    if not isinstance(nodes, list) or not nodes:
        raise SmapError("nodes %r is not a non-empty list of Kubernetes Node objects" % (nodes,))
    internal: dict[str, str] = {}
    other: dict[str, tuple[str, Any]] = {}
    seen = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise SmapError("nodes[%d] is a %s: expected a Node object" % (i, json_type(node)))
        name = (node.get('metadata') or {}).get('name') or 'nodes[%d]' % i
        addresses = (node.get('status') or {}).get('addresses') or []
        ips = []
        for entry in addresses:
            if not isinstance(entry, dict) or not isinstance(entry.get('address'), str):
                continue
            key = _ip_key(entry['address'])
            if entry.get('type') == 'InternalIP':
                internal.setdefault(key, name)
                ips.append(entry['address'])
            else:
                other.setdefault(key, (name, entry.get('type')))
        seen.append('%s (InternalIP %s)' % (name, ', '.join(ips) or 'none'))
    found = {}
    bad = []
    for key in hostname_map:
        norm = _ip_key(key)
        if norm in internal:
            found[key] = internal[norm]
            continue
        hint = ''
        if norm in other:
            hint = " (it is node %s's %s)" % other[norm]
        bad.append('%s%s' % (key, hint))
    if bad:
        raise SmapError(
            "hostnameMap key%s %s %s not the InternalIP of any node: ais-init would keep the single "
            "address and AIStore would start without pub_extra on %s. Nodes seen: %s"
            % (
                '' if len(bad) == 1 else 's',
                ', '.join(bad),
                'is' if len(bad) == 1 else 'are',
                'that node' if len(bad) == 1 else 'those nodes',
                '; '.join(seen),
            )
        )
    return found
