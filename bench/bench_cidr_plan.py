# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: time and peak memory of planning Multi-NIC CNI blocks, OVN-K host subnets and ranges.

Run with `make bench` (or `python3 bench/bench_cidr_plan.py` after `make tree`). Prints one line per
size: hosts x NICs, best wall time of a few runs, time per host-NIC and peak traced memory, then the
growth between the sizes, so a super-linear regression shows as a ratio well above 1.
"""

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


def measure(func, repeat=3):
    best = None
    for _dummy in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def main():
    print('cidr_plan benchmark (Python %s)' % sys.version.split()[0])
    print('%-28s %10s %14s %12s' % ('case', 'best s', 'us/host-NIC', 'peak MiB'))
    rows = []
    for count, nics in ((1024, 8), (4096, 8), (16384, 4)):
        hosts = make_hosts(count, nics)
        best, peak = measure(lambda hosts=hosts: plan_multinic('10.0.0.0/8', 3, 15, hosts))
        units = count * nics
        rows.append((count, nics, best, units))
        print(
            '%-28s %10.3f %14.2f %12.1f'
            % ('multinic %d hosts x %d NICs' % (count, nics), best, best / units * 1e6, peak / 2.0**20)
        )
    nodes = ['node%05d' % n for n in range(16384)]
    best, peak = measure(lambda: plan_node_subnets('10.128.0.0/9/24,fd00:10::/48', nodes))
    print(
        '%-28s %10.3f %14.2f %12.1f'
        % ('node_subnets 16384 nodes x2', best, best / len(nodes) / 2 * 1e6, peak / 2.0**20)
    )
    (c1, n1, t1, u1), (c2, n2, t2, u2), (c3, n3, t3, u3) = rows
    print('growth 1024x8 -> 4096x8:  %.1fx the work took %.2fx the time (linear = %.2f)' % (u2 / u1, t2 / t1, u2 / u1))
    print('growth 4096x8 -> 16384x4: %.1fx the work took %.2fx the time (linear = %.2f)' % (u3 / u2, t3 / t2, u3 / u2))
    verdict = 'ok' if t2 < 1.0 else 'SLOW'
    print('4096 hosts x 8 NICs: %.3f s (target: well under 1 s) %s' % (t2, verdict))


if __name__ == '__main__':
    main()
