# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The molecule scenarios of tests/molecule/ run for real, one after another: ``molecule test -s <scenario>``.

Each scenario brings up a lab of its own with the real role netplumb.multihome.lab (tests/molecule/shared/create.yml:
the same image and layout as ``make lab-up``, under the prefix and subnets of its molecule.yml), applies one role
(converge), applies it again (molecule's idempotence step: changed=0), checks the outcome (verify.yml) and takes the
lab down (shared/destroy.yml, ``lab_state=absent``; molecule also runs it after a failed step). The host roles
converge on the lab's nodes; the cluster roles (multus, network_attachments: one scenario, one lab) on localhost against a lab whose nodes
run pods (lab_kubelet: the lab's control plane, kubelet and containerd in every node, whereabouts), and their verify
starts pods with attachments on every node. Here: molecule's exit status, that its idempotence step ran and passed
with a recap of changed=0 for every host the role converges on, and that afterwards podman has no container and no
network of the scenario's prefix.

What the scenarios cannot prove (a green run says nothing about these): the nodes are containers on this host's
kernel (see lab.py): no systemd (multihome_routing's boot unit is written and linked, never started; nothing is
checked after a reboot), no kernel modules (dpdk_vpp_host runs with its driver step off, reads a described PCI layout
under /tmp/fakesys, binds no NIC and no VPP reads its configuration), ipvlan and vlan are not in this kernel
(cni_preflight runs the real macvlan plugin in throwaway namespaces, the cluster scenarios attach macvlan only), the
lab runs no kube-proxy or DNS, and the links are veths on host bridges (connectivity_matrix sees no real switch: MTU
limits, ARP behaviour, link speed). The idempotence step counts reported changes: a role that missed drift would pass
it too.

Needs root with rootful podman (tests/lab/bootstrap-podman.sh, run by `make test`) and molecule in the venv
(tests/requirements.txt); fails otherwise.
"""

import glob
import os
import re
import subprocess
import time

import pytest
import yaml

from conftest import BIN, REPO, ansible_env
from lab import lab_lock, missing, podman_json

# Selected or deselected with: pytest -m molecule (see tests/pytest.ini).
pytestmark = pytest.mark.molecule

SCENARIOS = [
    'multihome_routing',
    'dpdk_vpp_host',
    'cni_preflight',
    'connectivity_matrix',
    'cluster_roles',
]
MOLECULE_DIR = os.path.join(REPO, 'tests', 'molecule')
MOLECULE_GLOB = 'tests/molecule/*/molecule.yml'
TIMEOUT = 1200  # seconds for one scenario, lab up and down included


def lab_layout(scenario):
    """The lab variables (lab_prefix, lab_nodes, ...) of the scenario's molecule.yml."""
    with open(os.path.join(MOLECULE_DIR, scenario, 'molecule.yml')) as handle:
        config = yaml.safe_load(handle)
    return config['provisioner']['inventory']['group_vars']['all']


def leftovers(prefix):
    """(containers, networks) podman has under ``prefix``."""
    containers = sorted(
        c['Names'][0]
        for c in podman_json('ps', '-a', '--format', 'json')
        if c['Names'] and c['Names'][0].startswith(prefix + '-')
    )
    networks = sorted(
        n['name'] for n in podman_json('network', 'ls', '--format', 'json') if n['name'].startswith(prefix + '-')
    )
    return containers, networks


def idempotence_recaps(output, scenario):
    """The PLAY RECAP lines of the idempotence step (``{host: changed}``), or None when the step did not pass."""
    match = re.search(
        r'\[%s > idempotence\] Executing\n(.*?)\n[^\n]*\[%s > idempotence\] Executed: Successful'
        % (re.escape(scenario), re.escape(scenario)),
        output,
        re.S,
    )
    if not match:
        return None
    return dict(
        (host, int(changed)) for host, changed in re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', match.group(1), re.M)
    )


def test_the_scenarios_are_these_and_their_labs_do_not_overlap():
    found = sorted(
        os.path.basename(os.path.dirname(path)) for path in glob.glob(os.path.join(MOLECULE_DIR, '*', 'molecule.yml'))
    )
    assert found == sorted(SCENARIOS)
    used = {}
    for scenario in SCENARIOS:
        layout = lab_layout(scenario)
        assert layout['lab_prefix'].startswith('netplumb-mol-'), layout
        assert layout['lab_nodes'] in (2, 3) and layout['lab_nics'] == 2, layout
        assert layout['lab_subnet_offset'] + layout['lab_nics'] <= 254, layout
        # Management network at the offset, NIC k at offset + k: no two labs may share a /24 or a prefix.
        for third in range(layout['lab_subnet_offset'], layout['lab_subnet_offset'] + layout['lab_nics'] + 1):
            assert third not in used, '%s and %s both use 198.18.%d.0/24' % (scenario, used.get(third), third)
            used[third] = scenario
    prefixes = [lab_layout(scenario)['lab_prefix'] for scenario in SCENARIOS]
    assert len(set(prefixes)) == len(prefixes), prefixes


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(scenario):
    reason = missing()
    if reason:
        # `make test` installs rootful podman (tests/lab/bootstrap-podman.sh): its absence is a failure.
        pytest.fail(reason)
    molecule = os.path.join(BIN, 'molecule')
    if not os.path.isfile(molecule):
        pytest.fail('molecule is not in %s: make venv (tests/requirements.txt pins it)' % BIN)
    layout = lab_layout(scenario)
    prefix = layout['lab_prefix']
    # A cluster role (its lab runs pods) converges on localhost, against the lab's API; a host role on the nodes.
    if layout.get('lab_kubelet'):
        nodes = ['localhost']
    else:
        nodes = ['worker%d' % i for i in range(1, layout['lab_nodes'] + 1)]
    # The default callback (molecule's idempotence step reads its recap), no colours, and molecule's own
    # ephemeral directory per scenario; unbuffered, so that molecule's log and ansible's output keep their order.
    env = ansible_env(
        MOLECULE_GLOB=MOLECULE_GLOB,
        NO_COLOR='1',
        PY_COLORS='0',
        PYTHONUNBUFFERED='1',
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default',
    )
    env.pop('MOLECULE_EPHEMERAL_DIRECTORY', None)
    with lab_lock(prefix):
        start = time.time()
        proc = subprocess.run(
            [molecule, 'test', '-s', scenario],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        took = time.time() - start
        left = leftovers(prefix)
    print('\nmolecule test -s %s: rc %d in %.0fs' % (scenario, proc.returncode, took))
    output = re.sub(r'\x1b\[[0-9;]*m', '', proc.stdout)
    tail = output[-6000:]
    assert proc.returncode == 0, 'molecule test -s %s failed (rc=%d):\n%s' % (scenario, proc.returncode, tail)
    recaps = idempotence_recaps(output, scenario)
    assert recaps is not None, 'the idempotence step did not run or did not pass:\n%s' % tail
    # Every host converged in the second converge's recap (localhost too where converge plans there first), none changed.
    assert set(nodes) <= set(recaps) and set(recaps.values()) == set([0]), (
        'idempotence recap %r, expected changed=0 on %s' % (recaps, nodes)
    )
    assert '%s > idempotence: Executed: Successful' % scenario in output, tail
    assert '%s > verify: Executed: Successful' % scenario in output, tail
    assert left == ([], []), 'left after molecule test -s %s: containers %s, networks %s' % ((scenario,) + left)
