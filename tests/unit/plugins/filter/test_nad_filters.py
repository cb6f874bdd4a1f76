# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pod annotation filters, through the FilterModule Ansible loads."""

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.filter.nad import FilterModule
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import build_objects

FILTERS = FilterModule().filters()


def test_the_filters_are_exported():
    assert sorted(FILTERS) == ['pod_networks_annotation', 'spiderpool_annotations']


def test_pod_networks_annotation_filter():
    # Multus' JSON form: name, then namespace and interface when known.
    value = FILTERS['pod_networks_annotation'](['storage-net@net1', 'other/repl-net'], 'aistore')
    assert json.loads(value) == [
        {'name': 'storage-net', 'namespace': 'aistore', 'interface': 'net1'},
        {'name': 'repl-net', 'namespace': 'other'},
    ]


def test_pod_networks_annotation_filter_checks_against_nads():
    nads = build_objects(
        [
            {
                'name': 'storage-net',
                'namespace': 'aistore',
                'type': 'macvlan',
                'master': 'ens1f0',
                'ipam': {'type': 'whereabouts', 'range': '198.18.32.0/24'},
            }
        ]
    )
    with pytest.raises(AnsibleFilterError) as exc:
        FILTERS['pod_networks_annotation']([{'name': 'storage-net', 'ips': ['198.18.32.5/24']}], 'aistore', nads=nads)
    assert 'capabilities.ips' in str(exc.value)


@pytest.mark.parametrize(
    'attachments, fragment',
    [
        (['a', 'a'], 'attaches a again'),
        ([{'name': 'a', 'mac': 'zz:00:00:00:00:01'}], "'zz:00:00:00:00:01'"),
        ([{'name': 'a', 'ips': ['198.18.0.5']}], "'198.18.0.5'"),
        (['a@eth0;x'], "'eth0;x'"),
    ],
)
def test_pod_networks_annotation_errors_name_the_value(attachments, fragment):
    with pytest.raises(AnsibleFilterError, match='netplumb.multihome.pod_networks_annotation') as exc:
        FILTERS['pod_networks_annotation'](attachments)
    assert fragment in str(exc.value)


def test_spiderpool_annotations_filter():
    assert (
        FILTERS['spiderpool_annotations']([{'interface': 'net1', 'ipv4': ['storage-v4']}])
        == '[{"interface":"net1","ipv4":["storage-v4"],"cleangateway":false}]'
    )
    assert (
        FILTERS['spiderpool_annotations']([{'interface': 'net1', 'ipv6': ['subnet-v6']}], 'subnets')
        == '[{"interface":"net1","ipv6":["subnet-v6"]}]'
    )


@pytest.mark.parametrize(
    'args, fragment',
    [
        (([{'ipv4': ['a']}, {'ipv4': ['b']}],), 'has no interface'),
        (([{'interface': 'net1', 'ipv4': ['Pool_A']}],), "'Pool_A'"),
        (([{'interface': 'net1', 'ipv4': ['a']}], 'pools'), "kind 'pools'"),
    ],
)
def test_spiderpool_annotations_errors_name_the_value(args, fragment):
    with pytest.raises(AnsibleFilterError, match='netplumb.multihome.spiderpool_annotations') as exc:
        FILTERS['spiderpool_annotations'](*args)
    assert fragment in str(exc.value)
