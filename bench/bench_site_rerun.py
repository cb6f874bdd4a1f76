# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: playbooks/site.yml on the main job's lab, run twice: the first run, the no-op rerun, and what the rerun
costs each node.

Run with `make bench` (or `.venv/bin/python bench/bench_site_rerun.py` after `make deps tree`), as root with rootful
podman and the build cache `make deps` fills. Brings up the lab as `make main` does (3 nodes x 2 NICs, the router,
the control plane, kubelet in every node, the AIS operator's stand-in; prefix netplumb-bench-site,
198.18.24-26.0/24: clear of the ranges vars/addressing.yml plans from 198.18.32.0 up),
runs site.yml with vars/lab.yml twice in the same run and prints, with the machine's load:

- the wall time of each run and their ratio (issue 16's target: the rerun in at most half the first run's time);
- the rerun's changed count (target 0), and which proofs it made again and why (site_prove, by default changed:
  the preflight and the pod matrix only when something changed; the node matrix and AIStore's checks always);
- the tasks each node ran in the rerun, skipped ones included (each costs a round on the node or in the
  controller's worker for it; target at most 12), and which they were; apart from them, the steps run once for all
  nodes (run_once: one result, on the play's first node, for the whole play), counted and named but not per node.

The lab is taken down at the end, also when a run fails.
"""

import datetime
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_connectivity_matrix import BIN, REPO, verdict  # noqa: E402

from cluster import ControlPlane, main_job_lab  # noqa: E402  (tests/integration, on the path)
from conftest import ansible_playbook  # noqa: E402

PREFIX, OFFSET = 'netplumb-bench-site', 24
TARGET_RATIO = 0.5
TARGET_TASKS = 12
REPORT_DIR = os.path.join(REPO, '.build', 'bench-report')


def run_site(lab, env, args):
    start = time.time()
    run = ansible_playbook(
        ['-i', lab.inventory, os.path.join(REPO, 'playbooks', 'site.yml')] + list(args), timeout=1800, **env
    )
    took = time.time() - start
    if run.rc != 0:
        raise AssertionError('site.yml failed (rc=%d): %s\n%s' % (run.rc, run.failures(), run.stderr[-2000:]))
    return run, took


def node_tasks(run, nodes):
    """``({node: [task names]}, [names of the steps run once])``: every task a node has a result for, skipped ones
    included, and apart the steps run once for all nodes.

    A step that ran once for a play of several nodes (run_once) has a result for one node only; a task of the nodes
    has one for each node the play reached (serial batches are separate plays in the output: they are taken together
    by play and task name). The rerun reaches every node, so a task with a result for one node of several ran once.
    """
    reached = {}
    for play in run.data['plays']:
        for task in play['tasks']:
            key = (play['play']['name'], task['task']['name'])
            reached.setdefault(key, set()).update(host for host in task['hosts'] if host in nodes)
    out = dict((node, []) for node in nodes)
    once = []
    for (_play, task), hosts in reached.items():
        if len(hosts) == 1 and len(nodes) > 1:
            once.append(task)
            continue
        for host in hosts:
            out[host].append(task)
    return out, once


def _seconds(stamp):
    """Seconds since the epoch of the JSON callback's ISO time (``2026-12-03T04:20:16.123456Z``)."""
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00')).timestamp()


def where_time_goes(run, top=10):
    """``([(play, seconds)], [(seconds, play, task)])``: each play's time from its first task's start to its last
    task's end, and the ``top`` slowest tasks (the time from a task's start to its end, over all its hosts)."""
    plays, tasks = [], []
    for play in run.data['plays']:
        spans = [
            (
                _seconds(task['task']['duration']['start']),
                _seconds(task['task']['duration']['end']),
                task['task']['name'],
            )
            for task in play['tasks']
            if task['task'].get('duration', {}).get('end')
        ]
        if not spans:
            continue
        plays.append((play['play']['name'], max(span[1] for span in spans) - min(span[0] for span in spans)))
        tasks.extend((end - start, play['play']['name'], name) for start, end, name in spans)
    return plays, sorted(tasks, reverse=True)[:top]


def main():
    print(
        'site.yml rerun benchmark: the main job\'s lab (3 nodes x 2 NICs); %d CPUs, load average %s'
        % (os.cpu_count() or 0, ' '.join('%.1f' % x for x in os.getloadavg()))
    )
    start = time.time()
    with main_job_lab(PREFIX, OFFSET) as lab, tempfile.TemporaryDirectory() as workdir:
        print('lab %s up in %.1f s' % (PREFIX, time.time() - start))
        cp = ControlPlane(lab)
        env = dict(lab.env, PATH=lab.kube_bin_dir() + os.pathsep + BIN + os.pathsep + os.environ['PATH'], **cp.env())
        # As make main runs it: with the report page written at the end of each run (kept in .build, outside git).
        env.update(ANSIBLE_CALLBACKS_ENABLED='netplumb.multihome.report', NETPLUMB_REPORT_DIR=REPORT_DIR)
        extra = os.path.join(workdir, 'site.json')
        with open(extra, 'w') as handle:
            json.dump(lab.addressing_vars('10.128.0.0/14', '172.30.0.0/16'), handle)
        args = ('-e', '@' + os.path.join(REPO, 'vars', 'lab.yml'), '-e', '@' + extra)
        first, first_time = run_site(lab, env, args)
        print('first run: %.1f s (load %.1f)' % (first_time, os.getloadavg()[0]))
        second, second_time = run_site(lab, env, args)
        changed = sum(stats['changed'] for stats in second.data['stats'].values())
        tasks, once = node_tasks(second, lab.nodes)
        most = max(len(names) for names in tasks.values())
        print(
            'rerun: %.1f s (load %.1f), changed=%d %s'
            % (second_time, os.getloadavg()[0], changed, verdict(changed == 0))
        )
        print(
            'ratio: the rerun took %.2f of the first run (target <= %.1f) %s'
            % (second_time / first_time, TARGET_RATIO, verdict(second_time / first_time <= TARGET_RATIO))
        )
        print(
            'tasks per node on the rerun: at most %d (target <= %d) %s'
            % (most, TARGET_TASKS, verdict(most <= TARGET_TASKS))
        )
        node = lab.nodes[0]
        # site_prove (default changed): what the rerun proved again and why.
        print('proofs on the rerun: %s' % '; '.join(second.results('Say which proofs run and why', host=node)['msg']))
        print('%s ran: %s' % (node, '; '.join(tasks[node])))
        print(
            'steps run once for all nodes (run_once, on the controller or the first node): %d: %s'
            % (len(once), '; '.join(once))
        )
        print('the rerun\'s report page: %s' % os.path.join(REPORT_DIR, 'site.html'))
        # The rerun's whole JSON callback output, beside the page, for a closer look at where its time goes.
        with open(os.path.join(REPORT_DIR, 'rerun-output.json'), 'w') as handle:
            json.dump(second.data, handle)
        plays, slowest = where_time_goes(second)
        print('where the rerun\'s time goes, by play: %s' % '; '.join('%s %.1f s' % item for item in plays))
        print('its slowest tasks: %s' % '; '.join('%.1f s %s (%s)' % item for item in slowest))


if __name__ == '__main__':
    main()
