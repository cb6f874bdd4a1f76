# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter arguments checked against each filter's own documentation (plugin_utils/filter_arguments.py)."""

import glob
import importlib
import inspect
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import (
    check_arguments,
    expected,
    load_documentation,
)

PACKAGE = 'ansible_collections.netplumb.multihome.plugins.filter'
FILTER_DIR = os.path.dirname(importlib.import_module(PACKAGE + '.nad').__file__)
# Every filter of every file of plugins/filter/, as Ansible loads them.
FILTERS = {}
for path in sorted(glob.glob(os.path.join(FILTER_DIR, '*.py'))):
    FILTERS.update(importlib.import_module('%s.%s' % (PACKAGE, os.path.basename(path)[:-3])).FilterModule().filters())


@pytest.mark.parametrize('name', sorted(FILTERS))
def test_each_filter_is_checked_against_its_own_documentation(name):
    """Each filter goes through documented_filter, and its documented arguments are the function's parameters."""
    order, specs = load_documentation(os.path.join(FILTER_DIR, name + '.yml'))
    func = FILTERS[name]
    assert hasattr(func, '__wrapped__'), '%s is not wrapped by documented_filter' % name
    params = list(inspect.signature(func.__wrapped__).parameters)
    assert order[0] == '_input' and specs['_input'].get('required')
    assert order[1:] == params[1:]
    for option, spec in specs.items():
        assert spec.get('type'), '%s %s has no type' % (name, option)


