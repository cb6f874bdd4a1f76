# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift_report filter on what ansible-playbook's json callback really prints for a --check --diff run:
local files (a changed copy with its diff, a loop with labels, one item unchanged), a command check mode skips, and
a failure. Kubernetes objects and the whole site.yml are test_site.py's part (drift.yml on
the lab, after a rule, a sysctl and a NAD were changed by hand)."""

import subprocess
import sys

from ansible_collections.netplumb.multihome.plugins.module_utils.drift import drift_report, drift_rows

from conftest import BIN, ansible_env

PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the config
      ansible.builtin.copy: {{content: "x=2\\n", dest: "{d}/a.conf", mode: "0644"}}
    - name: Set the lines
      ansible.builtin.lineinfile: {{path: "{d}/b.conf", regexp: "^{{{{ item.key }}}}=", line: "{{{{ item.key }}}}={{{{ item.value }}}}"}}
      loop: [{{key: rp_filter, value: 2}}, {{key: arp_ignore, value: 1}}]
      loop_control: {{label: "nic1 {{{{ item.key }}}}={{{{ item.value }}}}"}}
    - name: A command check mode skips
      ansible.builtin.command: touch {d}/c
      changed_when: true
{extra}
'''


def check_json(play):
    """ansible-playbook PLAY --check --diff on localhost with the json callback; the CompletedProcess."""
    return subprocess.run(
        [
            BIN + '/ansible-playbook',
            '-i',
            'localhost,',
            '-c',
            'local',
            '-e',
            'ansible_python_interpreter=%s' % sys.executable,
        ]
        + [str(play), '--check', '--diff'],
        env=ansible_env(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json'),
        capture_output=True,
        text=True,
        check=False,
    )


def check_run(tmp_path, extra=''):
    (tmp_path / 'a.conf').write_text('x=1\n')
    (tmp_path / 'b.conf').write_text('rp_filter=2\narp_ignore=0\n')
    play = tmp_path / 'play.yml'
    play.write_text(PLAY.format(d=tmp_path, extra=extra))
    return check_json(play)


def test_rows_name_the_task_and_item_with_the_diff_and_nothing_changed(tmp_path):
    proc = check_run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = drift_rows(proc.stdout)
    assert [(r['host'], r['task'], r['what']) for r in found['rows']] == [
        ('localhost', 'Write the config', None),
        ('localhost', 'Set the lines', 'nic1 arp_ignore=1'),
    ]
    assert found['rows'][0]['diff'][-2:] == ['-x=1', '+x=2']
    assert '-arp_ignore=0' in found['rows'][1]['diff'] and '+arp_ignore=1' in found['rows'][1]['diff']
    assert found['failed'] == [] and found['unreachable'] == [] and found['hosts'] == ['localhost']
    assert drift_report(found)[0] == 'drift: 2 changes on localhost would bring the cluster back to the inventory'
    # Check mode changed nothing.
    assert (tmp_path / 'a.conf').read_text() == 'x=1\n' and not (tmp_path / 'c').exists()


def test_a_failed_check_is_listed_apart(tmp_path):
    proc = check_run(
        tmp_path, extra="    - name: A check that fails\n      ansible.builtin.fail: {msg: no kubeconfig}\n"
    )
    found = drift_rows(proc.stdout)
    assert found['failed'] == [{'host': 'localhost', 'task': 'A check that fails', 'msg': 'no kubeconfig'}]
    assert drift_report(found)[-1] == 'localhost failed at "A check that fails": no kubeconfig'


def test_a_run_that_would_change_nothing_is_no_drift(tmp_path):
    (tmp_path / 'a.conf').write_text('x=2\n')
    play = tmp_path / 'play.yml'
    play.write_text(
        '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Write the config\n'
        '      ansible.builtin.copy: {content: "x=2\\n", dest: "%s/a.conf", mode: "0644"}\n' % tmp_path
    )
    proc = check_json(play)
    found = drift_rows(proc.stdout)
    assert found['rows'] == [] and drift_report(found) == [
        'no drift: 1 host checked, nothing differs from the inventory'
    ]
