# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: time and peak memory of planning Multi-NIC CNI blocks, OVN-K host subnets and ranges.

Run with `make bench` (or `python3 bench/bench_cidr_plan.py` after `make tree`). Prints one line per
size: hosts x NICs, best wall time of a few runs, time per host-NIC and peak traced memory, then the
growth between the sizes, so a super-linear regression shows as a ratio well above 1.
"""

import gc
import os
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), '.build', 'collections'))

from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic  # noqa: E402
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import plan_node_subnets  # noqa: E402


def make_hosts(count, nics):
    """``count`` hosts with ``nics`` NICs each, NIC k on 198.18.(k*16).0/20 style networks of 2^12 addresses."""
    hosts = []
    for h in range(count):
        interfaces = []
        for k in range(nics):
            # NIC network k: 100.64.0.0/10 split into /14s (2^18 addresses each), one per NIC index.
            base = (100 << 24) | (64 << 16) | (k << 18)
            addr = base + h + 1
            interfaces.append(
                {
                    'name': 'nic%d' % (k + 1),
                    'address': '%d.%d.%d.%d/14' % (addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255),
                }
            )
        hosts.append({'name': 'node%05d' % h, 'interfaces': interfaces})
    return hosts


def measure(func, repeat=5):
    """Best wall time of ``repeat`` runs (each after a full garbage collection, so that no run pays for another's
    garbage), and the peak memory of one more run traced."""
    best = None
    for _dummy in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


TARGETS = {
    # (what, seconds): issue 16's targets for this 2-core machine.
    'multinic': ('16384 hosts x 8 NICs', 0.5),
    'node_subnets': ('OVN-K node subnets, 16384 nodes, dual-stack', 0.2),
}


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main():
    print(
        'cidr_plan benchmark (Python %s, %d CPUs, load average %s)'
        % (sys.version.split()[0], os.cpu_count() or 0, ' '.join('%.1f' % x for x in os.getloadavg()))
    )
    print('%-34s %10s %14s %12s' % ('case', 'best s', 'us/host-NIC', 'peak MiB'))
    rows = []
    for count, nics in ((1024, 8), (4096, 8), (16384, 8)):
        hosts = make_hosts(count, nics)
        best, peak = measure(lambda hosts=hosts: plan_multinic('10.0.0.0/8', 3, 15, hosts))
        units = count * nics
        rows.append((count, nics, best, units))
        print(
            '%-34s %10.3f %14.2f %12.1f'
            % ('multinic %d hosts x %d NICs' % (count, nics), best, best / units * 1e6, peak / 2.0**20)
        )
    subnet_rows = []
    for count in (4096, 16384):
        nodes = ['node%05d' % n for n in range(count)]
        best, peak = measure(lambda nodes=nodes: plan_node_subnets('10.128.0.0/9/24,fd00:10::/48', nodes))
        subnet_rows.append((count, best))
        print(
            '%-34s %10.3f %14.2f %12.1f'
            % ('node_subnets %d nodes x 2 families' % count, best, best / count / 2 * 1e6, peak / 2.0**20)
        )
    (_c1, _n1, t1, u1), (_c2, _n2, t2, u2), (_c3, _n3, t3, u3) = rows
    # Growth: the time ratio over the work ratio; 1.0 is linear, well above it super-linear.
    growth = [(u2 / u1, t2 / t1), (u3 / u2, t3 / t2), (4.0, subnet_rows[1][1] / subnet_rows[0][1])]
    for label, (work, took) in zip(
        ('multinic 1024x8 -> 4096x8', 'multinic 4096x8 -> 16384x8', 'node_subnets 4096 -> 16384'), growth
    ):
        print(
            'growth %-28s %.1fx the work took %.2fx the time: %.2f of linear (target <= 1.25) %s'
            % (label, work, took, took / work, verdict(took / work <= 1.25))
        )
    for key, took in (('multinic', t3), ('node_subnets', subnet_rows[1][1])):
        what, target = TARGETS[key]
        print(
            '%s: %.3f s = %.2f of the %.1f s target %s' % (what, took, took / target, target, verdict(took <= target))
        )


if __name__ == '__main__':
    main()
