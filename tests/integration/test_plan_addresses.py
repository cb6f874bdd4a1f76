# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/plan_addresses.yml (the main job until the lab exists), run for real with ansible-playbook."""

import json
import os
import shutil

import pytest

from conftest import REPO


@pytest.fixture
def inventory(tmp_path):
    """A copy of the example inventory that a test may edit."""
    inv = tmp_path / 'inventory'
    shutil.copytree(os.path.join(REPO, 'inventory'), str(inv), ignore=shutil.ignore_patterns('.plan'))
    return inv


def blocks(run):
    plan = run.results('Plan Multi-NIC CNI blocks')['plan']
    return {(h['name'], h['interface']): h['pod_cidr'] for i in plan['interfaces'] for h in i['hosts']}


def test_plans_the_example_inventory_and_is_stable(run_playbook, inventory):
    state = inventory / '.plan'
    first = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert first.rc == 0, first.failures() or first.stderr
    # vars/addressing.yml: 198.18.128.0/17 with 2 interface bits (/19 per NIC network) and 6 host bits (/25 per host).
    assert blocks(first) == {
        ('worker1', 'nic1'): '198.18.128.0/25',
        ('worker2', 'nic1'): '198.18.128.128/25',
        ('worker3', 'nic1'): '198.18.129.0/25',
        ('worker1', 'nic2'): '198.18.160.0/25',
        ('worker2', 'nic2'): '198.18.160.128/25',
        ('worker3', 'nic2'): '198.18.161.0/25',
    }
    # vlan_mode l3: each node routes to both peers on both NICs.
    routes = first.results('Plan Multi-NIC CNI blocks')['routes']
    assert {'dst': '198.18.128.128/25', 'via': '198.18.1.12', 'dev': 'nic1'} in routes['worker1']
    assert all(len(routes[w]) == 4 for w in ('worker1', 'worker2', 'worker3'))
    nodes = first.results('Plan OVN-Kubernetes host subnets')['plan']['nodes']
    assert [n['subnets'] for n in nodes] == [['198.18.64.0/24'], ['198.18.65.0/24'], ['198.18.66.0/24']]
    ranges = first.results('Plan one IPAM range per network attachment')['plan']['networks']
    assert [r['range'] for r in ranges] == ['198.18.32.0/24', '198.18.33.0/24']
    assert sorted(os.listdir(str(state))) == ['multinic_blocks.json', 'network_ranges.json', 'node_subnets.json']
    assert first.stats()['changed'] > 0

    second = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert second.rc == 0, second.failures()
    assert second.stats()['changed'] == 0
    assert blocks(second) == blocks(first)
    # A plan equal to the kept one is not written again: the writing steps are skipped, not a module run per plan.
    kept = second.results('Keep the plans for the next run')['results']
    assert [item['item']['key'] for item in kept] == ['multinic_blocks', 'node_subnets', 'network_ranges']
    assert all(item.get('skipped') for item in kept), kept
    assert second.results('Create the directory that keeps the plans').get('skipped')

    # A kept plan that went missing is written again, the same as before; the others are left alone.
    before = (state / 'node_subnets.json').read_text()
    (state / 'node_subnets.json').unlink()
    third = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert third.rc == 0, third.failures()
    assert third.stats()['changed'] == 1
    assert (state / 'node_subnets.json').read_text() == before
    written = [bool(item.get('changed')) for item in third.results('Keep the plans for the next run')['results']]
    assert written == [False, True, False]


def test_removing_a_host_keeps_the_others(run_playbook, inventory):
    run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    hosts = (inventory / 'hosts.ini').read_text()
    (inventory / 'hosts.ini').write_text(
        '\n'.join(line for line in hosts.splitlines() if not line.startswith('worker2')) + '\n'
    )
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert run.rc == 0, run.failures()
    assert blocks(run) == {
        ('worker1', 'nic1'): '198.18.128.0/25',
        ('worker3', 'nic1'): '198.18.129.0/25',
        ('worker1', 'nic2'): '198.18.160.0/25',
        ('worker3', 'nic2'): '198.18.161.0/25',
    }
    kept = json.loads((inventory / '.plan' / 'multinic_blocks.json').read_text())
    assert 'worker2' not in json.dumps(kept)
    # The replaced plan is backed up, not lost.
    assert any(name.startswith('multinic_blocks.json.') for name in os.listdir(str(inventory / '.plan')))


