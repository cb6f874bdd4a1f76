# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the connectivity matrix of a 16 nodes x 2 NICs lab, in parallel and one probe after another.

Run with `make bench` (or `.venv/bin/python bench/bench_connectivity_matrix.py` after `make tree`), as root
with rootful podman (tests/lab/bootstrap-podman.sh). Brings up the lab netplumb-bench (16 podman nodes,
198.18.120.0/24 management, 198.18.121-122.0/24 data: 16 x 15 x 2 = 480 probes) and in the same run times
playbooks/connectivity_matrix.yml

(a) in parallel: every node at once (forks 16) and up to 16 probes at once inside each node, best of 3 runs;
(b) one after another: forks 1 and connectivity_matrix_concurrency 1, the same 480 probes;

both over the lab's default connection (community.docker.nsenter: a fork of ``nsenter`` per command), and, for
scale, the floor: ``ansible -m ansible.builtin.ping`` on the 16 nodes (one module round per node); then the same
floor and one parallel run over the lab's other connection, containers.podman.podman (a ``podman exec`` per
command, four or five per module and node: it has no pipelining), to show where the time goes with it;

then prints both times, the ratio, where the parallel run's time went, and PASS/FAIL against the targets
"parallel >= 5x faster" and "16x2 matrix under 15 s". The machine's load is printed too: the nodes are
containers on this host, so other work on it slows every podman exec. The lab is taken down at the end,
also when a run fails (and also when it was found running).
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
TARGET_RATIO = 5.0
TARGET_SECONDS = 15.0


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
            floor, floor_cpu = module_floor(lab, NODES)
            print(
                'floor: one trivial module (ansible.builtin.ping) on the %d nodes takes %.1f s, %.1f CPU s on this side '
                '(forks %d, %s connection; load %.1f)'
                % (NODES, floor, floor_cpu, NODES, lab.connection, os.getloadavg()[0])
            )
            parallel = []
            for attempt in range(PARALLEL_RUNS):
                wall, summary, tasks, in_node, cpu = run_matrix(lab, forks=NODES, concurrency=16)
                if summary['connected'] != PROBES or summary['total'] != PROBES:
                    raise AssertionError(
                        'parallel run %d: %r, expected %d/%d connected' % (attempt + 1, summary, PROBES, PROBES)
                    )
                parallel.append((wall, tasks, in_node))
                print(
                    '(a) parallel run %d: %6.1f s, %.1f CPU s  (forks %d, 16 probes at once per node; %d/%d connected; load %.1f)'
                    % (attempt + 1, wall, cpu, NODES, summary['connected'], summary['total'], os.getloadavg()[0])
                )
            best, tasks, in_node = min(parallel, key=lambda item: item[0])
            slow = sorted(tasks.items(), key=lambda item: -item[1])[:4]
            print(
                '    best run: %.1f s; slowest tasks: %s; in-node probing at most %.1f s'
                % (best, ', '.join('%s %.1f s' % (name, secs) for name, secs in slow), in_node)
            )
            wall, summary, tasks, in_node, cpu = run_matrix(lab, forks=1, concurrency=1)
            if summary['connected'] != PROBES:
                raise AssertionError('sequential run: %r, expected %d connected' % (summary, PROBES))
            print(
                '(b) one after another: %6.1f s, %.1f CPU s  (forks 1, 1 probe at a time; %d/%d connected; load %.1f)'
                % (wall, cpu, summary['connected'], summary['total'], os.getloadavg()[0])
            )
            ratio = wall / best
            print(
                'ratio: parallel is %.1fx faster (target >= %.0fx) %s'
                % (ratio, TARGET_RATIO, verdict(ratio >= TARGET_RATIO))
            )
            print(
                '16x2 matrix in %.1f s (target under %.0f s) %s'
                % (best, TARGET_SECONDS, verdict(best < TARGET_SECONDS))
            )
            print(
                'for scale: one trivial module on every node took %.1f s just before (the %s connection\'s floor; '
                'it moves with the load of this host)' % (floor, lab.connection)
            )
            # The same nodes over the podman connection: lab.yml only rewrites the inventory (the containers stay).
            podman_lab = LAB.Lab(PREFIX, NODES, NICS, OFFSET, connection='podman')
            podman_lab.up()
            floor, floor_cpu = module_floor(podman_lab, NODES)
            wall, summary, tasks, in_node, cpu = run_matrix(podman_lab, forks=NODES, concurrency=16)
            print(
                'over the podman connection instead: floor %.1f s (%.1f CPU s), parallel matrix %.1f s (%.1f CPU s; %d/%d connected; '
                'load %.1f)' % (floor, floor_cpu, wall, cpu, summary['connected'], summary['total'], os.getloadavg()[0])
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
