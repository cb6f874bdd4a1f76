# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cni_preflight role's filters, through the FilterModule Ansible loads (the logic: test_cni_preflight.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.filter.cni_preflight import FilterModule
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import build_objects

FILTERS = FilterModule().filters()


def test_the_filters_are_exported():
    assert sorted(FILTERS) == [
        'cni_preflight_attachments',
        'cni_preflight_failures',
        'cni_preflight_report',
        'cni_preflight_rows',
    ]


def test_attachments_from_nad_objects_and_errors_as_filter_errors():
    objects = build_objects(
        [
            {
                'name': 'storage-net',
                'namespace': 'ais',
                'type': 'macvlan',
                'master': 'nic1',
                'ipam': {'type': 'whereabouts', 'range': '198.18.61.0/24'},
            }
        ]
    )
    picked = FILTERS['cni_preflight_attachments'](objects, ('macvlan',))
    assert [a['name'] for a in picked['tested']] == ['storage-net'] and picked['untested'] == []
    # The module_utils' own error, prefixed with the filter's name.
    with pytest.raises(
        AnsibleFilterError, match=r"^netplumb.multihome.cni_preflight_attachments: objects\[0\] \{'state': 'present'\}"
    ):
        FILTERS['cni_preflight_attachments']([{'state': 'present'}], ['macvlan'])


def test_rows_report_and_failures():
    # A node's registered result may be missing ({}), as map(attribute=..., default={}) hands it over.
    add = {'attachments': [{'name': 'a', 'type': 'macvlan', 'errors': [], 'summary': 'a: ADD ok'}]}
    rows = FILTERS['cni_preflight_rows'](['worker1', 'worker2'], [add, {}], [{}, {}], [{}, {}])
    assert [(r['node'], r['attachment'], r['ok']) for r in rows] == [('worker1', 'a', True), ('worker2', '*', False)]
    assert FILTERS['cni_preflight_failures'](rows) == [
        'worker2/*: the preflight did not run on this node (unreachable, or failed before it)'
    ]
    assert FILTERS['cni_preflight_report'](rows)[0] == 'worker1 a: ok | a: ADD ok | not run | not run'
    assert FILTERS['cni_preflight_rows'](['worker1'], [{'skipped': True}], [{}], [{}], expected=False) == []


def test_arguments_are_checked_against_the_documentation():
    with pytest.raises(AnsibleFilterError, match="cni_preflight_rows: present 'x' is not a list of dicts"):
        FILTERS['cni_preflight_rows'](['worker1'], 'x', [], [])
    with pytest.raises(
        AnsibleFilterError, match='cni_preflight_attachments: types is missing: expected a list of strings'
    ):
        FILTERS['cni_preflight_attachments']([])
