# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connectivity matrix: which node reaches which, on which network, at what latency.

Plain functions over the standard library, used by the connectivity_probe module (on each node)
and the connectivity_matrix module (on the controller); no Ansible import, so they are
unit-testable. Every input error is a :class:`ConnectivityError` whose message names the value.

The flow, as in Multi-NIC CNI's connection check:

1. :func:`address_sets` turns the inventory (``multihome_nics`` per node, plus extra address sets
   such as preflight test addresses of an attachment) into ``{node: {network: [address entries]}}``.
   A NIC's network is its CIDR (``198.18.1.11/24`` is on ``198.18.1.0/24``); an extra set's
   network is its name.
2. :func:`plan_probes` gives every node its probes: from each of its addresses to every *other*
   node's address on the same network (scale ``full``), or to fewer of them on big clusters
   (``ring``: the next k nodes on each network's ring; ``sample``: those and s more drawn with a
   seed; what each covers: :data:`SCALE_MODES`, docs/connectivity_matrix.md).
3. On each node :func:`probe_node` runs them: all at once from this process (:func:`icmp.echo`),
   or one ``ping`` each, a bounded number at once (:func:`run_probes`, over
   :func:`hostcmd.run_ordered`); a probe's result is the probe with the outcome of its echoes
   (one shape, :func:`hostcmd.ping_result`'s).
4. :func:`build_matrix` joins the nodes' results with the plan (a node that did not report counts
   its probes as broken), :func:`evaluate` checks the threshold and names the broken pairs, and
   :func:`render_table` prints ``FROM TO CONNECTED/TOTAL IPs LATENCY`` rows like Multi-NIC CNI;
   :func:`matrix_report` does all of it for the connectivity_matrix module.
"""

from __future__ import annotations

import ipaddress
import json
import random
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import check_ifname
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Gauge, Runner, ping, run_ordered
from ansible_collections.netplumb.multihome.plugins.module_utils.icmp import echo

NOT_MEASURED = 'not measured'


# Seconds between a probe's echo requests when none is given: the icmp engine sends them itself; ping (iputils)
# takes less than 0.2 s only from root.
DEFAULT_INTERVAL = {'icmp': 0.05, 'ping': 0.2}


class ConnectivityError(ValueError):
    """An input the matrix cannot use; the message says which and why."""


# ---------------------------------------------------------------------------
# Planning


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _nic_list(node, nics):
    """``multihome_nics`` of ``node`` as a list of dicts (an INI inventory may hand it over as JSON text)."""
    if nics is None:
        return []
    if isinstance(nics, str):
        try:
            nics = json.loads(nics)
        except ValueError:
            raise ConnectivityError('multihome_nics of %s is %r: expected a list of {name, address}' % (node, nics))
    if not isinstance(nics, (list, tuple)):
        raise ConnectivityError('multihome_nics of %s is %r: expected a list of {name, address}' % (node, nics))
    return list(nics)


def _ip(value, what):
    """The ipaddress object of a plain address (no prefix); ConnectivityError naming ``what`` otherwise."""
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise ConnectivityError('%s is %r: expected an IPv4 or IPv6 address' % (what, value))


def address_sets(
    nodes: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{node: {network: [{'address', 'nic'}]}}`` from the inventory.

    ``nodes``: ``{node: multihome_nics}``, each NIC ``{name, address}`` with the address in CIDR form
    (``198.18.1.11/24``); its network is the CIDR's network (``198.18.1.0/24``).
    ``extra``: ``{set name: {node: address or [addresses]}}``, e.g. the test addresses a preflight
    gives an attachment's pods; the set's name is the network. Nodes keep the order given.
    """
    if not isinstance(nodes, dict):
        raise ConnectivityError('nodes is %r: expected {node: multihome_nics}' % (nodes,))
    sets: dict[str, dict[str, list[dict[str, Any]]]] = dict((str(node), {}) for node in nodes)
    for node, nics in nodes.items():
        node = str(node)
        for index, nic in enumerate(_nic_list(node, nics)):
            if not isinstance(nic, dict) or not nic.get('address'):
                raise ConnectivityError(
                    'multihome_nics[%d] of %s is %r: expected {name, address} with the address in CIDR form'
                    % (index, node, nic)
                )
            name = nic.get('name') or 'nic%d' % index
            check_ifname(name, 'multihome_nics[%d] name of %s' % (index, node), ConnectivityError)
            if '/' not in str(nic['address']):
                raise ConnectivityError(
                    "multihome_nics %s of %s has address %r without a prefix length: expected CIDR form "
                    "(198.18.1.11/24), the prefix says which network it is on" % (name, node, nic['address'])
                )
            try:
                iface = ipaddress.ip_interface(str(nic['address']).strip())
            except ValueError:
                raise ConnectivityError(
                    'multihome_nics %s of %s has address %r: expected an address in CIDR form (198.18.1.11/24)'
                    % (name, node, nic['address'])
                )
            network = iface.network.with_prefixlen
            sets[node].setdefault(network, []).append({'address': str(iface.ip), 'nic': name})
    for set_name, members in (extra or {}).items():
        if not isinstance(members, dict):
            raise ConnectivityError(
                'address set %r is %r: expected {node: address or [addresses]}' % (set_name, members)
            )
        for node, addresses in members.items():
            node = str(node)
            if node not in sets:
                raise ConnectivityError(
                    'address set %r names node %r, which is not among nodes (%s): expected a node of the matrix'
                    % (set_name, node, ', '.join(sorted(sets)) or 'none')
                )
            for address in _as_list(addresses):
                if address in (None, ''):
                    continue
                ip = _ip(str(address).split('/', 1)[0], 'address of %s in address set %r' % (node, set_name))
                sets[node].setdefault(str(set_name), []).append({'address': str(ip), 'nic': None})
    _check_unique(sets)
    return sets


