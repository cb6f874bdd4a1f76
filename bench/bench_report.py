# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the run's report page for 256 nodes x 8 NICs (issue 17: generated in under a second).

Run with `make bench` (or `.venv/bin/python bench/bench_report.py` after `make tree`); no lab. Builds, in-process,
what a site.yml run on such a cluster hands the report: the three addressing plans from the real planners and the
full connectivity matrix from connectivity_matrix's own builder (256 x 255 x 8 = 522,240 probes, one NIC down), then
times render (the page and the SVG) and to_json (best of 3) and prints the page's size, the time against the target, and the time
against building that matrix in the same run (what the connectivity_matrix step already spends on it).
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), '.build', 'collections'))

from ansible_collections.netplumb.multihome.plugins.module_utils import report as rep  # noqa: E402
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (  # noqa: E402
    address_sets,
    error_result,
    plan_probes,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import build_matrix  # noqa: E402
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic  # noqa: E402
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import plan_node_subnets  # noqa: E402
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges  # noqa: E402

NODES, NICS = 256, 8
TARGET = 1.0


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def cluster():
    """{node: NICs}: node i's NIC k at 10.k.(i // 250).(i % 250 + 1)/16."""
    return dict(
        (
            'node%03d' % i,
            [{'name': 'nic%d' % k, 'address': '10.%d.%d.%d/16' % (k, i // 250, i % 250 + 1)} for k in range(NICS)],
        )
        for i in range(NODES)
    )


def main():
    print(
        'report benchmark: %d nodes x %d NICs; %d CPUs, load average %s'
        % (NODES, NICS, os.cpu_count() or 0, ' '.join('%.1f' % x for x in os.getloadavg()))
    )
    nodes = cluster()
    hosts = [
        {'name': name, 'main_ip': '172.16.%d.%d' % (i // 250, i % 250 + 1), 'interfaces': nics}
        for i, (name, nics) in enumerate(nodes.items())
    ]
    names = list(nodes)
    plans = {
        'multinic_blocks': {
            'plan': plan_multinic('100.64.0.0/10', 3, 9, hosts)['plan'],
            'reserved': ['172.16.0.0/16'],
        },
        'node_subnets': {'plan': plan_node_subnets('10.128.0.0/14/23', names)['plan'], 'reserved': []},
        'network_ranges': {
            'plan': plan_ranges('10.200.0.0/16', [{'name': 'net%d' % k, 'prefix': 20} for k in range(NICS)], names)[
                'plan'
            ],
            'reserved': [],
        },
    }
    sets = address_sets(nodes)
    down = nodes['node100'][3]['address'].split('/')[0]
    start = time.perf_counter()
    plan = plan_probes(sets)
    results = {}
    for node, probes in plan.items():
        out = []
        for probe in probes:
            if down in (probe['src'], probe['dst']):
                out.append(error_result(probe, 'no reply: 3 sent, 0 received (100% loss)'))
            else:
                out.append(dict(probe, connected=True, rtt={'min': 0.05, 'avg': 0.1, 'max': 0.2}, loss=0.0))
        results[node] = {'probes': out}
    matrix = build_matrix(results, plan, sets)
    built = time.perf_counter() - start
    report = rep.new_report('site.yml', ['inventory/hosts.ini'])
    report['plan'] = plans
    report['matrices'].append({'title': 'Connectivity matrix across every node and NIC', 'matrix': matrix})
    rep.finish(report, dict((n, {'ok': 10}) for n in names))
    best, page, svg = None, '', ''
    for _attempt in range(3):
        start = time.perf_counter()
        page, svg = rep.render(report)
        data = rep.to_json(report)
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    print(
        'probes: %d (%d connected); the matrix built in %.2f s'
        % (matrix['summary']['total'], matrix['summary']['connected'], built)
    )
    print('page: %.1f MB, SVG %.1f MB, JSON %.1f MB' % (len(page) / 1e6, len(svg) / 1e6, len(data) / 1e6))
    print(
        'page, SVG and JSON generated in %.2f s (best of 3; target < %.1f s) %s'
        % (best, TARGET, verdict(best < TARGET))
    )
    print('that is %.2f of the time to build the matrix itself' % (best / built))


if __name__ == '__main__':
    main()
