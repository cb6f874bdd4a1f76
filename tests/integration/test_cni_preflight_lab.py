# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The data-plane preflight (playbooks/preflight.yml, role and module cni_preflight) on a lab of its own.

A 3 nodes x 2 NICs lab (prefix netplumb-pf, management 198.18.60.0/24, nic1 198.18.61.0/24, nic2
198.18.62.0/24) runs the real CNI plugins (the host's, mounted at /opt/cni/bin in every node). The
test plans the NAD ranges itself with range_plan.plan_ranges in 198.18.60.0/22, so that each range
lies inside the subnet of the NIC its macvlan children share the L2 of:

* pf-nic1: macvlan on nic1, 198.18.61.0/24, no per-node slices -> worker1..3 test with .254, .253, .252;
* pf-nic2: macvlan on nic2, MTU 1400, 198.18.62.0/25 with /27 node slices -> the top usable address
  of each node's slice: .30, .62, .94;
* pf-ipvlan: ipvlan l2 on nic2, 198.18.62.128/25 (fails with "operation not supported" on this kernel,
  and is checked as working, pings included, where the kernel has ipvlan);
* pf-nomaster: macvlan on nic9, which no node has.

The playbook runs three times: pf-nic1 + pf-nic2 twice (same report, no change counted), then pf-nic1 +
pf-ipvlan + pf-nomaster (fails naming the broken node/attachment pairs). The module alone (ad hoc, on one
node) is checked in check mode, against the namespaces of a killed run, with a bridge the plugin creates
for the test, and for a repeated absent. The expected addresses are worked out here from the plan, not
read from the module; the report rows come from the role's cni_preflight_results fact. After the runs the
nodes are inspected from inside (podman exec) for left-over namespaces and links.
Needs root with rootful podman (tests/lab/bootstrap-podman.sh); fails otherwise.
"""

import ipaddress
import json
import os
import subprocess

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges

from conftest import BIN, REPO, PlaybookRun
from lab import lab_up

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab

PREFIX = 'netplumb-pf'
NODES = ['worker1', 'worker2', 'worker3']
PLAN = plan_ranges(
    '198.18.60.0/22',
    [
        {'name': 'pf-nic1', 'prefix': 24},
        {'name': 'pf-nic2', 'prefix': 25, 'node_prefix': 27},
        {'name': 'pf-ipvlan', 'prefix': 25},
        {'name': 'pf-nomaster', 'prefix': 24},
    ],
    nodes=NODES,
    reserved=['198.18.60.0/24'],
)['plan']
NIC1 = {
    'name': 'pf-nic1',
    'type': 'macvlan',
    'master': 'nic1',
    'mode': 'bridge',
    'ipam': {'type': 'whereabouts', 'from_plan': True},
}
NIC2 = {
    'name': 'pf-nic2',
    'type': 'macvlan',
    'master': 'nic2',
    'mode': 'bridge',
    'mtu': 1400,
    'ipam': {'type': 'whereabouts', 'from_plan': True, 'node_slices': True},
}
IPVLAN = {
    'name': 'pf-ipvlan',
    'type': 'ipvlan',
    'master': 'nic2',
    'mode': 'l2',
    'ipam': {'type': 'whereabouts', 'from_plan': True},
}
NOMASTER = {
    'name': 'pf-nomaster',
    'type': 'macvlan',
    'master': 'nic9',
    'ipam': {'type': 'whereabouts', 'from_plan': True},
}
# What each node must get: the END of the range by node index, or the top usable address of its slice.
EXPECTED = {
    'pf-nic1': {'worker1': '198.18.61.254/24', 'worker2': '198.18.61.253/24', 'worker3': '198.18.61.252/24'},
    'pf-nic2': {'worker1': '198.18.62.30/25', 'worker2': '198.18.62.62/25', 'worker3': '198.18.62.94/25'},
    'pf-ipvlan': {'worker1': '198.18.62.254/25', 'worker2': '198.18.62.253/25', 'worker3': '198.18.62.252/25'},
}
MTU = {'pf-nic1': 1500, 'pf-nic2': 1400, 'pf-ipvlan': 1500}
IPVLAN_ERROR = 'failed to create ipvlan: operation not supported'
REPORT_TASK = 'Collect the results of every node'
# The report and the verdict are one task: its last line names the broken pairs when it fails.
FAIL_TASK = 'Report per node and attachment, and fail naming the broken ones'


def test_the_plan_puts_the_ranges_inside_the_lab_nics():
    ranges = dict((n['name'], n['range']) for n in PLAN['networks'])
    assert ranges == {
        'pf-nic1': '198.18.61.0/24',
        'pf-nic2': '198.18.62.0/25',
        'pf-ipvlan': '198.18.62.128/25',
        'pf-nomaster': '198.18.63.0/24',
    }
    for name, per_node in EXPECTED.items():
        for address in per_node.values():
            assert ipaddress.ip_interface(address).network == ipaddress.ip_network(ranges[name])


@pytest.fixture(scope='module')
def pf_lab():
    with lab_up(PREFIX, nodes=3, nics=2, subnet_offset=60) as the_lab:
        yield the_lab


def ansible(the_lab, argv, extra_env=None):
    env = the_lab.ansible_env(
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', **(extra_env or {})
    )
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    return PlaybookRun(proc)


def preflight(the_lab, networks, *args):
    extra = {
        'cni_preflight_plan': PLAN,
        'cni_preflight_defaults': {'namespace': 'pf'},
        'cni_preflight_networks': networks,
    }
    return ansible(
        the_lab,
        [
            os.path.join(BIN, 'ansible-playbook'),
            '-i',
            the_lab.inventory,
            os.path.join(REPO, 'playbooks', 'preflight.yml'),
            '-e',
            json.dumps(extra),
        ]
        + list(args),
    )


def module(the_lab, node, args, *flags):
    """The module alone on one node, ad hoc; its result."""
    run = ansible(
        the_lab,
        [
            os.path.join(BIN, 'ansible'),
            '-i',
            the_lab.inventory,
            node,
            '-m',
            'netplumb.multihome.cni_preflight',
            '-a',
            json.dumps(args),
        ]
        + list(flags),
    )
    return run.data['plays'][0]['tasks'][0]['hosts'][node]


def rows(run):
    facts = run.results(REPORT_TASK, 'worker1')['ansible_facts']['cni_preflight_results']
    return dict(((r['node'], r['attachment']), r) for r in facts)


def leftovers(the_lab, nodes=None):
    """{node: [what the preflight left]}: npf-* namespaces, macvlan/ipvlan/bridge/veth links, marked links."""
    out = {}
    for node in nodes or NODES:
        # One exec per node: podman exec is the slow part here.
        proc = the_lab.exec(node, 'sh', '-c', 'ip netns list && echo ---- && ip -d -j link show')
        assert proc.returncode == 0, proc.stderr
        netns, links = proc.stdout.split('----\n')
        found = [line.split()[0] for line in netns.splitlines() if line.startswith('npf-')]
        for link in json.loads(links):
            kind = link.get('linkinfo', {}).get('info_kind')
            if kind in ('macvlan', 'ipvlan', 'bridge', 'veth') or link.get('ifalias') == 'netplumb-preflight':
                found.append('%s %s' % (kind, link['ifname']))
        # eth0 and the NICs are veths whose peers are on the host: podman's, not the preflight's.
        out[node] = [f for f in found if f not in ('veth eth0', 'veth nic1', 'veth nic2')]
    return out


def failure_of(run, task):
    """The message of the failed task named ``task`` (role tasks carry the role's name in front)."""
    for name, msg in run.failures():
        if name == task or name.endswith(' : ' + task):
            return msg if isinstance(msg, str) else '\n'.join(msg)
    raise AssertionError('task %r did not fail; failures: %s' % (task, run.failures()))


def nothing_left(the_lab, nodes=None):
    assert leftovers(the_lab, nodes) == dict((n, []) for n in nodes or NODES)


def kernel_has_ipvlan(the_lab):
    """Asked of the kernel itself, not of the plugin: can a node make an ipvlan link on nic2?"""
    made = the_lab.exec(
        'worker1', 'ip', 'link', 'add', 'link', 'nic2', 'name', 'pfipvprobe', 'type', 'ipvlan', 'mode', 'l2'
    )
    if made.returncode == 0:
        the_lab.exec('worker1', 'ip', 'link', 'del', 'pfipvprobe')
        return True
    assert 'not supported' in made.stderr.lower() or 'unknown' in made.stderr.lower(), made.stderr
    return False


def check_good_row(row, name, node):
    assert row['ok'], row
    assert row['errors'] == []
    assert row['test_address'] == EXPECTED[name][node]
    iface = row['interface']
    assert iface['up'] and iface['carrier'] and iface['found']
    assert iface['mtu'] == MTU[name] and iface['expected_mtu'] == MTU[name]
    assert EXPECTED[name][node] in iface['addresses']
    # The plugin's own result names the interface and the address the static IPAM gave it.
    assert [i['name'] for i in row['result']['interfaces'] if i.get('sandbox')] == ['net1']
    assert [ip['address'] for ip in row['result']['ips']] == [EXPECTED[name][node]]
    peers = dict((p['node'], p) for p in row['peers'])
    assert sorted(peers) == sorted(n for n in NODES if n != node)
    for peer_node, peer in peers.items():
        assert peer['address'] == EXPECTED[name][peer_node].split('/')[0]
        assert peer['ok'] and peer['received'] >= 1 and peer['error'] is None, peer


# ------------------------------------------------------------------ the working attachments
# Every node up with its planned address and MTU reaching every peer, nothing left, a second run reporting the same
# without a change: the molecule scenario's proof (tests/molecule/cni_preflight: converge, idempotence, verify).
# The exact test addresses are derive_test_address's unit tests' (tests/unit/plugins/module_utils/test_cni_preflight.py).


# ------------------------------------------------------------------ broken attachments


@pytest.fixture(scope='module')
def bad_run(pf_lab):
    # On a fresh lab: what is left afterwards is this run's.
    nothing_left(pf_lab)
    return preflight(pf_lab, [NIC1, IPVLAN, NOMASTER])


def test_a_missing_master_fails_with_the_plugins_own_words_naming_node_and_attachment(pf_lab, bad_run):
    assert bad_run.rc != 0
    got = rows(bad_run)
    for node in NODES:
        row = got[(node, 'pf-nomaster')]
        assert not row['ok']
        # netlink's LinkNotFoundError, as macvlan returns it when it looks the master up.
        assert row['plugin_error'] == 'Link not found'
        assert row['errors'] == ['ADD of plugin macvlan failed: Link not found']
        assert row['probe'] == 'pf-nomaster: probe skipped: interface net1 is not in %s: its ADD failed' % row['netns']
        # The good attachment of the same run is still tested, and passes.
        check_good_row(got[(node, 'pf-nic1')], 'pf-nic1', node)
    failures = failure_of(bad_run, FAIL_TASK)
    # Only the play's verdict failed: every node ran every phase.
    assert [name for name, _msg in bad_run.failures()] == ['netplumb.multihome.cni_preflight : ' + FAIL_TASK]
    for node in NODES:
        assert '%s/pf-nomaster: ADD of plugin macvlan failed: Link not found' % node in failures
        assert '%s/pf-nic1' % node not in failures
    nothing_left(pf_lab)


def test_ipvlan_fails_where_the_kernel_lacks_it_and_works_where_it_has_it(pf_lab, bad_run):
    got = rows(bad_run)
    failures = failure_of(bad_run, FAIL_TASK)
    if kernel_has_ipvlan(pf_lab):
        for node in NODES:
            check_good_row(got[(node, 'pf-ipvlan')], 'pf-ipvlan', node)
            assert '%s/pf-ipvlan' % node not in failures
    else:
        for node in NODES:
            row = got[(node, 'pf-ipvlan')]
            assert not row['ok']
            assert row['plugin_error'] == IPVLAN_ERROR
            assert '%s/pf-ipvlan: ADD of plugin ipvlan failed: %s' % (node, IPVLAN_ERROR) in failures
    report = bad_run.results(FAIL_TASK, 'worker1')['msg']
    assert any(line.startswith('worker2 pf-nomaster: FAILED') for line in report)


# ------------------------------------------------------------------ the module alone


def nic1_attachment(**extra):
    config = {
        'cniVersion': '0.3.1',
        'name': 'pf-nic1',
        'type': 'macvlan',
        'master': 'nic1',
        'mode': 'bridge',
        'ipam': {'type': 'whereabouts', 'range': '198.18.61.0/24'},
    }
    return dict({'name': 'pf-nic1', 'config': config}, **extra)


def test_check_mode_reports_and_changes_nothing(pf_lab, bad_run):  # pylint: disable=unused-argument
    result = module(
        pf_lab, 'worker1', {'state': 'present', 'node': 'worker1', 'attachments': [nic1_attachment()]}, '--check'
    )
    assert result['changed'] and not result.get('failed'), result
    (rec,) = result['attachments']
    assert rec['status'] == 'would-run' and rec['test_address'] == '198.18.61.254/24'
    assert result['created'] == [rec['netns']]
    assert rec['summary'] == 'pf-nic1 macvlan: would create %s and run ADD with 198.18.61.254/24' % rec['netns']
    nothing_left(pf_lab, ['worker1'])


BRIDGE = {
    'name': 'pf-br',
    'config': {
        'cniVersion': '0.3.1',
        'name': 'pf-br',
        'type': 'bridge',
        'bridge': 'pfbr0',
        'mtu': 1450,
        'ipam': {'type': 'host-local', 'subnet': '198.18.63.0/24'},
    },
}


def test_leftovers_of_an_interrupted_run_and_a_test_bridge_are_removed_and_del_repeats(pf_lab, bad_run):  # pylint: disable=unused-argument
    # What a run killed between present and absent leaves: namespaces, one with a macvlan inside.
    stale = (
        'ip netns add npf-pf-nic1-0badc0de && ip netns add npf-renamed-12345678 && '
        'ip link add link nic1 name pfstale type macvlan mode bridge && ip link set pfstale netns npf-pf-nic1-0badc0de'
    )
    made = pf_lab.exec('worker2', 'sh', '-c', stale)
    assert made.returncode == 0, made.stderr
    args = {'node': 'worker2', 'node_index': 1, 'attachments': [nic1_attachment(), BRIDGE]}
    # present removes what an earlier run left for the same attachments before it starts...
    added = module(pf_lab, 'worker2', dict(args, state='present'))
    assert not added.get('failed'), added
    nic1, bridge = added['attachments']
    assert added['stale_removed'] == ['npf-pf-nic1-0badc0de']
    assert added['created'] == [nic1['netns'], bridge['netns']]
    assert nic1['test_address'] == '198.18.61.253/24' and bridge['test_address'] == '198.18.63.253/24'
    # The bridge plugin made pfbr0 on the node for the test: marked, so that absent removes it.
    assert bridge['marked_links'] == ['pfbr0'] and bridge['interface']['mtu'] == 1450
    # ...absent removes its own namespaces, every other npf-* one and the bridge...
    removed = module(pf_lab, 'worker2', dict(args, state='absent'))
    assert removed['changed'] and not removed.get('failed'), removed
    assert removed['stale_removed'] == ['npf-renamed-12345678']
    assert sorted(removed['removed']) == sorted([nic1['netns'], bridge['netns'], 'npf-renamed-12345678', 'link pfbr0'])
    # host-local's own state was never touched: its IPAM was swapped for static.
    assert pf_lab.exec('worker2', 'test', '-e', '/var/lib/cni/networks/pf-br').returncode == 1
    nothing_left(pf_lab, ['worker2'])
    # ...and again: DEL runs and succeeds, nothing is there to remove, nothing changes.
    again = module(pf_lab, 'worker2', dict(args, state='absent'))
    assert not again['changed'] and not again.get('failed') and again['removed'] == [], again
    assert [a['del_ok'] for a in again['attachments']] == [True, True]
