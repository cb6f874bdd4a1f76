# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/aistore_smap: cluster maps built here in AIStore's JSON shape, checked against a plan.

The builders follow the JSON tags of AIStore's core/meta/smap.go: Smap {pmap, tmap, proxy_si, uuid,
creation_time, version (int64 with ",string", so a JSON string)}, Snode {public_net, intra_data_net,
intra_control_net, daemon_type, daemon_id, pub_extra (omitempty), flags, id_digest} and NetInfo
{node_ip_addr, daemon_port (a string), direct_url}. aisnode gives each pub_extra entry the public port and
protocol of the node (ais/htrun.go), which is what a correct map looks like.
"""

import copy
import json

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import (
    FetchError,
    SmapError,
    check_node_ips,
    hostname_map,
    normalize_expected,
    parse_smap,
    smap_version,
    verify_smap,
    wait_for_smap,
)

PUB_PORT = '51081'
NS = 'ais'


def net(host, port, proto='http'):
    """A NetInfo as aisnode fills it in: direct_url is proto://host:port."""
    return {'node_ip_addr': host, 'daemon_port': str(port), 'direct_url': '%s://%s:%s' % (proto, host, port)}


def snode(daemon_id, daemon_type, ip, extras=(), port=PUB_PORT, proto='http'):
    """A node on AIS/K8s: the public net on the host IP, intra nets on the pod's DNS name."""
    pod = '%s-%s-0.%s-%s.%s.svc.cluster.local' % (NS, daemon_type, NS, daemon_type, NS)
    node = {
        'public_net': net(ip, port, proto),
        'intra_data_net': net(pod, 51083, proto),
        'intra_control_net': net(pod, 51082, proto),
        'daemon_type': daemon_type,
        'daemon_id': daemon_id,
        'flags': 0,
        'id_digest': 1234567890123,
    }
    if extras:  # "omitempty": no key at all for a node without extra addresses
        node['pub_extra'] = [net(extra, port, proto) for extra in extras]
    return node


def smap(proxies, targets, version=7):
    """A cluster map with the first proxy as primary."""
    pmap = {p['daemon_id']: p for p in proxies}
    return {
        'pmap': pmap,
        'proxy_si': proxies[0] if proxies else None,
        'tmap': {t['daemon_id']: t for t in targets},
        'uuid': 'Xq3B9tRfW',
        'creation_time': '2025-05-06 10:11:12.123456789 +0000 UTC m=+0.1',
        'version': str(version),
    }


# The example of the AIS operator's multihome doc: two nodes, one extra IP each.
PLAN = {'10.51.248.68': ['10.51.248.116'], '10.51.248.77': ['10.51.248.105']}


def k8s_map(plan=None, **kw):
    """One proxy and one target per node, as the AIS operator deploys them."""
    plan = PLAN if plan is None else plan
    proxies = [snode('p%d' % i, 'proxy', ip, extras) for i, (ip, extras) in enumerate(sorted(plan.items()))]
    targets = [snode('t%d' % i, 'target', ip, extras) for i, (ip, extras) in enumerate(sorted(plan.items()))]
    return smap(proxies, targets, **kw)


def by_id(result):
    return {r['daemon_id']: r for r in result['nodes'] if r['daemon_id']}


# ---------------------------------------------------------------- parse_smap


def test_parse_normalizes_every_node():
    nodes = parse_smap(json.dumps(k8s_map()))
    assert [(n['daemon_type'], n['daemon_id']) for n in nodes] == [
        ('proxy', 'p0'),
        ('proxy', 'p1'),
        ('target', 't0'),
        ('target', 't1'),
    ]
    p0 = nodes[0]
    assert p0['node_ip'] == '10.51.248.68'
    assert p0['port'] == '51081'
    assert p0['direct_url'] == 'http://10.51.248.68:51081'
    assert p0['pub_extra'] == [
        {'node_ip': '10.51.248.116', 'port': '51081', 'direct_url': 'http://10.51.248.116:51081'}
    ]
    assert p0['intra_control'] == {
        'node_ip': 'ais-proxy-0.ais-proxy.ais.svc.cluster.local',
        'port': '51082',
        'direct_url': 'http://ais-proxy-0.ais-proxy.ais.svc.cluster.local:51082',
    }
    assert p0['intra_data']['port'] == '51083'
    assert p0['primary'] is True
    assert [n['primary'] for n in nodes[1:]] == [False, False, False]


