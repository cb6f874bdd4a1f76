# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The multi-NIC lab (role netplumb.multihome.lab) is what it claims, checked by behaviour.

The session's lab (fixture ``lab`` of lab.py, 3 nodes x 2 NICs) is brought up with the real
ansible-playbook; the nodes are looked at from inside (podman exec) and through Ansible's connection
(community.docker.nsenter by default, the PID asked of podman when a task connects). One test brings up a
2 x 3 lab under another prefix and subnets, with the containers.podman.podman connection, and checks that
``lab_state=absent`` leaves no container, network, host link or inventory file behind.
Needs root with rootful podman (tests/lab/bootstrap-podman.sh, run by `make test`); fails otherwise.
"""

import json
import os
import subprocess

import pytest

from conftest import BIN, REPO
from lab import (  # noqa: F401 pylint: disable=unused-import
    Lab,
    host_links,
    lab,  # the fixture
    lab_up,
    missing,
    podman,
    podman_json,
)

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab


@pytest.fixture(autouse=True)
def podman_present():
    """`make test` installs rootful podman: its absence is a failure, not a skip."""
    if missing():
        pytest.fail(missing())


OTHER_PREFIX = 'netplumb-labtest-2x3'


def run(*argv, **env):
    return subprocess.run(
        list(argv), cwd=REPO, env=env or None, capture_output=True, text=True, timeout=300, check=False
    )


def interfaces(the_lab, node):
    """{ifname: [IPv4 address/prefix, ...]} inside ``node``."""
    proc = the_lab.exec(node, 'ip', '-json', 'addr', 'show')
    assert proc.returncode == 0, proc.stderr
    return dict(
        (
            link['ifname'],
            ['%s/%d' % (a['local'], a['prefixlen']) for a in link.get('addr_info', []) if a['family'] == 'inet'],
        )
        for link in json.loads(proc.stdout)
    )


def planned_interfaces(the_lab, node):
    want = dict((ifname, [ip + '/24']) for ifname, ip in the_lab.addresses(node).items())
    want['lo'] = ['127.0.0.1/8']
    return want


def test_every_node_has_exactly_its_planned_interfaces(lab):
    for node in lab.nodes:
        assert interfaces(lab, node) == planned_interfaces(lab, node), node
        hostname = lab.exec(node, 'hostname')
        assert hostname.stdout.strip() == node
        # Internal networks: no default route, nothing reaches out.
        routes = lab.exec(node, 'ip', '-json', 'route', 'show', 'default')
        assert routes.returncode == 0 and json.loads(routes.stdout or '[]') == [], (node, routes.stdout)


def test_every_peer_answers_on_every_network(lab):
    failed = []
    for node in lab.nodes:
        for peer in lab.nodes:
            if peer == node:
                continue
            for ifname, ip in sorted(lab.addresses(peer).items()):
                proc = lab.exec(node, 'ping', '-c', '1', '-W', '2', '-I', ifname, ip)
                if proc.returncode != 0:
                    failed.append(
                        '%s -> %s %s (%s): %s'
                        % (node, peer, ifname, ip, proc.stdout.strip().splitlines()[-1:] or proc.stderr)
                    )
    assert not failed, '\n'.join(failed)


def test_cni_plugins_are_there_read_only(lab):
    proc = lab.exec('worker1', '/opt/cni/bin/macvlan', env={'CNI_COMMAND': 'VERSION'})
    assert proc.returncode == 0, proc.stderr
    assert '1.0.0' in json.loads(proc.stdout)['supportedVersions']
    for name in ('bridge', 'host-device', 'static', 'tuning', 'sbr'):
        assert lab.exec('worker1', 'test', '-x', '/opt/cni/bin/' + name).returncode == 0, name
    assert lab.exec('worker1', 'touch', '/opt/cni/bin/netplumb-probe').returncode != 0, (
        'the CNI directory is writable from a node'
    )


def test_nodes_are_privileged_for_sysctls_and_netns(lab):
    proc = lab.exec(
        'worker2',
        'sh',
        '-ec',
        'sysctl -qw net.ipv4.conf.nic1.rp_filter=0; ip netns add netplumb-probe; ip netns del netplumb-probe',
    )
    assert proc.returncode == 0, proc.stderr
    assert lab.exec('worker2', 'cat', '/proc/sys/net/ipv4/conf/nic1/rp_filter').stdout.strip() == '0'


def ansible_hostnames(the_lab, *hosts):
    """{host: result} of ``ansible -m command -a 'cat /etc/hostname'`` on the lab's inventory: what each connection reaches."""
    proc = run(
        os.path.join(BIN, 'ansible'),
        ','.join(hosts) or 'k8s_cluster',
        '-i',
        the_lab.inventory,
        '-m',
        'ansible.builtin.command',
        '-a',
        'cat /etc/hostname',
        **the_lab.ansible_env(ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1'),
    )
    return proc, json.loads(proc.stdout)['plays'][0]['tasks'][0]['hosts']


def test_ansible_reaches_every_node_over_the_nsenter_connection(lab):
    proc, results = ansible_hostnames(lab)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Each host's connection lands in its own container (its hostname), not on this host or a neighbour.
    assert dict((h, r.get('stdout')) for h, r in results.items()) == dict((n, n) for n in lab.nodes)


def test_nsenter_connection_follows_a_restarted_node_and_never_enters_a_stopped_one(lab):
    container = lab.containers['worker3']
    pid = podman_json('container', 'inspect', container)[0]['State']['Pid']
    try:
        assert podman('restart', '--time', '1', container).returncode == 0
        assert podman_json('container', 'inspect', container)[0]['State']['Pid'] != pid
        proc, results = ansible_hostnames(lab, 'worker3')
        assert proc.returncode == 0 and results['worker3']['stdout'] == 'worker3', proc.stdout + proc.stderr
        assert podman('stop', '--time', '1', container).returncode == 0
        proc, results = ansible_hostnames(lab, 'worker3')
        assert proc.returncode != 0
        assert 'stdout' not in results['worker3'], results
        assert '%s does not run' % container in json.dumps(results['worker3']), results
    finally:
        # The session's lab again as it was: started, with its addresses (podman keeps the static ones).
        podman('start', container)
    assert lab.running()
    assert interfaces(lab, 'worker3') == planned_interfaces(lab, 'worker3')


def inventory_hostvars(path):
    proc = run(os.path.join(BIN, 'ansible-inventory'), '-i', path, '--list', **Lab().ansible_env())
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return data['k8s_cluster']['hosts'], data['_meta']['hostvars']


def test_inventory_parses_and_matches_the_collection_format(lab):
    hosts, hostvars = inventory_hostvars(lab.inventory)
    assert hosts == lab.nodes
    for node in lab.nodes:
        got = hostvars[node]
        assert got['ansible_host'] == lab.containers[node]
        assert got['ansible_connection'] == 'community.docker.nsenter'
        assert got['node_ip'] == lab.node_ips[node]
        # Each data address is written once: additional_hosts is derived from multihome_nics where needed.
        assert 'additional_hosts' not in got
        assert got['multihome_nics'] == [
            {'name': nic, 'address': ip + '/24'} for nic, ip in sorted(lab.nics[node].items())
        ]
    # The default lab is the example inventory made real: same NICs, primary IP in node_ip.
    repo_hosts, repo_vars = inventory_hostvars(os.path.join(REPO, 'inventory', 'hosts.ini'))
    assert repo_hosts == hosts
    for node in lab.nodes:
        assert repo_vars[node]['ansible_host'] == hostvars[node]['node_ip']
        assert 'additional_hosts' not in repo_vars[node]
        assert repo_vars[node]['multihome_nics'] == hostvars[node]['multihome_nics']


def test_second_run_changes_nothing(lab):
    again = lab.playbook('present')
    assert again.rc == 0, again.failures()
    assert again.stats()['changed'] == 0, [
        t['task']['name']
        for p in again.data['plays']
        for t in p['tasks']
        if t['hosts'].get('localhost', {}).get('changed')
    ]


def test_bad_settings_fail_with_a_message():
    bad = Lab('netplumb-labtest-bad', nodes=0, nics=2, subnet_offset=300)
    result = bad.playbook('present')
    assert result.rc != 0
    messages = ' '.join(msg for _task, msg in result.failures())
    assert 'lab_nodes 0 is not a number of nodes' in messages
    assert 'lab_subnet_offset 300' in messages
    assert bad.found() == ([], [])


def test_other_size_lab_comes_up_and_absent_leaves_nothing(lab):
    stale = Lab(OTHER_PREFIX, nodes=2, nics=3, subnet_offset=100)
    if stale.found() != ([], []):
        stale.down()  # left over from an interrupted run
    with lab_up(OTHER_PREFIX, nodes=2, nics=3, subnet_offset=100, connection='podman') as other:
        for node in other.nodes:
            assert interfaces(other, node) == planned_interfaces(other, node), node
        proc, results = ansible_hostnames(other)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert dict((h, r.get('stdout')) for h, r in results.items()) == {'worker1': 'worker1', 'worker2': 'worker2'}
        ping = other.exec('worker1', 'ping', '-c', '1', '-W', '2', '-I', 'nic3', other.nics['worker2']['nic3'])
        assert ping.returncode == 0, ping.stdout + ping.stderr
        hosts, hostvars = inventory_hostvars(other.inventory)
        assert hosts == ['worker1', 'worker2']
        assert hostvars['worker1']['ansible_connection'] == 'containers.podman.podman'
        assert 'ansible_nsenter_pid' not in hostvars['worker1']
        assert [n['address'] for n in hostvars['worker2']['multihome_nics']] == [
            '198.18.101.12/24',
            '198.18.102.12/24',
            '198.18.103.12/24',
        ]
        links = other.links()
        # 4 bridges, and a veth on each for each of the 2 nodes
        assert len(links) == 4 + 4 * 2, links
    assert other.down_run is not None and other.down_run.stats()['changed'] > 0
    assert other.found() == ([], [])
    assert not os.path.exists(other.inventory)
    assert not os.path.exists(os.path.dirname(other.inventory))
    left = set(links) & set(host_links())
    assert not left, 'host links of the removed lab are left: %s' % dict((i, links[i]) for i in left)
    # The session's lab, on other names and subnets, is untouched.
    assert lab.running()