@pytest.mark.parametrize(
    'name, args, kwargs, message',
    [
        # a wrong type
        (
            'cidr_block',
            ('10.0.0.0/16', 'x', 0),
            {},
            "netplumb.multihome.cidr_block: extra_bits 'x' is not a whole number",
        ),
        ('cidr_block', ('10.0.0.0/16', 8, 2.5), {}, 'index 2.5 is not a whole number'),
        ('cidr_block', (['10.0.0.0/16'], 8, 0), {}, "the input ['10.0.0.0/16'] is not a string"),
        ('multinic_host_blocks', ('plan', 'h1'), {}, "multinic_host_blocks: the input 'plan' is not a dict"),
        ('vpp_startup_config', ('x',), {}, "netplumb.multihome.vpp_startup_config: the input 'x' is not a dict"),
        ('aistore_resource', (['name'],), {}, "aistore_resource: the input ['name'] is not a dict"),
        ('aistore_node_ips', ('10.0.0.1', []), {}, "aistore_node_ips: the input '10.0.0.1' is not a dict"),
        ('aistore_hostname_map', ('w1',), {}, "aistore_hostname_map: the input 'w1' is not a list"),
        ('spiderpool_annotations', ('net1',), {}, "the input 'net1' is not a list of dicts"),
        ('spiderpool_annotations', (['net1'],), {}, "the input ['net1'] is not a list of dicts"),
        (
            'pod_networks_annotation',
            (['a'],),
            {'nads': 'x'},
            "pod_networks_annotation: nads 'x' is not a list of dicts",
        ),
        ('pod_networks_annotation', (['a'], 5), {}, 'default_namespace 5 is not a string'),
        # a missing required argument
        (
            'cidr_block',
            ('10.0.0.0/16', 8),
            {},
            'netplumb.multihome.cidr_block: index is missing: expected a whole number',
        ),
        ('multinic_pod_block', ('192.168.0.0/16', 2, 6, 1), {}, 'host_index is missing: expected a whole number'),
        ('multinic_host_blocks', ({'interfaces': []},), {}, 'multinic_host_blocks: host is missing: expected a string'),
        ('aistore_node_ips', ({},), {}, 'aistore_node_ips: nodes is missing: expected any value'),
        ('vpp_startup_config', (), {}, 'vpp_startup_config: the input is missing: expected a dict'),
        # a bad choice
        (
            'ovnk_subnets',
            ('10.0.0.0/16', 'layer4'),
            {},
            "netplumb.multihome.ovnk_subnets: topology 'layer4' is not one of layer3, layer2, localnet",
        ),
        (
            'spiderpool_annotations',
            ([{'interface': 'net1', 'ipv4': ['a']}],),
            {'kind': 'pools'},
            "spiderpool_annotations: kind 'pools' is not one of ippools, subnets",
        ),
        ('spiderpool_annotations', ([{'interface': 'net1', 'ipv4': ['a']}], None), {}, 'kind None is not one of'),
        # how the arguments are given
        (
            'cidr_overlaps',
            (['10.0.0.0/8'],),
            {'foo': 1},
            'cidr_overlaps: unknown argument foo=1: expected only reserved',
        ),
        (
            'cidr_overlaps',
            (['10.0.0.0/8'], None, None),
            {},
            'cidr_overlaps: got 3 arguments: expected at most 2 (the input, reserved)',
        ),
        (
            'ovnk_subnets',
            ('10.0.0.0/16', 'layer2'),
            {'topology': 'layer2'},
            'topology is given twice, by position and by name',
        ),
        # every problem at once
        (
            'multinic_pod_block',
            (5, 'a', 6, 1),
            {},
            'the input 5 is not a string; interface_block \'a\' is not a whole number; host_index is missing',
        ),
    ],
)
def test_refusals_name_the_filter_the_argument_and_the_value(name, args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as exc:
        FILTERS[name](*args, **kwargs)
    assert message in str(exc.value), str(exc.value)


def test_numbers_are_converted_as_ansible_does():
    assert FILTERS['cidr_block']('10.0.0.0/16', '8', '3') == '10.0.3.0/24'
    assert FILTERS['multinic_pod_block']('192.168.0.0/16', '2', 6.0, 1, '1') == '192.168.65.0/24'


def test_what_the_documentation_cannot_say_the_filter_still_checks():
    with pytest.raises(AnsibleFilterError, match='cidr_block: index True is not a whole number'):
        FILTERS['cidr_block']('10.0.0.0/16', 8, True)
    with pytest.raises(AnsibleFilterError, match="vpp_startup_config: unknown settings dev"):
        FILTERS['vpp_startup_config']({'dev': []})


def test_defaults_and_unset_optional_arguments():
    # topology defaults to layer3 (a host length is allowed), default_namespace and nads stay unset.
    assert FILTERS['ovnk_subnets']('10.128.0.0/16/24') == [{'cidr': '10.128.0.0/16', 'host_length': 24}]
    assert FILTERS['pod_networks_annotation'](['a'], None, nads=None) == '[{"name":"a"}]'
    plan = FILTERS['aistore_hostname_map']([{'name': 'w1', 'primary_ip': '10.0.0.1'}])
    assert plan['single_homed'] == ['w1']


def test_the_function_keeps_its_name_and_doc():
    assert FILTERS['cidr_block'].__name__ == 'cidr_block'
    assert 'Block' in FILTERS['cidr_block'].__doc__


@pytest.mark.parametrize(
    'spec, words',
    [
        ({'type': 'int'}, 'a whole number'),
        ({}, 'a string'),
        ({'type': 'list', 'elements': 'dict'}, 'a list of dicts'),
        ({'type': 'list', 'elements': 'raw'}, 'a list'),
        ({'type': 'str', 'choices': ['a', 'b']}, 'one of a, b'),
        ({'type': 'raw'}, 'any value'),
    ],
)
def test_expected_in_words(spec, words):
    assert expected(spec) == words


def test_a_documentation_that_cannot_be_a_spec_is_refused(tmp_path):
    broken = tmp_path / 'broken.yml'
    broken.write_text(
        'DOCUMENTATION:\n  name: broken\n  positional: _input, size\n  options:\n    _input:\n      type: raw\n'
    )
    with pytest.raises(AnsibleFilterError, match='lists size as positional but documents no such option'):
        load_documentation(str(broken))
    with pytest.raises(AnsibleFilterError, match='no usable DOCUMENTATION'):
        load_documentation(str(tmp_path / 'missing.yml'))


def test_check_arguments_on_its_own():
    doc = (['_input', 'count'], {'_input': {'type': 'raw', 'required': True}, 'count': {'type': 'int', 'default': 2}})
    assert check_arguments('f', doc, ('x',), {}) == {'_input': 'x', 'count': 2}
    assert check_arguments('f', doc, ('x', '5'), {}) == {'_input': 'x', 'count': 5}
    with pytest.raises(AnsibleFilterError, match=r"^netplumb.multihome.f: count 'five' is not a whole number$"):
        check_arguments('f', doc, ('x',), {'count': 'five'})


def test_list_and_dict_arguments_reach_the_filter_as_plain_containers():
    """Ansible's lazy containers are Mapping / Sequence types of their own: the function gets plain dicts and lists
    (built from what they hold), and a raw argument (which may be hostvars) is passed on as it came."""
    from collections.abc import Mapping

    class Lazy(Mapping):
        def __init__(self, data):
            self._data = data

        def __getitem__(self, key):
            return self._data[key]

        def __iter__(self):
            return iter(self._data)

        def __len__(self):
            return len(self._data)

    documentation = (
        ['_input', 'extra', 'anything'],
        {'_input': {'type': 'dict', 'required': True}, 'extra': {'type': 'list'}, 'anything': {'type': 'raw'}},
    )
    raw = Lazy({'a': 1})
    params = check_arguments(
        'demo', documentation, (Lazy({'hosts': (Lazy({'name': 'w1'}),)}), (Lazy({'k': [1]}),)), {'anything': raw}
    )
    assert params['_input'] == {'hosts': [{'name': 'w1'}]}
    # Lazy is a Mapping, not a dict: only a plain copy is one.
    assert isinstance(params['_input'], dict) and isinstance(params['_input']['hosts'], list)
    assert isinstance(params['_input']['hosts'][0], dict)
    assert params['extra'] == [{'k': [1]}] and isinstance(params['extra'][0], dict)
    assert params['anything'] is raw
