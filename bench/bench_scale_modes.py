# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the connectivity matrix's scale modes for 1,024 nodes x 8 NICs, planned in-process (no lab).

Run with `make bench` (or `python3 bench/bench_scale_modes.py` after `make tree`). For each mode it prints the
probes of the whole cluster and of one node, the time a node takes to plan its own probes (what each node does
in the connectivity_probe module) and the time the controller takes to plan every node's (the connectivity_matrix
module), and the probes as a fraction of ``full``'s. ``full`` is too big to plan whole here (8.4 million probes):
its count is n(n-1) per network, checked against one node's plan, and its controller time is not measured.
It also checks what each mode promises (docs/connectivity_matrix.md): every address sends and receives the same
number of probes on each network, and ``sample`` with a new seed per run reaches every pair over runs.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), '.build', 'collections'))

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (  # noqa: E402
    address_sets,
    plan_probes,
)

NODES, NICS = 1024, 8
MODES = [
    ('full', {'scale': 'full'}),
    ('ring k=2', {'scale': 'ring', 'neighbours': 2}),
    ('ring k=4', {'scale': 'ring', 'neighbours': 4}),
    ('sample k=2 s=6', {'scale': 'sample', 'neighbours': 2, 'sample': 6, 'seed': 'run-1'}),
]
# Issue 16: a node's own plan must not be what limits a big cluster; 50 ms per node is the budget used here.
NODE_PLAN_BUDGET = 0.05


def nodes():
    """1,024 nodes, NIC k of node i at 198.18.0.0/15 split into 8 networks (/18 each, 16,382 addresses)."""
    out = {}
    for i in range(NODES):
        nics = []
        for k in range(NICS):
            value = (198 << 24) | (18 << 16) | (k << 14) | (i + 1)
            nics.append(
                {
                    'name': 'nic%d' % (k + 1),
                    'address': '%d.%d.%d.%d/18' % (value >> 24, (value >> 16) & 255, (value >> 8) & 255, value & 255),
                }
            )
        out['node%04d' % i] = nics
    return out


def best(func, repeat=3):
    times = []
    result = None
    for _dummy in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main():
    print(
        'scale modes benchmark: %d nodes x %d NICs (Python %s, %d CPUs, load average %s)'
        % (NODES, NICS, sys.version.split()[0], os.cpu_count() or 0, ' '.join('%.1f' % x for x in os.getloadavg()))
    )
    inventory = nodes()
    read, sets = best(lambda: address_sets(inventory))
    print(
        'reading the inventory (address_sets: %d addresses), which each node does before planning: %.1f ms'
        % (NODES * NICS, read * 1000)
    )
    full_total = NODES * (NODES - 1) * NICS
    print('%-16s %12s %8s %14s %14s %10s' % ('mode', 'probes', 'per node', 'node plans', 'controller', 'of full'))
    for label, settings in MODES:
        node_time, mine = best(lambda settings=settings: plan_probes(sets, only='node0500', **settings))
        per_node = len(mine['node0500'])
        if settings['scale'] == 'full':
            total, controller = full_total, None
            assert per_node == (NODES - 1) * NICS, per_node
        else:
            controller, plan = best(lambda settings=settings: plan_probes(sets, **settings), repeat=1)
            total = sum(len(probes) for probes in plan.values())
            # Every address sends and receives the same number of probes on each network.
            received = {}
            for probes in plan.values():
                for probe in probes:
                    received[probe['dst']] = received.get(probe['dst'], 0) + 1
            # Ring: every address is probed by exactly its k predecessors; sample: by them and any drawn ones.
            k = settings['neighbours']
            counts = set(received.values())
            assert len(received) == NODES * NICS and min(counts) >= k, 'an address is probed by fewer than %d nodes' % k
            assert settings['scale'] != 'ring' or counts == {k}, counts
            assert set(len(probes) for probes in plan.values()) == {(k + settings.get('sample', 0)) * NICS}
        print(
            '%-16s %12d %8d %12.1f ms %14s %10.4f'
            % (
                label,
                total,
                per_node,
                node_time * 1000,
                '%.2f s' % controller if controller is not None else 'not planned',
                float(total) / full_total,
            )
        )
        print(
            '    a node plans its own %d probes in %.1f ms = %.2f of the %.0f ms budget %s'
            % (
                per_node,
                node_time * 1000,
                node_time / NODE_PLAN_BUDGET,
                NODE_PLAN_BUDGET * 1000,
                verdict(node_time <= NODE_PLAN_BUDGET),
            )
        )
    # sample: a new seed per run reaches more pairs of a network each run; measured against the chance it promises.
    runs, k, s = 100, 2, 6
    pairs = set()
    one_network = dict((node, dict(list(node_sets.items())[:1])) for node, node_sets in sets.items())
    start = time.perf_counter()
    for run in range(runs):
        plan = plan_probes(one_network, scale='sample', neighbours=k, sample=s, seed='run-%d' % run)
        pairs.update((node, probe['peer']) for node, probes in plan.items() for probe in probes)
    took = time.perf_counter() - start
    beyond = NODES - 1 - k
    expected = (k + beyond * (1 - (1 - float(s) / beyond) ** runs)) / (NODES - 1)
    covered = len(pairs) / float(NODES * (NODES - 1))
    print(
        'sample k=%d s=%d, a new seed in each of %d runs: %.3f of the node pairs of a network probed, expected %.3f '
        '(ratio %.3f; %.1f s to plan the runs) %s'
        % (k, s, runs, covered, expected, covered / expected, took, verdict(abs(covered / expected - 1) < 0.02))
    )


if __name__ == '__main__':
    main()