def test_check_mode_writes_nothing(run_playbook, inventory):
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'), '--check')
    assert run.rc == 0, run.failures()
    assert blocks(run)[('worker1', 'nic1')] == '198.18.128.0/25'
    assert not (inventory / '.plan').exists()


def test_nic_outside_every_master_net_fails_before_writing(run_playbook, inventory):
    host_vars = inventory / 'host_vars' / 'worker3.yml'
    host_vars.write_text(host_vars.read_text().replace('198.18.2.13/24', '198.18.9.13/24'))
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert run.rc != 0
    [(task, msg)] = run.failures()
    assert task.endswith(' : Plan Multi-NIC CNI blocks'), task
    assert '198.18.9.13' in msg and 'worker3' in msg and '198.18.2.0/24' in msg
    assert not (inventory / '.plan').exists()


def test_overlap_between_schemes_fails(run_playbook, inventory):
    run = run_playbook(
        'plan_addresses.yml',
        str(inventory / 'hosts.ini'),
        '-e',
        '{"addressing_node_subnets": {"subnets": "198.18.160.0/19/24"}}',
    )
    assert run.rc != 0
    [(task, msg)] = run.failures()
    assert task.endswith(' : Check the three plans against each other'), task
    assert '198.18.160.0/19' in msg


def test_the_plan_is_one_fact_for_later_roles(run_playbook, inventory):
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert run.rc == 0, run.failures()
    plan = run.results('Publish the plan')['ansible_facts']['addressing_plan']
    assert sorted(plan) == ['hosts', 'multinic_blocks', 'network_ranges', 'node_subnets', 'reserved', 'summary']
    assert [n['range'] for n in plan['network_ranges']['networks']] == ['198.18.32.0/24', '198.18.33.0/24']
    assert plan['reserved']['service_network'] == '172.30.0.0/16'
    # additional_hosts derived from the host_vars' multihome_nics: the data addresses are written once.
    assert plan['hosts'][0]['additional_hosts'] == ['198.18.1.11', '198.18.2.11']


def test_an_ais_guide_inventory_without_host_vars(run_playbook, inventory):
    """additional_hosts only, the interfaces named by the guide's network_interface: the NICs are derived."""
    shutil.rmtree(str(inventory / 'host_vars'))
    (inventory / 'hosts.ini').write_text(
        '[k8s_cluster]\n'
        + ''.join(
            'worker%d ansible_host=198.18.0.1%d additional_hosts=198.18.1.1%d,198.18.2.1%d\n' % (i, i, i, i)
            for i in (1, 2, 3)
        )
    )
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'), '-e', 'network_interface=nic1,nic2')
    assert run.rc == 0, run.failures()
    assert blocks(run)[('worker2', 'nic2')] == '198.18.160.128/25'
    # Without the interface names, the Multi-NIC plan cannot know the NICs: the host is named.
    unnamed = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert unnamed.rc != 0
    assert (
        'host worker1 has additional_hosts (198.18.1.11,198.18.2.11) but its data NICs are not named'
        in unnamed.failures()[-1][1]
    )


def test_additional_hosts_and_multihome_nics_that_disagree_stop_the_play(run_playbook, inventory):
    line = 'worker2 ansible_host=198.18.0.12'
    hosts = (inventory / 'hosts.ini').read_text().replace(line, line + ' additional_hosts=198.18.1.12,198.18.2.99')
    (inventory / 'hosts.ini').write_text(hosts)
    run = run_playbook('plan_addresses.yml', str(inventory / 'hosts.ini'))
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert msg.startswith(
        'host worker2: additional_hosts 198.18.1.12,198.18.2.99 disagrees with multihome_nics '
        '(nic1 198.18.1.12/24, nic2 198.18.2.12/24)'
    ), msg
    assert not (inventory / '.plan').exists()
