"""Cluster nodes from the inventory: additional_hosts and multihome_nics, either one, never disagreeing."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.cluster_hosts import HostsError, cluster_hosts, node

NICS = [
    {'name': 'nic1', 'address': '198.18.1.11/24'},
    {'name': 'nic2', 'address': '198.18.2.11/24', 'gateway': '198.18.2.254'},
]


def test_multihome_nics_give_additional_hosts():
    got = node('worker1', {'ansible_host': '198.18.0.11', 'multihome_nics': NICS})
    assert got == {
        'name': 'worker1',
        'main_ip': '198.18.0.11',
        'additional_hosts': ['198.18.1.11', '198.18.2.11'],
        'interfaces': NICS,
        'interfaces_known': True,
    }


def test_both_given_and_equal_is_fine_and_node_ip_comes_first():
    got = node(
        'worker1',
        {
            'ansible_host': 'lab-worker1',
            'node_ip': '198.18.0.11',
            'additional_hosts': '198.18.1.11, 198.18.2.11',
            'multihome_nics': NICS,
        },
    )
    assert got['main_ip'] == '198.18.0.11' and got['additional_hosts'] == ['198.18.1.11', '198.18.2.11']


@pytest.mark.parametrize('additional', ['198.18.1.11,198.18.2.12', '198.18.2.11,198.18.1.11', '198.18.1.11'])
def test_both_given_and_different_names_the_host_and_both(additional):
    with pytest.raises(HostsError) as err:
        node('worker1', {'ansible_host': '198.18.0.11', 'additional_hosts': additional, 'multihome_nics': NICS})
    assert str(err.value) == (
        'host worker1: additional_hosts %s disagrees with multihome_nics (nic1 198.18.1.11/24, '
        'nic2 198.18.2.11/24): expected the same extra IPs in the same order, or only one of them '
        '(the other is derived)' % additional
    )


def test_additional_hosts_alone_derive_nics_from_the_interfaces_and_master_nets():
    got = node(
        'worker2',
        {'ansible_host': '198.18.0.12', 'additional_hosts': '198.18.1.12,198.18.2.12'},
        interfaces='nic1,nic2',
        master_nets=['198.18.1.0/24', '198.18.2.0/25'],
    )
    assert got['interfaces'] == [
        {'name': 'nic1', 'address': '198.18.1.12/24'},
        {'name': 'nic2', 'address': '198.18.2.12/25'},
    ]
    # Without names the NICs stay unknown; the AIS role needs only the addresses.
    unnamed = node('worker2', {'ansible_host': '198.18.0.12', 'additional_hosts': '198.18.1.12'})
    assert (
        unnamed['additional_hosts'] == ['198.18.1.12']
        and unnamed['interfaces'] == []
        and not unnamed['interfaces_known']
    )


@pytest.mark.parametrize(
    'hostvars, kwargs, message',
    [
        (
            {'additional_hosts': '198.18.1.12,198.18.2.12'},
            {'interfaces': 'nic1', 'master_nets': ['198.18.0.0/16']},
            'host w has 2 additional_hosts (198.18.1.12, 198.18.2.12) but 1 interfaces are named (nic1)',
        ),
        (
            {'additional_hosts': '198.18.9.12'},
            {'interfaces': 'nic1', 'master_nets': ['198.18.1.0/24']},
            'host w extra IP 198.18.9.12 (interface nic1) is in none of the master networks (198.18.1.0/24): its prefix is unknown',
        ),
        ({'additional_hosts': '198.18.1.300'}, {}, "host w additional_hosts entry '198.18.1.300' is not an IP address"),
        ({'additional_hosts': '198.18.1.3,,198.18.1.4'}, {}, 'has an empty or non-string entry at position 1'),
        ({'multihome_nics': {'name': 'nic1'}}, {}, 'host w multihome_nics {'),
        (
            {'multihome_nics': [{'name': 'nic1', 'address': '198.18.1.3'}]},
            {},
            'host w multihome_nics[0] (nic1) address',
        ),
        ({'multihome_nics': [{'name': 'nic1;x', 'address': '198.18.1.3/24'}]}, {}, "multihome_nics[0] name 'nic1;x'"),
        (
            {
                'multihome_nics': [
                    {'name': 'nic1', 'address': '198.18.1.3/24'},
                    {'name': 'nic1', 'address': '198.18.2.3/24'},
                ]
            },
            {},
            'host w multihome_nics lists nic1 twice',
        ),
    ],
)
def test_bad_inventory_values_are_named(hostvars, kwargs, message):
    with pytest.raises(PlanError) as err:
        node('w', dict(hostvars, ansible_host='198.18.0.12'), **kwargs)
    assert message in str(err.value)


def test_cluster_hosts_in_order_and_require_interfaces():
    hostvars = {
        'a': {'ansible_host': '198.18.0.1', 'multihome_nics': NICS[:1]},
        'b': {'ansible_host': '198.18.0.2', 'additional_hosts': '198.18.1.2'},
    }
    assert [h['name'] for h in cluster_hosts(['b', 'a'], hostvars)] == ['b', 'a']
    with pytest.raises(HostsError, match=r'host b has additional_hosts \(198.18.1.2\) but its data NICs are not named'):
        cluster_hosts(['a', 'b'], hostvars, require_interfaces=True)
    with pytest.raises(HostsError, match='host c is not in'):
        cluster_hosts(['c'], hostvars)
