# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""net_guard for real: Ansible runs the module inside a network namespace built as a node with a
management NIC (eth0, default route via its gateway) and a data NIC (nic1), each a veth to a "peer"
namespace that answers as the gateway and the data network.

Changes that break the management path (a rule sending the gateway's traffic to a table that
cannot reach it) together with changes to a data NIC (down, so the kernel drops its routes), a
sysctl and a file are rolled back by a failed probe and by the watchdog timer; afterwards the
rules, the routes of every table, the link, the sysctl and the file equal what they were before.

What this does not prove: that an SSH connection survives (the play runs with the local connection
inside the namespace; the watchdog path stands in for a lost controller), nor the lab's nodes (the
multihome_routing role's own use is tested on a lab in test_multihome_routing_role.py).
Only addresses of 198.18.0.0/15, only in the test's namespaces; they are deleted also on failure.
"""

import json
import os
import secrets
import textwrap
import time

import pytest

from conftest import ansible_playbook
from netns import sh, veth

pytestmark = pytest.mark.netns


@pytest.fixture
def node(tmp_path):
    if os.geteuid() != 0:
        pytest.fail('needs root to create network namespaces')
    tag = secrets.token_hex(3)
    ns, peer = 'ng%s-node' % tag, 'ng%s-peer' % tag
    for name in (ns, peer):
        sh('ip', 'netns', 'add', name)
    try:
        for ifname, other, addr, peer_addr in (
            ('eth0', 'p0', '198.19.250.11/24', '198.19.250.1/24'),
            ('nic1', 'p1', '198.19.251.11/24', '198.19.251.1/24'),
        ):
            veth(ns, ifname, addr, peer, other, peer_addr)
        for name in (ns, peer):
            sh('ip', '-n', name, 'link', 'set', 'lo', 'up')
        sh('ip', '-n', ns, 'route', 'add', 'default', 'via', '198.19.250.1', 'dev', 'eth0')
        # A static route through the data NIC: the kernel drops it when nic1 goes down.
        sh('ip', '-n', ns, 'route', 'add', '198.19.252.0/24', 'via', '198.19.251.1', 'dev', 'nic1')
        sh('ip', '-n', ns, 'rule', 'add', 'priority', '500', 'from', '198.19.251.11', 'table', '700')
        sh('ip', '-n', ns, 'route', 'add', '198.19.251.0/24', 'dev', 'nic1', 'table', '700')
        conf = tmp_path / 'routing.conf'
        conf.write_text('before\n')
        yield {'ns': ns, 'peer': peer, 'conf': str(conf), 'guard': str(tmp_path / 'guard'), 'tmp': tmp_path}
    finally:
        for name in (ns, peer):
            sh('ip', 'netns', 'del', name, check=False)


def state(node):
    """What the guard must bring back: rules, all routes, nic1, its rp_filter, the file."""
    ns = node['ns']
    return {
        'rules': json.loads(sh('ip', '-j', 'rule', 'show', ns=ns).stdout),
        # IPv4 (the kernel adds IPv6 link-local routes whenever it is done with their addresses), as a set: the
        # kernel lists a table in its own order, which re-adding may change.
        'routes': sorted(
            json.dumps(r, sort_keys=True)
            for r in json.loads(sh('ip', '-4', '-j', 'route', 'show', 'table', 'all', ns=ns).stdout)
        ),
        'nic1': [
            (a['local'], a['prefixlen'])
            for a in json.loads(sh('ip', '-j', 'addr', 'show', 'dev', 'nic1', ns=ns).stdout)[0]['addr_info']
            if a['family'] == 'inet'
        ],
        'nic1_up': 'UP' in json.loads(sh('ip', '-j', 'link', 'show', 'dev', 'nic1', ns=ns).stdout)[0]['flags'],
        'rp_filter': sh('cat', '/proc/sys/net/ipv4/conf/nic1/rp_filter', ns=ns).stdout.strip(),
        'conf': open(node['conf']).read(),
    }


GUARD = '''
- name: Guarded change
  hosts: localhost
  gather_facts: false
  vars:
    guard: &guard
      id: routing_test
      guard_dir: {guard}
      links: [nic1]
      sysctls: [net.ipv4.conf.nic1.rp_filter]
      files: [{conf}]
      timeout: {timeout}
      probe_timeout: 2
  tasks:
    - name: Checkpoint
      netplumb.multihome.net_guard:
        <<: *guard
        state: checkpoint
        probes: {probes}
      register: checkpoint
{change}
    - name: Confirm
      netplumb.multihome.net_guard:
        state: confirm
        id: routing_test
        guard_dir: {guard}
        probe_timeout: 2
      when: {confirm}
'''

BREAK = '''
    - name: Break the management path, take the data NIC down, change a sysctl and the file
      ansible.builtin.shell: |
        set -e
        ip route add unreachable default table 900
        ip rule add priority 100 to 198.19.250.0/24 table 900
        ip link set nic1 down
        echo 1 > /proc/sys/net/ipv4/conf/nic1/rp_filter
        echo after > {conf}
      changed_when: true
'''


def run_guarded(node, change, timeout=60, probes='[]', confirm='true'):
    play = node['tmp'] / 'play.yml'
    play.write_text(
        textwrap.dedent(GUARD).format(
            guard=node['guard'],
            conf=node['conf'],
            timeout=timeout,
            probes=probes,
            change=change.format(conf=node['conf']),
            confirm=confirm,
        )
    )
    return ansible_playbook(
        ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3', str(play)],
        prefix=('ip', 'netns', 'exec', node['ns']),
    )


def test_a_broken_gateway_is_rolled_back_to_exactly_the_state_before(node):
    before = state(node)
    assert before['nic1_up'] and before['rp_filter'] == '0'
    run = run_guarded(node, BREAK)
    assert run.rc != 0
    kept = run.results('Checkpoint')['kept']
    assert kept == ['default gateway 198.19.250.1 on eth0']
    confirm = run.results('Confirm')
    assert confirm['failed'] and confirm['rolled_back_by'] == 'probe'
    assert 'default gateway 198.19.250.1 on eth0 (' in confirm['msg'] and 'rolled back' in confirm['msg']
    assert [p['name'] for p in confirm['broken']] == ['default gateway 198.19.250.1 on eth0']
    # Named as put back: the file, the sysctl, the link, the route the kernel dropped, the rule and table removed.
    restored = '\n'.join(confirm['restored'])
    for what in (
        'file ' + node['conf'],
        'sysctl net.ipv4.conf.nic1.rp_filter=0',
        'link nic1 up',
        '198.19.252.0/24 via 198.19.251.1',
        'removed IPv4 rule priority 100 to 198.19.250.0/24 table 900',
        'removed IPv4 route unreachable default',
    ):
        assert what in restored, (what, confirm['restored'])
    assert confirm['residual'] == []
    assert state(node) == before
    # The gateway answers again, and nothing of the guard is left.
    sh('ping', '-c1', '-W2', '198.19.250.1', ns=node['ns'])
    assert not os.path.exists(os.path.join(node['guard'], 'routing_test'))


def test_an_unconfirmed_change_is_rolled_back_by_the_node_itself(node):
    before = state(node)
    run = run_guarded(node, BREAK, timeout=10, confirm='false')
    assert run.rc == 0, run.failures()
    watchdog = run.results('Checkpoint')['watchdog']
    assert state(node) != before
    # A second change under the same name is refused while the first is pending.
    again = run_guarded(node, '', timeout=10, confirm='false')
    assert again.rc != 0 and 'is under way since' in again.results('Checkpoint')['msg']
    result = os.path.join(node['guard'], 'routing_test', 'result.json')
    deadline = time.monotonic() + 30
    while not os.path.exists(result) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert os.path.exists(result), 'the watchdog did not roll back within 30 s'
    while os.path.exists('/proc/%d' % watchdog['pid']) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert state(node) == before
    play = node['tmp'] / 'status.yml'
    play.write_text(
        textwrap.dedent(
            '''
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Status
              netplumb.multihome.net_guard: {state: status, id: routing_test, guard_dir: %s}
        '''
            % node['guard']
        )
    )
    status = ansible_playbook(
        ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=/usr/bin/python3', str(play)],
        prefix=('ip', 'netns', 'exec', node['ns']),
    )
    res = status.results('Status')
    assert status.rc != 0 and res['rolled_back_by'] == 'timer'
    assert 'was not confirmed within 10s, so the node rolled it back by itself' in res['msg']
    assert 'link nic1 up' in res['msg'] and res['residual'] == []


def test_a_change_that_keeps_the_probes_passing_stays(node):
    probes = json.dumps(
        [{'name': 'data peer', 'ping': '198.19.251.1', 'source': '198.19.251.11'}, {'ping': '198.19.253.1'}]
    )
    change = '''
    - name: Route a storage network through the data NIC
      ansible.builtin.command: ip route add 198.19.253.0/24 via 198.19.251.1 dev nic1
      changed_when: true
'''
    run = run_guarded(node, change, probes=probes)
    assert run.rc == 0, run.failures()
    checkpoint = run.results('Checkpoint')
    assert checkpoint['kept'] == ['default gateway 198.19.250.1 on eth0', 'data peer']
    # A probe that fails before the change is left out, with why.
    assert [d['name'] for d in checkpoint['dropped']] == ['ping 198.19.253.1']
    assert checkpoint['dropped'][0]['reason'].startswith('fails before the change')
    confirm = run.results('Confirm')
    assert confirm['restored'] == [] and confirm['rolled_back_by'] is None
    assert all(p['ok'] for p in confirm['probes'])
    assert '198.19.253.0/24 via 198.19.251.1' in sh('ip', 'route', 'show', ns=node['ns']).stdout
    assert (
        not os.path.exists('/proc/%d' % checkpoint['watchdog']['pid'])
        or open('/proc/%d/stat' % checkpoint['watchdog']['pid']).read().split()[2] == 'Z'
    )
    assert not os.path.exists(os.path.join(node['guard'], 'routing_test'))


def test_a_failed_step_is_rolled_back_and_bad_probes_are_refused_before_anything(node):
    before = state(node)
    # The break and a failing step inside a block whose rescue rolls back.
    change = (
        '    - name: The change\n      block:\n'
        + textwrap.indent(textwrap.dedent(BREAK), '        ')
        + textwrap.indent(
            textwrap.dedent(
                '''
                - name: A step that fails
                  ansible.builtin.command: 'false'
                  changed_when: true
              rescue:
                - name: Roll back
                  netplumb.multihome.net_guard: {{state: rollback, id: routing_test, guard_dir: %s}}
                '''
                % node['guard']
            ),
            '      ',
        )
    )
    run = run_guarded(node, change, confirm='false')
    res = run.results('Roll back')
    assert res['changed'] and res['rolled_back_by'] == 'rollback' and res['residual'] == []
    assert state(node) == before
    bad = run_guarded(node, '', probes=json.dumps([{'ping': 'gateway'}]))
    assert bad.rc != 0
    assert 'probes[0] ping "gateway" is not an IP address' in bad.results('Checkpoint')['msg']
    assert not os.path.exists(os.path.join(node['guard'], 'routing_test'))
