# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drift_rows on a kubernetes.core.k8s call given several definitions: the shape kubernetes.core's runner returns for
them (``{changed, result: {results: [one result per object]}}``, plugins/module_utils/k8s/runner.py) inside a loop
over the states. What this does not prove: that a real check run prints it so; test_site.py's drift run does."""

from ansible_collections.netplumb.multihome.plugins.module_utils.drift import drift_rows


def k8s_result(kind, name, namespace, changed, before=None, after=None):
    obj = {'kind': kind, 'metadata': {'name': name, 'namespace': namespace}}
    out = {'changed': changed, 'method': 'update' if changed else None, 'result': obj}
    if changed:
        out['diff'] = {'before': before, 'after': after}
    return out


def run_of(task_result):
    return {'plays': [{'tasks': [{'task': {'name': 'Apply the objects'}, 'hosts': {'localhost': task_result}}]}],
            'stats': {'localhost': {}}}  # fmt: skip


def test_each_object_of_a_multi_definition_call_is_a_row_of_its_own_and_unchanged_ones_are_not():
    present = {
        'changed': True,
        '_ansible_item_label': 'present: a, b, c',
        'result': {
            'results': [
                k8s_result('NetworkAttachmentDefinition', 'a', 'ais', False),
                k8s_result(
                    'NetworkAttachmentDefinition', 'b', 'ais', True, {'spec': {'mtu': 1500}}, {'spec': {'mtu': 1400}}
                ),
                k8s_result('SpiderIPPool', 'c', None, True, {'spec': {}}, {'spec': {'ips': ['198.18.20.10']}}),
            ]
        },
    }
    rows = drift_rows(run_of({'changed': True, 'results': [present]}))['rows']
    assert [row['what'] for row in rows] == ['NetworkAttachmentDefinition ais/b', 'SpiderIPPool c']
    assert any(line.startswith('+') and '1400' in line for line in rows[0]['diff'])
    assert any(line.startswith('-') and '1500' in line for line in rows[0]['diff'])


def test_a_call_with_one_definition_is_one_row_as_before():
    one = dict(
        k8s_result('NetworkAttachmentDefinition', 'b', 'ais', True, {'a': 1}, {'a': 2}),
        _ansible_item_label='present: b',
    )
    rows = drift_rows(run_of({'changed': True, 'results': [one]}))['rows']
    assert [row['what'] for row in rows] == ['NetworkAttachmentDefinition ais/b']
