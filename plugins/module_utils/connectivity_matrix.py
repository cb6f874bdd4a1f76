# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connectivity matrix on the controller: the nodes' probe results joined, checked and printed.

Step 4 of connectivity.py's flow, apart from it so that a node, which compiles every module it imports on
every run, gets only planning and probing. :func:`build_matrix` joins the nodes' results with the plan (a node
that did not report counts its probes as broken), :func:`evaluate` checks the threshold and names the broken
pairs, and :func:`render_table` prints ``FROM TO CONNECTED/TOTAL IPs LATENCY`` rows like Multi-NIC CNI;
:func:`matrix_report` does all of it for the connectivity_matrix module and action. :func:`pod_address_sets`
makes the pod matrix's pods into matrix nodes. Plain functions, no Ansible import; every input error is a
:class:`~connectivity.ConnectivityError` naming the value.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (
    DEFAULT_INTERVAL,
    NOT_MEASURED,
    PROBE_ARGUMENT_SPEC,
    SCALE_ARGUMENT_SPEC,
    ConnectivityError,
    address_sets,
    check_scale,
    error_result,
    plan_probes,
    validate_settings,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.text_table import fixed_width


def format_bandwidth(bps: float | None) -> str:
    """``9.54Gbits/sec`` as iperf3 prints rates."""
    if bps is None:
        return '-'
    for unit, scale in (('Gbits/sec', 1e9), ('Mbits/sec', 1e6), ('Kbits/sec', 1e3)):
        if bps >= scale:
            return '%.3g%s' % (bps / scale, unit)
    return '%.3gbits/sec' % bps


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
    plan=dict(type='bool', default=True),
    **SCALE_ARGUMENT_SPEC,
    **PROBE_ARGUMENT_SPEC,
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
    # One string for the probe task to hand each node (RETURN nodes_json in the module's documentation).
    result['nodes_json'] = json.dumps(params['nodes'], sort_keys=True, separators=(',', ':'))
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
