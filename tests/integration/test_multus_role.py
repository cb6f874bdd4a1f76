# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role netplumb.multihome.multus through playbooks/install_multus.yml, for real with ansible-playbook.

Apply mode runs against the real control plane of cluster.py (kube-apiserver, kube-controller-manager and
kube-scheduler built from their Go modules): every object is validated, defaulted and acted on by the real
controllers, and what the role sent is read from the API server's audit log. No kubelet runs here: with no
node the DaemonSet has nothing to roll out (so the wait passes at once), and with a Node object of no
kubelet its pod is bound but never starts, which is the rollout failure the role must name. Whether Multus
really starts on a node is out of reach here. Render mode writes real files and is checked as such.
"""

import os
import re

import pytest
import yaml

# The control plane's fixtures, imported only where they are used.
from cluster import control_plane, kube  # noqa: F401 pylint: disable=unused-import
from conftest import REPO

# Selected or deselected with: pytest -m cluster (see tests/pytest.ini).
pytestmark = pytest.mark.cluster

INVENTORY = os.path.join(REPO, 'inventory', 'hosts.ini')
OURS = 'app.kubernetes.io/managed-by=netplumb.multihome'
KINDS = [
    ('apiextensions.k8s.io/v1', 'CustomResourceDefinition', None),
    ('v1', 'ServiceAccount', 'kube-system'),
    ('rbac.authorization.k8s.io/v1', 'ClusterRole', None),
    ('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', None),
    ('v1', 'ConfigMap', 'kube-system'),
    ('apps/v1', 'DaemonSet', 'kube-system'),
]


def rendered(directory):
    """{file name: the one object it holds}."""
    out = {}
    for name in sorted(os.listdir(str(directory))):
        with open(os.path.join(str(directory), name)) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        assert len(docs) == 1, name
        out[name] = docs[0]
    return out


def snapshot(kube):
    """What is stored of our objects, without the fields the server bumps on every write."""
    out = {}
    for api_version, kind, namespace in KINDS:
        for obj in kube.objects(api_version, kind, namespace, OURS):
            meta = {
                k: v for k, v in obj['metadata'].items() if k not in ('resourceVersion', 'managedFields', 'generation')
            }
            out[(kind, obj['metadata']['name'])] = dict(obj, metadata=meta)
    return out


def daemonset(objects):
    [ds] = [o for o in objects if o['kind'] == 'DaemonSet']
    return ds


def test_render_mode_writes_thick_manifests_and_is_idempotent(run_playbook, tmp_path):
    out = tmp_path / 'manifests'
    first = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_render_dir=%s' % out, K8S_AUTH_KUBECONFIG='')
    assert first.rc == 0, first.failures()
    files = rendered(out)
    kinds = [o['kind'] for o in files.values()]
    # Applied in this order: the CRD before anything that could use it, the DaemonSet last.
    assert kinds == [
        'CustomResourceDefinition',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'DaemonSet',
    ]
    ds = daemonset(files.values())
    [container] = ds['spec']['template']['spec']['containers']
    assert container['image'] == 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.4-thick'
    assert container['command'] == ['/usr/src/multus-cni/bin/multus-daemon']
    assert container['resources']['limits']['memory'] == '50Mi'
    config = [o for o in files.values() if o['kind'] == 'ConfigMap'][0]
    assert config['metadata']['name'] == 'multus-daemon-config'
    daemon_config = yaml.safe_load(config['data']['daemon-config.json'])
    assert daemon_config['multusConfigFile'] == 'auto'
    # multus-daemon takes the plugins' directory only from here, never from the mount.
    assert daemon_config['binDir'] == '/opt/cni/bin'
    # The DaemonSet mounts the daemon config the ConfigMap holds.
    volumes = {v['name']: v for v in ds['spec']['template']['spec']['volumes']}
    assert volumes['multus-daemon-config']['configMap']['name'] == config['metadata']['name']
    crd = [o for o in files.values() if o['kind'] == 'CustomResourceDefinition'][0]
    assert crd['metadata']['name'] == 'network-attachment-definitions.k8s.cni.cncf.io'
    assert crd['spec']['names']['kind'] == 'NetworkAttachmentDefinition'

    second = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_render_dir=%s' % out, K8S_AUTH_KUBECONFIG='')
    assert second.rc == 0 and second.stats()['changed'] == 0, second.failures()

    gone = run_playbook(
        'install_multus.yml',
        INVENTORY,
        '-e',
        'multus_render_dir=%s' % out,
        '-e',
        'multus_state=absent',
        K8S_AUTH_KUBECONFIG='',
    )
    assert gone.rc == 0, gone.failures()
    assert os.listdir(str(out)) == []


def test_render_thin_with_overrides(run_playbook, tmp_path):
    out = tmp_path / 'thin'
    run = run_playbook(
        'install_multus.yml',
        INVENTORY,
        '-e',
        'multus_render_dir=%s' % out,
        '-e',
        '{"multus_flavor": "thin", "multus_image": "registry.lab:5000/multus-cni:v4.2.4",'
        ' "multus_resources": {"limits": {"memory": "300Mi"}}, "multus_namespace": "multus",'
        ' "multus_node_selector": {"node-role.kubernetes.io/worker": ""}}',
        K8S_AUTH_KUBECONFIG='',
    )
    assert run.rc == 0, run.failures()
    objects = list(rendered(out).values())
    assert 'ConfigMap' not in [o['kind'] for o in objects]
    ds = daemonset(objects)
    spec = ds['spec']['template']['spec']
    assert ds['metadata']['namespace'] == 'multus'
    assert spec['containers'][0]['image'] == spec['initContainers'][0]['image'] == 'registry.lab:5000/multus-cni:v4.2.4'
    assert spec['containers'][0]['command'] == ['/thin_entrypoint']
    assert spec['containers'][0]['resources'] == {'limits': {'memory': '300Mi'}}
    assert spec['nodeSelector'] == {'node-role.kubernetes.io/worker': ''}
    binding = [o for o in objects if o['kind'] == 'ClusterRoleBinding'][0]
    assert binding['subjects'] == [{'kind': 'ServiceAccount', 'name': 'multus', 'namespace': 'multus'}]


def test_apply_waits_is_idempotent_and_removes_in_order(run_playbook, kube):
    first = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_wait_timeout=20', **kube.env())
    assert first.rc == 0, first.failures()
    for api_version, kind, namespace in KINDS:
        assert kube.names(api_version, kind, namespace, OURS), kind
    ds = kube.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system')
    assert ds['spec']['template']['spec']['containers'][0]['image'].endswith(':v4.2.4-thick')

    before = snapshot(kube)
    kube_writes = len(kube.writes())
    second = run_playbook('install_multus.yml', INVENTORY, **kube.env())
    assert second.rc == 0, second.failures()
    assert second.stats()['changed'] == 0
    # kubernetes.core.k8s patches what exists and compares (as against a real server): no create, no delete,
    # and nothing stored differs.
    assert {w['method'] for w in kube.writes()[kube_writes:]} <= {'PATCH'}
    assert snapshot(kube) == before

    gone = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_state=absent', **kube.env())
    assert gone.rc == 0, gone.failures()
    deletes = [w['resource'].split('/')[-1] for w in kube.writes() if w['method'] == 'DELETE']
    assert deletes == ['daemonsets', 'configmaps', 'clusterrolebindings', 'clusterroles', 'serviceaccounts']
    # The CRD stays: deleting it would delete every NetworkAttachmentDefinition.
    assert kube.get(
        'apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'network-attachment-definitions.k8s.cni.cncf.io'
    )


def test_check_mode_stores_nothing(run_playbook, kube):
    run = run_playbook('install_multus.yml', INVENTORY, '--check', '--diff', **kube.env())
    assert run.rc == 0, run.failures()
    assert kube.writes() == []
    assert kube.objects('apps/v1', 'DaemonSet') == []


def test_rollout_timeout_names_the_pods_not_ready(run_playbook, kube):
    # A node with room for pods but no kubelet: the DaemonSet's pod is bound to it and never starts.
    kube.create(
        {
            'apiVersion': 'v1',
            'kind': 'Node',
            'metadata': {
                'name': 'worker2',
                'labels': {'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'worker2'},
            },
            'status': {
                'capacity': {'cpu': '2', 'memory': '4Gi', 'pods': '110'},
                'allocatable': {'cpu': '2', 'memory': '4Gi', 'pods': '110'},
                'addresses': [{'type': 'InternalIP', 'address': '198.18.150.12'}],
            },
        }
    )
    run = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_wait_timeout=20', **kube.env())
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert re.search(r'Pods not ready: kube-multus-ds-[a-z0-9]{5} on worker2 \(Pending\)', msg), msg
    assert 'within 20 s' in msg


def test_existing_multus_is_reported_and_left_alone(run_playbook, kube):
    kube.create(
        {
            'apiVersion': 'apps/v1',
            'kind': 'DaemonSet',
            'metadata': {'name': 'kube-multus-ds', 'namespace': 'kube-system', 'labels': {'app': 'multus'}},
            'spec': {
                'selector': {'matchLabels': {'name': 'multus'}},
                'template': {
                    'metadata': {'labels': {'name': 'multus'}},
                    'spec': {
                        'containers': [
                            {'name': 'kube-multus', 'image': 'ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.0-thick'}
                        ]
                    },
                },
            },
        }
    )
    # The DaemonSet controller writes its status meanwhile: what the role could change is the spec.
    before = kube.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system')
    run = run_playbook('install_multus.yml', INVENTORY, **kube.env())
    assert run.rc == 0, run.failures()
    report = run.results('Report the existing Multus that is left alone')['msg']
    assert 'kube-system/kube-multus-ds' in report and 'v4.1.0-thick' in report
    assert kube.writes() == []
    after = kube.get('apps/v1', 'DaemonSet', 'kube-multus-ds', 'kube-system')
    assert (after['spec'], after['metadata']['generation']) == (before['spec'], before['metadata']['generation'])

    removal = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_state=absent', **kube.env())
    assert removal.rc == 0 and kube.writes() == []

    refused = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_on_existing=fail', **kube.env())
    assert refused.rc != 0
    assert 'kube-system/kube-multus-ds' in refused.failures()[-1][1]


def test_bad_settings_fail_before_anything_is_applied(run_playbook, kube):
    run = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_namespace=Kube_System', **kube.env())
    assert run.rc != 0
    assert 'Kube_System' in run.failures()[-1][1]
    run = run_playbook('install_multus.yml', INVENTORY, '-e', 'multus_flavor=thik', **kube.env())
    assert run.rc != 0
    assert 'thik' in run.failures()[-1][1]
    assert kube.writes() == []


def test_render_non_default_cni_directories(run_playbook, tmp_path):
    dirs = '{"multus_cni_bin_dir": "/var/lib/cni/bin", "multus_cni_conf_dir": "/etc/kubernetes/cni/net.d"}'
    thick = run_playbook(
        'install_multus.yml',
        INVENTORY,
        '-e',
        'multus_render_dir=%s' % (tmp_path / 'thick'),
        '-e',
        dirs,
        K8S_AUTH_KUBECONFIG='',
    )
    assert thick.rc == 0, thick.failures()
    objects = list(rendered(tmp_path / 'thick').values())
    config = [o for o in objects if o['kind'] == 'ConfigMap'][0]
    assert yaml.safe_load(config['data']['daemon-config.json'])['binDir'] == '/var/lib/cni/bin'
    volumes = {v['name']: v for v in daemonset(objects)['spec']['template']['spec']['volumes']}
    assert (
        volumes['cnibin']['hostPath']['path'] == '/var/lib/cni/bin'
        and volumes['cni']['hostPath']['path'] == '/etc/kubernetes/cni/net.d'
    )

    thin = run_playbook(
        'install_multus.yml',
        INVENTORY,
        '-e',
        'multus_render_dir=%s' % (tmp_path / 'thin'),
        '-e',
        dirs,
        '-e',
        'multus_flavor=thin',
        K8S_AUTH_KUBECONFIG='',
    )
    assert thin.rc == 0, thin.failures()
    args = daemonset(rendered(tmp_path / 'thin').values())['spec']['template']['spec']['containers'][0]['args']
    # The generated 00-multus.conf must name the kubeconfig where the host has it, and the plugins' directory.
    assert '--multus-kubeconfig-file-host=/etc/kubernetes/cni/net.d/multus.d/multus.kubeconfig' in args
    assert '--additional-bin-dir=/var/lib/cni/bin' in args
