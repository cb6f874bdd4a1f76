# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for integration tests that run the real ansible-playbook and ansible-galaxy."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_env(**extra):
    """The environment the Makefile sets (collections path with this checkout), plus ``extra``."""
    env = dict(os.environ)
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(REPO, '.build', 'collections'))
    env.update(
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_FORCE_COLOR='0',
        ANSIBLE_RETRY_FILES_ENABLED='0',
        ANSIBLE_LOCALHOST_WARNING='0',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
    )
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    env.update(extra)
    return env


class PlaybookRun:
    """The outcome of one ansible-playbook run with the json callback."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stderr = proc.stderr
        try:
            self.data = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(
                'ansible-playbook printed no JSON (rc=%d):\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr)
            )

    def stats(self, host='localhost'):
        return self.data['stats'][host]

    def results(self, task_name, host='localhost'):
        """The result of the named task on ``host`` (the last one when it ran several times)."""
        for play in self.data['plays']:
            for task in play['tasks']:
                name = task['task']['name']
                # Role tasks may carry the role's name: "netplumb.multihome.multus : Apply ...".
                if (name == task_name or name.endswith(' : ' + task_name)) and host in task['hosts']:
                    return task['hosts'][host]
        raise KeyError('no task %r ran on %s' % (task_name, host))

    def failures(self):
        """``[(task name, msg)]`` of every failed task."""
        out = []
        for play in self.data['plays']:
            for task in play['tasks']:
                for res in task['hosts'].values():
                    if res.get('failed'):
                        # A failed loop says "One or more items failed": name the items' own messages.
                        items = [r.get('msg', '') for r in res.get('results', []) if r.get('failed')]
                        out.append((task['task']['name'], ' | '.join(items) if items else res.get('msg', '')))
        return out


def ansible_playbook(argv, timeout=600, prefix=(), **env):
    """``ansible-playbook argv`` from the checkout with the json callback (after ``prefix``, such as
    ``ip netns exec NS``); the PlaybookRun."""
    proc = subprocess.run(
        list(prefix) + [os.path.join(BIN, 'ansible-playbook')] + list(argv),
        cwd=REPO,
        env=ansible_env(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookRun(proc)


@pytest.fixture
def run_playbook():
    def run(playbook, inventory, *args, **env):
        return ansible_playbook(['-i', inventory, os.path.join(REPO, 'playbooks', playbook)] + list(args), **env)

    return run
