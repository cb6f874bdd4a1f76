# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role netplumb.multihome.network_attachments through playbooks/create_network_definition.yml.

Apply mode runs against the real control plane of cluster.py (kube-apiserver and its controllers,
built from their Go modules), with the upstream CRDs of ../shared/crds: every object is checked by the
real schemas, and what the role sent is read from the API server's audit log. What this cannot prove:
no Multus or whereabouts reads the NADs here (the CNI JSON in spec.config is a string to the API;
tests/integration/test_cni_plugins.py feeds such configs to the real CNI plugins), and no Spiderpool
webhook runs (nad_objects checks its rules itself).
"""

import ipaddress
import json
import os
import shutil

import pytest
import yaml

# The control plane's fixtures, imported only where they are used.
from cluster import control_plane, kube  # noqa: F401 pylint: disable=unused-import
from conftest import REPO

# Selected or deselected with: pytest -m cluster (see tests/pytest.ini).
pytestmark = pytest.mark.cluster

NAD = ('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition')


@pytest.fixture
def inventory(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(os.path.join(REPO, 'inventory'), str(inv), ignore=shutil.ignore_patterns('.plan'))
    return str(inv / 'hosts.ini')


@pytest.fixture
def ais_namespace(kube):
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ais'}})


def extra_vars(tmp_path, data):
    path = tmp_path / ('vars-%d.json' % len(os.listdir(str(tmp_path))))
    path.write_text(json.dumps(data))
    return '@%s' % path


def configs(kube, namespace='ais'):
    return {o['metadata']['name']: json.loads(o['spec']['config']) for o in kube.objects(*NAD, namespace=namespace)}


def test_creates_the_example_networks_with_their_own_ranges(run_playbook, kube, ais_namespace, inventory):
    first = run_playbook('create_network_definition.yml', inventory, **kube.env())
    assert first.rc == 0, first.failures()
    stored = configs(kube)
    assert sorted(stored) == ['replication-net', 'storage-net', 'tenant-blue']
    # vars/addressing.yml plans 198.18.32.0/19 into one /24 per network, in order.
    assert stored['storage-net']['type'] == 'macvlan' and stored['storage-net']['master'] == 'nic1'
    assert stored['storage-net']['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.32.0/24',
        'range_start': '198.18.32.1',
        'range_end': '198.18.32.254',
    }
    # Not sliced per node: not in ais (see test_bad_network_fails_before_anything_is_applied).
    assert stored['replication-net']['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.33.0/24',
        'range_start': '198.18.33.1',
        'range_end': '198.18.33.254',
    }
    blue = stored['tenant-blue']
    assert blue['type'] == 'ovn-k8s-cni-overlay' and blue['netAttachDefName'] == 'ais/tenant-blue'
    assert blue['topology'] == 'layer3' and 'ipam' not in blue

    before = {o['metadata']['name']: o['metadata']['resourceVersion'] for o in kube.objects(*NAD, namespace='ais')}
    second = run_playbook('create_network_definition.yml', inventory, **kube.env())
    assert second.rc == 0, second.failures()
    assert second.stats()['changed'] == 0
    assert {
        o['metadata']['name']: o['metadata']['resourceVersion'] for o in kube.objects(*NAD, namespace='ais')
    } == before


def test_check_mode_stores_nothing(run_playbook, kube, ais_namespace, inventory):
    run = run_playbook('create_network_definition.yml', inventory, '--check', '--diff', **kube.env())
    assert run.rc == 0, run.failures()
    assert kube.objects(*NAD) == []
    assert kube.writes() == []


def test_only_absent_removes(run_playbook, kube, ais_namespace, inventory, tmp_path):
    assert run_playbook('create_network_definition.yml', inventory, **kube.env()).rc == 0
    with open(os.path.join(REPO, 'vars', 'network_attachments.yml')) as f:
        networks = yaml.safe_load(f)['network_attachments_networks']
    # Dropping a network from the list is not a request to delete it.
    dropped = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        extra_vars(tmp_path, {'network_attachments_networks': networks[1:]}),
        **kube.env(),
    )
    assert dropped.rc == 0, dropped.failures()
    assert sorted(configs(kube)) == ['replication-net', 'storage-net', 'tenant-blue']
    networks[0]['state'] = 'absent'
    removed = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        extra_vars(tmp_path, {'network_attachments_networks': networks}),
        **kube.env(),
    )
    assert removed.rc == 0, removed.failures()
    assert sorted(configs(kube)) == ['replication-net', 'tenant-blue']
    assert [w['name'] for w in kube.writes() if w['method'] == 'DELETE'] == ['storage-net']


@pytest.mark.parametrize(
    'override, fragments',
    [
        ({'master': 'nic1;reboot'}, ['storage-net', "'nic1;reboot'", 'interface name']),
        ({'master': 'averyveryverylongname'}, ['averyveryverylongname', '15']),
        ({'name': 'Storage_Net'}, ["'Storage_Net'", 'DNS-1123']),
        ({'mode': 'passthrough'}, ["'passthrough'", 'bridge, vepa, private, passthru']),
        (
            {'ipam': {'type': 'whereabouts', 'range': '198.18.33.0/24'}},
            ['198.18.33.0/24', 'replication-net', 'overlaps'],
        ),
        # Per-node slices in ais: whereabouts' node-slice controller runs in kube-system (docs/network_attachments.md).
        (
            {'ipam': {'type': 'whereabouts', 'range': '198.18.32.0/24', 'node_slice_size': '/28'}},
            ["network 'storage-net'", 'node_slice_size /28 in namespace ais', 'expected namespace kube-system'],
        ),
    ],
)
def test_bad_network_fails_before_anything_is_applied(
    run_playbook, kube, ais_namespace, inventory, tmp_path, override, fragments
):
    with open(os.path.join(REPO, 'vars', 'network_attachments.yml')) as f:
        networks = yaml.safe_load(f)['network_attachments_networks']
    networks[0].update(override)
    run = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        extra_vars(tmp_path, {'network_attachments_networks': networks}),
        **kube.env(),
    )
    assert run.rc != 0
    task, msg = run.failures()[-1]
    assert task.endswith('Validate the networks and build their objects'), task
    for fragment in fragments:
        assert fragment in msg, msg
    assert kube.writes() == []


def test_missing_namespace_fails_naming_it(run_playbook, kube, inventory):
    run = run_playbook('create_network_definition.yml', inventory, **kube.env())
    assert run.rc != 0
    assert "ais" in run.failures()[-1][1] and 'nothing was applied' in run.failures()[-1][1]
    assert kube.writes() == []
    created = run_playbook(
        'create_network_definition.yml', inventory, '-e', 'network_attachments_create_namespaces=true', **kube.env()
    )
    assert created.rc == 0, created.failures()
    assert kube.get('v1', 'Namespace', 'ais') is not None
    assert len(configs(kube)) == 3


GUIDE = [
    '-e',
    'network_attachment=macvlan-conf,macvlan-conf2',
    '-e',
    'network_interface=nic1,nic2',
    '-e',
    'attachment_namespace=ais',
]


def planned_ranges(inventory):
    with open(os.path.join(os.path.dirname(inventory), '.plan', 'network_ranges.json')) as f:
        return dict((n['name'], n['range']) for n in json.load(f)['networks'])


def test_the_ais_guides_command_as_documented(run_playbook, kube, ais_namespace, inventory, tmp_path):
    """docs/network_attachments.md's command, with nothing else set: the guide's three variables alone."""
    run = run_playbook('create_network_definition.yml', inventory, *GUIDE, **kube.env())
    assert run.rc == 0, run.failures()
    stored = configs(kube)
    # Exactly the guide's attachments, each a macvlan bridge NAD on its interface ...
    assert sorted(stored) == ['macvlan-conf', 'macvlan-conf2']
    assert {n: (c['type'], c['mode'], c['master'], c['ipam']['type']) for n, c in stored.items()} == {
        'macvlan-conf': ('macvlan', 'bridge', 'nic1', 'whereabouts'),
        'macvlan-conf2': ('macvlan', 'bridge', 'nic2', 'whereabouts'),
    }
    # ... with a range of its own, planned together with vars/addressing.yml's networks: none overlaps another.
    plan = planned_ranges(inventory)
    assert sorted(plan) == ['macvlan-conf', 'macvlan-conf2', 'replication-net', 'storage-net']
    for name, conf in stored.items():
        assert conf['ipam']['range'] == plan[name]
    nets = [ipaddress.ip_network(r) for r in plan.values()]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :]), plan
    assert all(n.subnet_of(ipaddress.ip_network('198.18.32.0/19')) for n in nets)
    again = run_playbook('create_network_definition.yml', inventory, *GUIDE, **kube.env())
    assert again.rc == 0 and again.stats()['changed'] == 0
    # The next step of the guide reads the same network_attachment (render mode: no AIS operator here).
    out = tmp_path / 'ais'
    deploy = run_playbook(
        'ais_deploy_cluster.yml', inventory, *GUIDE + ['-e', 'aistore_render_dir=%s' % out], K8S_AUTH_KUBECONFIG=''
    )
    assert deploy.rc == 0, deploy.failures()
    with open(str(out / 'aistore-ais.yml')) as f:
        resource = yaml.safe_load(f)
    assert (
        resource['metadata']['namespace'] == 'ais'
        and resource['spec']['networkAttachment'] == 'macvlan-conf,macvlan-conf2'
    )
    assert resource['spec']['hostnameMap']['198.18.0.11'] == '198.18.0.11,198.18.1.11,198.18.2.11'


def test_the_ais_guide_through_vars_multihome(run_playbook, kube, ais_namespace, inventory, tmp_path):
    """The guide's way: edit vars/multihome.yml, then run the playbook with no -e at all."""
    guide = tmp_path / 'checkout'
    for part in ('playbooks', 'vars'):
        shutil.copytree(os.path.join(REPO, part), str(guide / part), ignore=shutil.ignore_patterns('rendered'))
    with open(str(guide / 'vars' / 'multihome.yml')) as f:
        text = f.read()
    for key, value in (('network_attachment', 'macvlan-conf'), ('network_interface', 'nic2')):
        assert '%s: ""' % key in text
        text = text.replace('%s: ""' % key, '%s: "%s"' % (key, value))
    (guide / 'vars' / 'multihome.yml').write_text(text)
    run = run_playbook(str(guide / 'playbooks' / 'create_network_definition.yml'), inventory, **kube.env())
    assert run.rc == 0, run.failures()
    stored = configs(kube)
    assert sorted(stored) == ['macvlan-conf'] and stored['macvlan-conf']['master'] == 'nic2'
    assert stored['macvlan-conf']['ipam']['range'] == planned_ranges(inventory)['macvlan-conf']


