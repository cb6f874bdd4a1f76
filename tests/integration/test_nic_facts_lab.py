# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nic_facts on the lab nodes' real interfaces (podman containers: eth0 + nic1..nicM, veths with no PCI device)."""

import json
import os
import subprocess

import pytest

from conftest import BIN
from lab import lab_up

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab


def run_nic_facts(lab, args):
    """{node: module result} of an ad-hoc nic_facts run on every lab node."""
    proc = subprocess.run(
        [
            os.path.join(BIN, 'ansible'),
            'k8s_cluster',
            '-i',
            lab.inventory,
            '-o',
            '-m',
            'netplumb.multihome.nic_facts',
            '-a',
            json.dumps(args),
        ],
        env=lab.ansible_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = {}
    for line in proc.stdout.splitlines():
        node, sep, rest = line.partition(' | ')
        if sep and ' => ' in rest:
            results[node] = json.loads(rest.split(' => ', 1)[1])
    assert sorted(results) == sorted(lab.nodes), proc.stdout + proc.stderr
    return results


def test_nic_facts_on_the_lab_nodes():
    with lab_up('netplumb-nf', nodes=2, nics=2, subnet_offset=140) as lab:
        results = run_nic_facts(lab, {'select': {'name': 'nic*', 'count': 2}})
        for node, result in results.items():
            facts = result['ansible_facts']['nic_facts']
            assert result['changed'] is False
            for ifname, address in lab.addresses(node).items():
                nic = facts[ifname]
                assert nic['addresses'] == ['%s/24' % address], (node, ifname)
                # Container NICs are veths: no device link, so no driver bus and no PCI address.
                assert nic['virtual'] is True and nic['pci_address'] is None, (node, ifname)
                assert nic['operstate'] == 'up'
                mac = lab.exec(node, 'cat', '/sys/class/net/%s/address' % ifname).stdout.strip()
                assert nic['mac'] == mac
            assert result['selected'] == ['nic1', 'nic2']
            # The lab's nsenter connection carries no address: no NIC is the management NIC.
            assert result['management_interface'] is None
            assert not any(n['management'] for n in facts.values())