def _check_unique(sets):
    """No address belongs to two nodes: the first would then "reach" itself and count as the other."""
    owner: dict[str, tuple[str, str]] = {}
    for node, networks in sets.items():
        for network, entries in networks.items():
            for entry in entries:
                where = '%s on %s' % (node, entry['nic'] or 'address set %r' % network)
                first = owner.setdefault(entry['address'], (node, where))
                if first[0] != node:
                    raise ConnectivityError(
                        'address %s belongs to two nodes, %s and %s: expected every address on one node only '
                        '(a probe to it would reach the wrong node)' % (entry['address'], first[1], where)
                    )


NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status'


def pod_address_sets(pods: Sequence[Mapping[str, Any]], networks: Sequence[str]) -> dict[str, Any]:
    """The probe pods as matrix nodes: ``{'hosts': {host: pod}, 'address_sets': {network: {host: [ip]}}, 'missing': []}``.

    ``pods`` are Pod objects (a DaemonSet's, one per node); ``networks`` the ``namespace/name`` of each attachment
    they were given. Each pod's addresses come from Multus' ``k8s.v1.cni.cncf.io/network-status`` annotation (its
    cluster network, ``default: true``, is left out); its host name is ``<pod>@<node>``. ``missing`` names, per pod,
    the attachments it lacks (no network-status, or no address on that attachment): such a pod still probes and is
    probed on the others.
    """
    if not isinstance(pods, (list, tuple)):
        raise ConnectivityError('pods is %r: expected a list of Pod objects' % (pods,))
    if not isinstance(networks, (list, tuple)) or not all(isinstance(n, str) and '/' in n for n in networks):
        raise ConnectivityError('networks is %r: expected a list of namespace/name' % (networks,))
    hosts: dict[str, str] = {}
    sets: dict[str, dict[str, list[str]]] = dict((str(n), {}) for n in networks)
    missing = []
    for index, pod in enumerate(pods):
        try:
            name = pod['metadata']['name']
            node = pod['spec'].get('nodeName') or '(unscheduled)'
        except (KeyError, TypeError, AttributeError):
            raise ConnectivityError('pods[%d] is not a Pod object with metadata.name and spec: %r' % (index, pod))
        host = '%s@%s' % (name, node)
        hosts[host] = name
        text = ((pod.get('metadata') or {}).get('annotations') or {}).get(NETWORK_STATUS)
        try:
            status = json.loads(text) if text else []
        except ValueError:
            raise ConnectivityError('pod %s has a %s that is not JSON: %r' % (name, NETWORK_STATUS, text))
        found = {}
        for entry in status if isinstance(status, list) else []:
            if isinstance(entry, dict) and not entry.get('default') and entry.get('name') in sets:
                found[entry['name']] = [str(ip).split('/', 1)[0] for ip in entry.get('ips') or []]
        for network in networks:
            if found.get(network):
                sets[network][host] = found[network]
            else:
                missing.append('%s on %s has no address on %s' % (name, node, network))
    return {'hosts': hosts, 'address_sets': sets, 'missing': missing}


