# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run's report: the addressing plan, the preflight, the connectivity matrices and the AIS cluster map, as data
(JSON-ready) and as one self-contained HTML page (inline CSS and SVG, no script, font or network access: it works
offline and can be mailed), plus the matrices' heat map as a standalone SVG for a README or a ticket.

The data come from the results of the collection's own modules (their documented return values), collected by the
callback plugin ``netplumb.multihome.report``: :func:`new_report` starts one, :func:`add_result` files a module's
result in it, :func:`add_failure` notes a failed task, :func:`finish` closes it. :func:`render_html` and
:func:`render_svg` draw it. Plain functions, no Ansible inside.

Large clusters stay readable: a matrix of more than ``MAX_CELLS`` nodes is drawn with the nodes in groups (a cell is
a group of senders to a group of receivers, coloured by the share that connected), a network whose every probe
connected is shown folded, and the tables list what failed first and fold the rest.
"""

from __future__ import annotations

import datetime
import html
import ipaddress
import json
from typing import Any, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError, named_reserved

# The modules whose results make the report, by the action name Ansible gives them.
PLAN, PREFLIGHT, MATRIX, SMAP = (
    'netplumb.multihome.cidr_plan',
    'netplumb.multihome.cni_preflight',
    'netplumb.multihome.connectivity_matrix',
    'netplumb.multihome.aistore_smap_verify',
)
SOURCES = (PLAN, PREFLIGHT, MATRIX, SMAP)
# At most this many rows and columns in a heat map: more nodes are drawn in groups.
MAX_CELLS = 48
# Rows of a table shown before the rest is folded.
MAX_ROWS = 200
# Up to these many nodes a network's heat map is shown open even when every probe connected, and up to these many
# passed preflight rows are shown open: beyond them the healthy part is folded, what failed stays open.
OPEN_NODES = 16
OPEN_ROWS = 24
# Failed tasks kept in the report (the first of them is named at the top).
MAX_FAILURES = 50
# Node pairs of a matrix kept in the report's JSON (more are left out: the matrix's own JSON has them).
MAX_JSON_PAIRS = 4096
# Broken probes kept in the report's JSON (broken_count says how many there were).
MAX_JSON_BROKEN = 2000

COLOURS = {'ok': '#2e9e4f', 'partial': '#f0a22e', 'broken': '#d6312b', 'none': '#e6e6e6'}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def new_report(playbook: str, inventory: Sequence[str], started: str | None = None) -> dict[str, Any]:
    """An empty report of a run of ``playbook`` against ``inventory`` (its sources), started now or at ``started``."""
    return {
        'run': {
            'playbook': playbook,
            'inventory': list(inventory),
            'started': started or _now(),
            'finished': None,
            'ok': None,
            'failed_first': None,
            'failures': 0,
            'failed': [],
            'hosts': {},
        },
        'plan': {},
        'preflight': [],
        'matrices': [],
        'aistore': None,
    }


def add_failure(
    report: dict[str, Any], host: str, task: str, message: str, unreachable: bool = False, rescued: bool = False
) -> None:
    """Note that ``task`` failed on ``host``; ``rescued`` when a rescue takes it over (recorded, never named as what
    failed first)."""
    run = report['run']
    run['failures'] += 1
    kept = run.setdefault('failed', [])
    entry = {'host': host, 'task': task, 'msg': str(message or ''), 'unreachable': unreachable, 'rescued': rescued}
    # Each host's first failure that no rescue took over is kept whatever the cap: it may be what stopped the run.
    first = not rescued and not any(f['host'] == host and not f.get('rescued') for f in kept)
    if len(kept) < MAX_FAILURES or first:
        kept.append(entry)


PHASES = {'present': 'add', 'probe': 'probe', 'absent': 'del'}


def _preflight_row(node: str, attachment: Any, plugin: Any = None, address: Any = None) -> dict[str, Any]:
    """A node and attachment's row before any phase is filed in it."""
    return {
        'node': node,
        'attachment': attachment,
        'type': plugin,
        'address': address,
        'add': None,
        'probe': None,
        'del': None,
        'peers_ok': 0,
        'peers': 0,
        'errors': [],
    }


