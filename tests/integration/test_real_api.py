# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What only a real API server can say: the objects we render are accepted, and the faults of a real cluster
(down, unreachable, refused credentials, RBAC) end in a clear error before anything is applied.

Against the control plane of cluster.py (kube-apiserver and its controllers built from their Go modules,
the upstream CRDs of ../shared/crds). Admission webhooks of other projects are not there (see cluster.py).
"""

import json
import os
import shutil
import subprocess
import time

# The control plane's fixtures, imported only where they are used.
import aistore_settings
import pytest
import yaml

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_resource import build_resource
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import build_objects

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


def dry_run_create(kube, obj):
    """``(status, body)`` of creating ``obj`` with server-side dry run (nothing is stored)."""
    meta = obj['metadata']
    return kube.request(
        'POST',
        kube.path(obj['apiVersion'], obj['kind'], meta.get('namespace')),
        obj,
        params={'dryRun': 'All', 'fieldValidation': 'Strict'},
    )


def kubeconfig_with(tmp_path, kube, name, user):
    """A kubeconfig of the lab's API server and CA with the user entry ``user``."""
    with open(kube.kubeconfig) as handle:
        config = yaml.safe_load(handle)
    config['users'] = [{'name': 'u', 'user': user}]
    config['contexts'][0]['context']['user'] = 'u'
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return str(path)


# ------------------------------------------------------------ what we render is accepted


def test_every_rendered_object_is_accepted_by_server_side_dry_run(kube):
    """The main job's networks, every example of docs/network_attachments.md and the aistore role's resource."""
    from test_rendered_resources import DOC_BLOCKS, load, main_job_plan, network_items  # the unit tests' readers

    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ais'}})
    data = load('vars/network_attachments.yml')
    objects = build_objects(
        data['network_attachments_networks'], defaults=data['network_attachments_defaults'], plan=main_job_plan()
    )
    for _page, _number, block in DOC_BLOCKS:
        if network_items(block):
            objects += build_objects(network_items(block), defaults={'namespace': 'ais'}, plan=main_job_plan())
    settings = aistore_settings.settings(
        hostname_map={'198.18.0.11': '198.18.0.11,198.18.1.11'},
        attachments=['storage-net'],
        proxy_size=1,
        target_size=1,
    )
    resources = [e['object'] for e in objects if e['state'] == 'present'] + [build_resource(settings)]
    kinds = sorted(set(o['kind'] for o in resources))
    assert kinds == ['AIStore', 'MultiNicNetwork', 'NetworkAttachmentDefinition', 'SpiderIPPool', 'SpiderSubnet'], kinds
    for obj in resources:
        status, body = dry_run_create(kube, obj)
        assert status == 201, (obj['kind'], obj['metadata']['name'], body)
    assert kube.writes() == []  # dry runs store nothing, and the fixture's are its own


def test_the_crd_refuses_what_it_forbids_and_the_play_names_the_field(run_playbook, kube, tmp_path):
    # The refusal is the real CRD's: an AIStore without servicePort, as the role wrote it before.
    broken = build_resource(
        {
            'name': 'ais',
            'namespace': 'default',
            'node_image': 'a:1',
            'init_image': 'b:1',
            'hostname_map': {},
            'attachments': [],
            'proxy_size': 1,
            'target_size': 1,
            'proxy_port': 51080,
            'target_port': 51081,
            'intra_control_port': 51082,
            'intra_data_port': 51083,
            'host_port': True,
            'mounts': [{'path': '/ais1'}],
            'state_storage': {'emptyDir': {}},
            'hostpath_prefix': '',
            'extra_spec': {},
        }
    )
    del broken['spec']['proxySpec']['servicePort']
    status, body = dry_run_create(kube, broken)
    assert status == 422 and 'spec.proxySpec.servicePort: Required value' in body['message'], body
    # Through the role: a setting the role passes on but the CRD refuses, named in the play's error.
    inventory = tmp_path / 'hosts.ini'
    inventory.write_text('[k8s_cluster]\nworker1 ansible_host=198.18.0.11\n')
    kube.create(
        {
            'apiVersion': 'v1',
            'kind': 'Node',
            'metadata': {'name': 'worker1'},
            'status': {'addresses': [{'type': 'InternalIP', 'address': '198.18.0.11'}]},
        }
    )
    run = run_playbook(
        'ais_deploy_cluster.yml',
        str(inventory),
        '-e',
        json.dumps(
            {'aistore_extra_spec': {'proxySpec': {'size': 'three'}}, 'aistore_wait': False, 'aistore_verify': False}
        ),
        **kube.env(),
    )
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert 'spec.proxySpec.size' in msg and 'integer' in msg, msg
    assert kube.get('ais.nvidia.com/v1beta1', 'AIStore', 'ais', 'ais') is None


# ------------------------------------------------------------ faults of a real cluster