# What each scale mode probes, per network of n nodes (each with a addresses on it), and what it proves.
SCALE_MODES = {
    'full': 'every address to every other node\'s addresses: n(n-1)a^2 probes, every pair in both directions',
    'ring': (
        'each node to the next k nodes on the network\'s ring: n k a^2 probes; every address sends k and '
        'receives k, and the ring all passing means every node reaches every other one (in at most n/k hops)'
    ),
    'sample': (
        'the ring, and s more nodes drawn from the rest with the seed: n (k+s) a^2 probes; a pair is probed '
        'with chance (k+s)/(n-1) per run, so a new seed per run covers every pair over runs'
    ),
}


def check_scale(scale: str, neighbours: int, sample: int) -> None:
    """ConnectivityError naming the first of the scale settings that is out of range."""
    if scale not in SCALE_MODES:
        raise ConnectivityError('scale is %r: expected one of %s' % (scale, ', '.join(SCALE_MODES)))
    if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 1:
        raise ConnectivityError('neighbours is %r: expected at least 1 node to probe on each ring' % (neighbours,))
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 0:
        raise ConnectivityError('sample is %r: expected 0 or more nodes drawn per node and network' % (sample,))


def _peers(ring, index, scale, neighbours, sample, seed, network):
    """The nodes ``ring[index]`` probes on one network, nearest on the ring first."""
    size = len(ring)
    if scale == 'full':
        near = size - 1
    else:
        near = min(neighbours, size - 1)
    offsets = list(range(1, near + 1))
    if scale == 'sample' and sample and near < size - 1:
        # Drawn from the offsets beyond the ring's k; the same seed gives every node and the controller one plan.
        draw = random.Random('%s|%s|%s' % (seed, network, ring[index]))
        offsets += sorted(draw.sample(range(near + 1, size), min(sample, size - 1 - near)))
    return [ring[(index + offset) % size] for offset in offsets]


def plan_probes(
    sets: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    scale: str = 'full',
    neighbours: int = 2,
    sample: int = 0,
    seed: str = '',
    only: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``{node: [probe]}``: from each address of a node to the addresses of its peers on the same network.

    A probe is ``{src, dst, network, peer}`` (``peer`` is the destination node). The peers on a network
    are the nodes after this one on the network's ring (the nodes that have the network, in the order of
    ``sets``): with ``scale`` ``full`` all of them, with ``ring`` the next ``neighbours``, with ``sample``
    those and ``sample`` more drawn with ``seed`` (:data:`SCALE_MODES`). So each node starts with the
    peer after it: at any moment the nodes aim at different peers, and an iperf3 server (which serves one
    test at a time) is rarely found busy. ``only`` plans that node's probes alone (what each node needs).
    """
    check_scale(scale, neighbours, sample)
    rings: dict[str, list[str]] = {}
    position: dict[str, dict[str, int]] = {}
    for node, networks in sets.items():
        for network in networks:
            position.setdefault(network, {})[node] = len(rings.setdefault(network, []))
            rings[network].append(node)
    plan = {}
    for node in [only] if only is not None else list(sets):
        probes = []
        for network, own in sets[node].items():
            ring = rings[network]
            for peer in _peers(ring, position[network][node], scale, neighbours, sample, seed, network):
                for src in own:
                    for dst in sets[peer][network]:
                        probes.append({'src': src['address'], 'dst': dst['address'], 'network': network, 'peer': peer})
        plan[node] = probes
    return plan


def validate_probes(probes: Iterable[Any]) -> list[dict[str, Any]]:
    """Check every probe's fields; the probes with their addresses normalized. Addresses become ping's argv."""
    out = []
    for index, probe in enumerate(probes):
        if not isinstance(probe, dict):
            raise ConnectivityError('probes[%d] is %r: expected {src, dst, network, peer}' % (index, probe))
        missing = [key for key in ('src', 'dst', 'network', 'peer') if probe.get(key) in (None, '')]
        if missing:
            raise ConnectivityError(
                'probes[%d] %r lacks %s: expected {src, dst, network, peer}' % (index, probe, ', '.join(missing))
            )
        src = _ip(probe['src'], 'probes[%d].src' % index)
        dst = _ip(probe['dst'], 'probes[%d].dst' % index)
        if src.version != dst.version:
            raise ConnectivityError(
                'probes[%d] goes from %s to %s: both addresses must be IPv4 or both IPv6' % (index, src, dst)
            )
        item = dict(probe)
        item.update(src=str(src), dst=str(dst), network=str(probe['network']), peer=str(probe['peer']))
        out.append(item)
    return out


def validate_settings(
    count: int | None, interval: float | None, timeout: float | None, concurrency: int | None
) -> None:
    """ConnectivityError naming the first setting out of range."""
    if count is None or count < 1:
        raise ConnectivityError('count is %r: expected at least 1 echo request per probe' % (count,))
    if interval is None or interval < 0.002:
        raise ConnectivityError(
            'interval is %r: expected at least 0.002 s (iputils refuses less; 0.2 s without root)' % (interval,)
        )
    if timeout is None or timeout <= 0:
        raise ConnectivityError('timeout is %r: expected a positive number of seconds to wait for a reply' % (timeout,))
    if concurrency is None or concurrency < 1:
        raise ConnectivityError('concurrency is %r: expected at least 1 probe at a time' % (concurrency,))


# ---------------------------------------------------------------------------
# Running


def error_result(probe: Mapping[str, Any], message: str) -> dict[str, Any]:
    """A probe that could not run (or whose node did not report): not connected, with ``message``."""
    result = dict(probe)
    result.update(connected=False, rc=None, transmitted=None, received=None, loss=None, rtt=None, error=message)
    return result


def run_probes(
    probes: Iterable[dict[str, Any]],
    runner: Callable[[dict[str, Any]], dict[str, Any]],
    concurrency: int = 16,
    gauge: Gauge | None = None,
) -> list[dict[str, Any]]:
    """``[runner(probe)]`` in the probes' order, at most ``concurrency`` running at once (:func:`hostcmd.run_ordered`).

    A runner that raises gives an error result naming the exception, so one bad probe cannot hide the others.
    ``gauge`` (a :class:`hostcmd.Gauge`) counts the probes running at once.
    """
    if concurrency < 1:
        raise ConnectivityError('concurrency is %r: expected at least 1 probe at a time' % (concurrency,))

    def guarded(probe):
        try:
            return runner(probe)
        except Exception as exc:  # pylint: disable=broad-except
            return error_result(probe, '%s: %s' % (type(exc).__name__, exc))

    return run_ordered(probes, guarded, concurrency, gauge)


def iperf3_argv(iperf3_bin: str, probe: Mapping[str, Any], port: int = 5201, seconds: int = 1) -> list[str]:
    """``iperf3 -c DST -B SRC -p PORT -t SECONDS -J``: a TCP test from SRC, JSON out."""
    return [iperf3_bin, '-c', probe['dst'], '-B', probe['src'], '-p', str(int(port)), '-t', str(int(seconds)), '-J']


def parse_iperf3(text: str | None) -> tuple[float | None, str | None]:
    """``(bits per second received, error)`` from iperf3's JSON (``-J``); one of them is None."""
    try:
        data = json.loads(text or '')
    except ValueError:
        lines = (text or '').strip().splitlines()
        return None, 'iperf3 printed no JSON: %s' % (lines[-1] if lines else 'no output')
    if not isinstance(data, dict):
        return None, 'iperf3 printed %r, not a JSON object' % (data,)
    if data.get('error'):
        return None, str(data['error'])
    end = data.get('end') or {}
    for key in ('sum_received', 'sum_sent', 'sum'):
        bps = (end.get(key) or {}).get('bits_per_second')
        if bps is not None:
            return float(bps), None
    return None, 'iperf3 reported no bits_per_second'


