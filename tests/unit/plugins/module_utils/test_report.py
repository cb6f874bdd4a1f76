# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/report.py: the run's report from the collection's real planners and matrix builder, as data, HTML
and SVG. What this does not prove: how a browser draws the page (tests/integration/test_report_browser.py loads the
pages the playbooks wrote in Chromium: tests/integration/test_site.py and test_connectivity_matrix.py) or that the callback
sees these results in a real run (the same tests; the callback's own paths are tested in test_report_callback.py)."""

import html.parser
import json
import xml.etree.ElementTree as ET

from ansible_collections.netplumb.multihome.plugins.module_utils import report as rep
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (
    address_sets,
    error_result,
    plan_probes,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import build_matrix
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import plan_node_subnets
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges


def nodes(count, nics):
    return dict(
        (
            'worker%d' % i,
            [{'name': 'nic%d' % k, 'address': '198.18.%d.%d/24' % (k, 10 + i)} for k in range(1, nics + 1)],
        )
        for i in range(1, count + 1)
    )


def matrix_of(count, nics, down=()):
    """The matrix connectivity_matrix builds when every probe answers in 0.1 ms except those to or from ``down``."""
    sets = address_sets(nodes(count, nics))
    plan = plan_probes(sets)
    results = {}
    for node, probes in plan.items():
        out = []
        for probe in probes:
            if probe['src'] in down or probe['dst'] in down:
                out.append(error_result(probe, 'no reply: 3 sent, 0 received (100% loss)'))
            else:
                out.append(dict(probe, connected=True, rtt={'min': 0.05, 'avg': 0.1, 'max': 0.2}, loss=0.0))
        results[node] = {'probes': out}
    return build_matrix(results, plan, sets)


class Page(html.parser.HTMLParser):
    """The page's elements as (tag, attributes) and its text, as a parser reads it."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.text, self.open = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def has(self, tag, **attrs):
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def test_the_heat_map_marks_the_pairs_of_a_nic_that_is_down_and_nothing_else():
    matrix = matrix_of(4, 2, down=('198.18.2.12',))
    maps = dict((h['network'], h) for h in rep.heat_maps(matrix))
    assert sorted(maps) == ['198.18.1.0/24', '198.18.2.0/24']
    healthy, broken = maps['198.18.1.0/24'], maps['198.18.2.0/24']
    assert (healthy['connected'], healthy['total'], healthy['broken']) == (12, 12, [])
    # worker2's nic2 is down: its 3 probes out and the 3 to it fail, the other 6 connect.
    assert (broken['connected'], broken['total']) == (6, 12)
    assert sorted((p['from'], p['to']) for p in broken['broken']) == sorted(
        [('worker2', w) for w in ('worker1', 'worker3', 'worker4')]
        + [(w, 'worker2') for w in ('worker1', 'worker3', 'worker4')]
    )
    bad_cells = dict((k, v) for k, v in broken['cells'].items() if v[0] < v[1])
    # Rows and columns are the nodes in order: worker2 is index 1.
    assert sorted(bad_cells) == [(0, 1), (1, 0), (1, 2), (1, 3), (2, 1), (3, 1)]
    svg = rep.heat_map_svg(broken, standalone=True)
    root = ET.fromstring(svg)
    ns = '{http://www.w3.org/2000/svg}'
    outlined = root.findall('%srect[@class="broken"]' % ns)
    assert len(outlined) == 6
    red = [r for r in root.findall('%srect' % ns) if r.get('fill') == rep.COLOURS['broken']]
    assert len(red) == 6
    tips = [r.find('%stitle' % ns).text for r in red]
    assert 'worker2 \u2192 worker1: 0/1 connected' in tips
    # A connected cell's tooltip carries the latency.
    green = [r for r in root.findall('%srect' % ns) if r.get('fill') == rep.COLOURS['ok']]
    assert len(green) == 6
    assert green[0].find('%stitle' % ns).text.endswith('1/1 connected, 0.100 ms average')


def test_a_large_matrix_is_drawn_in_groups_that_keep_every_probe():
    # worker50 is 198.18.1.60.
    matrix = matrix_of(100, 1, down=('198.18.1.60',))
    (heat,) = rep.heat_maps(matrix, most=48)
    assert len(heat['groups']) <= 48
    assert sum(len(g) for g in heat['groups']) == 100
    assert sum(c[1] for c in heat['cells'].values()) == heat['total'] == 100 * 99
    assert sum(c[0] for c in heat['cells'].values()) == heat['connected'] == 100 * 99 - 2 * 99
    # worker50 is in one group: that row and that column of groups hold every broken probe.
    group = next(i for i, g in enumerate(heat['groups']) if 'worker50' in g)
    for (row, col), (ok, total, _rtt_sum, _rtt_count) in heat['cells'].items():
        assert (ok < total) == (group in (row, col)), (row, col, ok, total)


def plans():
    hosts = [
        {'name': name, 'main_ip': '198.18.0.%d' % (10 + i), 'interfaces': nics}
        for i, (name, nics) in enumerate(nodes(3, 2).items())
    ]
    return {
        'multinic_blocks': {
            'plan': plan_multinic('198.18.128.0/17', 2, 6, hosts, vlan_mode='l2')['plan'],
            'reserved': ['198.18.0.0/24'],
        },
        'node_subnets': {
            'plan': plan_node_subnets('198.18.64.0/18/24', ['worker1', 'worker2', 'worker3'])['plan'],
            'reserved': [],
        },
        'network_ranges': {
            'plan': plan_ranges(
                '198.18.32.0/19', [{'name': 'storage-net', 'prefix': 24}, {'name': 'replication-net', 'prefix': 24}]
            )['plan'],
            'reserved': ['198.18.40.0/22'],
        },
    }


def test_the_plan_bars_place_each_block_and_the_reserved_networks_in_its_space():
    bars = rep.plan_bars(plans())
    by_space = dict((b['space'], b) for b in bars)
    ranges = by_space['198.18.32.0/19']
    # Two /24 of a /19: 2 x 256 of 8192 addresses used.
    assert ranges['free'] == 1 - 512 / 8192
    assert [(b['name'], b['start'], b['width']) for b in ranges['blocks']] == [
        ('storage-net', 0.0, 1 / 32),
        ('replication-net', 1 / 32, 1 / 32),
    ]
    # 198.18.40.0/22 starts 8 /24s in.
    assert ranges['reserved'] == [{'cidr': '198.18.40.0/22', 'start': 8 / 32, 'width': 4 / 32}]
    subnets = by_space['198.18.64.0/18']
    assert [b['cidr'] for b in subnets['blocks']] == ['198.18.64.0/24', '198.18.65.0/24', '198.18.66.0/24']
    multinic = [b for b in bars if b['label'].startswith('Multi-NIC')]
    assert len(multinic) == 2 and all(len(b['blocks']) == 3 for b in multinic)
    # The reserved management network is not in the pod space: not drawn there.
    assert all(b['reserved'] == [] for b in multinic)
    per_node = rep.plan_nodes(plans())
    assert [n['node'] for n in per_node] == ['worker1', 'worker2', 'worker3']
    assert [x['nic'] for x in per_node[0]['nics']] == ['nic1', 'nic2']
    assert per_node[1]['subnets'] == ['198.18.65.0/24']


def preflight_result(node, phase_status, error=None):
    att = {
        'name': 'storage-net',
        'node': node,
        'type': 'macvlan',
        'test_address': '198.18.61.254/24',
        'status': phase_status,
    }
    if error:
        att.update(ok=False, plugin_error=error, errors=[error])
    return {'attachments': [att]}


def test_a_run_page_names_what_failed_first_and_shows_each_part():
    report = rep.new_report('site.yml', ['/inv/hosts.ini'], started='2026-12-03T04:00:00Z')
    for scheme, entry in plans().items():
        args = {'scheme': scheme, 'reserved': entry['reserved']}
        assert rep.add_result(
            report, rep.PLAN, 'localhost', 'Plan', 'Plan the addressing', args, {'plan': entry['plan']}
        )
    for node in ('worker1', 'worker2'):
        rep.add_result(
            report, rep.PREFLIGHT, node, 'ADD', 'Preflight', {'state': 'present'}, preflight_result(node, 'ok')
        )
    rep.add_result(
        report,
        rep.PREFLIGHT,
        'worker3',
        'ADD',
        'Preflight',
        {'state': 'present'},
        preflight_result('worker3', 'failed', 'failed to create macvlan: device or resource busy'),
    )
    rep.add_result(
        report, rep.PREFLIGHT, 'worker1', 'probe', 'Preflight', {'state': 'probe'}, preflight_result('worker1', 'ok')
    )
    matrix = matrix_of(3, 2, down=('198.18.2.12',))
    rep.add_result(
        report, rep.MATRIX, 'worker1', 'Build', 'Connectivity matrix', {}, {'matrix': matrix, 'passed': False}
    )
    # A result of another module files nothing.
    assert not rep.add_result(report, 'ansible.builtin.debug', 'worker1', 'Show', 'x', {}, {'msg': 'hi'})
    # worker1's failure was rescued (its host did not fail in the end); on worker3 a rescued one came first, then the
    # one that stopped the run.
    rep.add_failure(report, 'worker1', 'Wait until ready', 'timed out')
    rep.add_failure(report, 'worker3', 'Wait for the pods', 'timed out', rescued=True)
    rep.add_failure(report, 'worker3', 'Check the matrix', '1 broken pair')
    rep.finish(
        report,
        {
            'worker1': {'ok': 5, 'failures': 0, 'rescued': 1},
            'worker3': {'ok': 3, 'failures': 1},
        },
        finished='2026-12-03T04:05:00Z',
    )
    assert report['run']['ok'] is False
    assert report['run']['failed_first'] == {
        'host': 'worker3',
        'task': 'Check the matrix',
        'msg': '1 broken pair',
        'unreachable': False,
        'rescued': False,
    }
    rows = dict((r['node'], r) for r in report['preflight'])
    assert (rows['worker1']['add'], rows['worker1']['probe'], rows['worker1']['del']) == ('ok', 'ok', None)
    assert rep.preflight_status(rows['worker3']) == 'failed'
    assert rows['worker3']['errors'] == ['ADD: failed to create macvlan: device or resource busy']
    # The report's JSON has every part, and of the matrix its counts, rows and broken probes, not every probe.
    data = json.loads(rep.to_json(report))
    assert data['run'] == report['run'] and data['plan'] == json.loads(json.dumps(report['plan']))
    assert data['preflight'] == report['preflight']
    (kept,) = data['matrices']
    assert kept['matrix']['summary'] == matrix['summary'] and len(kept['matrix']['pairs']) == 6
    assert [(p['from'], p['to']) for p in kept['matrix']['broken']] == [
        (p['from'], p['to']) for p in matrix['probes'] if not p['connected']
    ]
    assert 'probes' not in kept['matrix']

    text = rep.render_html(report)
    page = Page(text)
    body = ''.join(page.text)
    assert text.startswith('<!DOCTYPE html>')
    assert page.has('span', id='verdict') and 'failed' in body
    assert 'What failed first: Check the matrix on worker3' in body
    assert '1 of 3 node/attachment checks failed' in body
    assert 'ADD: failed to create macvlan: device or resource busy' in body
    assert '8/12 address pairs connected' in body
    assert 'Broken pairs (4)' in body
    # Few nodes: both networks' maps are shown open.
    shown = page.has('details', **{'class': 'network'})
    assert [('open' in d) for d in shown] == [True, True]
    assert len(page.has('rect', **{'class': 'broken'})) == 4
    # No script, stylesheet link, image or font from anywhere: the page stands alone.
    assert not [t for t, a in page.elements if t in ('script', 'link', 'img', 'iframe', 'object')]
    assert 'http://' not in text.replace('http://www.w3.org/2000/svg', '') and 'https://' not in text

    svg = rep.render_svg(report)
    root = ET.fromstring(svg)
    assert root.tag == '{http://www.w3.org/2000/svg}svg'
    assert len(root.findall('.//{http://www.w3.org/2000/svg}rect[@class="broken"]')) == 4


def test_beyond_16_nodes_a_healthy_network_is_folded_and_a_broken_one_open():
    report = rep.new_report('connectivity_matrix.yml', [])
    # worker5 (198.18.2.15) has its nic2 down.
    rep.add_result(
        report, rep.MATRIX, 'worker1', 'Build', 'Matrix', {}, {'matrix': matrix_of(17, 2, down=('198.18.2.15',))}
    )
    rep.finish(report, {})
    page = Page(rep.render_html(report))
    assert [('open' in d) for d in page.has('details', **{'class': 'network'})] == [False, True]
    assert len(page.has('rect', **{'class': 'broken'})) == 2 * 16


def test_a_page_escapes_what_it_did_not_write():
    report = rep.new_report('<b>x</b>.yml', ['inv'])
    rep.add_failure(report, 'node"1', 'Task <script>alert(1)</script>', 'rc=1 & <oops>')
    rep.finish(report, {'node"1': {'failures': 1}})
    text = rep.render_html(report)
    assert '<script>' not in text and '<b>x</b>' not in text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in text and 'rc=1 &amp; &lt;oops&gt;' in text


def test_a_run_without_our_modules_is_a_page_about_the_run_only():
    report = rep.new_report('other.yml', [])
    rep.finish(report, {'localhost': {'ok': 1}})
    assert report['run']['ok'] is True and report['run']['failed_first'] is None
    page = Page(rep.render_html(report))
    assert [a['id'] for t, a in page.elements if t == 'h2'] == []
    assert rep.render_svg(report) is None


def test_reserved_networks_in_every_form_cidr_plan_takes_are_drawn():
    report = rep.new_report('plan_addresses.yml', [])
    plan = plans()['network_ranges']['plan']
    for reserved in ({'svc': '198.18.40.0/22'}, [{'name': 'svc', 'cidr': '198.18.40.0/22'}], ['198.18.40.0/22']):
        rep.add_result(
            report,
            rep.PLAN,
            'localhost',
            'Plan',
            'p',
            {'scheme': 'network_ranges', 'reserved': reserved},
            {'plan': plan},
        )
        assert report['plan']['network_ranges']['reserved'] == ['198.18.40.0/22'], reserved
        (lane,) = rep.plan_bars(report['plan'])
        assert lane['reserved'] == [{'cidr': '198.18.40.0/22', 'start': 8 / 32, 'width': 4 / 32}]


def test_an_attachment_without_an_address_is_skipped_not_failed():
    report = rep.new_report('preflight.yml', [])
    rep.add_result(
        report, rep.PREFLIGHT, 'worker1', 'ADD', 'p', {'state': 'present'}, preflight_result('worker1', 'ok')
    )
    rep.add_result(
        report, rep.PREFLIGHT, 'worker1', 'probe', 'p', {'state': 'probe'}, preflight_result('worker1', 'skipped')
    )
    (row,) = report['preflight']
    assert rep.preflight_status(row) == 'skipped'
    assert '0 of 1 node/attachment checks failed' in rep.render_html(report)


def test_a_preflight_phase_that_failed_on_a_node_fails_its_rows_and_an_unreachable_node_gets_one():
    report = rep.new_report('preflight.yml', [])
    rep.add_result(
        report, rep.PREFLIGHT, 'worker1', 'ADD', 'p', {'state': 'present'}, preflight_result('worker1', 'ok')
    )
    # The module failed after the ADD (its attachments still say ok): the task's failure counts.
    rep.add_result(
        report,
        rep.PREFLIGHT,
        'worker1',
        'probe',
        'p',
        {'state': 'probe'},
        preflight_result('worker1', 'ok'),
        failed=True,
        message='ip netns list failed',
    )
    rep.add_result(
        report, rep.PREFLIGHT, 'worker2', 'ADD', 'p', {}, {'unreachable': True}, failed=True, message='ssh: no route'
    )
    rows = dict((r['node'], r) for r in report['preflight'])
    assert rows['worker1']['probe'] == 'failed' and rows['worker1']['errors'] == ['PROBE: ip netns list failed']
    assert rows['worker2']['attachment'] == '(every attachment)' and rows['worker2']['errors'] == ['ADD: ssh: no route']
    assert [rep.preflight_status(r) for r in report['preflight']] == ['failed', 'failed']


def test_the_json_keeps_each_hosts_first_failure_and_caps_the_broken_probes():
    report = rep.new_report('site.yml', [])
    for i in range(rep.MAX_FAILURES + 5):
        rep.add_failure(report, 'worker1', 'rescued %d' % i, 'x')
    rep.add_failure(report, 'worker9', 'Check the matrix', 'broken')
    rep.add_result(
        report, rep.MATRIX, 'w', 'b', 'm', {}, {'matrix': matrix_of(3, 2, down=('198.18.1.11', '198.18.2.11'))}
    )
    rep.finish(report, {'worker1': {'rescued': 1}, 'worker9': {'failures': 1}})
    assert report['run']['failed_first']['task'] == 'Check the matrix'
    data = json.loads(rep.to_json(report))
    assert data['matrices'][0]['matrix']['broken_count'] == 8


def test_ais_names_match_the_map_ips_as_addresses():
    report = rep.new_report('site.yml', [])
    smap = {
        'ok': True,
        'summary': 's',
        'nodes': [{'node_ip': 'fd00::11', 'daemon_type': 'proxy', 'daemon_id': 'p1', 'status': 'ok'}],
    }
    rep.add_result(report, rep.SMAP, 'localhost', 'v', 'a', {'names': {'fd00:0:0::11': 'worker1'}}, {'report': smap})
    page = Page(rep.render_html(report))
    assert 'worker1' in ''.join(page.text)


def test_a_lane_with_more_blocks_than_pixels_draws_one_box_per_pixel_column():
    lane = {
        'space': '10.0.0.0/8',
        'label': 'many',
        'blocks': [{'cidr': 'x', 'name': 'n%d' % i, 'start': i / 5000, 'width': 1 / 5000} for i in range(5000)],
        'reserved': [],
        'free': 0.0,
    }
    svg = rep.plan_svg([lane], width=900)
    root = ET.fromstring(svg.replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    boxes = root.findall('{http://www.w3.org/2000/svg}rect[@class="block"]')
    assert len(boxes) == 900
    assert sum(int(b.find('{http://www.w3.org/2000/svg}title').text.split()[0]) for b in boxes) == 5000
