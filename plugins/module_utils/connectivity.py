# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connectivity matrix: which node reaches which, on which network, at what latency.

Plain functions over the standard library, used by the connectivity_probe module (on each node)
and by connectivity_matrix.py (on the controller); no Ansible import, so they are
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
4. On the controller, connectivity_matrix.py joins the nodes' results into the matrix, checks it and
   prints it.

This file is what a node runs (the connectivity_probe module imports it, and Ansible compiles it there
on every run): planning and probing only.
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


# Options the connectivity_probe module and the connectivity_matrix module and action share: how many probes a node
# plans (scale) and how each probe runs (checked once on the controller, then used on each node).
SCALE_ARGUMENT_SPEC: dict[str, Any] = dict(
    scale=dict(type='str', choices=['full', 'ring', 'sample'], default='full'),
    neighbours=dict(type='int', default=2),
    sample=dict(type='int', default=0),
    seed=dict(type='str', default=''),
)
PROBE_ARGUMENT_SPEC: dict[str, Any] = dict(
    count=dict(type='int', default=3),
    interval=dict(type='float'),
    timeout=dict(type='float', default=1),
    concurrency=dict(type='int', default=16),
)


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