def test_an_unreachable_server_fails_clearly(run_playbook, kube, inventory, tmp_path):
    with open(kube.kubeconfig) as handle:
        config = yaml.safe_load(handle)
    config['clusters'][0]['cluster']['server'] = kube.url.replace(':6443', ':6444')  # nothing listens there
    path = tmp_path / 'elsewhere'
    path.write_text(yaml.safe_dump(config))
    run = run_playbook('install_multus.yml', inventory, K8S_AUTH_KUBECONFIG=str(path))
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert msg.startswith(
        'The Kubernetes API at %s (kubeconfig %s) does not answer' % (kube.url.replace(':6443', ':6444'), path)
    ), msg
    assert 'refused' in msg.lower(), msg


def service_account_token(kube, name, role='view'):
    """A token of a new ServiceAccount ``name`` in default, bound to the ClusterRole ``role``."""
    kube.create({'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': name, 'namespace': 'default'}})
    kube.create(
        {
            'apiVersion': 'rbac.authorization.k8s.io/v1',
            'kind': 'ClusterRoleBinding',
            'metadata': {'name': name},
            'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': role},
            'subjects': [{'kind': 'ServiceAccount', 'name': name, 'namespace': 'default'}],
        }
    )
    status, body = kube.request(
        'POST',
        '/api/v1/namespaces/default/serviceaccounts/%s/token' % name,
        {'apiVersion': 'authentication.k8s.io/v1', 'kind': 'TokenRequest', 'spec': {'expirationSeconds': 600}},
    )
    assert status == 201, body
    return body['status']['token']


def test_a_read_only_user_is_told_which_verbs_and_resources_it_lacks(run_playbook, kube, inventory, tmp_path):
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ais'}})
    reader = kubeconfig_with(tmp_path, kube, 'reader', {'token': service_account_token(kube, 'netplumb-reader')})
    run = run_playbook('create_network_definition.yml', inventory, K8S_AUTH_KUBECONFIG=reader)
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert msg.startswith(
        'The user system:serviceaccount:default:netplumb-reader of kubeconfig %s may not ' % reader
    ), msg
    assert 'create network-attachment-definitions.k8s.cni.cncf.io in namespace ais' in msg, msg
    assert 'patch network-attachment-definitions.k8s.cni.cncf.io in namespace ais' in msg, msg
    assert msg.endswith('Nothing was changed: grant these permissions or use a kubeconfig whose user has them.'), msg
    assert kube.objects(*NAD, namespace='ais') == []


@pytest.mark.parametrize('how', ['wrong', 'revoked'])
def test_refused_credentials_fail_clearly(run_playbook, kube, inventory, tmp_path, how):
    if how == 'wrong':
        token = 'netplumb.not-a-token'
    else:
        # A token whose ServiceAccount is gone: the API server refuses it from then on.
        token = service_account_token(kube, 'netplumb-gone')
        kube.delete('v1', 'ServiceAccount', 'netplumb-gone', 'default')
        deadline = time.time() + 30
        while kube.get('v1', 'ServiceAccount', 'netplumb-gone', 'default') and time.time() < deadline:
            time.sleep(0.5)
    path = kubeconfig_with(tmp_path, kube, how, {'token': token})
    run = run_playbook('install_multus.yml', inventory, K8S_AUTH_KUBECONFIG=path)
    assert run.rc != 0
    msg = run.failures()[-1][1]
    assert msg.startswith(
        'The Kubernetes API at %s refused the credentials of kubeconfig %s (HTTP 401 Unauthorized' % (kube.url, path)
    ), msg
    assert kube.objects('apps/v1', 'DaemonSet', 'kube-system') == []


# Last of the module (and of the cluster tests, which run in file order): it stops the session's API server,
# and the cluster's controllers take a while to find it again.
def test_api_server_down_fails_clearly_and_a_rerun_converges(run_playbook, kube, inventory):
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'ais'}})
    container = '%s-kube-apiserver' % kube.lab.prefix
    subprocess.run(['podman', 'stop', '-t', '2', container], check=True, capture_output=True, timeout=60)
    try:
        down = run_playbook('create_network_definition.yml', inventory, **kube.env())
    finally:
        subprocess.run(['podman', 'start', container], check=True, capture_output=True, timeout=60)
        kube.wait_ready()
        # The custom resources' storage comes back a little after /readyz.
        deadline = time.time() + 120
        while kube.request('GET', kube.path(*NAD, namespace='ais'))[0] != 200 and time.time() < deadline:
            time.sleep(1)
    assert down.rc != 0
    task, msg = down.failures()[-1]
    assert task.endswith('Check the cluster and the permissions'), task
    assert msg.startswith('The Kubernetes API at %s (kubeconfig %s) does not answer: ' % (kube.url, kube.kubeconfig)), (
        msg
    )
    assert 'nothing was changed' in msg
    assert kube.objects(*NAD, namespace='ais') == []
    again = run_playbook('create_network_definition.yml', inventory, **kube.env())
    assert again.rc == 0, again.failures()
    assert sorted(o['metadata']['name'] for o in kube.objects(*NAD, namespace='ais')) == [
        'replication-net',
        'storage-net',
        'tenant-blue',
    ]