def test_aistore_legacy_variables(run_playbook, kube, ais_namespace, inventory, tmp_path):
    legacy = {
        'network_attachments_networks': [],
        'addressing_network_ranges': {
            'supernet': '198.18.32.0/19',
            'networks': [{'name': 'macvlan-conf', 'prefix': 24}, {'name': 'macvlan-conf2', 'prefix': 24}],
        },
        'network_attachment': 'macvlan-conf,macvlan-conf2',
        'network_interface': 'nic1,nic2',
        'attachment_namespace': 'ais',
    }
    run = run_playbook('create_network_definition.yml', inventory, '-e', extra_vars(tmp_path, legacy), **kube.env())
    assert run.rc == 0, run.failures()
    stored = configs(kube)
    assert {name: (c['type'], c['master'], c['ipam']['range']) for name, c in stored.items()} == {
        'macvlan-conf': ('macvlan', 'nic1', '198.18.32.0/24'),
        'macvlan-conf2': ('macvlan', 'nic2', '198.18.33.0/24'),
    }

    unequal = dict(legacy, network_interface='nic1')
    run = run_playbook('create_network_definition.yml', inventory, '-e', extra_vars(tmp_path, unequal), **kube.env())
    assert run.rc != 0
    assert "'macvlan-conf,macvlan-conf2'" in run.failures()[-1][1] and "'nic1'" in run.failures()[-1][1]


