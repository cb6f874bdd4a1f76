# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_options with ``hosts`` for real: one task (run_once) checks every host of the play with the variables a task
of the play sees on each, and names the hosts of each problem; with Ansible's own precedence (a play variable wins
over a host variable, an extra variable over both).

Three inventory hosts on the local connection; nothing is read or changed on them (the action needs no connection).
What this does not prove: the playbooks' use of it (test_dpdk_vpp_host.py checks that their message comes first).
"""

import textwrap

from conftest import ansible_playbook

INVENTORY = '''
[k8s_cluster]
worker1 ansible_connection=local connectivity_matrix_count=2
worker2 ansible_connection=local connectivity_matrix_count=many
worker3 ansible_connection=local connectivity_matrix_count=many connectivity_matrix_bandwidth=maybe
'''

PLAY = '''
- name: Check every host's options in one step
  hosts: k8s_cluster
  gather_facts: false
  vars: {play_vars}
  tasks:
    - name: Check
      netplumb.multihome.role_options:
        roles: [connectivity_matrix]
        hosts: "{{{{ ansible_play_hosts_all }}}}"
      run_once: true
      register: checked
      ignore_errors: true
'''


def run(tmp_path, play_vars='{}', *args):
    (tmp_path / 'hosts.ini').write_text(INVENTORY)
    (tmp_path / 'play.yml').write_text(textwrap.dedent(PLAY.format(play_vars=play_vars)))
    return ansible_playbook(['-i', str(tmp_path / 'hosts.ini'), str(tmp_path / 'play.yml')] + list(args))


def test_one_task_names_each_problem_with_its_hosts(tmp_path):
    result = run(tmp_path)
    tasks = result.data['plays'][0]['tasks']
    assert len(tasks) == 1 and list(tasks[0]['hosts']) == ['worker1'], 'ran once, on the first host'
    checked = tasks[0]['hosts']['worker1']
    assert checked['failed']
    problems = checked['problems']
    assert len(problems) == 2, problems
    assert problems[0].startswith(
        "worker2, worker3: connectivity_matrix: connectivity_matrix_count (Echo requests per probe"
    )
    assert "expects a whole number, not 'many'" in problems[0], problems[0]
    assert problems[1].startswith('worker3: connectivity_matrix: connectivity_matrix_bandwidth'), problems[1]


def test_a_play_variable_wins_over_the_host_variables_as_in_ansible(tmp_path):
    result = run(tmp_path, '{connectivity_matrix_count: 5}')
    checked = result.data['plays'][0]['tasks'][0]['hosts']['worker1']
    # The play's count is what every host's tasks see: only worker3's bandwidth is left.
    assert [p.split(':')[0] for p in checked['problems']] == ['worker3'], checked['problems']


def test_extra_variables_win_over_both(tmp_path):
    result = run(
        tmp_path,
        '{connectivity_matrix_count: many}',
        '-e',
        'connectivity_matrix_count=3',
        '-e',
        'connectivity_matrix_bandwidth=true',
    )
    checked = result.data['plays'][0]['tasks'][0]['hosts']['worker1']
    assert checked['problems'] == [] and not checked.get('failed'), checked