def _file_preflight(report: dict[str, Any], host: str, result: Mapping[str, Any], state: str) -> None:
    """One row per node and attachment, with the status of each phase (ADD, probe, DEL) and every error."""
    phase = PHASES.get(state, state)
    rows = report['preflight']
    index = dict(((r['node'], r['attachment']), r) for r in rows)
    for att in result.get('attachments') or []:
        if not isinstance(att, Mapping):
            continue
        node = att.get('node') or host
        key = (node, att.get('name'))
        row = index.get(key)
        if row is None:
            row = index[key] = _preflight_row(node, att.get('name'), att.get('type'), att.get('test_address'))
            rows.append(row)
        row[phase] = att.get('status') or ('ok' if att.get('ok') else 'failed')
        if att.get('plugin_error'):
            row['errors'].append('%s: %s' % (phase.upper(), att['plugin_error']))
        row['errors'].extend(
            '%s: %s' % (phase.upper(), e) for e in att.get('errors') or [] if e != att.get('plugin_error')
        )
        if phase == 'probe':
            peers = [p for p in att.get('peers') or [] if isinstance(p, Mapping)]
            row['peers'] = len(peers)
            row['peers_ok'] = sum(1 for p in peers if p.get('ok'))


def _fail_preflight(report: dict[str, Any], host: str, state: str, message: str) -> None:
    phase = PHASES.get(state, state)
    text = '%s: %s' % (phase.upper(), message or 'the task failed on %s' % host)
    rows = [r for r in report['preflight'] if r['node'] == host]
    if not rows:
        rows = [_preflight_row(host, '(every attachment)')]
        report['preflight'].extend(rows)
    for row in rows:
        row[phase] = 'failed'
        if text not in row['errors']:
            row['errors'].append(text)


def preflight_status(row: Mapping[str, Any]) -> str:
    """``failed`` when a phase failed or left an error, ``skipped`` when a phase was skipped (an attachment without a
    test address: not a failure, as the module and the role count it), ``would-run`` in check mode, else ``ok``."""
    phases = [row.get(p) for p in ('add', 'probe', 'del') if row.get(p)]
    if 'failed' in phases or row.get('errors'):
        return 'failed'
    for status in ('skipped', 'would-run'):
        if status in phases:
            return status
    return 'ok' if phases else 'not run'


def add_result(
    report: dict[str, Any],
    action: str,
    host: str,
    task: str,
    play: str,
    args: Mapping[str, Any],
    result: Mapping[str, Any],
    failed: bool = False,
    message: str = '',
) -> bool:
    """File one task result of one of ``SOURCES`` in the report; False when it holds nothing the report shows.

    ``args`` are the module's arguments (its result's ``invocation``), ``result`` its result for ``host``; ``failed``
    when the task failed or the host was unreachable, with ``message``: a preflight phase that failed so is failed on
    every attachment of that node, whatever the attachments it returned say.
    """
    if action == PLAN and isinstance(result.get('plan'), Mapping):
        scheme = args.get('scheme') or 'multinic_blocks'
        report['plan'][scheme] = {'plan': result['plan'], 'reserved': _reserved_networks(args.get('reserved'))}
        return True
    if action == PREFLIGHT and (result.get('attachments') or failed):
        state = str(args.get('state') or 'present')
        _file_preflight(report, host, result, state)
        if failed:
            _fail_preflight(report, host, state, message)
        return True
    if action == MATRIX and isinstance(result.get('matrix'), Mapping):
        report['matrices'].append(
            {
                'title': play or task,
                'matrix': result['matrix'],
                'passed': result.get('passed'),
                'msg': result.get('msg'),
            }
        )
        return True
    if action == SMAP and isinstance(result.get('report'), Mapping):
        report['aistore'] = {
            'report': result['report'],
            'ok': bool(result['report'].get('ok')),
            'url': args.get('url'),
            'names': dict(args.get('names') or {}),
        }
        return True
    return False


def _reserved_networks(value: Any) -> list[str]:
    """The networks of cidr_plan's ``reserved`` in any of its forms (a list of CIDRs, of ``{name, cidr}``, or a dict
    ``{name: cidr or [cidrs]}``), as CIDR texts; what does not parse is left out (the planner already refused it)."""
    if isinstance(value, str):
        value = [v for v in value.split(',') if v.strip()]
    try:
        return [str(net) for _label, net in named_reserved(value)]
    except (PlanError, TypeError, ValueError, AttributeError):
        return []


def finish(report: dict[str, Any], stats: Mapping[str, Mapping[str, int]], finished: str | None = None) -> None:
    """Close the report with each host's counts (``{host: {ok, changed, failures, unreachable, skipped, ...}}``): the
    run passed when no host failed or was unreachable; what failed first is the first failed task of a host that
    failed that no rescue took over (a rescued failure is not what stopped the run)."""
    run = report['run']
    run['finished'] = finished or _now()
    run['hosts'] = dict((host, dict(counts)) for host, counts in sorted(stats.items()))
    bad = set(h for h, c in stats.items() if c.get('failures', 0) or c.get('unreachable', 0))
    run['ok'] = not bad
    run['failed_first'] = next((f for f in run.get('failed') or [] if f['host'] in bad and not f.get('rescued')), None)


