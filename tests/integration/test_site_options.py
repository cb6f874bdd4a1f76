# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml refuses a bad site_prove before anything runs (no lab: the run stops in its second play, before the plan
and before any node is reached). What site_prove does on a cluster is tested in test_site.py."""

import os

from conftest import REPO, ansible_playbook


def test_a_bad_site_prove_stops_the_run_before_anything_runs(tmp_path):
    inventory = tmp_path / 'hosts.ini'
    # The node is this machine over the local connection: nothing may reach it.
    inventory.write_text(
        '[k8s_cluster]\nworker1 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'
    )
    run = ansible_playbook(
        ['-i', str(inventory), os.path.join(REPO, 'playbooks', 'site.yml'), '-e', 'site_prove=sometimes']
    )
    assert run.rc != 0
    [(task, msg)] = run.failures()
    assert task == 'Check site_prove', run.failures()
    assert msg == 'site_prove "sometimes" is not one of always, changed (see the top of playbooks/site.yml)', msg
    assert [play['play']['name'] for play in run.data['plays']] == [
        'Say what this run leaves out',
        'Check every role\'s options on every host before anything runs',
    ]
    assert not (tmp_path / '.plan').exists() and not (tmp_path / '.proof').exists()
