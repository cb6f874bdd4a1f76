# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/cni_config: the one parse and check of a CNI configuration, its chain and attachment type.

Expected values follow the CNI specification and libcni: a configuration names its
``cniVersion`` and either one plugin (``type``) or a conflist (``plugins``); a conflist's plugins
run in order, each given the list's ``name`` and ``cniVersion``.
"""

import json
import re

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_config, nad
from ansible_collections.netplumb.multihome.plugins.module_utils.cni_config import (
    CNI_VERSIONS,
    CniConfigError,
    attachment_type,
    ipam_index,
    main_plugin,
    parse_config,
    plugin_chain,
)

MACVLAN = {
    'cniVersion': '0.3.1',
    'name': 'storage-net',
    'type': 'macvlan',
    'master': 'nic1',
    'mode': 'bridge',
    'ipam': {'type': 'whereabouts', 'range': '198.18.61.0/24'},
}
CONFLIST = {
    'cniVersion': '1.0.0',
    'name': 'chained',
    'plugins': [
        {'type': 'macvlan', 'master': 'nic1', 'ipam': {'type': 'whereabouts', 'range': '198.18.70.0/24'}},
        {'type': 'tuning', 'sysctl': {'net.ipv4.conf.net1.arp_notify': '1'}},
    ],
}


def test_parse_config_takes_the_nad_json_text_or_a_dict():
    assert parse_config(json.dumps(MACVLAN)) == MACVLAN
    assert parse_config(MACVLAN) is MACVLAN
    assert parse_config(CONFLIST) is CONFLIST


@pytest.mark.parametrize(
    'config, message',
    [
        ('{"cniVersion": ', 'is not valid JSON'),
        ('[1, 2]', 'is not a JSON object'),
        ({'name': 'x', 'type': 'macvlan'}, 'has no cniVersion'),
        ({'cniVersion': '', 'name': 'x', 'type': 'macvlan'}, "has no cniVersion (cniVersion '')"),
        ({'cniVersion': '0.5.0', 'type': 'macvlan'}, "has cniVersion '0.5.0': expected one of 0.1.0, 0.2.0"),
        ({'cniVersion': '0.3.1', 'name': 'x'}, "neither 'type' nor 'plugins'"),
        ({'cniVersion': '0.3.1', 'plugins': []}, 'is not a non-empty list'),
        ({'cniVersion': '0.3.1', 'plugins': [{'master': 'nic1'}]}, 'plugins[0]'),
        # The type names a binary in the CNI directory: a path would run anything.
        ({'cniVersion': '0.3.1', 'type': '../../bin/sh'}, 'is not a plugin name'),
        ({'cniVersion': '0.3.1', 'type': '/usr/bin/id'}, 'is not a plugin name'),
        ({'cniVersion': '0.3.1', 'type': 7}, 'config type 7 is not a plugin name'),
        ({'cniVersion': '0.3.1', 'plugins': [{'type': 'macvlan'}, {'type': '.hidden'}]}, 'plugins[1] type'),
    ],
)
def test_parse_config_refuses_what_a_runtime_could_not_run(config, message):
    with pytest.raises(CniConfigError, match=re.escape(message)):
        parse_config(config, 'config')


def test_the_nad_builder_checks_with_the_same_function():
    # The builder's check is this one, its errors the builder's own kind (NadError).
    assert nad.check_cni_config('{"cniVersion":"0.3.1","type":"macvlan"}')['type'] == 'macvlan'
    with pytest.raises(nad.NadError, match=re.escape("spec.config plugins[1] type '.hidden' is not a plugin name")):
        nad.check_cni_config(json.dumps({'cniVersion': '0.3.1', 'plugins': [{'type': 'macvlan'}, {'type': '.hidden'}]}))


def test_the_nad_builder_offers_the_versions_the_check_accepts():
    assert nad.CNI_VERSIONS is cni_config.CNI_VERSIONS is CNI_VERSIONS


def test_a_conflist_runs_its_plugins_in_order_with_the_list_name_and_version():
    chain = plugin_chain(CONFLIST)
    assert [c['type'] for c in chain] == ['macvlan', 'tuning']
    assert all(c['name'] == 'chained' and c['cniVersion'] == '1.0.0' for c in chain)
    # The input is not modified.
    assert 'name' not in CONFLIST['plugins'][0]
    (only,) = plugin_chain(MACVLAN)
    assert only == MACVLAN and only is not MACVLAN


def test_the_attachment_type_is_the_first_plugins():
    assert attachment_type(MACVLAN) == 'macvlan'
    assert attachment_type(CONFLIST) == 'macvlan'
    assert attachment_type({'cniVersion': '0.3.1', 'plugins': [{'type': 'bridge'}, {'type': 'portmap'}]}) == 'bridge'
    assert main_plugin(CONFLIST)['master'] == 'nic1'


def test_the_plugin_whose_ipam_assigns_addresses():
    assert ipam_index(plugin_chain(CONFLIST)) == 0
    assert ipam_index([{'type': 'macvlan', 'ipam': {}}, {'type': 'x', 'ipam': {'type': 'static'}}]) == 1
    assert ipam_index([{'type': 'macvlan'}]) is None