def format_bandwidth(bps: float | None) -> str:
    """``9.54Gbits/sec`` as iperf3 prints rates."""
    if bps is None:
        return '-'
    for unit, scale in (('Gbits/sec', 1e9), ('Mbits/sec', 1e6), ('Kbits/sec', 1e3)):
        if bps >= scale:
            return '%.3g%s' % (bps / scale, unit)
    return '%.3gbits/sec' % bps


def measure_bandwidth(
    runner: Runner,
    iperf3_bin: str,
    probe: Mapping[str, Any],
    port: int = 5201,
    seconds: int = 1,
    wait: float = 60,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], object] = time.sleep,
) -> tuple[float | None, str | None]:
    """``(bits per second, None)`` or ``(None, 'not measured: why')`` of one iperf3 test for ``probe``.

    A busy server (it serves one test at a time, and other nodes test too) is retried until
    ``wait`` seconds have passed; any other failure (a server still starting, a test cut short) twice.
    """
    deadline = clock() + wait
    failures = 0
    while True:
        rc, out, err = runner.run(iperf3_argv(iperf3_bin, probe, port, seconds))
        bps, error = parse_iperf3(out)
        if bps is not None:
            return bps, None
        error = error or (err or '').strip() or 'iperf3 failed (rc=%d)' % rc
        busy = 'busy' in error
        failures += 0 if busy else 1
        if (busy and clock() >= deadline) or failures > 2:
            if 'refused' in error:
                error = 'no iperf3 server on %s port %d (%s)' % (probe['peer'], port, error)
            return None, '%s: %s' % (NOT_MEASURED, error)
        sleep(random.uniform(0.1, 0.5))


