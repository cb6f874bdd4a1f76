"""What the k8s_access module asks of the cluster, and what it says when the answer is no."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.k8s_access import (
    AccessError,
    checks_for,
    denied_message,
    describe_check,
    unauthorized_message,
    unreachable_message,
)

NAD = {
    'apiVersion': 'k8s.cni.cncf.io/v1',
    'kind': 'NetworkAttachmentDefinition',
    'metadata': {'name': 'storage-net', 'namespace': 'ais'},
}


def test_one_check_per_verb_kind_and_namespace_in_order():
    other = dict(NAD, metadata={'name': 'replication-net', 'namespace': 'ais'})
    gone = {
        'state': 'absent',
        'object': {
            'apiVersion': 'spiderpool.spidernet.io/v2beta1',
            'kind': 'SpiderIPPool',
            'metadata': {'name': 'old'},
        },
    }
    checks = checks_for([{'state': 'present', 'object': NAD}, {'state': 'present', 'object': other}, gone])
    assert [(c['verb'], c['kind'], c['namespace']) for c in checks] == [
        ('get', 'NetworkAttachmentDefinition', 'ais'),
        ('create', 'NetworkAttachmentDefinition', 'ais'),
        ('patch', 'NetworkAttachmentDefinition', 'ais'),
        ('get', 'SpiderIPPool', ''),
        ('delete', 'SpiderIPPool', ''),
    ]
    # Plain objects take the default state.
    assert [c['verb'] for c in checks_for([NAD], 'absent')] == ['get', 'delete']


@pytest.mark.parametrize(
    'objects, message',
    [
        (['x'], "objects[0] 'x' is not a Kubernetes object"),
        ([{'kind': 'Node'}], 'has no apiVersion and kind'),
        ([{'state': 'gone', 'object': NAD}], "objects[0] state 'gone' is not one of absent, present"),
        ([{'apiVersion': '', 'kind': 'Node'}], 'has no apiVersion and kind'),
    ],
)
def test_bad_objects_are_named(objects, message):
    with pytest.raises(AccessError, match=message.replace('[', r'\[').replace(']', r'\]')):
        checks_for(objects)


def test_messages_name_the_server_the_kubeconfig_and_what_is_denied():
    check = {
        'verb': 'create',
        'api_version': 'k8s.cni.cncf.io/v1',
        'kind': 'NetworkAttachmentDefinition',
        'namespace': 'ais',
    }
    assert (
        describe_check(check, 'network-attachment-definitions')
        == 'create network-attachment-definitions.k8s.cni.cncf.io in namespace ais'
    )
    assert (
        describe_check({'verb': 'list', 'api_version': 'v1', 'kind': 'Node', 'namespace': ''}, 'nodes') == 'list nodes'
    )
    source = 'kubeconfig /tmp/kc'
    assert unreachable_message('https://198.18.0.2:6443', source, 'connection refused').startswith(
        'The Kubernetes API at https://198.18.0.2:6443 (kubeconfig /tmp/kc) does not answer: connection refused.'
    )
    assert (
        'refused the credentials of kubeconfig /tmp/kc (HTTP 401 Unauthorized: Unauthorized)'
        in unauthorized_message('https://x', source, 'Unauthorized')
    )
    assert denied_message('reader', ['create nodes', 'delete pods in namespace a'], source).startswith(
        'The user reader of kubeconfig /tmp/kc may not create nodes; delete pods in namespace a (RBAC). Nothing was changed'
    )


def test_object_table_is_sorted_and_aligned():
    from ansible_collections.netplumb.multihome.plugins.module_utils.k8s_access import object_table

    objects = [
        {'kind': 'SpiderSubnet', 'metadata': {'name': 'storage-v4', 'creationTimestamp': '2026-12-01T10:00:01Z'}},
        {
            'kind': 'NetworkAttachmentDefinition',
            'metadata': {'name': 'storage-net', 'namespace': 'ais', 'creationTimestamp': '2026-12-01T10:00:00Z'},
        },
    ]
    assert object_table(objects) == [
        'NAMESPACE  KIND                         NAME         CREATED',
        'ais        NetworkAttachmentDefinition  storage-net  2026-12-01T10:00:00Z',
        '-          SpiderSubnet                 storage-v4   2026-12-01T10:00:01Z',
    ]
