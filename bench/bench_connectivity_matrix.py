# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the connectivity matrix of a 16 nodes x 2 NICs lab against Ansible's own floor on the same nodes.

Run with `make bench` (or `.venv/bin/python bench/bench_connectivity_matrix.py` after `make tree`), as root
with rootful podman (tests/lab/bootstrap-podman.sh). Brings up the lab netplumb-bench (16 podman nodes,
198.18.120.0/24 management, 198.18.121-122.0/24 data: 16 x 15 x 2 = 480 probes) and in the same run times,
over the lab's default connection (community.docker.nsenter: a fork of ``nsenter`` per command):

(floor) ``ansible -m ansible.builtin.ping`` on the 16 nodes (one trivial module round per node, forks 16);
(a) playbooks/connectivity_matrix.yml (forks 16), best of 5, each checked to have all 480 probes connected;
    run as a user runs it, with Ansible's default output (the floor has its one line per node), plus
    ansible.posix's profile_tasks for the time of each task;

alternating floor and matrix runs (five of each: the nodes share this machine's CPUs, and its speed varies from
run to run), so that both see the same load. It prints the best wall time and the controller's CPU seconds
(ansible and the processes it ran, children of this process) of each, the ratios, where the matrix run's time
went, and PASS/FAIL against issue 16's targets "matrix within 1.3x of the floor's wall time" and "controller CPU
within 1.5x of the floor's", and beside them each matrix run against the floor run just before it. The
machine's load is printed too: the nodes are containers on this host. The lab is taken down at the end, also
when a run fails (and also when it was found running).
"""

import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
INTEGRATION = os.path.join(REPO, 'tests', 'integration')
sys.path.insert(0, INTEGRATION)  # lab.py imports its neighbour conftest.py


def load_lab():
    spec = importlib.util.spec_from_file_location('netplumb_lab', os.path.join(INTEGRATION, 'lab.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAB = load_lab()
from conftest import BIN  # noqa: E402  (tests/integration, put on the path above)

NODES, NICS, OFFSET, PREFIX = 16, 2, 120, 'netplumb-bench'
PROBES = NODES * (NODES - 1) * NICS
PARALLEL_RUNS = 5
# An absolute remote_tmp spares Ansible the `echo ~` round that expands ~/.ansible/tmp: without pipelining (neither
# lab connection has it) a module costs five commands per node, this makes it four. All runs use it.
TUNING = {'ANSIBLE_REMOTE_TMP': '/tmp/.ansible-netplumb-bench'}
TARGET_WALL = 1.3
TARGET_CPU = 1.5


# "<role> : <task> ------ 3.63s", one line per task in profile_tasks' summary at the end of a run.
PROFILE_LINE = re.compile(r'^(?P<name>\S.*?) -{2,} (?P<secs>[0-9.]+)s$')
# The Show step's last line: "480/480 address pairs connected (100.0%, threshold 100.0%) across 16 nodes ...".
SUMMARY_LINE = re.compile(r'(?P<connected>\d+)/(?P<total>\d+) address pairs connected \(')


def children_cpu():
    """CPU seconds (user + system) of the finished child processes so far: ansible and the podman clients it ran."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_matrix(lab, forks, concurrency):
    """One ansible-playbook run as a user runs it (the default output); (wall seconds, (connected, total),
    {task: seconds}, CPU seconds).

    The tasks' times come from ansible.posix's profile_tasks callback (its summary lines), the probes connected from
    the run's last line (the matrix's summary); a run below the threshold (1.0: every probe) fails, and raises here.
    """
    cmd = [
        os.path.join(BIN, 'ansible-playbook'),
        '-i',
        lab.inventory,
        os.path.join(REPO, 'playbooks', 'connectivity_matrix.yml'),
        '-f',
        str(forks),
        '-e',
        json.dumps({'connectivity_matrix_concurrency': concurrency}),
    ]
    start, cpu = time.time(), children_cpu()
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=lab.ansible_env(
            ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
            ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks',
            PROFILE_TASKS_TASK_OUTPUT_LIMIT='100',
            **TUNING,
        ),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    wall, cpu = time.time() - start, children_cpu() - cpu
    if proc.returncode != 0:
        raise AssertionError(
            'connectivity_matrix.yml failed (rc=%d, forks %d, concurrency %d):\n%s\n%s'
            % (proc.returncode, forks, concurrency, proc.stdout[-3000:], proc.stderr[-2000:])
        )
    summaries = SUMMARY_LINE.findall(proc.stdout)
    if not summaries:
        raise AssertionError('no "N/M address pairs connected (" line in the run\'s output:\n%s' % proc.stdout[-3000:])
    tasks = {}
    for line in proc.stdout.splitlines():
        found = PROFILE_LINE.match(line.strip())
        if found:
            name = found.group('name').split(' : ')[-1]
            tasks[name] = tasks.get(name, 0.0) + float(found.group('secs'))
    return wall, tuple(int(x) for x in summaries[-1]), tasks, cpu