def test_empty_pub_extra_is_omitted_and_parses_as_empty():
    data = smap([snode('p0', 'proxy', '10.0.0.1')], [snode('t0', 'target', '10.0.0.1')])
    assert 'pub_extra' not in data['pmap']['p0']  # the builder follows "omitempty"
    assert [n['pub_extra'] for n in parse_smap(data)] == [[], []]
    # A null one (what a Go nil slice without omitempty would give) means the same.
    data['pmap']['p0']['pub_extra'] = None
    assert parse_smap(data)[0]['pub_extra'] == []


def test_version_is_a_json_string():
    data = k8s_map(version=42)
    assert data['version'] == '42'
    assert smap_version(data) == 42
    assert smap_version(json.dumps(data)) == 42
    assert verify_smap(data, PLAN)['version'] == 42


@pytest.mark.parametrize(
    'text, fragments',
    [
        ('{"pmap": {"p0": ', ['not valid JSON', 'line 1 column 17']),
        ('{"pmap": {}}\n{"tmap": {}}', ['not valid JSON', 'line 2 column 1']),
        ('', ['empty']),
        ('[1, 2]', ['JSON array', 'pmap']),
        ('{"tmap": {}}', ["no 'pmap'", 'tmap']),
        ('{"pmap": [], "tmap": {}}', ["'pmap' is a JSON array"]),
        ('{"pmap": {}, "tmap": "x"}', ["'tmap' is a JSON string"]),
    ],
)
def test_malformed_maps_say_what_and_where(text, fragments):
    with pytest.raises(SmapError) as exc:
        parse_smap(text)
    for fragment in fragments:
        assert fragment in str(exc.value)


@pytest.mark.parametrize(
    'mutate, fragments',
    [
        (lambda d: d['pmap']['p0'].pop('public_net'), ["pmap['p0'].public_net", 'null']),
        (lambda d: d['pmap']['p0']['public_net'].update(node_ip_addr=5), ["pmap['p0'].public_net.node_ip_addr", '5']),
        (
            lambda d: d['tmap']['t1']['public_net'].update(daemon_port=[51081]),
            ["tmap['t1'].public_net.daemon_port", 'array'],
        ),
        (lambda d: d['tmap']['t1'].update(pub_extra={'node_ip_addr': '1.2.3.4'}), ["tmap['t1'].pub_extra", 'object']),
        (lambda d: d['tmap']['t1']['pub_extra'].append('10.1.1.1'), ["tmap['t1'].pub_extra[1]", 'string']),
        (lambda d: d['tmap']['t0'].update(daemon_type='proxy'), ["tmap['t0'].daemon_type", "'target'"]),
        (lambda d: d['pmap'].update(p9=[]), ["pmap['p9']", 'array']),
    ],
)
def test_wrong_types_name_the_path(mutate, fragments):
    data = k8s_map()
    mutate(data)
    with pytest.raises(SmapError) as exc:
        parse_smap(data)
    for fragment in fragments:
        assert fragment in str(exc.value)


# ---------------------------------------------------------------- verify_smap


def test_all_good():
    result = verify_smap(json.dumps(k8s_map()), PLAN, proxies=2, targets=2)
    assert result['ok'] is True, result['summary']
    assert [r['status'] for r in result['nodes']] == ['ok'] * 4
    assert result['absent'] == []
    assert result['counts']['proxies'] == 2 and result['counts']['targets'] == 2
    assert result['primary'] == 'p0'
    assert result['summary'].startswith('smap v7: ')
    assert '\n' not in result['summary']


def test_target_missing_an_extra_ip():
    data = k8s_map()
    del data['tmap']['t1']['pub_extra']  # t1 is on 10.51.248.77: a node that started single-homed
    result = verify_smap(data, PLAN)
    assert result['ok'] is False
    t1 = by_id(result)['t1']
    assert t1['status'] == 'mismatch'
    assert t1['missing_extra'] == ['10.51.248.105']
    assert t1['unexpected_extra'] == []
    # Its proxy on the same IP is fine, and so are the others.
    assert [r['status'] for i, r in sorted(by_id(result).items()) if i != 't1'] == ['ok', 'ok', 'ok']
    assert 't1' in result['summary'] and '10.51.248.105' in result['summary']