def node_probes(
    probes: Iterable[Any] | None = None,
    nodes: dict[str, Any] | None = None,
    extra_sets: dict[str, Any] | None = None,
    node: str | None = None,
    scale: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The probes a node runs: ``probes`` as given, or this ``node``'s of the plan of ``nodes`` (and ``extra_sets``).

    ``scale``: :func:`plan_probes`' ``scale``, ``neighbours``, ``sample`` and ``seed``.

    Either way validated (:func:`validate_probes`); ConnectivityError naming what is wrong.
    """
    if nodes is not None:
        sets = address_sets(nodes, extra_sets)
        if node not in sets:
            raise ConnectivityError(
                'node %r is not among nodes (%s): expected this node\'s name there'
                % (node, ', '.join(sorted(sets)) or 'none')
            )
        return validate_probes(plan_probes(sets, only=node, **(scale or {}))[node])
    return validate_probes(probes or [])


def probe_node(
    runner: Runner,
    probes: Iterable[dict[str, Any]],
    settings: Mapping[str, Any],
    ping_bin: str,
    iperf3_bin: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], object] = time.sleep,
) -> dict[str, Any]:
    """Run a node's probes; the connectivity_probe module's result without ``changed``.

    ``settings`` has the module's options ``count``, ``interval``, ``timeout``, ``concurrency``,
    ``bandwidth`` and, with it, ``bandwidth_port``, ``bandwidth_time`` and ``bandwidth_wait``, and
    ``engine``: ``icmp`` sends and receives every echo in this process (:func:`icmp.echo`, all probes
    at once), ``ping`` runs one ``ping`` per probe, ``concurrency`` at once, in the probes' order
    (``ping_bin``, which the ``icmp`` engine does not need). With ``bandwidth`` each connected
    probe is then followed by an iperf3 test, one at a time (parallel tests would share the NICs
    and measure each other). ``iperf3_bin`` None means iperf3 is not installed here.
    Returns ``{probes, connected, total, peak_concurrency, elapsed}``.
    """
    gauge = Gauge()

    def one(probe):
        result = dict(probe)
        result.update(
            ping(
                runner,
                probe['dst'],
                settings['count'],
                settings['timeout'],
                interval=settings['interval'],
                src=probe['src'],
                ping_bin=ping_bin,
            )
        )
        return result

    start = clock()
    probes = list(probes)
    if settings.get('engine', 'ping') == 'icmp':
        results = []
        for probe, outcome in zip(probes, echo(probes, settings['count'], settings['interval'], settings['timeout'])):
            result = dict(probe)
            result.update(outcome)
            results.append(result)
        gauge.peak = len(probes)
    else:
        results = run_probes(probes, one, settings['concurrency'], gauge)
    for res in results:
        res['bandwidth_bps'] = None
        res['bandwidth_error'] = None
        if not settings.get('bandwidth'):
            continue
        if not res['connected']:
            res['bandwidth_error'] = '%s: not connected' % NOT_MEASURED
        elif iperf3_bin is None:
            res['bandwidth_error'] = '%s: iperf3 is not installed on this node' % NOT_MEASURED
        else:
            res['bandwidth_bps'], res['bandwidth_error'] = measure_bandwidth(
                runner,
                iperf3_bin,
                res,
                settings['bandwidth_port'],
                settings['bandwidth_time'],
                settings['bandwidth_wait'],
                clock=clock,
                sleep=sleep,
            )
    return {
        'probes': results,
        'connected': sum(1 for r in results if r['connected']),
        'total': len(results),
        'peak_concurrency': gauge.peak,
        'engine': settings.get('engine', 'ping'),
        'elapsed': round(clock() - start, 3),
    }


# ---------------------------------------------------------------------------
# Aggregating


def _short(message, limit=120):
    """The gist of a task's message: its first sentence (Ansible's own are long), at most ``limit`` characters."""
    text = (message or '').strip().splitlines()[0] if (message or '').strip() else ''
    if text.startswith('Task failed: '):
        text = text[len('Task failed: ') :]
    if '. ' in text:
        text = text[: text.index('. ') + 1]
    return text if len(text) <= limit else text[: limit - 3] + '...'


def _node_results(node, report, planned):
    """The result of each planned probe of ``node`` from its report (a registered connectivity_probe result)."""
    if not isinstance(report, dict) or not report:
        return [error_result(p, 'no result from %s: it did not run the probes' % node) for p in planned]
    if report.get('unreachable'):
        reason = 'no result from %s: unreachable (%s)' % (node, _short(report.get('msg')))
        return [error_result(p, reason) for p in planned]
    if report.get('skipped') and not report.get('probes'):
        return [error_result(p, 'no result from %s: the probe task was skipped' % node) for p in planned]
    if report.get('failed') and not report.get('probes'):
        reason = 'no result from %s: the probe failed (%s)' % (node, _short(report.get('msg'), 300))
        return [error_result(p, reason) for p in planned]
    got = {}
    for res in report.get('probes') or []:
        if isinstance(res, dict):
            got[(res.get('src'), res.get('dst'), res.get('network'))] = res
    out = []
    for probe in planned:
        res = got.get((probe['src'], probe['dst'], probe['network']))
        if res is None:
            out.append(error_result(probe, 'no result from %s for %s -> %s' % (node, probe['src'], probe['dst'])))
        else:
            item = dict(res)
            item.update(probe)
            out.append(item)
    return out


def build_matrix(
    results: Mapping[str, Any],
    plan: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    sets: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> dict[str, Any]:
    """The matrix from each node's results: ``{pairs, networks, probes, summary}``, JSON-ready.

    ``results``: ``{node: report}``, a report being a connectivity_probe result (``{probes: [...]}``),
    or a failed, skipped or unreachable task result. ``plan``: ``{node: [probe]}`` as
    :func:`plan_probes` made it; with it, every planned probe counts (a node that did not report has
    all its probes broken); without it, the probes reported are the matrix. ``sets`` (from
    :func:`address_sets`) adds the NIC names to the probes.
    """
    if plan is None:
        plan = dict(
            (
                node,
                [
                    dict((k, r.get(k)) for k in ('src', 'dst', 'network', 'peer'))
                    for r in (report or {}).get('probes') or []
                ],
            )
            for node, report in results.items()
        )
    nic_of = {}
    for node, node_sets in (sets or {}).items():
        for network, entries in node_sets.items():
            for entry in entries:
                nic_of[(node, network, entry['address'])] = entry.get('nic')
    probes = []
    for node, planned in plan.items():
        for res in _node_results(node, results.get(node), planned):
            res['from'] = node
            res['to'] = res['peer']
            res['src_nic'] = nic_of.get((node, res['network'], res['src']))
            res['dst_nic'] = nic_of.get((res['peer'], res['network'], res['dst']))
            probes.append(res)
    order = dict((node, index) for index, node in enumerate(plan))
    pairs = []
    by_pair = {}
    for res in probes:
        key = (res['from'], res['to'])
        if key not in by_pair:
            by_pair[key] = {
                'from': res['from'],
                'to': res['to'],
                'connected': 0,
                'total': 0,
                'addresses': [],
                'networks': [],
                'latency_ms': [],
                'bandwidth_bps': [],
            }
            pairs.append(by_pair[key])
        pair = by_pair[key]
        pair['total'] += 1
        pair['connected'] += 1 if res['connected'] else 0
        pair['addresses'].append(res['dst'])
        pair['networks'].append(res['network'])
        pair['latency_ms'].append(res['rtt']['avg'] if res['connected'] and res.get('rtt') else None)
        pair['bandwidth_bps'].append(res.get('bandwidth_bps'))
    # Rows in node order (the plan rotates each node's peers).
    pairs.sort(key=lambda p: (order.get(p['from'], len(order)), order.get(p['to'], len(order))))
    networks: list[dict[str, Any]] = []
    by_net: dict[str, dict[str, Any]] = {}
    for res in probes:
        net = by_net.get(res['network'])
        if net is None:
            net = by_net[res['network']] = {
                'network': res['network'],
                'connected': 0,
                'total': 0,
                'nodes': [],
                'rtt_min_ms': None,
                'rtt_avg_ms': None,
                'rtt_max_ms': None,
            }
            networks.append(net)
        net['total'] += 1
        net['connected'] += 1 if res['connected'] else 0
        if res['from'] not in net['nodes']:
            net['nodes'].append(res['from'])
    for net in networks:
        rtts = [r['rtt'] for r in probes if r['network'] == net['network'] and r['connected'] and r.get('rtt')]
        if rtts:
            net['rtt_min_ms'] = min(r['min'] for r in rtts)
            net['rtt_max_ms'] = max(r['max'] for r in rtts)
            net['rtt_avg_ms'] = round(sum(r['avg'] for r in rtts) / len(rtts), 3)
    connected = sum(1 for r in probes if r['connected'])
    summary = {
        'nodes': len(plan),
        'networks': len(networks),
        'pairs': len(pairs),
        'pairs_connected': sum(1 for p in pairs if p['connected'] == p['total']),
        'connected': connected,
        'total': len(probes),
        'fraction': round(float(connected) / len(probes), 4) if probes else None,
    }
    return {'pairs': pairs, 'networks': networks, 'probes': probes, 'summary': summary}


def broken_probes(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The probes that did not connect, each naming nodes, network, NICs, addresses and why."""
    out = []
    for res in matrix['probes']:
        if not res['connected']:
            out.append(
                {
                    'from': res['from'],
                    'to': res['to'],
                    'network': res['network'],
                    'src': res['src'],
                    'dst': res['dst'],
                    'src_nic': res.get('src_nic'),
                    'dst_nic': res.get('dst_nic'),
                    'error': res.get('error'),
                }
            )
    return out