def module_floor(lab, forks):
    """Seconds ``ansible -m ansible.builtin.ping`` takes on every node: one module's round per node, the connection's floor."""
    cmd = [
        os.path.join(BIN, 'ansible'),
        '-i',
        lab.inventory,
        'k8s_cluster',
        '-f',
        str(forks),
        '-m',
        'ansible.builtin.ping',
        '-o',
    ]
    start, cpu = time.time(), children_cpu()
    proc = subprocess.run(
        cmd, cwd=REPO, env=lab.ansible_env(**TUNING), capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            'ansible -m ping failed (rc=%d): %s%s' % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
        )
    return time.time() - start, children_cpu() - cpu


def verdict(ok):
    return 'PASS' if ok else 'FAIL'


def main():
    print(
        'connectivity matrix benchmark: %d nodes x %d NICs (%d probes), %d CPUs, load average %s; %s'
        % (
            NODES,
            NICS,
            PROBES,
            os.cpu_count() or 0,
            ' '.join('%.1f' % x for x in os.getloadavg()),
            ' '.join('%s=%s' % item for item in sorted(TUNING.items())),
        )
    )
    lab = None
    try:
        start = time.time()
        with LAB.lab_up(PREFIX, nodes=NODES, nics=NICS, subnet_offset=OFFSET) as lab:
            print('lab %s up in %.1f s' % (PREFIX, time.time() - start))
            floors, matrices = [], []
            for attempt in range(PARALLEL_RUNS):
                floor, floor_cpu = module_floor(lab, NODES)
                floors.append((floor, floor_cpu))
                wall, (connected, total), tasks, cpu = run_matrix(lab, forks=NODES, concurrency=16)
                if connected != PROBES or total != PROBES:
                    raise AssertionError(
                        'matrix run %d: %d/%d connected, expected %d/%d'
                        % (attempt + 1, connected, total, PROBES, PROBES)
                    )
                matrices.append((wall, cpu, tasks))
                print(
                    'run %d: floor %.1f s, %.1f CPU s; matrix %.1f s, %.1f CPU s (%d/%d connected; load %.1f)'
                    % (
                        attempt + 1,
                        floor,
                        floor_cpu,
                        wall,
                        cpu,
                        connected,
                        total,
                        os.getloadavg()[0],
                    )
                )
            floor = min(f[0] for f in floors)
            floor_cpu = min(f[1] for f in floors)
            best, _cpu, tasks = min(matrices, key=lambda item: item[0])
            cpu = min(m[1] for m in matrices)
            print(
                'best matrix run: %.1f s; its tasks (profile_tasks): %s; the rest is ansible-playbook\'s start and end'
                % (best, ', '.join('%s %.2f s' % item for item in sorted(tasks.items(), key=lambda item: -item[1])))
            )
            print(
                'wall: matrix %.1f s / floor %.1f s = %.2fx (target <= %.1fx) %s'
                % (best, floor, best / floor, TARGET_WALL, verdict(best / floor <= TARGET_WALL))
            )
            print(
                'controller CPU: matrix %.1f s / floor %.1f s = %.2fx (target <= %.1fx) %s'
                % (cpu, floor_cpu, cpu / floor_cpu, TARGET_CPU, verdict(cpu / floor_cpu <= TARGET_CPU))
            )
            # Not the verdict (that stays best against best), but what the same pairs say: each matrix run against
            # the floor run just before it, which saw the machine at the same speed.
            walls = sorted(m[0] / f[0] for f, m in zip(floors, matrices))
            cpus = sorted(m[1] / f[1] for f, m in zip(floors, matrices))
            print(
                'each run against its own floor: wall %s (median %.2fx), CPU %s (median %.2fx)'
                % (
                    ' '.join('%.2fx' % r for r in walls),
                    statistics.median(walls),
                    ' '.join('%.2fx' % r for r in cpus),
                    statistics.median(cpus),
                )
            )
    finally:
        # lab_up leaves a lab it found running: this benchmark's lab goes in any case.
        if lab is not None and lab.found() != ([], []):
            start = time.time()
            lab.down()
            print('lab %s down in %.1f s' % (PREFIX, time.time() - start))
        elif lab is not None:
            print('lab %s is down' % PREFIX)


if __name__ == '__main__':
    main()
