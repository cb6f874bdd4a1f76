# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml, the whole flow, on a lab of its own (3 nodes x 2 NICs with a router).

No kubeconfig is given, so Multus and the network definitions are rendered into files, as the
main job does; everything else (routing, preflight with the real CNI plugins, the matrix) runs on
the lab nodes for real.
"""

import json
import os

import pytest

from lab import lab_up

# Selected or deselected with: pytest -m lab (see tests/pytest.ini).
pytestmark = pytest.mark.lab

OFFSET = 160


def test_site_runs_end_to_end_and_then_changes_nothing(run_playbook, tmp_path):
    extra = {
        'addressing_reserved': {
            'pod_network': '10.128.0.0/14',
            'service_network': '172.30.0.0/16',
            'node_network': '198.18.%d.0/24' % OFFSET,
        },
        'addressing_multinic': {
            'subnet': '198.18.128.0/18',
            'interface_block': 2,
            'host_block': 6,
            'vlan_mode': 'l3',
            'master_nets': ['198.18.%d.0/24' % (OFFSET + 1), '198.18.%d.0/24' % (OFFSET + 2)],
        },
        'multus_render_dir': str(tmp_path / 'multus'),
        'network_attachments_render_dir': str(tmp_path / 'nads'),
    }
    extra_file = tmp_path / 'site.json'
    extra_file.write_text(json.dumps(extra))
    with lab_up('netplumb-site', nodes=3, nics=2, subnet_offset=OFFSET, router=True) as lab:
        first = run_playbook('site.yml', lab.inventory, '-e', '@%s' % extra_file, **lab.env)
        assert first.rc == 0, first.failures()
        matrix = first.results('Check the connectivity matrix against the threshold', host='worker1')
        assert matrix['msg'].startswith('12/12 address pairs connected'), matrix['msg']
        assert sorted(os.listdir(str(tmp_path / 'nads'))) == [
            'ais-networkattachmentdefinition-replication-net.yml',
            'ais-networkattachmentdefinition-storage-net.yml',
            'ais-networkattachmentdefinition-tenant-blue.yml',
        ]
        # Routing is in place on every node: one rule per data NIC.
        for node in lab.nodes:
            rules = json.loads(lab.exec(node, 'ip', '-j', 'rule', 'show').stdout)
            assert sorted(r.get('src') for r in rules if r.get('src') in lab.nics[node].values()) == sorted(
                lab.nics[node].values()
            )
        second = run_playbook('site.yml', lab.inventory, '-e', '@%s' % extra_file, **lab.env)
        assert second.rc == 0, second.failures()
        for host in ['localhost'] + lab.nodes:
            assert second.stats(host)['changed'] == 0, host
