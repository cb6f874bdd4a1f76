# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The multihome_routing role's entry point change run without check before it: refused naming the host and what to
run first, before anything is read or changed (no lab: localhost, whose routing the refusal never reaches). check then
change on the lab's nodes is tested in test_multihome_routing_role.py and test_site.py."""

from conftest import ansible_playbook

PLAY = """
- name: The entry point change alone
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Change without check
      ansible.builtin.import_role:
        name: netplumb.multihome.multihome_routing
        tasks_from: change
        rolespec_validate: false
"""


def test_change_without_check_is_refused_naming_the_host_and_what_to_run_first(tmp_path):
    playbook = tmp_path / 'change.yml'
    playbook.write_text(PLAY)
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text(
        'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'
    )
    run = ansible_playbook(['-i', str(inventory), str(playbook)])
    assert run.rc != 0
    [(task, msg)] = run.failures()
    assert task.endswith('Change the policy routing under a guard that rolls it back when a probe breaks'), task
    assert (
        'The entry point change of netplumb.multihome.multihome_routing ran on localhost without check: '
        'run tasks_from check first, on the same hosts'
    ) in msg, msg
    # Nothing past the refusal ran: no guard, no module.
    assert [t['task']['name'].split(' : ')[-1] for p in run.data['plays'] for t in p['tasks']] == [
        'Change the policy routing under a guard that rolls it back when a probe breaks'
    ]