def to_json(report: Mapping[str, Any], encoder: Any = None) -> str:
    """The report as JSON text (``encoder``: a JSONEncoder class for values json does not know).

    Each matrix keeps its summary, its per-network rows, its broken probes (up to ``MAX_JSON_BROKEN``, with their
    count) and (up to ``MAX_JSON_PAIRS``) its node pairs, not every probe: half a million at 256 nodes x 8 NICs,
    which connectivity_matrix_json_path writes in full.
    """
    out = dict(report)
    out['matrices'] = []
    for entry in report.get('matrices') or []:
        matrix = entry['matrix']
        pairs = matrix.get('pairs') or []
        broken = [p for p in matrix.get('probes') or [] if not p.get('connected')]
        slim = {
            'summary': matrix.get('summary'),
            'networks': matrix.get('networks'),
            'broken': broken[:MAX_JSON_BROKEN],
            'broken_count': len(broken),
            'pairs': pairs if len(pairs) <= MAX_JSON_PAIRS else None,
        }
        out['matrices'].append(dict(entry, matrix=slim))
    return json.dumps(out, cls=encoder, indent=1, sort_keys=True) + '\n'


# --- the heat map -------------------------------------------------------------------------------------------------


def _groups(nodes: Sequence[str], most: int) -> list[list[str]]:
    """``nodes`` in at most ``most`` consecutive groups of equal size (the last one smaller)."""
    if len(nodes) <= most:
        return [[n] for n in nodes]
    size = -(-len(nodes) // most)
    return [list(nodes[i : i + size]) for i in range(0, len(nodes), size)]


def heat_maps(matrix: Mapping[str, Any], most: int = MAX_CELLS) -> list[dict[str, Any]]:
    """One heat map per network of ``matrix`` (a connectivity_matrix result's ``matrix``).

    Each is ``{network, nodes, groups, cells, connected, total, broken}``: ``nodes`` the nodes on the network in the
    matrix's order, ``groups`` them in the rows' and columns' groups (one node each up to ``most`` nodes), ``cells``
    ``{(row, column): [connected, total, rtt sum, rtt count]}`` for the group pairs that have probes, ``broken`` the
    probes that did not connect. One pass over the probes (half a million for 256 nodes x 8 NICs).
    """
    order: dict[str, int] = {}
    for pair in matrix.get('pairs') or []:
        for node in (pair['from'], pair['to']):
            if node not in order:
                order[node] = len(order)
    probes = matrix.get('probes') or []
    # The nodes of each network are the senders the matrix lists for it; a node that only receives on a network
    # (rare: an address set that lists it without it probing) sends that network through the exact second pass.
    on_net: dict[str, list[str]] = {}
    for row in matrix.get('networks') or []:
        on_net[row['network']] = list(row.get('nodes') or [])
    maps: dict[str, dict[str, Any]] = {}

    def start(net, nodes):
        nodes = sorted(set(nodes), key=lambda n: order.setdefault(n, len(order)))
        groups = _groups(nodes, most)
        group_of = {}
        for index, group in enumerate(groups):
            for node in group:
                group_of[node] = index
        maps[net] = entry = {
            'network': net,
            'nodes': nodes,
            'groups': groups,
            'cells': {},
            'connected': 0,
            'total': 0,
            'broken': [],
            '_group_of': group_of,
        }
        return entry

    def tally(entry, probe):
        group_of = entry['_group_of']
        key = (group_of[probe['from']], group_of[probe['to']])
        cell = entry['cells'].get(key)
        if cell is None:
            cell = entry['cells'][key] = [0, 0, 0.0, 0]
        cell[1] += 1
        if probe.get('connected'):
            cell[0] += 1
            entry['connected'] += 1
            rtt = probe.get('rtt')
            if rtt and rtt.get('avg') is not None:
                cell[2] += rtt['avg']
                cell[3] += 1
        else:
            entry['broken'].append(probe)
        entry['total'] += 1

    redo = set()
    last_net, entry, group_of, cells, broken = None, None, None, None, None
    connected = total = 0
    # The hot loop (half a million probes at 256 x 8): no call per probe, the network's state cached while it repeats.
    for probe in probes:
        net = probe.get('network')
        if net != last_net:
            if entry is not None:
                entry['connected'], entry['total'] = connected, total
            last_net = net
            entry = maps.get(net) or start(net, on_net.get(net) or [])
            group_of, cells, broken = entry['_group_of'], entry['cells'], entry['broken']
            connected, total = entry['connected'], entry['total']
        if net in redo:
            continue
        row, col = group_of.get(probe['from']), group_of.get(probe['to'])
        if row is None or col is None:
            redo.add(net)
            continue
        cell = cells.get((row, col))
        if cell is None:
            cell = cells[(row, col)] = [0, 0, 0.0, 0]
        cell[1] += 1
        total += 1
        if probe.get('connected'):
            cell[0] += 1
            connected += 1
            rtt = probe.get('rtt')
            if rtt:
                avg = rtt.get('avg')
                if avg is not None:
                    cell[2] += avg
                    cell[3] += 1
        else:
            broken.append(probe)
    if entry is not None:
        entry['connected'], entry['total'] = connected, total
    for net in redo:
        members = [p for p in probes if p.get('network') == net]
        entry = start(net, [p['from'] for p in members] + [p['to'] for p in members])
        for probe in members:
            tally(entry, probe)
    out = []
    for entry in maps.values():
        del entry['_group_of']
        out.append(entry)
    return out


def _colour(connected: float, total: float) -> str:
    if not total:
        return COLOURS['none']
    if connected == total:
        return COLOURS['ok']
    return COLOURS['broken'] if connected == 0 else COLOURS['partial']


def _group_name(group: Sequence[str]) -> str:
    return group[0] if len(group) == 1 else '%s .. %s (%d nodes)' % (group[0], group[-1], len(group))


def heat_map_svg(heat: Mapping[str, Any], standalone: bool = False) -> str:
    """The heat map as SVG: FROM rows, TO columns, one cell per node (or node group) pair; the cell's tooltip says
    how many probes connected and their average latency; a broken cell is red and outlined."""
    groups = heat['groups']
    n = len(groups)
    # Cells of 30 px for a few nodes, down to 10 px at 48 rows: a map stays within about 500 px.
    size_of_cell = max(10, min(30, 480 // max(n, 1)))
    label = max([len(_group_name(g)) for g in groups] + [4]) * 7 + 10
    size = label + n * size_of_cell + 10
    esc = html.escape
    parts = []
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ''
    parts.append(
        '<svg%s class="heat" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">'
        % (ns, size, size, size, size, esc('connectivity of %s, from the rows to the columns' % heat['network']))
    )
    parts.append(
        '<title>%s</title>' % esc('%s: %d/%d probes connected' % (heat['network'], heat['connected'], heat['total']))
    )
    for index, group in enumerate(groups):
        name = esc(_group_name(group) if len(group) == 1 else '%s ..' % group[0])
        y = label + index * size_of_cell + size_of_cell // 2 + 4
        parts.append('<text x="%d" y="%d" text-anchor="end" class="lbl">%s</text>' % (label - 4, y, name))
        x = label + index * size_of_cell + size_of_cell // 2 + 4
        parts.append(
            '<text x="%d" y="%d" transform="rotate(-90 %d %d)" class="lbl">%s</text>'
            % (x, label - 4, x, label - 4, name)
        )
    cells = heat['cells']
    broken_cells = []
    for (row, col), (ok, total, rtt_sum, rtt_count) in cells.items():
        colour = _colour(ok, total)
        tip = '%s \u2192 %s: %d/%d connected' % (_group_name(groups[row]), _group_name(groups[col]), ok, total)
        if rtt_count:
            tip += ', %.3f ms average' % (rtt_sum / rtt_count)
        x, y = label + col * size_of_cell, label + row * size_of_cell
        if ok < total:
            broken_cells.append((x, y))
        parts.append(
            '<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect>'
            % (x, y, size_of_cell - 1, size_of_cell - 1, colour, esc(tip))
        )
    for x, y in broken_cells:
        parts.append(
            '<rect class="broken" x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000" stroke-width="1.5"/>'
            % (x, y, size_of_cell - 1, size_of_cell - 1)
        )
    parts.append('</svg>')
    return ''.join(parts)


# --- the addressing plan --------------------------------------------------------------------------------------------


def _blocks_of_plan(scheme: str, plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The bars of one plan: ``[{space, label, blocks: [(cidr, name)]}]``, a bar per address space it cuts."""
    bars = []
    if scheme == 'multinic_blocks':
        for iface in plan.get('interfaces') or []:
            bars.append(
                {
                    'space': iface['vlan_cidr'],
                    'label': 'Multi-NIC CNI, interface %s (hosts on %s)'
                    % (iface.get('index'), iface.get('master_net')),
                    'blocks': [
                        (h['pod_cidr'], '%s %s' % (h['name'], h.get('interface') or ''))
                        for h in iface.get('hosts') or []
                    ],
                }
            )
    elif scheme == 'node_subnets':
        for sub in plan.get('subnets') or []:
            net = ipaddress.ip_network(sub['cidr'], strict=False)
            blocks = []
            for node in plan.get('nodes') or []:
                for cidr in node.get('subnets') or []:
                    block = ipaddress.ip_network(cidr, strict=False)
                    if block.version == net.version and block.subnet_of(net):
                        blocks.append((cidr, node['name']))
            bars.append(
                {'space': sub['cidr'], 'label': 'OVN-Kubernetes host subnets of %s' % sub['cidr'], 'blocks': blocks}
            )
    elif scheme == 'network_ranges' and plan.get('supernet'):
        bars.append(
            {
                'space': plan['supernet'],
                'label': 'Network attachment ranges of %s' % plan['supernet'],
                'blocks': [(n['range'], n['name']) for n in plan.get('networks') or []],
            }
        )
    return bars


def plan_bars(plans: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every bar of the plans, each with its blocks placed as fractions of its space, the reserved networks that
    overlap it, and its free share: ``[{space, label, blocks: [{cidr, name, start, width}], reserved: [...], free}]``."""
    out = []
    for scheme in ('multinic_blocks', 'node_subnets', 'network_ranges'):
        entry = plans.get(scheme)
        if not entry:
            continue
        reserved = []
        for cidr in entry.get('reserved') or []:
            try:
                reserved.append(ipaddress.ip_network(cidr, strict=False))
            except ValueError:
                continue
        for lane in _blocks_of_plan(scheme, entry['plan']):
            space = ipaddress.ip_network(lane['space'], strict=False)
            first, count = int(space.network_address), space.num_addresses
            placed, used = [], 0
            for cidr, name in lane['blocks']:
                net = ipaddress.ip_network(cidr, strict=False)
                used += net.num_addresses
                placed.append(
                    {
                        'cidr': cidr,
                        'name': name,
                        'start': (int(net.network_address) - first) / count,
                        'width': net.num_addresses / count,
                    }
                )
            overlaps = []
            for net in reserved:
                if net.version != space.version or not net.overlaps(space):
                    continue
                low = max(int(net.network_address), first)
                high = min(int(net.broadcast_address), first + count - 1)
                overlaps.append({'cidr': str(net), 'start': (low - first) / count, 'width': (high - low + 1) / count})
            out.append(
                {
                    'space': lane['space'],
                    'label': lane['label'],
                    'blocks': placed,
                    'reserved': overlaps,
                    'free': max(0.0, 1.0 - used / count),
                }
            )
    return out


def plan_nodes(plans: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each node's share of the plans, in the order the plans name them: ``[{node, nics: [{nic, host_ip, pod_cidr}],
    subnets: [cidr], ranges: [{network, range}]}]``."""
    rows: dict[str, dict[str, Any]] = {}

    def row(name):
        if name not in rows:
            rows[name] = {'node': name, 'nics': [], 'subnets': [], 'ranges': []}
        return rows[name]

    multinic = (plans.get('multinic_blocks') or {}).get('plan') or {}
    for iface in multinic.get('interfaces') or []:
        for host in iface.get('hosts') or []:
            row(host['name'])['nics'].append(
                {'nic': host.get('interface'), 'host_ip': host.get('host_ip'), 'pod_cidr': host.get('pod_cidr')}
            )
    for node in ((plans.get('node_subnets') or {}).get('plan') or {}).get('nodes') or []:
        row(node['name'])['subnets'].extend(node.get('subnets') or [])
    for net in ((plans.get('network_ranges') or {}).get('plan') or {}).get('networks') or []:
        for node in net.get('nodes') or []:
            name = node.get('name') or node.get('node')
            if name:
                row(name)['ranges'].append({'network': net['name'], 'range': node.get('range')})
    return list(rows.values())


def plan_svg(bars: Sequence[Mapping[str, Any]], width: int = 900) -> str:
    """The plan as bars: one per address space, each planned block a coloured box at its place (its name and CIDR
    on hover), the reserved networks hatched, the rest free."""
    esc = html.escape
    row = 46
    height = row * len(bars) + 10
    parts = [
        '<svg class="plan" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="address plan">'
        % (width + 20, height, width + 20, height),
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="3" height="6" fill="#999"/></pattern></defs>',
    ]
    palette = ('#4e79a7', '#59a14f', '#9c755f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#e15759')
    for index, lane in enumerate(bars):
        top = index * row + 18
        parts.append(
            '<text x="10" y="%d" class="lbl">%s</text>'
            % (top - 4, esc('%s: %s (%d%% free)' % (lane['label'], lane['space'], round(lane['free'] * 100))))
        )
        parts.append('<rect x="10" y="%d" width="%d" height="20" fill="#f4f4f4" stroke="#888"/>' % (top, width))
        if len(lane['blocks']) > width:
            # More blocks than pixels (a few thousand NICs): one box per pixel column that holds any, naming how many;
            # each block is in the table and the JSON.
            used: dict[int, int] = {}
            for block in lane['blocks']:
                column = min(int(block['start'] * width), width - 1)
                used[column] = used.get(column, 0) + 1
            for column, count in sorted(used.items()):
                parts.append(
                    '<rect class="block" x="%d" y="%d" width="1" height="20" fill="%s"><title>%d blocks</title></rect>'
                    % (10 + column, top, palette[0], count)
                )
        else:
            for number, block in enumerate(lane['blocks']):
                parts.append(
                    '<rect class="block" x="%.2f" y="%d" width="%.2f" height="20" fill="%s"><title>%s</title></rect>'
                    % (
                        10 + block['start'] * width,
                        top,
                        max(block['width'] * width, 0.5),
                        palette[number % len(palette)],
                        esc('%s %s' % (block['name'], block['cidr'])),
                    )
                )
        for res in lane['reserved']:
            parts.append(
                '<rect class="reserved" x="%.2f" y="%d" width="%.2f" height="20" fill="url(#hatch)"><title>%s</title></rect>'
                % (10 + res['start'] * width, top, max(res['width'] * width, 0.5), esc('reserved %s' % res['cidr']))
            )
    parts.append('</svg>')
    return ''.join(parts)


# --- the page -------------------------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}.ok{color:#1d7a3a}.failed,.broken-text{color:#b3261e;font-weight:bold}
.verdict{padding:.4em .8em;border-radius:4px;display:inline-block;font-weight:bold}
.verdict.ok{background:#dff3e4}.verdict.failed{background:#fbe0de}
.lbl{font:11px system-ui,sans-serif;fill:#333}.legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;
vertical-align:middle}details{margin:.4em 0}summary{cursor:pointer}code,pre{font:12px ui-monospace,monospace}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}.scroll{overflow-x:auto}
""" + ''.join('.sw-%s{background:%s}' % item for item in COLOURS.items())


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], classes: Sequence[str] | None = None) -> str:
    esc = html.escape
    out = ['<table><thead><tr>', ''.join('<th>%s</th>' % esc(h) for h in header), '</tr></thead><tbody>']
    for index, row in enumerate(rows):
        cls = (classes or [])[index] if classes and index < len(classes) else ''
        out.append('<tr%s>' % (' class="%s"' % cls if cls else ''))
        out.append(''.join('<td>%s</td>' % esc('' if cell is None else str(cell)) for cell in row))
        out.append('</tr>')
    out.append('</tbody></table>')
    return ''.join(out)


def _run_section(run: Mapping[str, Any]) -> str:
    esc = html.escape
    ok = run.get('ok')
    verdict = 'passed' if ok else ('failed' if ok is False else 'unfinished')
    out = [
        '<p><span class="verdict %s" id="verdict">%s</span></p>' % ('ok' if ok else 'failed', esc(verdict)),
        _table(
            ['playbook', 'inventory', 'started', 'finished'],
            [[run.get('playbook'), ', '.join(run.get('inventory') or []), run.get('started'), run.get('finished')]],
        ),
    ]
    first = run.get('failed_first')
    if first:
        out.append(
            '<p id="failed-first" class="failed">What failed first: %s on %s%s</p><pre>%s</pre>'
            % (
                esc(first['task']),
                esc(first['host']),
                ' (unreachable)' if first.get('unreachable') else '',
                esc(first['msg'][:4000]),
            )
        )
    hosts = run.get('hosts') or {}
    if hosts:
        rows = [
            [h, c.get('ok', 0), c.get('changed', 0), c.get('failures', 0), c.get('unreachable', 0), c.get('skipped', 0)]
            for h, c in hosts.items()
        ]
        classes = ['failed' if r[3] or r[4] else '' for r in rows]
        out.append(
            '<details><summary>%d hosts</summary>%s</details>'
            % (len(rows), _table(['host', 'ok', 'changed', 'failed', 'unreachable', 'skipped'], rows, classes))
        )
    return ''.join(out)


def _plan_section(plans: Mapping[str, Any]) -> str:
    bars = plan_bars(plans)
    if not bars:
        return ''
    out = ['<h2 id="plan">Addressing plan</h2>', '<div class="scroll">%s</div>' % plan_svg(bars)]
    nodes = plan_nodes(plans)
    if nodes:
        rows = [
            [
                n['node'],
                ', '.join('%s %s \u2192 %s' % (x['nic'], x['host_ip'], x['pod_cidr']) for x in n['nics']),
                ', '.join(n['subnets']),
                ', '.join('%s %s' % (r['network'], r['range']) for r in n['ranges']),
            ]
            for n in nodes
        ]
        table = _table(['node', 'NIC, its address \u2192 pod block', 'host subnets', 'range slices'], rows[:MAX_ROWS])
        more = '<p>and %d more nodes (in the JSON)</p>' % (len(rows) - MAX_ROWS) if len(rows) > MAX_ROWS else ''
        out.append(
            '<details id="plan-nodes"%s><summary>%d nodes</summary>%s%s</details>'
            % (' open' if len(rows) <= 16 else '', len(rows), table, more)
        )
    for lane in bars:
        rows = [[b['name'], b['cidr']] for b in lane['blocks']]
        out.append(
            '<details><summary>%s: %s, %d blocks, %d%% free%s</summary>%s</details>'
            % (
                html.escape(lane['label']),
                html.escape(lane['space']),
                len(rows),
                round(lane['free'] * 100),
                html.escape(', reserved here: ' + ', '.join(r['cidr'] for r in lane['reserved']))
                if lane['reserved']
                else '',
                _table(['for', 'block'], rows[:MAX_ROWS])
                + ('<p>and %d more</p>' % (len(rows) - MAX_ROWS) if len(rows) > MAX_ROWS else ''),
            )
        )
    return ''.join(out)


def _preflight_section(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ''
    status = [preflight_status(r) for r in rows]
    bad = [r for r, st in zip(rows, status) if st not in ('ok', 'would-run', 'skipped')]
    good = [r for r, st in zip(rows, status) if st in ('ok', 'would-run', 'skipped')]
    header = ['node', 'attachment', 'type', 'address', 'ADD', 'probe', 'DEL', 'peers reached', 'errors']

    def line(r):
        return [
            r['node'],
            r['attachment'],
            r['type'],
            r['address'],
            r['add'],
            r['probe'],
            r['del'],
            '%d/%d' % (r['peers_ok'], r['peers']) if r['peers'] else '',
            '; '.join(r['errors']),
        ]

    out = [
        '<h2 id="preflight">Preflight</h2>',
        '<p id="preflight-summary">%d of %d node/attachment checks failed</p>' % (len(bad), len(rows)),
    ]
    if bad:
        shown = bad[:MAX_ROWS]
        out.append(_table(header, [line(r) for r in shown], ['failed'] * len(shown)))
        if len(bad) > MAX_ROWS:
            out.append('<p>and %d more (in the JSON)</p>' % (len(bad) - MAX_ROWS))
    if good:
        out.append(
            '<details%s><summary>%d passed</summary>%s</details>'
            % (' open' if len(good) <= OPEN_ROWS else '', len(good), _table(header, [line(r) for r in good[:MAX_ROWS]]))
        )
    return ''.join(out)


def _legend() -> str:
    return (
        '<p class="legend"><span class="sw-ok"></span>all connected<span class="sw-partial"></span>some'
        '<span class="sw-broken"></span>none (outlined)<span class="sw-none"></span>not probed</p>'
    )


def _matrix_section(index: int, entry: Mapping[str, Any], heats: Sequence[Mapping[str, Any]]) -> str:
    esc = html.escape
    matrix = entry['matrix']
    summary = matrix.get('summary') or {}
    out = [
        '<h2 id="matrix-%d">%s</h2>' % (index, esc(entry.get('title') or 'Connectivity matrix')),
        '<p class="matrix-summary">%s/%s address pairs connected, %s/%s node pairs fully connected</p>'
        % (summary.get('connected'), summary.get('total'), summary.get('pairs_connected'), summary.get('pairs')),
        _legend(),
    ]
    broken_all = []
    for heat in heats:
        broken_all.extend(heat['broken'])
        whole = heat['connected'] == heat['total']
        grouped = any(len(g) > 1 for g in heat['groups'])
        out.append(
            '<details class="network"%s><summary>%s: %d/%d probes connected%s</summary><div class="scroll">%s</div></details>'
            % (
                '' if whole and len(heat['nodes']) > OPEN_NODES else ' open',
                esc(heat['network']),
                heat['connected'],
                heat['total'],
                ' (nodes in groups of up to %d)' % max(len(g) for g in heat['groups']) if grouped else '',
                heat_map_svg(heat),
            )
        )
    if broken_all:
        rows = [
            [
                p['from'],
                p.get('src_nic'),
                p.get('src'),
                p['to'],
                p.get('dst_nic'),
                p.get('dst'),
                p.get('network'),
                p.get('error'),
            ]
            for p in broken_all[:MAX_ROWS]
        ]
        out.append('<h3>Broken pairs (%d)</h3>' % len(broken_all))
        out.append(
            _table(
                ['from', 'NIC', 'source', 'to', 'NIC', 'destination', 'network', 'error'], rows, ['failed'] * len(rows)
            )
        )
        if len(broken_all) > MAX_ROWS:
            out.append('<p>and %d more (in the JSON)</p>' % (len(broken_all) - MAX_ROWS))
    return ''.join(out)


def _address_key(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return str(value).strip()


def _aistore_section(entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return ''
    rep = entry['report']
    # The map's IPs and the names' keys compared as addresses (fd00::11 is fd00:0:0::11), as the module compares them.
    names = dict((_address_key(ip), name) for ip, name in (entry.get('names') or {}).items())

    def name_of(node):
        return names.get(_address_key(node.get('node_ip')), node.get('node_ip'))

    rows = []
    nodes = sorted(
        rep.get('nodes') or [],
        key=lambda n: (str(name_of(n)), str(n.get('daemon_type')), str(n.get('daemon_id'))),
    )
    for node in nodes:
        rows.append(
            [
                name_of(node),
                node.get('node_ip'),
                '%s %s' % (node.get('daemon_type') or '', node.get('daemon_id') or ''),
                ', '.join(node.get('pub_extra') or []),
                node.get('status'),
            ]
        )
    return ''.join(
        [
            '<h2 id="aistore">AIStore cluster map</h2>',
            '<p class="%s">%s</p>' % ('ok' if entry['ok'] else 'failed', html.escape(str(rep.get('summary') or ''))),
            _table(
                ['node', 'primary IP', 'daemon', 'extra IPs', 'verified'],
                rows,
                ['' if r[4] == 'ok' else 'failed' for r in rows],
            ),
        ]
    )


def render(report: Mapping[str, Any]) -> tuple[str, str | None]:
    """The page and the SVG (None without a matrix), the heat maps worked out once for both."""
    heats = [heat_maps(m['matrix']) for m in report.get('matrices') or []]
    return render_html(report, heats), render_svg(report, heats)


def render_html(report: Mapping[str, Any], heats: Sequence[Sequence[Mapping[str, Any]]] | None = None) -> str:
    """The whole page: the run, the plan, the preflight, each matrix and the AIS cluster map, those it has.
    ``heats``: each matrix's :func:`heat_maps` when the caller has them."""
    matrices = report.get('matrices') or []
    if heats is None:
        heats = [heat_maps(m['matrix']) for m in matrices]
    run = report['run']
    title = 'netplumb.multihome: %s' % (run.get('playbook') or 'run')
    body = [
        '<h1>%s</h1>' % html.escape(title),
        _run_section(run),
        _plan_section(report.get('plan') or {}),
        _preflight_section(report.get('preflight') or []),
    ]
    body.extend(_matrix_section(i, m, h) for i, (m, h) in enumerate(zip(matrices, heats)))
    body.append(_aistore_section(report.get('aistore')))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>%s</title><style>%s</style></head><body>%s</body></html>\n' % (html.escape(title), CSS, ''.join(body))
    )


def render_svg(report: Mapping[str, Any], heats: Sequence[Sequence[Mapping[str, Any]]] | None = None) -> str | None:
    """The first matrix's heat maps side by side as one standalone SVG (for a README or a ticket); None without one."""
    matrices = report.get('matrices') or []
    if not matrices:
        return None
    maps = [heat_map_svg(h) for h in (heats[0] if heats else heat_maps(matrices[0]['matrix']))]
    # Each map is an <svg> with its size: lay them out left to right.
    x, parts, height = 0, [], 0
    for svg in maps:
        width = int(svg.split('width="', 1)[1].split('"', 1)[0])
        h = int(svg.split('height="', 1)[1].split('"', 1)[0])
        parts.append(svg.replace('<svg ', '<svg x="%d" y="20" ' % x, 1))
        x += width + 10
        height = max(height, h)
    summary = matrices[0]['matrix'].get('summary') or {}
    head = '%s: %s/%s probes connected' % (
        matrices[0].get('title') or 'matrix',
        summary.get('connected'),
        summary.get('total'),
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
        '<style>.lbl{font:11px sans-serif;fill:#333}</style><rect width="100%%" height="100%%" fill="#fff"/>'
        '<text x="4" y="14" class="lbl">%s</text>%s</svg>\n'
        % (x, height + 20, x, height + 20, html.escape(head), ''.join(parts))
    )
