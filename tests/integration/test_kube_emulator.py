# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API emulator (kube_emulator.py) is fit to test roles: real ansible-playbook runs of
kubernetes.core.k8s and k8s_info against it, plus quick HTTP checks of the deviations it fixes in kmock."""

import asyncio
import json
import os
import time
import urllib.error
import urllib.request

import kmock
import pytest

from kube_emulator import _KMOCK_PARSE_PATH as KMOCK_PARSE_PATH  # pylint: disable=unused-import
from kube_emulator import KubeEmulator, kube  # noqa: F401 pylint: disable=unused-import

# Selected or deselected with: pytest -m cluster (see tests/pytest.ini).
pytestmark = pytest.mark.cluster

HERE = os.path.dirname(os.path.abspath(__file__))
NAD = ('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition')


def playbook(name):
    return os.path.join(HERE, 'playbooks', name)


def nad(name, namespace, nic):
    return {
        'apiVersion': NAD[0],
        'kind': NAD[1],
        'spec': {'config': '{"cniVersion": "0.3.1", "type": "macvlan"}'},
        'metadata': {'name': name, 'namespace': namespace, 'labels': {'netplumb.io/nic': nic}},
    }


def run_ok(run):
    assert run.rc == 0, run.failures() or run.stderr
    return run


# --- through ansible-playbook -------------------------------------------------------------------


def test_nad_create_idempotence_check_diff_update_and_removal(kube, run_playbook):
    def apply(*args):
        return run_playbook(playbook('emulator_nad.yml'), kube.inventory, *args, **kube.env())

    first = run_ok(apply())
    assert first.stats()['changed'] == 1
    stored = kube.objects(*NAD, namespace='default')
    assert [o['metadata']['name'] for o in stored] == ['macvlan-nic1']
    assert stored[0]['metadata']['labels'] == {'netplumb.io/network': 'macvlan-nic1'}
    config = stored[0]['spec']['config']
    assert isinstance(config, str)  # a JSON string, as Multus reads it, not a nested object
    assert json.loads(config) == {
        'cniVersion': '0.3.1',
        'name': 'macvlan-nic1',
        'type': 'macvlan',
        'master': 'nic1',
        'mode': 'bridge',
        'ipam': {'type': 'host-local', 'ranges': [[{'subnet': '198.18.32.0/24'}]]},
    }
    assert [(w['method'], w['resource']) for w in kube.writes()] == [
        ('POST', 'k8s.cni.cncf.io/v1/network-attachment-definitions')
    ]
    version = stored[0]['metadata']['resourceVersion']

    second = run_ok(apply())
    assert second.stats()['changed'] == 0
    assert kube.get(*NAD, name='macvlan-nic1', namespace='default')['metadata']['resourceVersion'] == version

    # --check: kubernetes.core sends a server-side dry run (dryRun=All); nothing may be stored.
    checked = run_ok(apply('--check', '--diff', '-e', 'nad_master=nic9'))
    assert checked.stats()['changed'] == 1
    diff = checked.results('Apply the NetworkAttachmentDefinition')['diff']
    assert json.loads(diff['before']['spec']['config'])['master'] == 'nic1'
    assert json.loads(diff['after']['spec']['config'])['master'] == 'nic9'
    assert json.loads(kube.get(*NAD, name='macvlan-nic1', namespace='default')['spec']['config'])['master'] == 'nic1'
    assert [w for w in kube.writes(include_dry_run=True) if w['dry_run']], 'check mode sent no dry-run request'

    updated = run_ok(apply('--diff', '-e', 'nad_master=nic9'))
    assert updated.stats()['changed'] == 1
    assert updated.results('Apply the NetworkAttachmentDefinition')['diff']['after']['metadata']['generation'] == 2
    now = kube.get(*NAD, name='macvlan-nic1', namespace='default')
    assert json.loads(now['spec']['config'])['master'] == 'nic9'
    assert now['metadata']['generation'] == 2 and now['metadata']['resourceVersion'] != version

    removed = run_ok(apply('-e', 'nad_state=absent'))
    assert removed.stats()['changed'] == 1
    assert kube.objects(*NAD) == []
    assert kube.get(*NAD, name='macvlan-nic1', namespace='default') is None


def test_k8s_info_lists_a_namespace_and_selects_by_label(kube, run_playbook):
    kube.create({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'multus-test'}})
    for name, namespace, nic in (
        ('nic2-b', 'multus-test', 'nic2'),
        ('nic1-a', 'multus-test', 'nic1'),
        ('nic2-a', 'multus-test', 'nic2'),
        ('nic2-elsewhere', 'default', 'nic2'),
    ):
        kube.create(nad(name, namespace, nic))

    run = run_ok(run_playbook(playbook('emulator_info.yml'), kube.inventory, **kube.env()))

    def names(task):
        return [r['metadata']['name'] for r in run.results(task)['resources']]

    assert names('List every NetworkAttachmentDefinition in the namespace') == ['nic1-a', 'nic2-a', 'nic2-b']
    assert names('Find the NetworkAttachmentDefinitions of nic2 by label') == ['nic2-a', 'nic2-b']
    assert names('Get one that does not exist') == []
    assert kube.writes(include_dry_run=True) == []  # reading wrote nothing
    selects = [r for r in kube.request_log() if r['action'] == 'LIST' and r['params'].get('labelSelector')]
    assert [r['params']['labelSelector'] for r in selects] == ['netplumb.io/nic=nic2']


def test_daemonset_wait_fails_until_rolled_out(kube, run_playbook):
    def apply(*args):
        return run_playbook(playbook('emulator_daemonset.yml'), kube.inventory, *args, **kube.env())

    started = time.monotonic()
    waited = apply()
    assert waited.rc != 0
    assert time.monotonic() - started >= 5  # it did wait for wait_timeout
    [(task, msg)] = waited.failures()
    assert task == 'Apply the DaemonSet and wait for it' and 'Timed out waiting on resource' in msg
    created = kube.get('apps/v1', 'DaemonSet', 'netplumb-agent', 'kube-system')
    assert created['metadata']['generation'] == 1 and 'status' not in created  # stored, never rolled out

    kube.mark_daemonset_ready('netplumb-agent', 'kube-system', number=2)
    ready = run_ok(apply())
    assert ready.stats()['changed'] == 0
    assert ready.results('Apply the DaemonSet and wait for it')['result']['status']['numberReady'] == 2

    # A new template bumps metadata.generation: the old status is stale until the controller
    # reports the new generation.  auto_rollout() is that controller, with one pod per Node.
    for name in ('worker1', 'worker2', 'worker3'):
        kube.create(
            {
                'apiVersion': 'v1',
                'kind': 'Node',
                'metadata': {'name': name},
                'status': {'addresses': [{'type': 'InternalIP', 'address': '198.18.1.%d' % (10 + int(name[-1]))}]},
            }
        )
    kube.auto_rollout()
    rolled = run_ok(apply('-e', 'ds_image=registry.invalid/netplumb/agent:1.1'))
    assert rolled.stats()['changed'] == 1
    status = kube.get('apps/v1', 'DaemonSet', 'netplumb-agent', 'kube-system')['status']
    assert status['observedGeneration'] == 2 and status['numberReady'] == status['desiredNumberScheduled'] == 3


# --- the emulator over HTTP, no ansible (milliseconds) ---------------------------------------------


def test_lists_are_typed_sorted_and_filtered(kube):
    for name, namespace, nic in (('b', 'default', 'nic1'), ('a', 'kube-system', 'nic2'), ('c', 'default', 'nic2')):
        kube.create(nad(name, namespace, nic))
    status, body = kube.request('GET', kube.path(*NAD))
    assert (
        status == 200
        and body['kind'] == 'NetworkAttachmentDefinitionList'
        and body['apiVersion'] == 'k8s.cni.cncf.io/v1'
    )
    assert [(o['metadata']['namespace'], o['metadata']['name']) for o in body['items']] == [
        ('default', 'b'),
        ('default', 'c'),
        ('kube-system', 'a'),
    ]
    assert kube.names(*NAD, namespace='default') == ['b', 'c']
    assert kube.names(*NAD, label_selector='netplumb.io/nic in (nic2)') == ['a', 'c']
    assert kube.names(*NAD, label_selector='netplumb.io/nic!=nic2') == ['b']
    assert kube.names(*NAD, label_selector='!netplumb.io/nic') == []
    status, body = kube.request('GET', kube.path(*NAD), params={'fieldSelector': 'metadata.name=c'})
    assert [o['metadata']['name'] for o in body['items']] == ['c']
    assert kube.names('v1', 'Namespace') == ['default', 'kube-node-lease', 'kube-public', 'kube-system']
    assert kube.request('GET', '/api/v1/namespaces/kube-system')[1]['status'] == {'phase': 'Active'}


def test_writes_behave_like_an_api_server(kube):
    stored = kube.create(nad('a', 'default', 'nic1'))
    assert (
        stored['metadata']['uid']
        and stored['metadata']['generation'] == 1
        and stored['metadata']['creationTimestamp'].endswith('Z')
    )
    path = kube.path(*NAD, namespace='default')
    assert kube.request('POST', path, nad('a', 'default', 'nic1'))[0] == 409
    assert kube.request('POST', kube.path(*NAD, namespace='nowhere'), nad('x', 'nowhere', 'nic1'))[0] == 404
    assert kube.request('POST', path, nad('dry', 'default', 'nic1'), params={'dryRun': 'All'})[0] == 201
    assert kube.request('DELETE', path + '/a', params={'dryRun': 'All'})[0] == 200
    assert kube.names(*NAD) == ['a']
    # Custom resources refuse strategic merge (kubernetes.core then falls back to a merge patch).
    assert (
        kube.request('PATCH', path + '/a', {'spec': {}}, content_type='application/strategic-merge-patch+json')[0]
        == 415
    )
    # A no-op patch changes nothing, not even resourceVersion; a stale resourceVersion conflicts.
    again = kube.patch(*NAD, name='a', namespace='default', patch={'spec': {'config': stored['spec']['config']}})
    assert again['metadata']['resourceVersion'] == stored['metadata']['resourceVersion']
    kube.patch(*NAD, name='a', namespace='default', patch={'metadata': {'labels': {'x': 'y'}}})
    stale = {'metadata': {'resourceVersion': stored['metadata']['resourceVersion']}, 'spec': {'config': '{}'}}
    assert kube.request('PATCH', path + '/a', stale, content_type='application/merge-patch+json')[0] == 409
    assert kube.get(*NAD, name='a', namespace='default')['metadata']['generation'] == 1  # labels are metadata


def test_status_is_a_subresource_and_nodes_keep_theirs(kube):
    node = kube.create(
        {
            'apiVersion': 'v1',
            'kind': 'Node',
            'metadata': {'name': 'worker1'},
            'status': {'addresses': [{'type': 'InternalIP', 'address': '198.18.1.11'}]},
        }
    )
    assert node['status']['addresses'] == [{'type': 'InternalIP', 'address': '198.18.1.11'}]
    kube.create(
        {
            'apiVersion': 'apps/v1',
            'kind': 'DaemonSet',
            'metadata': {'name': 'd', 'namespace': 'default'},
            'spec': {'template': {'spec': {'containers': [{'name': 'c', 'image': 'i:1'}]}}},
        }
    )
    ds = kube.mark_daemonset_ready('d', 'default', number=3)
    assert ds['status']['numberReady'] == 3 and ds['status']['observedGeneration'] == 1
    # The main resource cannot change status, /status cannot change spec.
    ds = kube.patch(
        'apps/v1',
        'DaemonSet',
        'd',
        {'status': {'numberReady': 0}, 'spec': {'template': {'spec': {'containers': [{'name': 'c', 'image': 'i:2'}]}}}},
        namespace='default',
    )
    assert ds['status']['numberReady'] == 3 and ds['metadata']['generation'] == 2  # now stale: observedGeneration 1
    ds = kube.patch_status('apps/v1', 'DaemonSet', 'd', {'numberReady': 1}, namespace='default')
    assert ds['status']['numberReady'] == 1 and ds['metadata']['generation'] == 2


def test_request_log_and_stop(tmp_path):
    emulator = KubeEmulator(str(tmp_path)).start()
    try:
        emulator.create(nad('a', 'default', 'nic1'))
        assert emulator.request_log() == []  # the fixture's own requests are left out
        assert [r['method'] for r in emulator.request_log(include_fixture=True)] == ['POST']
        with open(emulator.kubeconfig, encoding='utf-8') as handle:
            assert json.load(handle)['clusters'][0]['cluster']['server'] == emulator.url
    finally:
        emulator.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(emulator.url + '/version', timeout=5)


def test_kmock_still_has_the_deviations_we_fix():
    """When this fails after a kmock upgrade, kmock fixed its LIST or Namespace URLs: drop that workaround."""

    async def probe():
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler):
            handler.resources['k8s.cni.cncf.io/v1/network-attachment-definitions'] = kmock.ResourceInfo(
                kind='NetworkAttachmentDefinition'
            )
            resp = await handler.get('/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions')
            return await resp.json()

    body = asyncio.run(probe())
    assert 'items' in body and 'kind' not in body and 'apiVersion' not in body
    with pytest.raises(ValueError):
        KMOCK_PARSE_PATH('/api/v1/namespaces')  # kube_emulator.parse_path replaces it in this process
