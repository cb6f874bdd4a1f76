# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the connectivity matrix of a 16 nodes x 2 NICs lab against Ansible's own floor on the same nodes.

Run with `make bench` (or `.venv/bin/python bench/bench_connectivity_matrix.py` after `make tree`), as root
with rootful podman (tests/lab/bootstrap-podman.sh). Brings up the lab netplumb-bench (16 podman nodes,
198.18.120.0/24 management, 198.18.121-122.0/24 data: 16 x 15 x 2 = 480 probes) and in the same run times,
over the lab's default connection (community.docker.nsenter: a fork of ``nsenter`` per command):

(floor) ``ansible -m ansible.builtin.ping`` on the 16 nodes (one trivial module round per node, forks 16);
(a) playbooks/connectivity_matrix.yml (forks 16), best of 3, each checked to have all 480 probes connected;

alternating floor and matrix runs (three of each), so that both see the same load. It prints the best wall time
and the controller's CPU seconds (ansible and the processes it ran, children of this process) of each, the
ratios, where the matrix run's time went, and PASS/FAIL against issue 16's targets "matrix within 1.3x of the
floor's wall time" and "controller CPU within 1.5x of the floor's". The machine's load is printed too: the
nodes are containers on this host. The lab is taken down at the end, also when a run fails (and also when it
was found running).
"""

import datetime
import importlib.util
import json
import os
import resource
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
from conftest import BIN, PlaybookRun  # noqa: E402  (tests/integration, put on the path above)

NODES, NICS, OFFSET, PREFIX = 16, 2, 120, 'netplumb-bench'
PROBES = NODES * (NODES - 1) * NICS
PARALLEL_RUNS = 3
# An absolute remote_tmp spares Ansible the `echo ~` round that expands ~/.ansible/tmp: without pipelining (neither
# lab connection has it) a module costs five commands per node, this makes it four. All runs use it.
TUNING = {'ANSIBLE_REMOTE_TMP': '/tmp/.ansible-netplumb-bench'}
TARGET_WALL = 1.3
TARGET_CPU = 1.5


def task_seconds(task):
    """Wall seconds of one task of the json callback's output."""
    duration = task['task'].get('duration') or {}
    if not duration.get('start') or not duration.get('end'):
        return 0.0

    def parse(text):
        return datetime.datetime.strptime(text.rstrip('Z'), '%Y-%m-%dT%H:%M:%S.%f')

    return (parse(duration['end']) - parse(duration['start'])).total_seconds()


def children_cpu():
    """CPU seconds (user + system) of the finished child processes so far: ansible and the podman clients it ran."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_matrix(lab, forks, concurrency):
    """One ansible-playbook run; (wall seconds, summary of the matrix, {task: seconds}, slowest in-node probing, CPU seconds)."""
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
        env=lab.ansible_env(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', **TUNING),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    wall, cpu = time.time() - start, children_cpu() - cpu
    run = PlaybookRun(proc)
    if run.rc != 0:
        raise AssertionError(
            'connectivity_matrix.yml failed (rc=%d, forks %d, concurrency %d): %s\n%s'
            % (run.rc, forks, concurrency, run.failures(), run.stderr[-2000:])
        )
    tasks = {}
    in_node = 0.0
    for play in run.data['plays']:
        for task in play['tasks']:
            name = task['task']['name'].split(' : ')[-1]
            tasks[name] = tasks.get(name, 0.0) + task_seconds(task)
            for res in task['hosts'].values():
                if isinstance(res, dict) and 'elapsed' in res and 'probes' in res:
                    in_node = max(in_node, res['elapsed'])
    summary = run.results('Build the connectivity matrix', host='worker1')['matrix']['summary']
    return wall, summary, tasks, in_node, cpu


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
                wall, summary, tasks, in_node, cpu = run_matrix(lab, forks=NODES, concurrency=16)
                if summary['connected'] != PROBES or summary['total'] != PROBES:
                    raise AssertionError(
                        'matrix run %d: %r, expected %d/%d connected' % (attempt + 1, summary, PROBES, PROBES)
                    )
                matrices.append((wall, cpu, tasks, in_node))
                print(
                    'run %d: floor %.1f s, %.1f CPU s; matrix %.1f s, %.1f CPU s (%d/%d connected; load %.1f)'
                    % (
                        attempt + 1,
                        floor,
                        floor_cpu,
                        wall,
                        cpu,
                        summary['connected'],
                        summary['total'],
                        os.getloadavg()[0],
                    )
                )
            floor = min(f[0] for f in floors)
            floor_cpu = min(f[1] for f in floors)
            best, _cpu, tasks, in_node = min(matrices, key=lambda item: item[0])
            cpu = min(m[1] for m in matrices)
            slow = sorted(tasks.items(), key=lambda item: -item[1])[:5]
            print(
                'best matrix run: %.1f s; its tasks: %s; in-node probing at most %.2f s'
                % (best, ', '.join('%s %.1f s' % (name, secs) for name, secs in slow), in_node)
            )
            print(
                'wall: matrix %.1f s / floor %.1f s = %.2fx (target <= %.1fx) %s'
                % (best, floor, best / floor, TARGET_WALL, verdict(best / floor <= TARGET_WALL))
            )
            print(
                'controller CPU: matrix %.1f s / floor %.1f s = %.2fx (target <= %.1fx) %s'
                % (cpu, floor_cpu, cpu / floor_cpu, TARGET_CPU, verdict(cpu / floor_cpu <= TARGET_CPU))
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
