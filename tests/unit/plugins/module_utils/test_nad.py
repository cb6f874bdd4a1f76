# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the network attachment builder and validator (module_utils/nad.py).

Expected objects and refusals are worked out from the upstream rules, not copied from
the code's output:

* CNI plugins (containernetworking-plugins 1.1.1): cniVersion 0.1.0 to 1.0.0; macvlan
  modes bridge/private/vepa/passthru (``modeFromString``; the README's "passthrough" is
  not accepted by the code); ipvlan modes l2/l3/l3s; bridge VLAN 0 to 4094; host-device
  finds its device by device/hwaddr/kernelpath/pciBusID; static IPAM addresses are CIDR
  notation, one per family before cniVersion 0.3.0; ipvlan cannot use dhcp.
* Multus: NAD ``k8s.cni.cncf.io/v1`` with ``spec.config`` a JSON string; the
  ``k8s.v1.cni.cncf.io/resourceName`` annotation for SR-IOV; the networks annotation
  short form ``ns/name@if`` and JSON elements {name, namespace, interface, ips, mac};
  unnamed attachments become ``net<position>``; ``ips``/``mac`` need the NAD's capability.
* whereabouts: range/range_start/range_end/exclude/gateway/enable_overlapping_ranges/
  network_name/node_slice_size ("/24").
* OVN-Kubernetes: type ovn-k8s-cni-overlay, no ipam type, reserved names default and
  ovn-kubernetes, netAttachDefName <ns>/<name>, vlanID only on localnet, no persistent IPs
  on layer3, localnet only secondary, NADs of one network identical.
* Spiderpool v2beta1 SpiderSubnet/SpiderIPPool specs and the ippools/subnets annotations.
* Multi-NIC CNI MultiNicNetwork: subnet IPv4, ipam JSON string with hostBlock,
  interfaceBlock, vlanMode; attachPolicy strategies none/costOpt/perfOpt/devClass/topology.