def test_extra_ip_with_the_wrong_port():
    data = k8s_map()
    data['tmap']['t0']['pub_extra'] = [net('10.51.248.116', 51082)]  # the intra-control port, not the public one
    result = verify_smap(data, PLAN)
    t0 = by_id(result)['t0']
    assert t0['status'] == 'mismatch'
    assert t0['wrong_port'] == [{'node_ip': '10.51.248.116', 'port': '51082', 'expected': '51081'}]
    # The URL agrees with the port it advertises: one defect, reported once.
    assert t0['wrong_url'] == []
    assert t0['missing_extra'] == [] and t0['unexpected_extra'] == []
    assert result['ok'] is False and '51082' in result['summary']


@pytest.mark.parametrize(
    'url',
    [
        'http://10.51.248.68:51081',  # points at the primary IP
        'https://10.51.248.116:51081',  # another protocol than the node's public URL
        'http://10.51.248.116:51081/',  # not what aisnode writes
        '',
    ],
)
def test_wrong_direct_url(url):
    data = k8s_map()
    data['pmap']['p0']['pub_extra'][0]['direct_url'] = url
    result = verify_smap(data, PLAN)
    p0 = by_id(result)['p0']
    assert p0['status'] == 'mismatch'
    assert p0['wrong_url'] == [
        {'node_ip': '10.51.248.116', 'direct_url': url, 'expected': 'http://10.51.248.116:51081'}
    ]
    assert p0['wrong_port'] == []
    assert result['ok'] is False


def test_https_cluster_urls_are_https():
    proxies = [snode('p0', 'proxy', '10.51.248.68', ['10.51.248.116'], proto='https')]
    targets = [snode('t0', 'target', '10.51.248.68', ['10.51.248.116'], proto='https')]
    assert verify_smap(smap(proxies, targets), {'10.51.248.68': ['10.51.248.116']})['ok'] is True


def test_ipv6_urls_are_bracketed():
    plan = {'fd00::10': ['fd00:1::10']}
    node = {
        'public_net': {'node_ip_addr': 'fd00::10', 'daemon_port': '51081', 'direct_url': 'http://[fd00::10]:51081'},
        'pub_extra': [
            {'node_ip_addr': 'fd00:1::10', 'daemon_port': '51081', 'direct_url': 'http://[fd00:1::10]:51081'}
        ],
        'daemon_type': 'target',
        'daemon_id': 't0',
    }
    assert verify_smap({'pmap': {}, 'tmap': {'t0': node}}, plan)['ok'] is True
    node['pub_extra'][0]['direct_url'] = 'http://fd00:1::10:51081'
    assert (
        verify_smap({'pmap': {}, 'tmap': {'t0': node}}, plan)['nodes'][0]['wrong_url'][0]['expected']
        == 'http://[fd00:1::10]:51081'
    )


def test_unexpected_node():
    data = k8s_map()
    data['tmap']['t9'] = snode('t9', 'target', '10.51.248.99', ['10.51.248.199'])
    result = verify_smap(data, PLAN)
    assert result['ok'] is False
    t9 = by_id(result)['t9']
    assert t9['status'] == 'unexpected'
    assert t9['pub_extra'] == ['10.51.248.199']
    assert '10.51.248.99' in result['summary']


def test_unexpected_extra_ip():
    data = k8s_map()
    data['pmap']['p1']['pub_extra'].append(net('10.51.248.201', PUB_PORT))
    result = verify_smap(data, PLAN)
    p1 = by_id(result)['p1']
    assert p1['status'] == 'mismatch'
    assert p1['unexpected_extra'] == ['10.51.248.201']
    assert p1['missing_extra'] == []
    assert result['ok'] is False


def test_node_absent():
    plan = dict(PLAN, **{'10.51.248.90': ['10.51.248.190']})
    result = verify_smap(k8s_map(), plan)
    assert result['ok'] is False
    assert result['absent'] == ['10.51.248.90']
    missing = [r for r in result['nodes'] if r['status'] == 'missing']
    assert missing == [
        {
            'daemon_id': None,
            'daemon_type': None,
            'node_ip': '10.51.248.90',
            'port': None,
            'pub_extra': [],
            'status': 'missing',
            'missing_extra': ['10.51.248.190'],
            'unexpected_extra': [],
            'wrong_port': [],
            'wrong_url': [],
            'unreachable_extra': [],
        }
    ]
    assert result['counts']['missing'] == 1
    assert '10.51.248.90 is not in the map' in result['summary']


