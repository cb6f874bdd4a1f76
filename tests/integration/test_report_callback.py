# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The callback netplumb.multihome.report in a real ansible-playbook run on localhost (no lab): where it writes by
default, a looped cidr_plan filed item by item with its reserved networks in the role's dict form, a rescued failure
not named as what failed, the real one named; the page passes the HTML validator and Chromium loads it. The pages of
real runs with a preflight, matrices and the AIS map are checked in test_site.py and test_connectivity_matrix.py."""

import json
import os

from browser import Page, dom, validate
from conftest import ansible_playbook

PLAY = """
- name: A run with plans, a rescued failure and a real one
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan in a loop
      netplumb.multihome.cidr_plan:
        scheme: "{{ item.scheme }}"
        supernet: "{{ item.supernet | default(omit) }}"
        networks: "{{ item.networks | default(omit) }}"
        subnets: "{{ item.subnets | default(omit) }}"
        nodes: [node1, node2]
        reserved: {service_network: 198.18.40.0/22}
      loop:
        - {scheme: network_ranges, supernet: 198.18.32.0/19, networks: [{name: storage-net, prefix: 24}]}
        - {scheme: node_subnets, subnets: 198.18.64.0/18/24}
      loop_control:
        label: "{{ item.scheme }}"

    - name: A failure a rescue recovers from
      block:
        - name: Fail and be rescued
          ansible.builtin.fail:
            msg: recovered from
      rescue:
        - name: Go on
          ansible.builtin.debug:
            msg: went on

    - name: Fail for real
      ansible.builtin.fail:
        msg: the one that stopped the run
"""


def test_the_page_lands_next_to_the_inventory_and_names_the_real_failure(tmp_path, monkeypatch):
    inventory = tmp_path / 'inventory'
    inventory.mkdir()
    (inventory / 'hosts.ini').write_text(
        'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n'
    )
    play = tmp_path / 'report_play.yml'
    play.write_text(PLAY)
    monkeypatch.delenv('NETPLUMB_REPORT_DIR', raising=False)
    run = ansible_playbook(
        ['-i', str(inventory / 'hosts.ini'), str(play)], ANSIBLE_CALLBACKS_ENABLED='netplumb.multihome.report'
    )
    assert run.rc == 2, run.stderr
    # No directory given: .report next to the inventory, named after the playbook; the run's last line says where.
    page = inventory / '.report' / 'report_play.html'
    assert sorted(os.listdir(str(inventory / '.report'))) == ['report_play.html', 'report_play.json']
    assert 'Report of this run: %s' % page in run.stderr
    data = json.loads((inventory / '.report' / 'report_play.json').read_text())
    # Each loop item filed, with the reserved network of the dict form.
    assert sorted(data['plan']) == ['network_ranges', 'node_subnets']
    assert data['plan']['network_ranges']['reserved'] == ['198.18.40.0/22']
    assert [n['range'] for n in data['plan']['network_ranges']['plan']['networks']] == ['198.18.32.0/24']
    # The rescued failure is recorded but not what failed first.
    assert data['run']['ok'] is False
    assert [(f['task'], f['rescued']) for f in data['run']['failed']] == [
        ('Fail and be rescued', True),
        ('Fail for real', False),
    ]
    assert data['run']['failed_first']['msg'] == 'the one that stopped the run'
    ok, said = validate(str(page))
    assert ok, said
    shown = Page(dom(str(page)))
    assert shown.by_id['verdict'] == 'failed'
    assert shown.by_id['failed-first'] == 'What failed first: Fail for real on localhost'
    assert 'Network attachment ranges of 198.18.32.0/19: 198.18.32.0/19 (97% free)' in shown.text
    assert len(shown.find('rect', **{'class': 'reserved'})) == 1