def describe_broken(item: Mapping[str, Any]) -> str:
    """``worker2 -> worker1 on 198.18.2.0/24: 198.18.2.12 (nic2) -> 198.18.2.11 (nic2): no reply ...``."""
    src = item['src'] + (' (%s)' % item['src_nic'] if item.get('src_nic') else '')
    dst = item['dst'] + (' (%s)' % item['dst_nic'] if item.get('dst_nic') else '')
    text = '%s -> %s on %s: %s -> %s' % (item['from'], item['to'], item['network'], src, dst)
    return text + (': %s' % item['error'] if item.get('error') else '')


def check_threshold(threshold: float | None) -> None:
    """ConnectivityError unless ``threshold`` is a fraction (0..1)."""
    if threshold is None or not 0 <= threshold <= 1:
        raise ConnectivityError(
            'threshold is %r: expected the fraction (0..1) of address pairs that must connect' % (threshold,)
        )


def evaluate(
    matrix: Mapping[str, Any], threshold: float = 1.0, limit: int = 20
) -> tuple[bool, list[dict[str, Any]], str]:
    """``(ok, broken, message)``: ok when at least ``threshold`` (0..1) of the address pairs connected.

    ``broken`` lists every pair that did not connect; ``message`` sums it up and names the first
    ``limit`` of them. An empty matrix (no two nodes share a network) is ok, and says so.
    """
    check_threshold(threshold)
    summary = matrix['summary']
    broken = broken_probes(matrix)
    if not summary['total']:
        return True, broken, 'nothing to probe: no two nodes have addresses on a common network'
    fraction = float(summary['connected']) / summary['total']
    ok = fraction >= threshold
    head = '%d/%d address pairs connected (%.1f%%, threshold %.1f%%) across %d nodes and %d networks' % (
        summary['connected'],
        summary['total'],
        fraction * 100,
        threshold * 100,
        summary['nodes'],
        summary['networks'],
    )
    if not broken:
        return ok, broken, head
    names = [describe_broken(item) for item in broken[:limit]]
    more = ' (and %d more)' % (len(broken) - limit) if len(broken) > limit else ''
    verb = 'below the threshold' if not ok else 'within the threshold'
    return ok, broken, '%s, %s; broken: %s%s' % (head, verb, '; '.join(names), more)


