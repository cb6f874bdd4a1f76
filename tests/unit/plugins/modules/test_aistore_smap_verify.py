# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The aistore_smap_verify module as Ansible runs it, with the map given inline (smap) or as a file (src).

The maps are built in AIStore's JSON shape (core/meta/smap.go): pmap/tmap by daemon ID, public_net
{node_ip_addr, daemon_port (a string), direct_url}, pub_extra only when the node has extra addresses,
version as a JSON string. The HTTP path (url) is run for real in tests/integration/test_aistore_smap_http.py.
"""

import json

import pytest

from ansible_collections.netplumb.multihome.plugins.modules import aistore_smap_verify


def net(host, port='51081'):
    return {'node_ip_addr': host, 'daemon_port': port, 'direct_url': 'http://%s:%s' % (host, port)}


def node(daemon_id, daemon_type, ip, extras=()):
    out = {
        'daemon_id': daemon_id,
        'daemon_type': daemon_type,
        'public_net': net(ip),
        'intra_control_net': net('ais-%s-0.ais-%s.ais.svc.cluster.local' % (daemon_type, daemon_type), '51082'),
        'intra_data_net': net('ais-%s-0.ais-%s.ais.svc.cluster.local' % (daemon_type, daemon_type), '51083'),
        'flags': 0,
        'id_digest': 42,
    }
    if extras:
        out['pub_extra'] = [net(e) for e in extras]
    return out


PLAN = {'10.51.248.68': ['10.51.248.116'], '10.51.248.77': ['10.51.248.105']}


def cluster_map(drop_extra_of=None):
    nodes = [node('p%d' % i, 'proxy', ip, extras) for i, (ip, extras) in enumerate(sorted(PLAN.items()))]
    nodes += [node('t%d' % i, 'target', ip, extras) for i, (ip, extras) in enumerate(sorted(PLAN.items()))]
    for n in nodes:
        if n['daemon_id'] == drop_extra_of:
            del n['pub_extra']
    return {
        'pmap': {n['daemon_id']: n for n in nodes if n['daemon_type'] == 'proxy'},
        'tmap': {n['daemon_id']: n for n in nodes if n['daemon_type'] == 'target'},
        'proxy_si': nodes[0],
        'uuid': 'kQ3pLz',
        'creation_time': '2025-05-06 10:11:12',
        'version': '12',
    }


@pytest.mark.parametrize('check_mode', [False, True])
@pytest.mark.parametrize('as_text', [False, True])
def test_good_map_inline(run_module, check_mode, as_text):
    smap = json.dumps(cluster_map()) if as_text else cluster_map()
    failed, result = run_module(
        aistore_smap_verify,
        {'smap': smap, 'expected': PLAN, 'proxies': 2, 'targets': 2, '_ansible_check_mode': check_mode},
    )
    assert not failed, result
    assert result['changed'] is False
    assert result['attempts'] == 1
    assert result['smap_version'] == 12
    assert result['report']['ok'] is True
    assert [n['status'] for n in result['report']['nodes']] == ['ok'] * 4
    assert result['summary'] == result['report']['summary']


def test_good_map_from_src(run_module, tmp_path):
    path = tmp_path / 'smap.json'
    path.write_text(json.dumps(cluster_map()))
    failed, result = run_module(aistore_smap_verify, {'src': str(path), 'expected': PLAN})
    assert not failed, result
    assert result['report']['ok'] is True


def test_missing_extra_fails_naming_node_and_ip(run_module, tmp_path):
    path = tmp_path / 'smap.json'
    path.write_text(json.dumps(cluster_map(drop_extra_of='t1')))
    failed, result = run_module(aistore_smap_verify, {'src': str(path), 'expected': PLAN})
    assert failed
    assert result['changed'] is False
    assert 't1' in result['msg'] and '10.51.248.105' in result['msg']
    t1 = [n for n in result['report']['nodes'] if n['daemon_id'] == 't1'][0]
    assert t1['status'] == 'mismatch' and t1['missing_extra'] == ['10.51.248.105']
    assert result['attempts'] == 1  # a file is read once, not polled


def test_hostname_map_values_are_accepted_as_expected(run_module):
    expected = {'10.51.248.68': '10.51.248.68,10.51.248.116', '10.51.248.77': '10.51.248.77,10.51.248.105'}
    failed, result = run_module(aistore_smap_verify, {'smap': cluster_map(), 'expected': expected})
    assert not failed, result


@pytest.mark.parametrize(
    'args, fragments',
    [
        ({'smap': '{"pmap": {', 'expected': PLAN}, ['not valid JSON', 'line 1']),
        ({'smap': {'tmap': {}}, 'expected': PLAN}, ["no 'pmap'"]),
        ({'smap': cluster_map(), 'expected': {'10.51.248.680': []}}, ["'10.51.248.680' is not a valid IP"]),
        ({'src': '/nonexistent/smap.json', 'expected': PLAN}, ['/nonexistent/smap.json', 'not a file']),
        ({'url': 'ftp://10.0.0.1:51080', 'expected': PLAN}, ["url 'ftp://10.0.0.1:51080'", 'http://']),
        ({'smap': cluster_map(), 'expected': PLAN, 'proxies': 3}, ['2 proxies, expected 3']),
    ],
)
def test_bad_input_fails_naming_the_value(run_module, args, fragments):
    failed, result = run_module(aistore_smap_verify, args)
    assert failed
    for fragment in fragments:
        assert fragment in result['msg'], result['msg']


@pytest.mark.parametrize(
    'args',
    [
        {'expected': PLAN},
        {'smap': {}, 'src': '/tmp/x', 'expected': PLAN},
        {'smap': {}, 'expected': PLAN, 'client_key': '/tmp/k.pem'},
    ],
)
def test_argument_rules(run_module, args):
    failed, result = run_module(aistore_smap_verify, args)
    assert failed
    assert 'smap' in result['msg'] or 'client_cert' in result['msg']


def test_auth_token_is_not_echoed(run_module):
    failed, result = run_module(
        aistore_smap_verify, {'smap': cluster_map(), 'expected': PLAN, 'auth_token': 's3cr3t-t0ken-value'}
    )
    assert not failed
    assert 's3cr3t-t0ken-value' not in json.dumps(result)