def test_same_ip_as_proxy_and_target_both_need_the_extras():
    # On AIS/K8s each node runs a proxy and a target: the proxy has the extra, the target does not.
    proxies = [snode('p0', 'proxy', '10.51.248.68', ['10.51.248.116'])]
    targets = [snode('t0', 'target', '10.51.248.68')]
    result = verify_smap(smap(proxies, targets), {'10.51.248.68': ['10.51.248.116']})
    assert by_id(result)['p0']['status'] == 'ok'
    assert by_id(result)['t0']['status'] == 'mismatch'
    assert by_id(result)['t0']['missing_extra'] == ['10.51.248.116']
    assert result['absent'] == []
    assert result['ok'] is False


def test_a_node_may_be_only_a_proxy_or_only_a_target():
    proxies = [snode('p0', 'proxy', '10.51.248.68', ['10.51.248.116'])]
    targets = [snode('t1', 'target', '10.51.248.77', ['10.51.248.105'])]
    result = verify_smap(smap(proxies, targets), PLAN, proxies=1, targets=1)
    assert result['ok'] is True, result['summary']


def test_single_homed_node_expected_without_extras():
    data = k8s_map({'10.51.248.68': ['10.51.248.116'], '10.51.248.80': []})
    assert 'pub_extra' not in data['tmap']['t1']
    assert verify_smap(data, {'10.51.248.68': ['10.51.248.116'], '10.51.248.80': []})['ok'] is True


def test_map_without_tmap_is_valid_but_reported():
    data = k8s_map()
    del data['tmap']
    result = verify_smap(data, PLAN)
    assert result['counts']['targets'] == 0
    assert result['notes'] == ['the map has no tmap: zero targets']
    assert 'no tmap' in result['summary']
    assert result['ok'] is True  # every expected IP has its proxy, and no target count was asked for
    data['tmap'] = None  # Go marshals a nil map as null
    assert verify_smap(data, PLAN, targets=2)['ok'] is False
    assert '0 targets, expected 2' in verify_smap(data, PLAN, targets=2)['summary']


@pytest.mark.parametrize(
    'proxies, targets, fragment',
    [
        (3, None, '2 proxies, expected 3'),
        (None, 1, '2 targets, expected 1'),
    ],
)
def test_counts_mismatch(proxies, targets, fragment):
    result = verify_smap(k8s_map(), PLAN, proxies=proxies, targets=targets)
    assert result['ok'] is False
    assert fragment in result['summary']
    assert all(r['status'] == 'ok' for r in result['nodes'])


def test_expected_values_may_be_hostname_map_strings():
    # The CR's own spec.hostnameMap values ("primary,extra") and plain comma strings both work.
    expected = {'10.51.248.68': '10.51.248.68,10.51.248.116', '10.51.248.77': '10.51.248.105'}
    assert normalize_expected(expected) == PLAN
    assert verify_smap(k8s_map(), expected)['ok'] is True


@pytest.mark.parametrize(
    'expected, fragment',
    [
        ({}, 'non-empty dict'),
        ({'10.0.0.300': []}, "'10.0.0.300' is not a valid IP"),
        ({'10.0.0.1': ['nope']}, "'nope' is not a valid IP"),
        ({'10.0.0.1': ['10.0.1.1'], '10.0.0.2': ['10.0.1.1']}, 'also an extra IP of expected node 10.0.0.1'),
        (
            {
                '10.0.0.1': [''],
            },
            'empty',
        ),
    ],
)
def test_bad_expectations_are_refused(expected, fragment):
    with pytest.raises(SmapError) as exc:
        verify_smap(k8s_map(), expected)
    assert fragment in str(exc.value)


def test_verify_takes_parsed_nodes_too():
    assert verify_smap(parse_smap(k8s_map()), PLAN)['ok'] is True


def test_summary_is_one_line_and_bounded():
    plan = {'10.0.%d.1' % i: ['10.1.%d.1' % i] for i in range(20)}
    result = verify_smap(smap([snode('p0', 'proxy', '10.9.9.9')], []), plan)
    assert '\n' not in result['summary']
    assert 'and 15 more' in result['summary']  # 20 absent + 1 unexpected, 6 named


