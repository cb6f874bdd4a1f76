# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CRD checker of crd_schema.py refuses what the upstream CRDs refuse, and accepts upstream's own samples.

The accepted AIStore is the operator's sample (NVIDIA/ais-k8s operator/config/samples/
ais_v1beta1_aistore.yaml, typed in here from its fields); each refused object differs from it
by one thing the CRD forbids.
"""

import copy

import pytest

from crd_schema import CRDS, errors

SAMPLE = {
    'apiVersion': 'ais.nvidia.com/v1beta1',
    'kind': 'AIStore',
    'metadata': {'name': 'aistore-sample', 'namespace': 'ais'},
    'spec': {
        'nodeImage': 'aistorage/aisnode:v4.4',
        'initImage': 'aistorage/ais-init:v4.4',
        'stateStorage': {'hostPath': {'prefix': '/etc/ais'}},
        'proxySpec': {
            'size': 1,
            'servicePort': 51080,
            'portPublic': 51080,
            'portIntraControl': 51082,
            'portIntraData': 51083,
            'hostPort': 51080,
        },
        'targetSpec': {
            'size': 1,
            'servicePort': 51081,
            'portPublic': 51081,
            'portIntraControl': 51082,
            'portIntraData': 51083,
            'hostPort': 51081,
            'mounts': [{'path': '/ais1', 'size': '10Gi'}],
        },
        'enableExternalLB': False,
    },
}


def changed(path, value):
    obj = copy.deepcopy(SAMPLE)
    node = obj
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return obj


def test_every_upstream_crd_is_loaded():
    kinds = sorted(kind for _version, kind in CRDS)
    for kind in ('AIStore', 'NetworkAttachmentDefinition', 'SpiderIPPool', 'SpiderSubnet', 'MultiNicNetwork', 'IPPool'):
        assert kind in kinds


def test_the_operator_sample_is_accepted():
    assert errors(SAMPLE) == []
    # servicePort is int-or-string
    assert errors(changed(['spec', 'proxySpec', 'servicePort'], '51080')) == []


@pytest.mark.parametrize(
    'path, value, expected',
    [
        (['spec', 'proxySpec', 'servicePort'], KeyError, "spec.proxySpec: 'servicePort' is a required property"),
        (['spec', 'targetSpec', 'servicePort'], KeyError, "spec.targetSpec: 'servicePort' is a required property"),
        (['spec', 'targetSpec', 'mounts'], KeyError, "'mounts' is a required property"),
        (['spec', 'nodeImage'], KeyError, "'nodeImage' is a required property"),
        (['spec', 'proxySpec', 'size'], 'three', "spec.proxySpec.size: 'three' is not of type 'integer'"),
        (
            ['spec', 'publicNetDNSMode'],
            'Hostname',
            "spec.publicNetDNSMode: 'Hostname' is not one of ['IP', 'Node', 'Pod']",
        ),
        (['spec', 'proxySpec', 'servicePorts'], 51080, "'servicePorts' was unexpected"),
        # CEL: exactly one kind of state storage
        (
            ['spec', 'stateStorage'],
            {'hostPath': {'prefix': '/etc/ais'}, 'emptyDir': {}},
            'spec.stateStorage: exactly one of hostPath, pvc, or emptyDir must be set',
        ),
        # CEL: both daemon sizes, or spec.size
        (['spec', 'proxySpec', 'size'], KeyError, 'Invalid cluster size'),
        (['metadata', 'name'], 'AIS_1', "metadata.name 'AIS_1' is not a DNS-1123 subdomain"),
        (['metadata', 'namespace'], KeyError, 'metadata.namespace None is not a DNS-1123 label'),
    ],
)
def test_what_the_crd_forbids_is_refused(path, value, expected):
    problems = errors(changed(path, value))
    assert any(expected in p for p in problems), problems


def test_removed_and_unknown_fields_of_other_crds_are_refused():
    pool = {
        'apiVersion': 'spiderpool.spidernet.io/v2beta1',
        'kind': 'SpiderIPPool',
        'metadata': {'name': 'pool-a'},
        'spec': {'subnet': '198.18.96.0/24', 'ips': ['198.18.96.10-198.18.96.50']},
    }
    assert errors(pool) == []
    # spec.vlan was removed from Spiderpool's CRDs in v1.0.0.
    assert any("'vlan' was unexpected" in p for p in errors(dict(pool, spec=dict(pool['spec'], vlan=100))))
    subnet = {
        'apiVersion': 'spiderpool.spidernet.io/v2beta1',
        'kind': 'SpiderSubnet',
        'metadata': {'name': 's', 'namespace': 'x'},
        'spec': {'subnet': '198.18.96.0/24'},
    }
    assert any('cluster-scoped' in p for p in errors(subnet))
    unknown = {'apiVersion': 'example.com/v1', 'kind': 'Nothing', 'metadata': {'name': 'x'}}
    with pytest.raises(KeyError, match='no CRD'):
        errors(unknown)
