# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of site.yml's proofs a run makes again (module_utils/proofs.py, filter site_proofs)."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.proofs import ProofError, fingerprint, proofs_to_run

NAD = {'apiVersion': 'k8s.cni.cncf.io/v1', 'kind': 'NetworkAttachmentDefinition', 'metadata': {'name': 'storage-net'}}
INPUTS = {
    'preflight': {'objects': [NAD], 'nodes': [{'name': 'worker1', 'multihome_nics': [{'name': 'nic1'}]}]},
    'pod_matrix': {'objects': [NAD], 'settings': {'pod_matrix_networks': ['ais/storage-net']}},
}


def passed(now='2026-12-03T09:00:00Z'):
    """The records a run that passed with INPUTS kept."""
    return [proof['stamp'] for proof in proofs_to_run(INPUTS, [], [], 'always', now=now).values()]


def test_a_first_run_proves_everything_and_says_none_is_on_record():
    proofs = proofs_to_run(INPUTS, [], [], now='2026-12-03T09:00:00Z')
    assert [name for name, proof in proofs.items() if proof['run']] == ['pod_matrix', 'preflight']
    assert proofs['preflight']['reason'] == 'preflight: runs: no run of it passed before (none on record)'
    assert proofs['preflight']['stamp'] == {
        'proof': 'preflight',
        'fingerprint': fingerprint(INPUTS['preflight']),
        'passed': '2026-12-03T09:00:00Z',
    }


def test_a_rerun_with_the_same_inputs_that_changed_nothing_proves_nothing_and_says_when_they_passed():
    proofs = proofs_to_run(INPUTS, passed(), [])
    assert [proof['run'] for proof in proofs.values()] == [False, False]
    assert proofs['pod_matrix']['reason'] == (
        'pod_matrix: not run: it passed at 2026-12-03T09:00:00Z with these exact inputs and this run changed nothing '
        'before it (-e site_prove=always runs it)'
    )


def test_anything_this_run_changed_proves_again_naming_it():
    proofs = proofs_to_run(INPUTS, passed(), ['routing on worker2', 'the network definitions'])
    assert all(proof['run'] for proof in proofs.values())
    assert proofs['preflight']['reason'] == (
        'preflight: runs: this run changed routing on worker2, the network definitions'
    )


def test_other_inputs_prove_again_only_what_tests_them():
    other = dict(INPUTS, preflight=dict(INPUTS['preflight'], nodes=[{'name': 'worker1', 'multihome_nics': []}]))
    proofs = proofs_to_run(other, passed(), [])
    assert proofs['preflight']['run'] and not proofs['pod_matrix']['run']
    assert proofs['preflight']['reason'] == (
        'preflight: runs: what it tests differs from the run that passed at 2026-12-03T09:00:00Z'
    )


def test_always_proves_everything():
    proofs = proofs_to_run(INPUTS, passed(), [], 'always')
    assert [proof['reason'] for proof in proofs.values()] == [
        'pod_matrix: runs: site_prove is always',
        'preflight: runs: site_prove is always',
    ]


def test_a_record_that_is_no_record_counts_as_none():
    proofs = proofs_to_run(INPUTS, ['garbage', {'proof': 'preflight'}, None], [])
    assert all(proof['run'] for proof in proofs.values())


def test_the_fingerprint_is_the_same_whatever_the_order_of_the_keys():
    assert fingerprint({'a': 1, 'b': [1, {'c': 2, 'd': 3}]}) == fingerprint({'b': [1, {'d': 3, 'c': 2}], 'a': 1})
    assert fingerprint({'a': 1}) != fingerprint({'a': 2})


def test_a_bad_mode_is_named():
    with pytest.raises(ProofError, match="site_prove 'sometimes' is not one of always, changed"):
        proofs_to_run(INPUTS, [], [], 'sometimes')