def test_spiderpool_and_multinic_objects(run_playbook, kube, ais_namespace, inventory, tmp_path):
    networks = [
        {
            'kind': 'spiderpool',
            'name': 'storage-v4',
            'subnet': '198.18.96.0/24',
            'ips': ['198.18.96.10-198.18.96.200'],
            'gateway': '198.18.96.1',
            'ippools': [{'name': 'storage-pool-a', 'ips': ['198.18.96.10-198.18.96.50']}],
        },
        {
            'kind': 'multinicnetwork',
            'name': 'multi-nic-net',
            'subnet': '198.18.128.0/17',
            'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
            'plugin': {'type': 'ipvlan', 'cni_version': '0.3.0', 'args': {'mode': 'l3'}},
            'master_nets': ['198.18.1.0/24', '198.18.2.0/24'],
        },
    ]
    run = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        extra_vars(tmp_path, {'network_attachments_networks': networks}),
        **kube.env(),
    )
    assert run.rc == 0, run.failures()
    [subnet] = kube.objects('spiderpool.spidernet.io/v2beta1', 'SpiderSubnet')
    assert subnet['metadata']['name'] == 'storage-v4' and subnet['spec']['subnet'] == '198.18.96.0/24'
    [pool] = kube.objects('spiderpool.spidernet.io/v2beta1', 'SpiderIPPool')
    assert pool['spec']['subnet'] == '198.18.96.0/24' and pool['spec']['ips'] == ['198.18.96.10-198.18.96.50']
    [mnn] = kube.objects('multinic.fms.io/v1', 'MultiNicNetwork')
    assert mnn['spec']['subnet'] == '198.18.128.0/17'
    ipam = json.loads(mnn['spec']['ipam'])
    assert (ipam['type'], ipam['hostBlock'], ipam['interfaceBlock'], ipam['vlanMode']) == ('multi-nic-ipam', 6, 2, 'l3')