def matrix_report(
    nodes: dict[str, Any],
    extra_sets: dict[str, Any] | None = None,
    results: Mapping[str, Any] | None = None,
    threshold: float = 1.0,
    bandwidth: bool = False,
    scale: Mapping[str, Any] | None = None,
    plan: bool = True,
) -> dict[str, Any]:
    """The connectivity_matrix module's result without ``changed``; ConnectivityError on bad input.

    ``scale``: :func:`plan_probes`' ``scale``, ``neighbours``, ``sample`` and ``seed`` (the nodes' must be the same).

    Always ``{plan, networks}`` (the probes of each node, each node's addresses by network; without ``plan``
    only ``networks``: the input and the settings are checked, nobody's probes planned); with
    ``results`` (``{node: connectivity_probe result}``) also ``{table, matrix, broken, msg, passed}``,
    ``passed`` telling whether at least ``threshold`` of the address pairs connected.
    """
    sets = address_sets(nodes, extra_sets)
    settings: dict[str, Any] = dict(scale='full', neighbours=2, sample=0, seed='')
    settings.update(scale or {})
    check_threshold(threshold)
    if not plan:
        # Checked only (plan_probes checks the scale settings when it plans).
        check_scale(settings['scale'], settings['neighbours'], settings['sample'])
        return {'networks': sets}
    probes = plan_probes(sets, **settings)
    report = {'plan': probes, 'networks': sets}
    if results is None:
        return report
    matrix = build_matrix(results, probes, sets)
    ok, broken, msg = evaluate(matrix, threshold)
    report.update(table=render_table(matrix, bandwidth=bandwidth), matrix=matrix, broken=broken, msg=msg, passed=ok)
    return report