# ---------------------------------------------------------------- wait_for_smap


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_the_nodes_have_joined():
    clock = FakeClock()
    partial = k8s_map()
    del partial['tmap']['t1']
    fetch = scripted([FetchError('HTTP 503 Service Unavailable'), json.dumps(partial), json.dumps(k8s_map())])
    result = wait_for_smap(fetch, PLAN, targets=2, timeout=60, interval=5, clock=clock.clock, sleep=clock.sleep)
    assert result['ok'] is True
    assert result['attempts'] == 3
    assert clock.sleeps == [5, 5]
    assert result['last_error'] is None
    assert result['smap_version'] == 7


def scripted(answers):
    """A fetch() that gives ``answers`` in turn, raising the exceptions among them."""

    def fetch():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return fetch


def _raise(exc):
    raise exc


def test_wait_gives_up_after_the_timeout_with_the_last_error():
    clock = FakeClock()
    result = wait_for_smap(
        lambda: _raise(FetchError('HTTP 500 Internal Server Error')),
        PLAN,
        timeout=3,
        interval=1,
        clock=clock.clock,
        sleep=clock.sleep,
    )
    assert result['ok'] is False
    assert result['report'] is None
    assert result['attempts'] == 4  # at 0, 1, 2 and 3 s
    assert result['last_error'] == 'HTTP 500 Internal Server Error'


def test_wait_retries_an_unparsable_answer():
    clock = FakeClock()
    answers = ['<html>starting</html>', k8s_map()]
    result = wait_for_smap(lambda: answers.pop(0), PLAN, timeout=10, interval=1, clock=clock.clock, sleep=clock.sleep)
    assert result['ok'] is True and result['attempts'] == 2


def test_wait_with_zero_timeout_tries_once():
    clock = FakeClock()
    bad = k8s_map()
    del bad['pmap']['p1']['pub_extra']
    result = wait_for_smap(lambda: bad, PLAN, timeout=0, interval=5, clock=clock.clock, sleep=clock.sleep)
    assert result['attempts'] == 1 and result['ok'] is False and clock.sleeps == []
    assert result['report']['nodes'][1]['missing_extra'] == ['10.51.248.105']


def test_wait_refuses_a_bad_plan_before_trying():
    calls = []
    with pytest.raises(SmapError):
        wait_for_smap(lambda: calls.append(1), {'x': []}, timeout=5)
    assert calls == []


# ---------------------------------------------------------------- hostname_map

INVENTORY = [
    {'name': 'worker1', 'primary_ip': '10.51.248.68', 'additional_hosts': '10.51.248.116'},
    {'name': 'worker2', 'primary_ip': '10.51.248.77', 'additional_hosts': ['10.51.248.105']},
]


def test_hostname_map_of_the_operator_doc_example():
    result = hostname_map(INVENTORY, ['macvlan-conf'])
    # The shape of spec.hostnameMap in the AIS operator's multihome doc: primary -> "primary,extra".
    assert result['hostname_map'] == {
        '10.51.248.68': '10.51.248.68,10.51.248.116',
        '10.51.248.77': '10.51.248.77,10.51.248.105',
    }
    assert result['expected'] == PLAN
    assert result['single_homed'] == []
    assert verify_smap(k8s_map(), result['expected'])['ok'] is True


