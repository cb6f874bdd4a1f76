# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AIStore resource the aistore role applies: accepted by the operator's real CRD, and refused
when the operator would silently ignore hostnameMap."""

import pytest
from aistore_settings import SETTINGS, settings
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.filter.aistore import aistore_resource
from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_resource import (
    AisResourceError,
    build_resource,
    multihome_conflicts,
)

from crd_schema import assert_accepted, errors


def test_the_default_resource_is_accepted_by_the_operator_crd():
    resource = build_resource(settings())
    assert_accepted(resource)
    spec = resource['spec']
    assert spec['proxySpec'] == {
        'size': 2,
        'servicePort': 51080,
        'portPublic': 51080,
        'portIntraControl': 51082,
        'portIntraData': 51083,
        'hostPort': 51080,
    }
    assert spec['targetSpec']['servicePort'] == 51081 and spec['targetSpec']['hostPort'] == 51081
    assert spec['networkAttachment'] == 'macvlan-nic1,macvlan-nic2'
    assert spec['stateStorage'] == {'hostPath': {'prefix': '/etc/ais'}} and 'hostpathPrefix' not in spec
    assert 'enableExternalLB' not in spec


def test_without_service_ports_the_crd_refuses_it():
    """What every earlier release of the role sent: the check that would have caught it."""
    resource = build_resource(settings())
    for daemon in ('proxySpec', 'targetSpec'):
        del resource['spec'][daemon]['servicePort']
    problems = errors(resource)
    assert "spec.proxySpec: 'servicePort' is a required property" in problems
    assert "spec.targetSpec: 'servicePort' is a required property" in problems


def test_old_operator_layout_has_hostpath_prefix_and_enable_external_lb():
    spec = build_resource(settings(hostpath_prefix='/etc/ais'))['spec']
    assert spec['hostpathPrefix'] == '/etc/ais' and spec['enableExternalLB'] is False
    assert 'stateStorage' not in spec
    # Still accepted by the current CRD (deprecated, not removed), which requires stateStorage of nobody.
    assert_accepted(build_resource(settings(hostpath_prefix='/etc/ais')))


def test_extra_spec_merges_recursively_and_replaces_lists():
    resource = build_resource(
        settings(
            extra_spec={
                'proxySpec': {'size': 1},
                'targetSpec': {'mounts': [{'path': '/d'}]},
                'configToUpdate': {'net': {'http': {'use_https': True}}},
            }
        )
    )
    spec = resource['spec']
    assert spec['proxySpec']['size'] == 1 and spec['proxySpec']['portPublic'] == 51080
    assert spec['targetSpec']['mounts'] == [{'path': '/d'}]
    assert spec['configToUpdate'] == {'net': {'http': {'use_https': True}}}
    assert SETTINGS['mounts'] == [{'path': '/ais1', 'size': '10Gi'}]  # the input is left as it was
    assert_accepted(resource)


@pytest.mark.parametrize(
    'changes, expected',
    [
        ({'host_port': False}, 'proxySpec has no hostPort (aistore_host_port is false'),
        (
            {'extra_spec': {'publicNetDNSMode': 'Node'}},
            "publicNetDNSMode Node (aistore_extra_spec): ais-init then looks the node's name up",
        ),
        (
            {'extra_spec': {'publicNetDNSMode': 'Pod'}},
            "publicNetDNSMode Pod (aistore_extra_spec): ais-init then uses the pod's DNS name",
        ),
        (
            {'extra_spec': {'targetSpec': {'hostNetwork': True}}},
            "targetSpec.hostNetwork is true (aistore_extra_spec): in IP mode",
        ),
        ({'extra_spec': {'enableExternalLB': True}}, 'targets have external access (enableExternalLB'),
        (
            {'extra_spec': {'targetSpec': {'externalAccess': {'type': 'LoadBalancer'}}}},
            'targets have external access (targetSpec.externalAccess',
        ),
        ({'extra_spec': {'targetSpec': {'hostPort': None}}}, 'targetSpec has no hostPort'),
    ],
)
def test_settings_that_make_the_operator_ignore_hostname_map_are_refused(changes, expected):
    with pytest.raises(AisResourceError) as err:
        build_resource(settings(**changes))
    assert expected in str(err.value)
    assert 'no node would publish its extra IPs (pub_extra)' in str(err.value)


def test_the_same_settings_are_fine_when_no_node_has_extra_ips():
    single = {'198.18.0.11': '198.18.0.11', '198.18.0.12': '198.18.0.12'}
    resource = build_resource(
        settings(
            hostname_map=single,
            attachments=[],
            host_port=False,
            extra_spec={'publicNetDNSMode': 'Node', 'targetSpec': {'hostNetwork': True}},
        )
    )
    assert 'hostPort' not in resource['spec']['proxySpec']
    assert_accepted(resource)
    assert multihome_conflicts(resource['spec']) == []


def test_node_mode_with_host_network_names_only_the_mode():
    spec = build_resource(settings(hostname_map={}, attachments=[]))['spec']
    spec['hostnameMap'] = SETTINGS['hostname_map']
    spec['publicNetDNSMode'] = 'Node'
    spec['targetSpec']['hostNetwork'] = True
    problems = multihome_conflicts(spec)
    # In Node mode ais-init does not clear the host-network target's hostname: only the mode is at fault.
    assert len(problems) == 1 and problems[0].startswith('publicNetDNSMode Node')


@pytest.mark.parametrize(
    'changes, expected',
    [
        (
            {'proxy_service_port': 8080},
            'aistore_proxy_service_port 8080 differs from aistore_proxy_port 51080 while aistore_host_port is true',
        ),
        ({'target_port': 70000}, 'aistore_target_port 70000 is not a port'),
        ({'target_service_port': 'http'}, "aistore_target_service_port 'http' is not a port"),
        ({'extra_spec': ['x']}, "aistore_extra_spec ['x'] is not a dict"),
    ],
)
def test_bad_ports_and_extra_spec_are_named(changes, expected):
    with pytest.raises(AisResourceError, match=expected.replace('[', r'\[').replace(']', r'\]')):
        build_resource(settings(**changes))


def test_a_service_port_may_differ_without_host_port_when_single_homed():
    resource = build_resource(settings(hostname_map={}, attachments=[], host_port=False, proxy_service_port=8080))
    assert resource['spec']['proxySpec']['servicePort'] == 8080
    assert_accepted(resource)


def test_the_filter_names_the_problem():
    with pytest.raises(AnsibleFilterError, match='netplumb.multihome.aistore_resource: .*proxySpec has no hostPort'):
        aistore_resource(settings(host_port=False))
    with pytest.raises(AnsibleFilterError, match="the setting 'mounts' is missing"):
        aistore_resource(dict((k, v) for k, v in SETTINGS.items() if k != 'mounts'))
    assert aistore_resource(settings())['kind'] == 'AIStore'


@pytest.mark.parametrize(
    'attachment, fragment',
    [
        (
            'Storage_Net',
            "aistore_network_attachments item 'Storage_Net': name 'Storage_Net' is not a DNS-1123 label",
        ),
        # Multus v4 takes a DNS-1123 label, not a subdomain, as the definition's name.
        ('storage.net', "name 'storage.net' is not a DNS-1123 label"),
        ('AIS/storage-net', "namespace 'AIS' is not a DNS-1123 label"),
        ('ais/', "name '' is not a name: expected a DNS-1123 label"),
        ('storage-net@eth 1', "the interface after @ 'eth 1' is not a valid interface name"),
        ('', 'is not a NetworkAttachmentDefinition name: expected [namespace/]name'),
    ],
)
def test_attachments_must_be_network_selection_elements_even_when_rendered(attachment, fragment):
    # build_resource serves render mode too: nothing reaches a cluster that could refuse the name later.
    with pytest.raises(AisResourceError) as err:
        build_resource(settings(attachments=['storage-net', attachment]))
    assert fragment in str(err.value), str(err.value)


def test_attachments_may_name_their_namespace_and_interface():
    resource = build_resource(settings(attachments=['ais/storage-net', 'other/replication-net@net2']))
    assert resource['spec']['networkAttachment'] == 'ais/storage-net,other/replication-net@net2'