"""

import json

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_attachments import legacy_attachments
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import (
    NadError,
    build_objects,
    check_cni_config,
    check_ifname,
    pod_networks_annotation,
    primary_namespaces,
    spiderpool_annotations,
    summarize,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges

WB = {'type': 'whereabouts', 'range': '198.18.32.0/24'}


def macvlan(name='storage-net', **extra):
    item = {'name': name, 'namespace': 'aistore', 'type': 'macvlan', 'master': 'ens1f0', 'ipam': dict(WB)}
    item.update(extra)
    return item


def ovnk(name='tenant-l2', namespace='team-a', **extra):
    item = {'name': name, 'namespace': namespace, 'type': 'ovn-k8s-cni-overlay', 'topology': 'layer2'}
    item.update(extra)
    return item


def config(entry):
    return json.loads(entry['object']['spec']['config'])


def only(networks, **kwargs):
    """The single object of ``networks``."""
    objects = build_objects(networks, **kwargs)
    assert len(objects) == 1, objects
    return objects[0]


def refused(networks, **kwargs):
    with pytest.raises(NadError) as exc:
        build_objects(networks, **kwargs)
    return str(exc.value)


# A plan as cidr_plan network_ranges returns it, written by hand.
PLAN = {
    'plan': {
        'supernet': '198.18.32.0/20',
        'networks': [
            {
                'name': 'storage-net',
                'range': '198.18.32.0/24',
                'range_start': '198.18.32.1',
                'range_end': '198.18.32.254',
                'nodes': [],
            },
            {
                'name': 'repl-net',
                'range': '198.18.33.0/24',
                'range_start': '198.18.33.1',
                'range_end': '198.18.33.254',
                'nodes': [
                    {'name': 'worker1', 'range': '198.18.33.0/28'},
                    {'name': 'worker2', 'range': '198.18.33.16/28'},
                ],
            },
        ],
    }
}


# ============================================================ happy paths, one per type and IPAM


def test_macvlan_whereabouts_is_a_complete_nad():
    entry = only(
        [
            macvlan(
                mode='bridge',
                mtu=9000,
                ipam={
                    'type': 'whereabouts',
                    'range': '198.18.32.0/24',
                    'range_start': '198.18.32.10',
                    'range_end': '198.18.32.200',
                    'exclude': ['198.18.32.64/28'],
                    'gateway': '198.18.32.1',
                },
            )
        ]
    )
    assert entry['state'] == 'present'
    obj = entry['object']
    assert obj['apiVersion'] == 'k8s.cni.cncf.io/v1'
    assert obj['kind'] == 'NetworkAttachmentDefinition'
    assert obj['metadata'] == {'name': 'storage-net', 'namespace': 'aistore'}
    text = obj['spec']['config']
    assert ' ' not in text  # compact JSON
    conf = json.loads(text)
    assert conf == {
        'cniVersion': '0.3.1',
        'name': 'storage-net',
        'type': 'macvlan',
        'master': 'ens1f0',
        'mode': 'bridge',
        'mtu': 9000,
        'ipam': {
            'type': 'whereabouts',
            'range': '198.18.32.0/24',
            'range_start': '198.18.32.10',
            'range_end': '198.18.32.200',
            'exclude': ['198.18.32.64/28'],
            'gateway': '198.18.32.1',
        },
    }
    # Stable key order: identity first, then the plugin's keys, IPAM last.
    assert list(conf) == ['cniVersion', 'name', 'type', 'master', 'mode', 'mtu', 'ipam']


def test_config_text_is_stable_across_runs():
    networks = [macvlan(mode='vepa', mtu=1500, ipam=dict(WB, routes=[{'dst': '198.19.0.0/16', 'gw': '198.18.32.1'}]))]
    assert build_objects(networks) == build_objects([dict(n) for n in networks])


@pytest.mark.parametrize('mode', ['bridge', 'vepa', 'private', 'passthru'])
def test_macvlan_modes(mode):
    assert config(only([macvlan(mode=mode)]))['mode'] == mode


@pytest.mark.parametrize('mode', ['l2', 'l3', 'l3s'])
def test_ipvlan_modes_with_host_local(mode):
    conf = config(
        only(
            [
                macvlan(
                    type='ipvlan',
                    mode=mode,
                    ipam={
                        'type': 'host-local',
                        'subnet': '198.18.34.0/24',
                        'range_start': '198.18.34.10',
                        'range_end': '198.18.34.20',
                        'gateway': '198.18.34.1',
                        'routes': [{'dst': '0.0.0.0/0'}],
                    },
                )
            ]
        )
    )
    assert conf['type'] == 'ipvlan' and conf['mode'] == mode
    expected_range = {
        'subnet': '198.18.34.0/24',
        'rangeStart': '198.18.34.10',
        'rangeEnd': '198.18.34.20',
        'gateway': '198.18.34.1',
    }
    assert conf['ipam'] == {'type': 'host-local', 'ranges': [[expected_range]], 'routes': [{'dst': '0.0.0.0/0'}]}


def test_host_local_dual_stack_range_sets():
    conf = config(
        only(
            [
                macvlan(
                    ipam={
                        'type': 'host-local',
                        'ranges': [
                            [{'subnet': '198.18.34.0/25'}, {'subnet': '198.18.34.128/25'}],
                            [{'subnet': 'fd00:198:18::/64'}],
                        ],
                    }
                )
            ]
        )
    )
    assert conf['ipam']['ranges'] == [
        [{'subnet': '198.18.34.0/25'}, {'subnet': '198.18.34.128/25'}],
        [{'subnet': 'fd00:198:18::/64'}],
    ]


def test_bridge_with_static_ipam():
    conf = config(
        only(
            [
                {
                    'name': 'br-net',
                    'namespace': 'aistore',
                    'type': 'bridge',
                    'bridge': 'br-storage',
                    'is_gateway': False,
                    'ip_masq': False,
                    'hairpin_mode': True,
                    'mtu': 1500,
                    'vlan': 12,
                    'ipam': {
                        'type': 'static',
                        'addresses': [{'address': '198.18.35.5/24', 'gateway': '198.18.35.1'}],
                        'routes': [{'dst': '198.19.0.0/16'}],
                    },
                }
            ]
        )
    )
    assert conf == {
        'cniVersion': '0.3.1',
        'name': 'br-net',
        'type': 'bridge',
        'bridge': 'br-storage',
        'isGateway': False,
        'ipMasq': False,
        'mtu': 1500,
        'hairpinMode': True,
        'vlan': 12,
        'ipam': {
            'type': 'static',
            'addresses': [{'address': '198.18.35.5/24', 'gateway': '198.18.35.1'}],
            'routes': [{'dst': '198.19.0.0/16'}],
        },
    }


@pytest.mark.parametrize(
    'key, value, out_key',
    [
        ('device', 'ens2f1', 'device'),
        ('hwaddr', '02:00:C6:12:00:05', 'hwaddr'),
        ('kernelpath', '/sys/devices/pci0000:00/0000:00:1f.6', 'kernelpath'),
        ('pci_bus_id', '0000:03:00.1', 'pciBusID'),
    ],
)
def test_host_device_needs_no_ipam(key, value, out_key):
    conf = config(only([{'name': 'hd', 'namespace': 'aistore', 'type': 'host-device', key: value}]))
    expected = value.lower() if key == 'hwaddr' else value
    assert conf == {'cniVersion': '0.3.1', 'name': 'hd', 'type': 'host-device', out_key: expected}


def test_sriov_gets_the_resource_name_annotation():
    entry = only(
        [
            {
                'name': 'sriov-net',
                'namespace': 'aistore',
                'type': 'sriov',
                'resource_name': 'intel.com/sriov_netdevice',
                'vlan': 100,
                'vlan_qos': 3,
                'spoofchk': 'on',
                'trust': 'off',
                'link_state': 'auto',
                'ipam': {'type': 'dhcp'},
                'annotations': {'team': 'storage'},
            }
        ]
    )
    assert entry['object']['metadata']['annotations'] == {
        'k8s.v1.cni.cncf.io/resourceName': 'intel.com/sriov_netdevice',
        'team': 'storage',
    }
    assert config(entry) == {
        'cniVersion': '0.3.1',
        'name': 'sriov-net',
        'type': 'sriov',
        'vlan': 100,
        'vlanQoS': 3,
        'spoofchk': 'on',
        'trust': 'off',
        'link_state': 'auto',
        'ipam': {'type': 'dhcp'},
    }


def test_ipam_none_is_an_empty_block_and_spiderpool_ipam_names_pools():
    assert config(only([macvlan(ipam={'type': 'none'})]))['ipam'] == {}
    conf = config(
        only([macvlan(ipam={'type': 'spiderpool', 'default_ipv4_ippool': ['storage-v4'], 'clean_gateway': True})])
    )
    assert conf['ipam'] == {'type': 'spiderpool', 'default_ipv4_ippool': ['storage-v4'], 'clean_gateway': True}


def test_static_without_addresses_when_the_pod_supplies_ips():
    conf = config(only([macvlan(capabilities={'ips': True}, ipam={'type': 'static'})]))
    assert conf['capabilities'] == {'ips': True}
    assert conf['ipam'] == {'type': 'static'}
    assert list(conf)[-2:] == ['capabilities', 'ipam']


def test_one_nad_per_namespace_in_order():
    objects = build_objects([macvlan(namespace=None, namespaces=['team-b', 'team-a'])])
    assert [o['object']['metadata']['namespace'] for o in objects] == ['team-b', 'team-a']
    assert config(objects[0]) == config(objects[1])


def test_extra_config_passes_through_before_ipam():
    conf = config(only([macvlan(extra_config={'linkInContainer': False})]))
    assert conf['linkInContainer'] is False
    assert list(conf)[-1] == 'ipam'


def test_absent_networks_carry_only_their_identity_and_skip_the_overlap_check():
    objects = build_objects([macvlan(), macvlan(name='old-net', state='absent')])
    assert objects[1] == {
        'state': 'absent',
        'object': {
            'apiVersion': 'k8s.cni.cncf.io/v1',
            'kind': 'NetworkAttachmentDefinition',
            'metadata': {'name': 'old-net', 'namespace': 'aistore'},
        },
    }


def test_defaults_apply_where_the_key_exists_and_merge_labels():
    objects = build_objects(
        [
            {'name': 'a', 'type': 'macvlan', 'master': 'ens1f0', 'ipam': dict(WB), 'labels': {'tier': 'data'}},
            {'name': 'b', 'type': 'host-device', 'device': 'ens2f0'},
        ],
        defaults={'namespace': 'aistore', 'cni_version': '1.0.0', 'mtu': 9000, 'labels': {'app': 'aistore'}},
    )
    first, second = config(objects[0]), config(objects[1])
    assert first['cniVersion'] == '1.0.0' and first['mtu'] == 9000
    # host-device has no mtu option: the default does not reach it.
    assert second['cniVersion'] == '1.0.0' and 'mtu' not in second
    assert objects[0]['object']['metadata']['labels'] == {'app': 'aistore', 'tier': 'data'}
    assert objects[1]['object']['metadata'] == {'name': 'b', 'namespace': 'aistore', 'labels': {'app': 'aistore'}}


def test_ipam_and_cni_version_defaults_do_not_reach_ovnk():
    objects = build_objects(
        [macvlan(ipam=None), ovnk()], defaults={'ipam': {'type': 'none'}, 'cni_version': '1.0.0', 'mtu': 1400}
    )
    first, second = config(objects[0]), config(objects[1])
    # A key set to null takes the default.
    assert first['ipam'] == {} and first['cniVersion'] == '1.0.0'
    assert 'ipam' not in second and second['cniVersion'] == '0.3.1' and second['mtu'] == 1400


# ------------------------------------------------------------ OVN-Kubernetes


def test_ovnk_layer3():
    entry = only([ovnk(name='l3-net', topology='layer3', subnets='198.18.128.0/17/24', mtu=1400)])
    conf = config(entry)
    assert conf == {
        'cniVersion': '0.3.1',
        'name': 'l3-net',
        'type': 'ovn-k8s-cni-overlay',
        'topology': 'layer3',
        'subnets': '198.18.128.0/17/24',
        'mtu': 1400,
        'netAttachDefName': 'team-a/l3-net',
    }
    assert 'ipam' not in conf


def test_ovnk_layer2_shared_by_two_namespaces_and_two_items():
    objects = build_objects(
        [
            ovnk(
                namespace=None,
                namespaces=['team-a', 'team-b'],
                subnets='198.18.64.0/24',
                exclude_subnets='198.18.64.0/29',
                allow_persistent_ips=True,
            ),
            ovnk(
                name='tenant-l2-c',
                namespace='team-c',
                network_name='tenant-l2',
                subnets='198.18.64.0/24',
                exclude_subnets='198.18.64.0/29',
                allow_persistent_ips=True,
            ),
        ]
    )
    confs = [config(o) for o in objects]
    assert [c['netAttachDefName'] for c in confs] == ['team-a/tenant-l2', 'team-b/tenant-l2', 'team-c/tenant-l2-c']
    assert all(c['name'] == 'tenant-l2' for c in confs)
    stripped = [dict((k, v) for k, v in c.items() if k != 'netAttachDefName') for c in confs]
    assert stripped[0] == stripped[1] == stripped[2]
    assert stripped[0]['excludeSubnets'] == '198.18.64.0/29' and stripped[0]['allowPersistentIPs'] is True


def test_ovnk_localnet_with_vlan():
    conf = config(
        only(
            [
                ovnk(
                    name='phys',
                    topology='localnet',
                    subnets='198.18.80.0/24',
                    vlan_id=120,
                    physical_network_name='physnet-storage',
                    role='secondary',
                )
            ]
        )
    )
    assert conf['vlanID'] == 120 and conf['physicalNetworkName'] == 'physnet-storage' and conf['role'] == 'secondary'
    assert conf['topology'] == 'localnet'


def test_ovnk_layer2_without_subnets_has_no_subnets_key():
    conf = config(only([ovnk()]))
    assert conf == {
        'cniVersion': '0.3.1',
        'name': 'tenant-l2',
        'type': 'ovn-k8s-cni-overlay',
        'topology': 'layer2',
        'netAttachDefName': 'team-a/tenant-l2',
    }


# ------------------------------------------------------------ from_plan


def test_from_plan_own_name_and_other_name():
    objects = build_objects(
        [
            macvlan(ipam={'from_plan': True}),
            macvlan(
                name='repl',
                master='ens1f1',
                ipam={'type': 'whereabouts', 'from_plan': 'repl-net', 'gateway': '198.18.33.1'},
            ),
        ],
        plan=PLAN,
    )
    assert config(objects[0])['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.32.0/24',
        'range_start': '198.18.32.1',
        'range_end': '198.18.32.254',
    }
    assert config(objects[1])['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.33.0/24',
        'range_start': '198.18.33.1',
        'range_end': '198.18.33.254',
        'gateway': '198.18.33.1',
    }


def test_from_plan_node_slices_and_host_local():
    conf = config(only([macvlan(name='repl-net', ipam={'from_plan': True, 'node_slices': True})], plan=PLAN['plan']))
    # The plan's range_start/range_end are not written beside node_slice_size: whereabouts would ignore them.
    # A sliced NAD carries its own network_name (whereabouts' node-slice controller: see below).
    assert conf['ipam'] == {
        'type': 'whereabouts',
        'range': '198.18.33.0/24',
        'node_slice_size': '/28',
        'network_name': 'repl-net',
    }
    assert 'exclude' in refused(
        [macvlan(name='repl-net', ipam={'from_plan': True, 'node_slices': True, 'exclude': ['198.18.33.0/28']})],
        plan=PLAN['plan'],
    )
    # A slice as large as the range is what whereabouts accepts (one node gets it).
    assert config(only([macvlan(ipam=dict(WB, node_slice_size='/24'))]))['ipam']['node_slice_size'] == '/24'
    conf = config(only([macvlan(ipam={'type': 'host-local', 'from_plan': True})], plan=PLAN))
    expected_range = {'subnet': '198.18.32.0/24', 'rangeStart': '198.18.32.1', 'rangeEnd': '198.18.32.254'}
    assert conf['ipam'] == {'type': 'host-local', 'ranges': [[expected_range]]}


def test_from_plan_with_a_real_plan_gives_distinct_ranges():
    # First fit from the low end of the supernet, in order: a gets .32.0/24, b .33.0/24.
    plan = plan_ranges('198.18.32.0/20', [{'name': 'a', 'prefix': 24}, {'name': 'b', 'prefix': 24}])
    objects = build_objects(
        [macvlan(name='a', ipam={'from_plan': True}), macvlan(name='b', ipam={'from_plan': True})], plan=plan
    )
    assert [config(o)['ipam']['range'] for o in objects] == ['198.18.32.0/24', '198.18.33.0/24']


# ------------------------------------------------------------ Spiderpool and Multi-NIC CNI


def test_spiderpool_subnet_and_pools():
    objects = build_objects(
        [
            {
                'kind': 'spiderpool',
                'name': 'storage-v4',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.10-198.18.40.200'],
                'exclude_ips': ['198.18.40.100'],
                'gateway': '198.18.40.1',
                'routes': [{'dst': '198.19.0.0/16', 'gw': '198.18.40.1'}],
                'ippools': [
                    {
                        'name': 'storage-v4-a',
                        'ips': ['198.18.40.10-198.18.40.50'],
                        'namespace_name': ['aistore'],
                        'multus_name': ['aistore/storage-net'],
                    },
                    {'name': 'storage-v4-b', 'ips': ['198.18.40.51-198.18.40.90'], 'default': True},
                ],
            }
        ]
    )
    assert [(o['object']['kind'], o['object']['metadata']['name']) for o in objects] == [
        ('SpiderSubnet', 'storage-v4'),
        ('SpiderIPPool', 'storage-v4-a'),
        ('SpiderIPPool', 'storage-v4-b'),
    ]
    assert all(o['object']['apiVersion'] == 'spiderpool.spidernet.io/v2beta1' for o in objects)
    assert 'namespace' not in objects[0]['object']['metadata']  # cluster-scoped
    assert objects[0]['object']['spec'] == {
        'ipVersion': 4,
        'subnet': '198.18.40.0/24',
        'ips': ['198.18.40.10-198.18.40.200'],
        'excludeIPs': ['198.18.40.100'],
        'gateway': '198.18.40.1',
        'routes': [{'dst': '198.19.0.0/16', 'gw': '198.18.40.1'}],
    }
    assert objects[1]['object']['spec'] == {
        'ipVersion': 4,
        'subnet': '198.18.40.0/24',
        'ips': ['198.18.40.10-198.18.40.50'],
        'gateway': '198.18.40.1',
        'routes': [{'dst': '198.19.0.0/16', 'gw': '198.18.40.1'}],
        'namespaceName': ['aistore'],
        'multusName': ['aistore/storage-net'],
    }
    assert objects[2]['object']['spec']['default'] is True


def test_multinicnetwork():
    entry = only(
        [
            {
                'kind': 'multinicnetwork',
                'name': 'multi-nic-sample',
                'subnet': '192.168.0.0/16',
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
                'plugin': {'type': 'ipvlan', 'cni_version': '0.3.0', 'args': {'mode': 'l3'}},
                'attach_policy': {'strategy': 'none'},
                'namespaces': ['default'],
                'master_nets': ['10.0.1.0/24', '10.0.2.0/24'],
            }
        ]
    )
    obj = entry['object']
    assert obj['apiVersion'] == 'multinic.fms.io/v1' and obj['kind'] == 'MultiNicNetwork'
    spec = obj['spec']
    assert json.loads(spec['ipam']) == {'type': 'multi-nic-ipam', 'hostBlock': 6, 'interfaceBlock': 2, 'vlanMode': 'l3'}
    assert spec['multiNICIPAM'] is True
    assert spec['plugin'] == {'cniVersion': '0.3.0', 'type': 'ipvlan', 'args': {'mode': 'l3'}}
    assert spec['attachPolicy'] == {'strategy': 'none'}
    assert spec['namespaces'] == ['default'] and spec['masterNets'] == ['10.0.1.0/24', '10.0.2.0/24']
    assert spec['subnet'] == '192.168.0.0/16'


def test_summary_names_every_object():
    objects = build_objects([macvlan(mode='bridge'), ovnk(subnets='198.18.64.0/24')])
    text = '\n'.join(summarize(objects))
    for fragment in (
        'aistore/storage-net',
        'master=ens1f0',
        'whereabouts 198.18.32.0/24',
        'team-a/tenant-l2',
        'topology=layer2',
        'subnets=198.18.64.0/24',
    ):
        assert fragment in text


# ============================================================ refusals, one per rule

LONG = 'a' * 64

REFUSALS = [
    # names and namespaces
    ([macvlan(name='Storage_Net')], ["'Storage_Net'", 'DNS-1123 label']),
    ([macvlan(name=LONG)], [LONG, '64 characters', 'at most 63']),
    ([macvlan(name='-storage')], ["'-storage'", 'DNS-1123 label']),
    ([macvlan(namespace='AIStore')], ["network 'storage-net'", "namespace 'AIStore'"]),
    ([macvlan(namespace=None)], ["network 'storage-net'", 'no namespace is given']),
    ([macvlan(namespaces=['a'])], ["namespace 'aistore'", "namespaces ['a']", 'one of them']),
    ([macvlan(namespace=None, namespaces=['a', 'a'])], ["namespaces lists 'a' twice"]),
    ([macvlan(kind='nadd')], ["kind 'nadd'", 'nad, spiderpool, multinicnetwork']),
    ([macvlan(state='gone')], ["state 'gone'", 'present, absent']),
    # types and keys
    ([macvlan(type='vlan')], ["type 'vlan'", 'macvlan, ipvlan, bridge, host-device, sriov, ovn-k8s-cni-overlay']),
    ([macvlan(mastr='ens1f0')], ['unknown key(s) mastr']),
    ([macvlan(bridge='br0')], ['unknown key(s) bridge']),
    ([macvlan(cni_version='0.5.0')], ["cni_version '0.5.0'", '0.3.1', '1.0.0']),
    # interface names
    ([macvlan(master=None)], ['needs master']),
    ([macvlan(master='ens1f0-storage-x')], ["'ens1f0-storage-x'", '16 characters', 'at most 15']),
    ([macvlan(master='')], ["master ''"]),
    ([macvlan(master='.')], ["master '.'", "'.' and '..'"]),
    ([macvlan(master='..')], ["master '..'"]),
    ([macvlan(master='eth/0')], ["'eth/0'", "contains '/'"]),
    ([macvlan(master='eth 0')], ["'eth 0'", "contains ' '"]),
    ([macvlan(master='eth0:1')], ["'eth0:1'", "contains ':'"]),
    ([macvlan(master='eth0;reboot')], ["'eth0;reboot'", "contains ';'"]),
    ([macvlan(master='$(reboot)')], ["'$(reboot)'", "contains '$'"]),
    ([macvlan(master='eth`id`')], ["contains '`'"]),
    ([macvlan(master='eth0|x')], ["contains '|'"]),
    ([macvlan(master='eth0&')], ["contains '&'"]),
    ([macvlan(master='eth*')], ["contains '*'"]),
    ([macvlan(master='eth%d')], ["contains '%'"]),
    ([macvlan(master=7)], ['master 7', 'not an interface name']),
    # modes, MTU, VLAN
    ([macvlan(mode='l2')], ["macvlan mode 'l2'", 'bridge, vepa, private, passthru']),
    ([macvlan(mode='passthrough')], ["macvlan mode 'passthrough'"]),
    ([macvlan(type='ipvlan', mode='bridge')], ["ipvlan mode 'bridge'", 'l2, l3, l3s']),
    ([macvlan(mtu=67)], ['mtu 67', '68 to 65535']),
    ([macvlan(mtu=65536)], ['mtu 65536', '68 to 65535']),
    ([macvlan(mtu='big')], ["mtu 'big'", 'not a whole number']),
    ([macvlan(mtu=True)], ['mtu True', 'not a whole number']),
    ([macvlan(mtu=1500.5)], ['mtu 1500.5', 'not a whole number']),
    ([{'name': 'b', 'namespace': 'n', 'type': 'bridge', 'ipam': dict(WB)}], ['needs bridge']),
    (
        [{'name': 'b', 'namespace': 'n', 'type': 'bridge', 'bridge': 'br0', 'vlan': 4095, 'ipam': dict(WB)}],
        ['vlan 4095', '0 to 4094'],
    ),
    (
        [{'name': 'b', 'namespace': 'n', 'type': 'bridge', 'bridge': 'br0', 'is_gateway': 'yes', 'ipam': dict(WB)}],
        ["is_gateway 'yes'", 'not a boolean'],
    ),
    ([{'name': 'b', 'namespace': 'n', 'type': 'bridge', 'bridge': 'br 0', 'ipam': dict(WB)}], ["bridge 'br 0'"]),
    # host-device, sriov
    ([{'name': 'h', 'namespace': 'n', 'type': 'host-device'}], ['exactly one of device', 'got none']),
    (
        [{'name': 'h', 'namespace': 'n', 'type': 'host-device', 'device': 'ens2', 'hwaddr': '02:00:00:00:00:01'}],
        ['exactly one', "device 'ens2'", "hwaddr '02:00:00:00:00:01'"],
    ),
    ([{'name': 'h', 'namespace': 'n', 'type': 'host-device', 'device': 'ens2;x'}], ["device 'ens2;x'"]),
    ([{'name': 'h', 'namespace': 'n', 'type': 'host-device', 'pci_bus_id': 'zz'}], ["pci_bus_id 'zz'", 'PCI address']),
    (
        [{'name': 'h', 'namespace': 'n', 'type': 'host-device', 'hwaddr': '01:00:5e:00:00:01'}],
        ["'01:00:5e:00:00:01'", 'multicast'],
    ),
    ([{'name': 'h', 'namespace': 'n', 'type': 'host-device', 'device': 'ens2', 'mtu': 1500}], ['unknown key(s) mtu']),
    ([{'name': 's', 'namespace': 'n', 'type': 'sriov', 'ipam': dict(WB)}], ['needs resource_name']),
    (
        [{'name': 's', 'namespace': 'n', 'type': 'sriov', 'resource_name': 'r/x', 'vlan_qos': 2, 'ipam': dict(WB)}],
        ['vlan_qos 2', 'non-zero vlan'],
    ),
    (
        [
            {
                'name': 's',
                'namespace': 'n',
                'type': 'sriov',
                'resource_name': 'r/x',
                'vlan': 0,
                'vlan_qos': 1,
                'ipam': dict(WB),
            }
        ],
        ['vlan_qos 1', 'non-zero vlan'],
    ),
    (
        [
            {
                'name': 's',
                'namespace': 'n',
                'type': 'sriov',
                'resource_name': 'intel.com/a',
                'ipam': dict(WB),
                'annotations': {'k8s.v1.cni.cncf.io/resourceName': 'intel.com/b'},
            }
        ],
        ["'intel.com/b'", "resource_name 'intel.com/a'"],
    ),
    # IPAM consistent with the type
    ([macvlan(ipam=None)], ['ipam None is not a dict']),
    ([dict((k, v) for k, v in macvlan().items() if k != 'ipam')], ['ipam is missing', '{type: none}']),
    ([macvlan(ipam={'type': 'calico-ipam'})], ["ipam type 'calico-ipam'", 'whereabouts, host-local, static, dhcp']),
    ([macvlan(ipam={'type': 'whereabouts', 'subnet': '198.18.32.0/24'})], ['unknown key(s) subnet']),
    ([macvlan(type='ipvlan', ipam={'type': 'dhcp'})], ["type 'dhcp'", 'ipvlan']),
    ([macvlan(ipam={'type': 'whereabouts'})], ['has no range']),
    (
        [macvlan(ipam={'type': 'whereabouts', 'range': '198.18.32.1/24'})],
        ["'198.18.32.1/24'", 'host bits', '198.18.32.0/24'],
    ),
    ([macvlan(ipam={'type': 'whereabouts', 'range': 'storage'})], ["'storage'", 'not a CIDR']),
    (
        [macvlan(ipam=dict(WB, range_start='198.18.33.5'))],
        ['range_start 198.18.33.5', 'outside the range 198.18.32.0/24'],
    ),
    ([macvlan(ipam=dict(WB, range_end='198.18.31.5'))], ['range_end 198.18.31.5', 'outside']),
    (
        [macvlan(ipam=dict(WB, range_start='198.18.32.200', range_end='198.18.32.100'))],
        ['range_start 198.18.32.200 is after range_end 198.18.32.100'],
    ),
    (
        [macvlan(ipam=dict(WB, exclude=['198.18.33.0/28']))],
        ['exclude[0] 198.18.33.0/28', 'not inside the range 198.18.32.0/24'],
    ),
    ([macvlan(ipam=dict(WB, gateway='198.18.33.1'))], ['gateway 198.18.33.1', 'outside 198.18.32.0/24']),
    ([macvlan(ipam=dict(WB, gateway='gw'))], ["gateway 'gw'", 'not a valid IP address']),
    ([macvlan(ipam=dict(WB, node_slice_size='/20'))], ["node_slice_size '/20'", '/24 to /32']),
    # whereabouts reads neither range_start, range_end nor exclude once it slices per node
    (
        [macvlan(ipam=dict(WB, node_slice_size='/28', range_start='198.18.32.10'))],
        ["node_slice_size '/28' and range_start: whereabouts ignores it when it slices the range per node"],
    ),
    (
        [macvlan(ipam=dict(WB, node_slice_size='/28', range_end='198.18.32.100', exclude=['198.18.32.0/28']))],
        ['range_end and exclude: whereabouts ignores them'],
    ),
    (
        [macvlan(ipam={'type': 'whereabouts', 'range': 'fd00:198:32::/64', 'node_slice_size': '/96'})],
        ["node_slice_size '/96' on the IPv6 range fd00:198:32::/64: whereabouts slices IPv4 ranges only"],
    ),
    ([macvlan(ipam=dict(WB, routes=[{'dst': '0.0.0.0/0', 'gw': 'fd00::1'}]))], ['gw fd00::1', 'same family']),
    ([macvlan(ipam=dict(WB, node_slice_size='big'))], ["node_slice_size 'big'", 'prefix length']),
    (
        [macvlan(ipam={'type': 'host-local', 'subnet': '198.18.34.0/24', 'range_start': '198.18.35.1'})],
        ['range_start 198.18.35.1', 'outside'],
    ),
    (
        [macvlan(ipam={'type': 'host-local', 'ranges': [[{'subnet': '198.18.34.0/24'}, {'subnet': 'fd00::/64'}]]})],
        ['mixes IPv4 and IPv6'],
    ),
    ([macvlan(ipam={'type': 'host-local'})], ['no subnet or ranges']),
    ([macvlan(ipam={'type': 'static', 'addresses': [{'address': '198.18.35.5'}]})], ["'198.18.35.5'", 'prefix']),
    (
        [macvlan(ipam={'type': 'static', 'addresses': [{'address': '198.18.35.0/24'}]})],
        ['198.18.35.0/24', 'network address'],
    ),
    (
        [macvlan(ipam={'type': 'static', 'addresses': [{'address': '198.18.35.255/24'}]})],
        ['198.18.35.255/24', 'broadcast address'],
    ),
    (
        [macvlan(ipam={'type': 'static', 'addresses': [{'address': '198.18.35.5/24', 'gateway': '198.18.36.1'}]})],
        ['gateway 198.18.36.1', 'outside 198.18.35.0/24'],
    ),
    ([macvlan(ipam={'type': 'static'})], ['no addresses', 'capabilities.ips']),
    (
        [
            macvlan(
                cni_version='0.2.0',
                ipam={'type': 'static', 'addresses': [{'address': '198.18.35.5/24'}, {'address': '198.18.36.5/24'}]},
            )
        ],
        ['cniVersion 0.2.0', 'one per family'],
    ),
    ([macvlan(capabilities={'ips': 'yes'}, ipam={'type': 'static'})], ["capabilities ips 'yes'", 'not a boolean']),
    # from_plan (no plan given)
    ([macvlan(ipam={'from_plan': True})], ["from_plan 'storage-net' needs a plan"]),
    # labels, annotations, extra_config
    ([macvlan(labels={'tier': 'da ta'})], ["labels 'tier' value 'da ta'"]),
    ([macvlan(labels={'bad key!': 'x'})], ["labels key 'bad key!'"]),
    ([macvlan(annotations={'note': 5})], ["annotations 'note' value 5", 'not a string']),
    ([macvlan(extra_config={'master': 'eth9'})], ["extra_config key 'master'"]),
    ([macvlan(extra_config={'ipam': {}})], ["extra_config key 'ipam'"]),
    # OVN-Kubernetes
    ([ovnk(ipam={'type': 'dhcp'})], ["ipam {'type': 'dhcp'}", 'no ipam block', 'dhcp is never available']),
    ([ovnk(ipam=dict(WB))], ['no ipam block', 'subnets']),
    ([ovnk(network_name='default')], ["network_name 'default' is reserved"]),
    ([ovnk(network_name='ovn-kubernetes')], ["network_name 'ovn-kubernetes' is reserved"]),
    ([ovnk(name='default')], ["network_name 'default' is reserved"]),
    ([ovnk(topology='layer4')], ["topology 'layer4'", 'layer3, layer2, localnet']),
    ([ovnk(topology=None)], ['needs topology']),
    ([ovnk(topology='layer3')], ['layer3 needs at least one subnet']),
    ([ovnk(topology='layer2', subnets='198.18.64.0/24/26')], ["'198.18.64.0/24/26'", 'host length']),
    ([ovnk(vlan_id=100)], ['vlan_id 100', 'only to localnet']),
    ([ovnk(topology='localnet', vlan_id=0)], ['vlan_id 0', '1 to 4094']),
    ([ovnk(physical_network_name='physnet')], ["physical_network_name 'physnet'", 'only localnet']),
    ([ovnk(topology='layer3', subnets='198.18.128.0/17', allow_persistent_ips=True)], ['persistent IPs on layer3']),
    ([ovnk(role='tertiary')], ["role 'tertiary'", 'primary, secondary']),
    ([ovnk(topology='localnet', role='primary')], ["role 'primary'", 'localnet']),
    ([ovnk(role='primary')], ["role 'primary' on topology layer2 without subnets"]),
    (
        [ovnk(topology='layer3', subnets='198.18.128.0/17', exclude_subnets='198.18.128.0/24')],
        ['exclude_subnets', 'layer3'],
    ),
    ([ovnk(topology='localnet', join_subnet='198.18.90.0/24')], ["join_subnet '198.18.90.0/24'", 'localnet']),
    ([ovnk(cni_version='2.0.0')], ["cni_version '2.0.0'", '1.1.0']),
    # SubnetOverlapCheck: OVN-Kubernetes' own subnets, the default user-defined join subnet, the cluster's networks
    (
        [ovnk(subnets='100.64.10.0/24')],
        [
            "subnets entry 100.64.10.0/24 overlaps OVN-Kubernetes' join subnet 100.64.0.0/16",
            'OVN-Kubernetes refuses a layer2 network',
        ],
    ),
    ([ovnk(subnets='169.254.169.0/30')], ["OVN-Kubernetes' masquerade subnet 169.254.169.0/29"]),
    ([ovnk(subnets='169.254.8.0/24')], ["OVN-Kubernetes' masquerade subnet 169.254.0.0/17"]),
    (
        [ovnk(topology='layer3', subnets='100.88.0.0/20/24')],
        ["OVN-Kubernetes' transit subnet 100.88.0.0/16", 'layer3 network'],
    ),
    ([ovnk(subnets='fd98::/64')], ["OVN-Kubernetes' join subnet fd98::/64"]),
    (
        [ovnk(subnets='100.65.3.0/24')],
        ['default user-defined join subnet 100.65.0.0/16 overlaps subnets entry 100.65.3.0/24'],
    ),
    ([ovnk(subnets='198.18.64.0/24', join_subnet='198.18.64.128/25')], ['join_subnet 198.18.64.128/25']),
    (
        [ovnk(subnets='198.18.64.0/24', join_subnet='100.64.0.0/24')],
        ["join_subnet 100.64.0.0/24 overlaps OVN-Kubernetes' join subnet"],
    ),
    ([ovnk(master='ens1f0')], ['unknown key(s) master']),
    # Spiderpool
    (
        [{'kind': 'spiderpool', 'name': 'sp', 'subnet': '198.18.40.0/24', 'ips': ['198.18.41.10']}],
        ["ips[0] '198.18.41.10'", 'outside the subnet 198.18.40.0/24'],
    ),
    (
        [{'kind': 'spiderpool', 'name': 'sp', 'subnet': '198.18.40.0/24', 'ips': ['198.18.40.20-198.18.40.10']}],
        ["'198.18.40.20-198.18.40.10'", 'starts after it ends'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.10-198.18.40.100'],
                'ippools': [{'name': 'p', 'ips': ['198.18.40.90-198.18.40.120']}],
            }
        ],
        [
            'ips 198.18.40.90-198.18.40.120 hold 198.18.40.101-198.18.40.120',
            "outside the subnet's ips 198.18.40.10-198.18.40.100",
        ],
    ),
    # Spiderpool's webhooks (not its CRD): no default route, no two routes to one dst, no gateway it could hand out,
    # no pool addresses the SpiderSubnet does not hold (excludeIPs count), no vlan (removed in v1.0.0).
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'routes': [{'dst': '0.0.0.0/0', 'gw': '198.18.40.1'}],
            }
        ],
        ['routes[0] dst 0.0.0.0/0 is the default route: Spiderpool refuses it', 'set gateway instead'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': 'fd00:198:40::/64',
                'routes': [{'dst': '::/0', 'gw': 'fd00:198:40::1'}],
            }
        ],
        ['routes[0] dst ::/0 is the default route'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'routes': [
                    {'dst': '198.19.0.0/16', 'gw': '198.18.40.1'},
                    {'dst': '198.19.0.0/16', 'gw': '198.18.40.2'},
                ],
            }
        ],
        ['routes[1] dst 198.19.0.0/16 is also the dst of routes[0]'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.1-198.18.40.100'],
                'gateway': '198.18.40.1',
            }
        ],
        ["subnet gateway 198.18.40.1 is inside ips '198.18.40.1-198.18.40.100'", 'exclude_ips'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.2-198.18.40.100'],
                'gateway': '198.18.40.1',
                'ippools': [{'name': 'p', 'ips': ['198.18.40.2-198.18.40.9'], 'gateway': '198.18.40.5'}],
            }
        ],
        ["ippools[0] (p) gateway 198.18.40.5 is inside ips '198.18.40.2-198.18.40.9'"],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.10-198.18.40.100'],
                'exclude_ips': ['198.18.40.20'],
                'ippools': [{'name': 'p', 'ips': ['198.18.40.15-198.18.40.25']}],
            }
        ],
        ['ips 198.18.40.15-198.18.40.25 hold 198.18.40.20', 'less its exclude_ips 198.18.40.20'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ippools': [{'name': 'p', 'ips': ['198.18.40.15']}],
            }
        ],
        ['the SpiderSubnet sp has no ips but 1 ippools'],
    ),
    (
        [{'kind': 'spiderpool', 'name': 'sp', 'subnet': '198.18.40.0/24', 'vlan': 100}],
        ['vlan 100: Spiderpool v1.0.0 removed spec.vlan'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.10-198.18.40.60'],
                'ippools': [
                    {'name': 'p', 'ips': ['198.18.40.10-198.18.40.50']},
                    {'name': 'q', 'ips': ['198.18.40.50-198.18.40.60']},
                ],
            }
        ],
        ["'198.18.40.10-198.18.40.50'", "'198.18.40.50-198.18.40.60'", 'same addresses'],
    ),
    (
        [{'kind': 'spiderpool', 'name': 'sp', 'subnet': '198.18.40.0/24', 'routes': [{'dst': '0.0.0.0/0'}]}],
        ['has no gw'],
    ),
    (
        [
            {
                'kind': 'spiderpool',
                'name': 'sp',
                'subnet': '198.18.40.0/24',
                'ips': ['198.18.40.10'],
                'ippools': [{'name': 'p'}],
            }
        ],
        ['ippools[0] (p) has no ips'],
    ),
    ([{'kind': 'spiderpool', 'name': 'Sp', 'subnet': '198.18.40.0/24'}], ["name 'Sp'", 'DNS-1123 subdomain']),
    # Multi-NIC CNI
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '198.18.128.0/17',
                'plugin': {'type': 'ipvlan'},
                'ipam': {
                    'type': 'multi-nic-ipam',
                    'host_block': 6,
                    'interface_block': 1,
                    'vlan_mode': 'l3',
                    'exclude_cidrs': ['198.18.128.0/18'],
                },
                'master_nets': ['198.18.1.0/24', '198.18.2.0/24'],
            }
        ],
        [
            'master_nets has 2 networks but interface_block 1 leaves 1 usable interface indexes',
            'exclude_cidrs 198.18.128.0/18',
            'index 0',
        ],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': 'fd00::/48',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
            }
        ],
        ['fd00::/48', 'IPv4 only'],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '192.168.0.0/24',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
            }
        ],
        ['leaves /32 pod blocks'],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '192.168.0.0/16',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 1, 'vlan_mode': 'l3'},
                'master_nets': ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24'],
            }
        ],
        ['master_nets has 3 networks', 'interface_block 1 gives 2'],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '192.168.0.0/16',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l4'},
            }
        ],
        ["vlan_mode 'l4'"],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '192.168.0.0/16',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
                'attach_policy': {'strategy': 'fastest'},
            }
        ],
        ["strategy 'fastest'", 'none, costOpt, perfOpt, devClass, topology'],
    ),
    (
        [
            {
                'kind': 'multinicnetwork',
                'name': 'm',
                'subnet': '192.168.0.0/16',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'interface_block': 2, 'vlan_mode': 'l3'},
            }
        ],
        ['needs host_block'],
    ),
]


PLAN_REFUSALS = [
    ([macvlan(ipam={'from_plan': 'other-net'})], ["from_plan 'other-net' is not in the plan", 'repl-net, storage-net']),
    ([macvlan(ipam={'from_plan': True, 'range': '198.18.32.0/24'})], ['both from_plan and range']),
    ([macvlan(ipam={'from_plan': True, 'node_slices': True})], ['node_slices needs from_plan', 'per-node slices']),
    ([macvlan(ipam={'from_plan': 5})], ['from_plan 5 is not a network name']),
    (
        [macvlan(ipam={'type': 'host-local', 'from_plan': True, 'subnet': '198.18.32.0/24'})],
        ['from_plan together with subnet'],
    ),
]


@pytest.mark.parametrize('networks, fragments', REFUSALS + [(n, f + ['PLAN']) for n, f in PLAN_REFUSALS])
def test_each_rule_refuses_naming_the_value(networks, fragments):
    with_plan = 'PLAN' in fragments
    fragments = [f for f in fragments if f != 'PLAN']
    message = refused(networks, plan=PLAN if with_plan else None)
    for fragment in fragments:
        assert fragment in message, message
    name = networks[0].get('name')
    if isinstance(name, str) and name and name == name.lower() and len(name) < 64 and not name.startswith('-'):
        assert "network %r (networks[0])" % name in message, message


def test_nad_error_is_a_plan_error_and_a_value_error():
    assert issubclass(NadError, PlanError) and issubclass(NadError, ValueError)


@pytest.mark.parametrize('networks', ['storage-net', {'name': 'x'}, 5])
def test_networks_must_be_a_list(networks):
    with pytest.raises(NadError, match='not a list'):
        build_objects(networks)


def test_defaults_with_an_unknown_key_are_refused():
    with pytest.raises(NadError, match=r"defaults has unknown key\(s\) mastr"):
        build_objects([macvlan()], defaults={'mastr': 'eth1'})


def test_every_problem_is_reported_at_once():
    message = refused([macvlan(master='eth0;x'), macvlan(name='b', mode='l9'), macvlan(name='c', mtu=10)])
    assert message.startswith('3 problems in networks:')
    for fragment in (
        "network 'storage-net' (networks[0])",
        "'eth0;x'",
        "network 'b' (networks[1])",
        "'l9'",
        "network 'c' (networks[2])",
        'mtu 10',
    ):
        assert fragment in message


# ------------------------------------------------------------ rules across the whole list


def test_duplicate_nad_is_refused_naming_both():
    message = refused([macvlan(), macvlan(master='ens1f1', ipam={'type': 'none'})])
    assert "network 'storage-net' (networks[1])" in message
    assert 'NetworkAttachmentDefinition aistore/storage-net is also defined by networks[0]' in message


def test_same_name_in_other_namespaces_is_not_a_duplicate():
    objects = build_objects([macvlan(), macvlan(namespace='other', ipam={'type': 'none'})])
    assert len(objects) == 2


def test_the_old_hard_coded_range_is_refused():
    # The bug: every NAD got the same whereabouts range.
    message = refused([macvlan(name='net-a'), macvlan(name='net-b', master='ens1f1')])
    assert (
        "network 'net-a' (networks[0]) whereabouts range 198.18.32.0/24 overlaps network 'net-b' (networks[1]) "
        "whereabouts range 198.18.32.0/24" in message
    )


@pytest.mark.parametrize(
    'second, fragments',
    [
        (
            macvlan(name='b', ipam={'type': 'whereabouts', 'range': '198.18.32.128/25'}),
            ['198.18.32.0/24', '198.18.32.128/25'],
        ),
        (
            macvlan(name='b', ipam={'type': 'static', 'addresses': [{'address': '198.18.32.7/24'}]}),
            ['static address 198.18.32.7/32'],
        ),
        (
            macvlan(name='b', ipam={'type': 'host-local', 'subnet': '198.18.0.0/16'}),
            ['host-local subnet 198.18.0.0/16'],
        ),
        (ovnk(name='b', subnets='198.18.32.0/26'), ['OVN-Kubernetes subnet 198.18.32.0/26']),
        ({'kind': 'spiderpool', 'name': 'b', 'subnet': '198.18.32.0/23'}, ['Spiderpool subnet 198.18.32.0/23']),
        (
            {
                'kind': 'multinicnetwork',
                'name': 'b',
                'subnet': '198.18.0.0/16',
                'plugin': {'type': 'ipvlan'},
                'ipam': {'type': 'multi-nic-ipam', 'host_block': 6, 'interface_block': 2, 'vlan_mode': 'l3'},
            },
            ['MultiNicNetwork subnet 198.18.0.0/16'],
        ),
    ],
)
def test_overlapping_ranges_of_any_kind_are_refused(second, fragments):
    message = refused([macvlan(), second])
    assert "network 'storage-net' (networks[0]) whereabouts range 198.18.32.0/24" in message
    assert "network 'b' (networks[1])" in message
    for fragment in fragments:
        assert fragment in message


def test_distinct_static_addresses_in_one_subnet_do_not_overlap():
    objects = build_objects(
        [
            macvlan(name='pod-a', ipam={'type': 'static', 'addresses': [{'address': '198.18.35.5/24'}]}),
            macvlan(name='pod-b', ipam={'type': 'static', 'addresses': [{'address': '198.18.35.6/24'}]}),
        ]
    )
    assert len(objects) == 2


def test_ovnk_nads_of_one_network_must_be_identical():
    message = refused(
        [
            ovnk(name='x', network_name='shared', subnets='198.18.64.0/24'),
            ovnk(name='y', namespace='team-b', network_name='shared', subnets='198.18.64.0/24', mtu=1300),
        ]
    )
    assert "network 'y' (networks[1])" in message
    assert "OVN-Kubernetes network 'shared' is already defined differently by network 'x' (networks[0])" in message
    assert 'mtu None vs 1300' in message


def test_ovnk_nads_of_one_network_do_not_overlap_each_other():
    objects = build_objects(
        [
            ovnk(name='x', network_name='shared', subnets='198.18.64.0/24'),
            ovnk(name='y', namespace='team-b', network_name='shared', subnets='198.18.64.0/24'),
        ]
    )
    assert len(objects) == 2


# ============================================================ check helpers


@pytest.mark.parametrize('name', ['eth0', 'ens1f0', 'net1', 'a', 'bond0.100', 'x' * 15, 'br-storage', 'veth_1'])
def test_legal_interface_names(name):
    assert check_ifname(name, 'master') == name


def test_check_cni_config():
    assert check_cni_config('{"cniVersion":"0.3.1","type":"macvlan"}')['type'] == 'macvlan'
    for text, fragment in (
        ('{"cniVersion":', 'not valid JSON'),
        ('[]', 'not a JSON object'),
        ('{"type":"macvlan"}', 'cniVersion None'),
        ('{"cniVersion":"0.3.1"}', "neither 'type'"),
    ):
        with pytest.raises(NadError) as exc:
            check_cni_config(text)
        assert fragment in str(exc.value)


# ============================================================ legacy AIStore variables


def test_legacy_pairs_names_with_interfaces():
    networks = legacy_attachments(
        'storage-net, repl-net',
        'ens1f0,ens1f1',
        'aistore',
        {'mtu': 9000, 'ipam': {'type': 'whereabouts', 'from_plan': True}},
    )
    assert networks == [
        {
            'name': 'storage-net',
            'namespace': 'aistore',
            'type': 'macvlan',
            'master': 'ens1f0',
            'mode': 'bridge',
            'mtu': 9000,
            'ipam': {'type': 'whereabouts', 'from_plan': True},
        },
        {
            'name': 'repl-net',
            'namespace': 'aistore',
            'type': 'macvlan',
            'master': 'ens1f1',
            'mode': 'bridge',
            'mtu': 9000,
            'ipam': {'type': 'whereabouts', 'from_plan': True},
        },
    ]
    objects = build_objects(networks, plan=PLAN)
    assert [(config(o)['master'], config(o)['ipam']['range']) for o in objects] == [
        ('ens1f0', '198.18.32.0/24'),
        ('ens1f1', '198.18.33.0/24'),
    ]


def test_legacy_accepts_lists_and_other_types():
    networks = legacy_attachments(
        ['a'], ['ens1f0'], 'aistore', {'type': 'ipvlan', 'mode': 'l3', 'ipam': {'type': 'none'}}
    )
    assert networks == [
        {
            'name': 'a',
            'namespace': 'aistore',
            'type': 'ipvlan',
            'master': 'ens1f0',
            'mode': 'l3',
            'ipam': {'type': 'none'},
        }
    ]


def test_legacy_with_one_template_range_hits_the_overlap_check():
    networks = legacy_attachments('a,b', 'ens1f0,ens1f1', 'aistore', {'ipam': dict(WB)})
    message = refused(networks)
    assert "network 'a' (networks[0]) whereabouts range 198.18.32.0/24 overlaps network 'b' (networks[1])" in message


@pytest.mark.parametrize(
    'args, fragments',
    [
        (('a,b', 'ens1f0', 'aistore'), ["'a,b' has 2 names", "'ens1f0' has 1 interfaces"]),
        (('a,b', 'ens1f0,ens1f1,ens1f2', 'aistore'), ['2 names', '3 interfaces']),
        (('a,,b', 'ens1f0,ens1f1,ens1f2', 'aistore'), ["network_attachment 'a,,b'", 'empty item at position 2']),
        (('a,b', 'ens1f0, ', 'aistore'), ["network_interface 'ens1f0, '", 'position 2']),
        (('a,b,a', 'e1,e2,e3', 'aistore'), ["lists 'a' twice", 'positions 1 and 3']),
        (('a,b', 'e1,e1', 'aistore'), ["network_interface 'e1,e1' lists 'e1' twice"]),
        (('a', 'e1', 'AIStore'), ["attachment_namespace 'AIStore'"]),
        (('a', 'e1', None), ['attachment_namespace None']),
        (('A', 'e1', 'aistore'), ["network_attachment item 'A'"]),
        (('a', 'e1;x', 'aistore'), ["'e1;x'", "for 'a'"]),
        ((None, 'e1', 'aistore'), ['network_attachment is missing']),
    ],
)
def test_legacy_refusals_name_the_values(args, fragments):
    with pytest.raises(NadError) as exc:
        legacy_attachments(*args)
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)


def test_legacy_template_cannot_set_the_paired_keys():
    with pytest.raises(NadError, match="template sets master 'eth9'"):
        legacy_attachments('a', 'e1', 'aistore', {'master': 'eth9'})


# ============================================================ k8s.v1.cni.cncf.io/networks


@pytest.mark.parametrize(
    'attachments, default_namespace, expected',
    [
        (['storage-net'], None, [{'name': 'storage-net'}]),
        (['storage-net'], 'aistore', [{'name': 'storage-net', 'namespace': 'aistore'}]),
        (['other/storage-net@net5'], 'aistore', [{'name': 'storage-net', 'namespace': 'other', 'interface': 'net5'}]),
        (['storage-net@st0'], None, [{'name': 'storage-net', 'interface': 'st0'}]),
        ('a, b/c', None, [{'name': 'a'}, {'name': 'c', 'namespace': 'b'}]),
        (
            [
                {
                    'name': 'storage-net',
                    'interface': 'net1',
                    'ips': ['198.18.32.5/24', 'fd00:198:18::5/64'],
                    'mac': '02:00:C6:12:20:05',
                }
            ],
            None,
            [
                {
                    'name': 'storage-net',
                    'interface': 'net1',
                    'ips': ['198.18.32.5/24', 'fd00:198:18::5/64'],
                    'mac': '02:00:c6:12:20:05',
                }
            ],
        ),
        (
            [{'name': 'storage-net', 'namespace': '', 'interface': '', 'ips': [], 'mac': ''}],
            None,
            [{'name': 'storage-net'}],
        ),
        # The same network twice, on two named interfaces, is allowed by Multus.
        (['a@net1', 'a@net2'], None, [{'name': 'a', 'interface': 'net1'}, {'name': 'a', 'interface': 'net2'}]),
        ([], None, []),
    ],
)
def test_pod_networks_annotation(attachments, default_namespace, expected):
    value = pod_networks_annotation(attachments, default_namespace)
    assert json.loads(value) == expected
    assert ' ' not in value


def test_pod_networks_annotation_key_order():
    value = pod_networks_annotation(
        [{'mac': '02:00:00:00:00:01', 'ips': ['198.18.32.5/24'], 'interface': 'net1', 'namespace': 'a', 'name': 'b'}]
    )
    assert (
        value == '[{"name":"b","namespace":"a","interface":"net1","ips":["198.18.32.5/24"],"mac":"02:00:00:00:00:01"}]'
    )


@pytest.mark.parametrize(
    'attachments, fragments',
    [
        (['a', 'a'], ['attachments[1] (a) attaches a again', 'attachments[0] (a)']),
        (['ns/a@net1', {'name': 'a', 'namespace': 'ns', 'interface': 'net1'}], ['attaches ns/a@net1 again']),
        (['a@st0', 'b@st0'], ["interface 'st0' is also used by attachments[0] (a)"]),
        (['a@net2', 'b'], ["attachments[1] (b) interface 'net2' is also used by attachments[0] (a)", 'net<position>']),
        (['a', 'b@net1'], ["attachments[1] (b) interface 'net1' is also used by attachments[0] (a)"]),
        (['a@eth0'], ["interface 'eth0' is the cluster network interface"]),
        (['a@this-name-is-too-long'], ["'this-name-is-too-long'", 'at most 15']),
        (['a@net 1'], ["'net 1'"]),
        (['a/b/c'], ["'a/b/c'", "more than one '/'"]),
        (['a@b@c'], ["'a@b@c'", "more than one '@'"]),
        (['Bad_Name'], ["name 'Bad_Name'", 'DNS-1123 label']),
        (['Ns/a'], ["namespace 'Ns'"]),
        ([{'name': 'a', 'mac': '01:00:5e:00:00:01'}], ["mac '01:00:5e:00:00:01'", 'multicast']),
        ([{'name': 'a', 'mac': '02:00:00:00:01'}], ["mac '02:00:00:00:01'", 'not a MAC address']),
        ([{'name': 'a', 'mac': '00:00:00:00:00:00'}], ['all zeros']),
        ([{'name': 'a', 'ips': ['198.18.32.5']}], ["ips[0] '198.18.32.5' has no prefix", 'CIDR notation']),
        ([{'name': 'a', 'ips': ['198.18.32.300/24']}], ["'198.18.32.300/24'", 'not a valid address']),
        ([{'name': 'a', 'ips': ['198.18.32.0/24']}], ['198.18.32.0/24', 'network address']),
        (
            [{'name': 'a', 'ips': ['198.18.32.5/24']}, {'name': 'b', 'ips': ['198.18.32.5/24']}],
            ['198.18.32.5 is also requested by attachments[0] (a)'],
        ),
        ([{'name': 'a', 'gateway': '198.18.32.1'}], ['unknown key(s) gateway']),
        ([5], ['attachments[0] 5 is not a string or a dict']),
        ({'name': 'a'}, ['not a list']),
    ],
)
def test_pod_networks_annotation_refusals(attachments, fragments):
    with pytest.raises(NadError) as exc:
        pod_networks_annotation(attachments)
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)


NADS = build_objects(
    [
        macvlan(),
        macvlan(name='with-ips', master='ens1f1', capabilities={'ips': True, 'mac': True}, ipam={'type': 'static'}),
        macvlan(name='gone-net', state='absent'),
        ovnk(name='l2-free', namespace='aistore'),
        ovnk(name='l2-ipam', namespace='aistore', subnets='198.18.64.0/24'),
        ovnk(name='l3', namespace='aistore', topology='layer3', subnets='198.18.128.0/17'),
    ]
)


@pytest.mark.parametrize(
    'attachments, fragments',
    [
        ([{'name': 'storage-net', 'ips': ['198.18.32.5/24']}], ['NAD aistore/storage-net has no capabilities.ips']),
        ([{'name': 'storage-net', 'mac': '02:00:00:00:00:01'}], ['NAD aistore/storage-net has no capabilities.mac']),
        (['gone-net'], ['NAD aistore/gone-net', 'state absent']),
        (['l2-free@net1', 'l2-free@net2'], ['OVN-Kubernetes NAD aistore/l2-free a second time']),
        (
            [{'name': 'l2-ipam', 'ips': ['198.18.64.5/24']}],
            ['aistore/l2-ipam (topology layer2, subnets 198.18.64.0/24)'],
        ),
        (
            [{'name': 'l3', 'ips': ['198.18.128.5/24']}],
            ['aistore/l3 (topology layer3', 'layer2 or localnet networks without subnets'],
        ),
    ],
)
def test_pod_networks_annotation_against_the_nads(attachments, fragments):
    with pytest.raises(NadError) as exc:
        pod_networks_annotation(attachments, 'aistore', NADS)
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)


def test_pod_networks_annotation_accepted_against_the_nads():
    value = pod_networks_annotation(
        [
            {'name': 'with-ips', 'ips': ['198.18.36.5/24'], 'mac': '02:00:00:00:00:01'},
            {'name': 'l2-free', 'ips': ['198.18.65.5/24']},
            'unknown-nad',
        ],
        'aistore',
        NADS,
    )
    assert [e['name'] for e in json.loads(value)] == ['with-ips', 'l2-free', 'unknown-nad']


# ============================================================ Spiderpool annotations


def test_spiderpool_ippools_annotation():
    assert (
        spiderpool_annotations([{'ipv4': ['storage-v4'], 'ipv6': ['storage-v6']}])
        == '[{"ipv4":["storage-v4"],"ipv6":["storage-v6"],"cleangateway":false}]'
    )
    assert (
        spiderpool_annotations(
            [{'interface': 'net1', 'ipv4': ['a']}, {'interface': 'net2', 'ipv4': ['b'], 'cleangateway': True}]
        )
        == '[{"interface":"net1","ipv4":["a"],"cleangateway":false},{"interface":"net2","ipv4":["b"],"cleangateway":true}]'
    )


def test_spiderpool_subnets_annotation():
    assert (
        spiderpool_annotations([{'interface': 'net1', 'ipv4': ['subnet-a']}], kind='subnets')
        == '[{"interface":"net1","ipv4":["subnet-a"]}]'
    )


SPIDER = build_objects(
    [
        {
            'kind': 'spiderpool',
            'name': 'sub-v4',
            'subnet': '198.18.40.0/24',
            'ips': ['198.18.40.10-198.18.40.99'],
            'ippools': [{'name': 'pool-v4', 'ips': ['198.18.40.10-198.18.40.20']}],
        },
        {
            'kind': 'spiderpool',
            'name': 'sub-v6',
            'subnet': 'fd00:198:40::/64',
            'create_subnet': False,
            'ippools': [{'name': 'pool-v6', 'ips': ['fd00:198:40::10-fd00:198:40::20']}],
        },
        {
            'kind': 'spiderpool',
            'name': 'old',
            'state': 'absent',
            'create_subnet': False,
            'ippools': [{'name': 'old-pool'}],
        },
    ]
)


@pytest.mark.parametrize(
    'items, kind, fragments',
    [
        ([{'ipv4': ['a']}, {'ipv4': ['b']}], 'ippools', ['ippools[0] has no interface']),
        (
            [{'interface': 'net1', 'ipv4': ['a']}, {'interface': 'net1', 'ipv4': ['b']}],
            'ippools',
            ["interface 'net1' is also used by ippools[0]"],
        ),
        ([{'interface': 'net1'}], 'ippools', ['ippools[0] names no ippools']),
        ([{'ipv4': ['Bad_Pool']}], 'ippools', ["ipv4[0] 'Bad_Pool'", 'DNS-1123 subdomain']),
        ([{'ipv4': ['a'], 'cleangateway': True}], 'subnets', ['unknown key(s) cleangateway']),
        ([{'ipv4': ['a']}], 'pools', ["kind 'pools'"]),
        ([], 'ippools', ['non-empty list']),
        ([{'ipv4': ['a', 'a']}], 'ippools', ['names a pool twice']),
        ([{'interface': 'net;1', 'ipv4': ['a']}], 'ippools', ["'net;1'"]),
    ],
)
def test_spiderpool_annotation_refusals(items, kind, fragments):
    with pytest.raises(NadError) as exc:
        spiderpool_annotations(items, kind)
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)


@pytest.mark.parametrize(
    'items, kind, fragments',
    [
        ([{'ipv4': ['pool-v6']}], 'ippools', ["'pool-v6' is an IPv6 SpiderIPPool", 'IPv4 ones under ipv4']),
        ([{'ipv4': ['sub-v4']}], 'ippools', ["'sub-v4' is a SpiderSubnet, not a SpiderIPPool"]),
        ([{'ipv4': ['pool-v4']}], 'subnets', ["'pool-v4' is a SpiderIPPool, not a SpiderSubnet"]),
        ([{'ipv4': ['old-pool']}], 'ippools', ["'old-pool'", 'state absent']),
    ],
)
def test_spiderpool_annotation_against_the_objects(items, kind, fragments):
    with pytest.raises(NadError) as exc:
        spiderpool_annotations(items, kind, SPIDER)
    for fragment in fragments:
        assert fragment in str(exc.value), str(exc.value)
    assert spiderpool_annotations([{'ipv4': ['pool-v4'], 'ipv6': ['pool-v6']}], 'ippools', SPIDER)


# ------------------------------------------------------------ what upstream accepts


def test_cni_versions_upstream_accepts():
    # CNI plugins v1.x and current OVN-Kubernetes take spec 1.1.0; OVN-Kubernetes' docs use 1.0.0.
    assert config(only([macvlan(cni_version='1.1.0')]))['cniVersion'] == '1.1.0'
    for version in ('1.0.0', '1.1.0', '0.4.0'):
        assert config(only([ovnk(cni_version=version, subnets='198.18.64.0/24')]))['cniVersion'] == version


def test_sriov_vlan_qos_zero_with_vlan_zero():
    conf = config(
        only(
            [
                {
                    'name': 's',
                    'namespace': 'n',
                    'type': 'sriov',
                    'resource_name': 'r/x',
                    'vlan': 0,
                    'vlan_qos': 0,
                    'ipam': dict(WB),
                }
            ]
        )
    )
    assert conf['vlan'] == 0 and conf['vlanQoS'] == 0


def test_ovnk_ipv4_host_length_32_and_one_host_length():
    assert config(only([ovnk(topology='layer3', subnets='198.18.64.0/24/32')]))['subnets'] == '198.18.64.0/24/32'
    assert 'same host subnet length' in refused(
        [ovnk(topology='layer3', subnets='198.18.64.0/20/24,198.18.80.0/20/26')]
    )


def test_ovnk_overlaps_follow_subnet_overlap_check():
    # The transit subnet counts for layer3 only.
    assert config(only([ovnk(topology='layer2', subnets='100.88.1.0/24')]))['subnets'] == '100.88.1.0/24'
    # Internal subnets inside excludeSubnets are left out first (layer2), the network's own join subnet too.
    entry = only([ovnk(subnets='100.64.0.0/15', exclude_subnets='100.64.0.0/16,100.65.0.0/16')])
    assert config(entry)['excludeSubnets'] == '100.64.0.0/16,100.65.0.0/16'
    assert 'default user-defined join subnet 100.65.0.0/16' in refused(
        [ovnk(subnets='100.64.0.0/15', exclude_subnets='100.64.0.0/16')]
    )
    # joinSubnet replaces the default user-defined join subnet of its own family only.
    assert config(only([ovnk(subnets='100.65.3.0/24', join_subnet='198.18.90.0/24')]))['joinSubnet'] == '198.18.90.0/24'
    assert 'fd99::/64' in refused([ovnk(subnets='fd99::/64', join_subnet='198.18.90.0/24')])
    # localnet is not checked, as OVN-Kubernetes does not check it.
    assert config(only([ovnk(topology='localnet', subnets='100.64.3.0/24')]))['subnets'] == '100.64.3.0/24'
    # The cluster's networks, and a cluster whose OVN-Kubernetes uses other internal subnets.
    reserved = {'pod_network': '10.128.0.0/14', 'service_network': '172.30.0.0/16'}
    message = refused([ovnk(subnets='172.30.8.0/24')], reserved=reserved)
    assert 'subnet 172.30.8.0/24 overlaps reserved service_network 172.30.0.0/16' in message, message
    internal = {'join subnet': ['100.99.0.0/16'], 'masquerade subnet': ['169.254.0.0/17']}
    assert config(only([ovnk(subnets='100.64.0.0/24')], ovnk_internal=internal))['subnets'] == '100.64.0.0/24'
    assert 'join subnet 100.99.0.0/16' in refused([ovnk(subnets='100.99.1.0/24')], ovnk_internal=internal)


def test_primary_networks_name_their_namespaces():
    objects = build_objects(
        [
            ovnk(subnets='198.18.64.0/24', role='primary'),
            ovnk(name='other', namespace='team-b', subnets='198.18.65.0/24', role='secondary'),
        ]
    )
    assert primary_namespaces(objects) == ['team-a']


def test_sliced_whereabouts_nads_get_a_network_name_the_node_slice_controller_accepts():
    # whereabouts' node-slice controller (pkg/node-controller/controller.go, checkForMultiNadMismatch) refuses to
    # slice a NAD when another whereabouts NAD of the same network_name (none counts as one) has another range.
    sliced = macvlan(
        name='repl-net',
        master='nic2',
        ipam={'type': 'whereabouts', 'range': '198.18.33.0/24', 'node_slice_size': '/28'},
    )
    objects = build_objects([macvlan(ipam=dict(WB)), sliced])
    names = [config(o)['ipam'].get('network_name') for o in objects]
    assert names == [None, 'repl-net']
    # A network_name given is kept, and one shared with a NAD of another range is refused, naming both.
    shared = macvlan(name='repl-net', master='nic2', ipam=dict(sliced['ipam'], network_name='data'))
    message = refused([macvlan(ipam=dict(WB, network_name='data')), shared])
    assert "whereabouts network_name 'data' is also" in message and 'checkForMultiNadMismatch' in message, message
    assert '198.18.32.0/24' in message and '198.18.33.0/24 node_slice_size /28' in message, message


def test_sliced_nads_must_be_in_the_namespace_of_whereabouts():
    # whereabouts' node-slice controller (pkg/node-controller/controller.go) creates the NodeSlicePool in its own
    # namespace with the NAD as owner: the garbage collector deletes it when the NAD is in another namespace.
    sliced = macvlan(name='repl-net', ipam={'type': 'whereabouts', 'range': '198.18.33.0/24', 'node_slice_size': '/28'})
    message = refused([sliced], whereabouts_namespace='kube-system')
    assert message.startswith("network 'repl-net' (networks[0]): node_slice_size /28 in namespace aistore:"), message
    assert 'expected namespace kube-system for a sliced NAD' in message, message
    # Every namespace of a NAD in several is named, the right one not.
    message = refused(
        [dict(sliced, namespace=None, namespaces=['kube-system', 'b', 'a'])], whereabouts_namespace='kube-system'
    )
    assert 'in namespace a, b:' in message, message
    # In whereabouts' namespace it is built; unsliced NADs may be anywhere; without the namespace nothing is checked.
    assert (
        config(only([dict(sliced, namespace='kube-system')], whereabouts_namespace='kube-system'))['ipam'][
            'node_slice_size'
        ]
        == '/28'
    )
    assert len(build_objects([macvlan()], whereabouts_namespace='kube-system')) == 1
    assert len(build_objects([sliced])) == 1
    # An absent NAD is not checked: removing one left in the wrong namespace must stay possible.
    assert build_objects([dict(sliced, state='absent')], whereabouts_namespace='kube-system')[0]['state'] == 'absent'