def test_two_attachments_two_extra_ips_each():
    hosts = [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': ' 10.0.1.1 , 10.0.2.1 '}]
    result = hostname_map(hosts, 'net1,net2')
    assert result['hostname_map'] == {'10.0.0.1': '10.0.0.1,10.0.1.1,10.0.2.1'}


def test_host_without_additional_hosts_maps_to_itself():
    hosts = INVENTORY + [{'name': 'worker3', 'primary_ip': '10.51.248.80'}]
    result = hostname_map(hosts, ['macvlan-conf'])
    assert result['hostname_map']['10.51.248.80'] == '10.51.248.80'
    assert result['expected']['10.51.248.80'] == []
    assert result['single_homed'] == ['worker3']


@pytest.mark.parametrize(
    'hosts, attachments, fragments',
    [
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.256'}],
            ['n'],
            ['host w1', "'10.0.1.256' is not a valid IP"],
        ),
        (
            [{'name': 'w1', 'primary_ip': 'worker1.lab', 'additional_hosts': '10.0.1.1'}],
            ['n'],
            ['host w1 primary_ip', 'worker1.lab'],
        ),
        (
            [
                {'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.1'},
                {'name': 'w2', 'primary_ip': '10.0.0.2', 'additional_hosts': '10.0.1.1'},
            ],
            ['n'],
            ['host w2', '10.0.1.1', "host w1's additional_hosts", 'unique'],
        ),
        (
            [
                {'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.1'},
                {'name': 'w2', 'primary_ip': '10.0.1.1', 'additional_hosts': '10.0.1.2'},
            ],
            ['n'],
            ['host w2 primary IP 10.0.1.1', "host w1's additional_hosts"],
        ),
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.0.1'}],
            ['n'],
            ['host w1 additional_hosts 10.0.0.1', 'its own primary IP'],
        ),
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.1,10.0.2.1'}],
            ['n'],
            ['host w1 has 2 extra IPs (10.0.1.1, 10.0.2.1) but 1 network attachment (n)'],
        ),
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.1'}],
            [],
            ['host w1 has 1 extra IP', '0 network attachments (none)'],
        ),
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1', 'additional_hosts': '10.0.1.1,'}],
            ['n'],
            ['host w1 additional_hosts', 'empty'],
        ),
        (
            [{'name': 'w1', 'primary_ip': '10.0.0.1'}, {'name': 'w1', 'primary_ip': '10.0.0.2'}],
            [],
            ['host w1 is listed twice'],
        ),
        ([], ['n'], ['non-empty list']),
        ([{'name': 'w1', 'primary_ip': '10.0.0.1'}], ['n', 'n'], ["'n' is listed twice"]),
    ],
)
def test_hostname_map_refuses_bad_inventories(hosts, attachments, fragments):
    with pytest.raises(SmapError) as exc:
        hostname_map(hosts, attachments)
    for fragment in fragments:
        assert fragment in str(exc.value)


# ---------------------------------------------------------------- check_node_ips


def k8s_node(name, internal, external=None):
    """A Node object as the API returns it: status.addresses with InternalIP and Hostname."""
    addresses = [{'type': 'InternalIP', 'address': internal}, {'type': 'Hostname', 'address': name}]
    if external:
        addresses.append({'type': 'ExternalIP', 'address': external})
    return {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name}, 'status': {'addresses': addresses}}


NODES = [k8s_node('worker1', '10.51.248.68'), k8s_node('worker2', '10.51.248.77', external='203.0.113.7')]


def test_every_key_is_an_internal_ip():
    result = hostname_map(INVENTORY, ['macvlan-conf'])
    assert check_node_ips(result['hostname_map'], NODES) == {'10.51.248.68': 'worker1', '10.51.248.77': 'worker2'}
    # hostname_map()'s whole result, a NodeList and a k8s_info result are accepted as they come.
    assert check_node_ips(result, {'kind': 'NodeList', 'items': NODES}) == check_node_ips(result, {'resources': NODES})


def test_key_that_is_not_an_internal_ip_names_key_and_nodes():
    bad = {'10.51.248.68': '10.51.248.68,10.51.248.116', '10.51.248.70': '10.51.248.70,10.51.248.105'}
    with pytest.raises(SmapError) as exc:
        check_node_ips(bad, NODES)
    msg = str(exc.value)
    assert 'hostnameMap key 10.51.248.70 is not the InternalIP of any node' in msg
    assert 'without pub_extra' in msg
    assert 'worker1 (InternalIP 10.51.248.68)' in msg and 'worker2 (InternalIP 10.51.248.77)' in msg


def test_key_that_is_an_external_ip_says_so():
    with pytest.raises(SmapError) as exc:
        check_node_ips({'203.0.113.7': '203.0.113.7,10.51.248.105'}, NODES)
    assert "(it is node worker2's ExternalIP)" in str(exc.value)


def test_check_node_ips_needs_nodes():
    with pytest.raises(SmapError) as exc:
        check_node_ips({'10.0.0.1': '10.0.0.1'}, [])
    assert 'Node objects' in str(exc.value)