def test_render_mode_writes_files_and_touches_no_cluster(run_playbook, inventory, tmp_path):
    out = tmp_path / 'rendered'
    run = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        'network_attachments_render_dir=%s' % out,
        K8S_AUTH_KUBECONFIG='',
    )
    assert run.rc == 0, run.failures()
    docs = {}
    for name in sorted(os.listdir(str(out))):
        with open(str(out / name)) as f:
            docs[name] = yaml.safe_load(f)
    assert sorted(docs) == [
        'ais-networkattachmentdefinition-replication-net.yml',
        'ais-networkattachmentdefinition-storage-net.yml',
        'ais-networkattachmentdefinition-tenant-blue.yml',
    ]
    assert json.loads(docs['ais-networkattachmentdefinition-storage-net.yml']['spec']['config'])['master'] == 'nic1'
    again = run_playbook(
        'create_network_definition.yml',
        inventory,
        '-e',
        'network_attachments_render_dir=%s' % out,
        K8S_AUTH_KUBECONFIG='',
    )
    assert again.rc == 0 and again.stats()['changed'] == 0


def test_a_primary_ovnk_network_needs_its_namespace_label(run_playbook, kube, inventory, tmp_path):
    primary = {
        'network_attachments_networks': [
            {
                'name': 'tenant-red',
                'namespace': 'red',
                'type': 'ovn-k8s-cni-overlay',
                'topology': 'layer2',
                'subnets': '198.18.70.0/24',
                'role': 'primary',
            }
        ]
    }
    # A namespace that exists without the label cannot get it any more: refused before anything is applied.
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'red'}})
    run = run_playbook('create_network_definition.yml', inventory, '-e', extra_vars(tmp_path, primary), **kube.env())
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert (
        'Namespace(s) red hold an OVN-Kubernetes primary network' in msg
        and 'k8s.ovn.org/primary-user-defined-network' in msg
    ), msg
    assert kube.writes() == []
    # Created by the role, the namespace gets the label at creation.
    create = dict(primary, network_attachments_create_namespaces=True)
    create['network_attachments_networks'][0]['namespace'] = 'blue'
    run = run_playbook('create_network_definition.yml', inventory, '-e', extra_vars(tmp_path, create), **kube.env())
    assert run.rc == 0, run.failures()
    assert kube.get('v1', 'Namespace', 'blue')['metadata']['labels']['k8s.ovn.org/primary-user-defined-network'] == ''
    assert any(
        'holds an OVN-Kubernetes primary network' in w
        for w in run.results('Validate the networks and build their objects').get('warnings', [])
    )