# The connectivity_matrix module's options (the module and the action of that name share them).
MATRIX_ARGUMENT_SPEC: dict[str, Any] = dict(
    nodes=dict(type='dict', required=True),
    address_sets=dict(type='dict', default={}),
    results=dict(type='dict'),
    threshold=dict(type='float', default=1.0),
    bandwidth=dict(type='bool', default=False),
    scale=dict(type='str', choices=['full', 'ring', 'sample'], default='full'),
    neighbours=dict(type='int', default=2),
    sample=dict(type='int', default=0),
    seed=dict(type='str', default=''),
    plan=dict(type='bool', default=True),
    count=dict(type='int', default=3),
    interval=dict(type='float'),
    timeout=dict(type='float', default=1),
    concurrency=dict(type='int', default=16),
)


def matrix_outcome(params: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``(result, warning)`` of the connectivity_matrix module for its validated ``params``.

    ``result`` has ``changed`` and, below the threshold, ``failed``; ``warning`` says when there was nothing to
    probe. ConnectivityError on bad input (the caller fails naming it).
    """
    interval = params['interval']
    validate_settings(
        params['count'],
        DEFAULT_INTERVAL['icmp'] if interval is None else interval,
        params['timeout'],
        params['concurrency'],
    )
    result = matrix_report(
        params['nodes'],
        params['address_sets'],
        params['results'],
        params['threshold'],
        params['bandwidth'],
        dict((key, params[key]) for key in ('scale', 'neighbours', 'sample', 'seed')),
        plan=params['plan'] or params['results'] is not None,
    )
    result['nodes'] = params['nodes']
    result['changed'] = False
    if result.get('passed') is False:
        result['failed'] = True
    warning = None
    if 'matrix' in result and not result['matrix']['summary']['total']:
        warning = 'connectivity_matrix: %s' % result['msg']
    return result, warning


# ---------------------------------------------------------------------------
# Rendering


def _ms(value):
    return '-' if value is None else '%.3fms' % value


def fixed_width(header, rows):
    """Fixed-width lines: each column as wide as its widest cell, two spaces apart."""
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    return [('  '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row))).rstrip() for row in [header] + rows]


def render_table(matrix: Mapping[str, Any], bandwidth: bool = False) -> list[str]:
    """The table as text lines: one row per (from, to) node pair, then one per network.

    ``FROM TO CONNECTED/TOTAL IPs LATENCY [BANDWIDTHs]``, as Multi-NIC CNI's connection check prints
    it: IPs are the destination's addresses, LATENCY the average round trip to each (``-`` when it did
    not connect), BANDWIDTHs (with ``bandwidth``) iperf3's rate to each, ``not measured`` when none was.
    """
    header = ['FROM', 'TO', 'CONNECTED/TOTAL', 'IPs', 'LATENCY']
    if bandwidth:
        header.append('BANDWIDTHs')
    rows = []
    for pair in matrix['pairs']:
        row = [
            pair['from'],
            pair['to'],
            '%d/%d' % (pair['connected'], pair['total']),
            '[%s]' % ' '.join(pair['addresses']),
            '[%s]' % ' '.join(_ms(v) for v in pair['latency_ms']),
        ]
        if bandwidth:
            measured = [v for v in pair['bandwidth_bps'] if v is not None]
            row.append(
                '[%s]' % ' '.join(format_bandwidth(v) for v in pair['bandwidth_bps']) if measured else NOT_MEASURED
            )
        rows.append(row)
    lines = fixed_width(header, rows)
    net_rows = []
    for net in matrix['networks']:
        rtt = (
            '-'
            if net['rtt_avg_ms'] is None
            else '%.3f/%.3f/%.3fms' % (net['rtt_min_ms'], net['rtt_avg_ms'], net['rtt_max_ms'])
        )
        net_rows.append([net['network'], '%d/%d' % (net['connected'], net['total']), str(len(net['nodes'])), rtt])
    lines.append('')
    lines.extend(fixed_width(['NETWORK', 'CONNECTED/TOTAL', 'NODES', 'LATENCY min/avg/max'], net_rows))
    summary = matrix['summary']
    lines.append('')
    lines.append(
        '%d/%d address pairs connected, %d/%d node pairs fully connected'
        % (summary['connected'], summary['total'], summary['pairs_connected'], summary['pairs'])
    )
    return lines


def to_json(matrix: Mapping[str, Any]) -> str:
    """The matrix as JSON text (sorted keys, two-space indent), for a file or another tool."""
    return json.dumps(matrix, indent=2, sort_keys=True)