def test_builders_do_not_share_state():
    # Guard for the tests above, which mutate what k8s_map() returns.
    first = k8s_map()
    second = copy.deepcopy(first)
    del first['tmap']['t0']['pub_extra']
    assert 'pub_extra' in k8s_map()['tmap']['t0'] and 'pub_extra' in second['tmap']['t0']


def test_probe_is_asked_once_for_every_extra_of_the_daemons_that_passed():
    asked = []

    def probe(urls):
        asked.append(list(urls))
        return dict((url, None) for url in urls)

    plan = dict(PLAN, **{'10.51.248.90': ['10.51.248.99']})
    wrong = k8s_map(plan)
    # The third node's target lacks its extra: a daemon that failed already is not asked.
    del wrong['tmap']['t2']['pub_extra']
    result = verify_smap(wrong, plan, probe=probe)
    assert len(asked) == 1
    assert sorted(asked[0]) == sorted(
        'http://%s:%s' % (extra, PUB_PORT)
        for ip, extras in plan.items()
        for extra in extras
        for _role in ('proxy', 'target')
        if not (ip == '10.51.248.90' and _role == 'target')
    )
    assert by_id(result)['t2']['status'] == 'mismatch'
    assert [r['status'] for r in result['nodes'] if r['daemon_id'] != 't2'] == ['ok'] * 5


def test_an_extra_that_does_not_answer_fails_its_daemon_naming_node_and_address():
    down = 'http://10.51.248.105:%s' % PUB_PORT

    def probe(urls):
        return dict((url, 'no answer within 2.0 s (request_timeout)' if url == down else None) for url in urls)

    result = verify_smap(k8s_map(), PLAN, probe=probe)
    assert result['ok'] is False
    bad = dict((r['daemon_id'], r['unreachable_extra']) for r in result['nodes'] if r['status'] != 'ok')
    # Both daemons of 10.51.248.77 publish the extra whose NIC is down; the map itself is still right.
    assert sorted(bad) == ['p1', 't1']
    assert bad['p1'] == [
        {'node_ip': '10.51.248.105', 'direct_url': down, 'error': 'no answer within 2.0 s (request_timeout)'}
    ]
    assert (
        'proxy p1 at 10.51.248.77: pub_extra 10.51.248.105 is unreachable (no answer within 2.0 s' in result['summary']
    )
    assert result['nodes'][0]['pub_extra'] == ['10.51.248.116']


def test_wait_asks_the_probe_on_every_try_until_the_extra_answers():
    clock = FakeClock()
    answers = [{'http://10.51.248.116:%s' % PUB_PORT: 'refused'}, {}]

    def probe(urls):
        return answers.pop(0) if answers else {}

    fetch = scripted([json.dumps(k8s_map())] * 2)
    result = wait_for_smap(fetch, PLAN, timeout=60, interval=5, clock=clock.clock, sleep=clock.sleep, probe=probe)
    assert result['ok'] is True and result['attempts'] == 2, result


def test_without_a_probe_nothing_is_unreachable():
    result = verify_smap(k8s_map(), PLAN)
    assert result['ok'] and all(r['unreachable_extra'] == [] for r in result['nodes'])


def test_table_names_nodes_marks_the_primary_and_says_what_is_wrong():
    from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import smap_table

    plan = dict(PLAN, **{'10.51.248.90': ['10.51.248.190']})
    wrong = k8s_map()
    del wrong['tmap']['t1']['pub_extra']
    report = verify_smap(wrong, plan)
    lines = smap_table(report, {'10.51.248.68': 'worker1', '10.51.248.77': 'worker2'})
    assert lines[0].split() == ['NODE', 'PRIMARY', 'IP', 'DAEMON', 'PUB_EXTRA', 'STATUS']
    cells = [line.split(None, 2) for line in lines[1:]]
    assert [c[:2] for c in cells] == [
        ['worker1', '10.51.248.68'],
        ['worker1', '10.51.248.68'],
        ['worker2', '10.51.248.77'],
        ['worker2', '10.51.248.77'],
        ['10.51.248.90', '10.51.248.90'],
    ]
    assert lines[1].split()[2:] == ['proxy', 'p0', '*', '10.51.248.116', 'ok']
    assert lines[4].split()[2:] == ['target', 't1', '-', 'mismatch', '(lacks', '10.51.248.105)']
    assert lines[5].split()[2:] == ['-', '-', 'missing', '(lacks', '10.51.248.190)']
