# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""policy_routing planning against rt_tables files and ``ip -j`` output built here as iproute2 6.1 prints them.

``ip -j rule show`` prints a table by its rt_tables name when one file names it (``"table": "main"``,
``"table": "multihome-nic1"``) and as a number string otherwise; ``ip -j route show table all``
leaves ``table`` out for main and prints ``dst`` ``default`` or a host address without ``/32``.
"""

import json
import os

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.policy_routing import (
    BATCH_HEADER,
    OUR_FILE,
    PolicyRoutingError,
    assign_tables,
    check_addresses,
    foreign_numbers,
    normalize_interfaces,
    parse_ip_routes,
    parse_ip_rules,
    parse_rt_tables,
    plan,
    read_rt_tables,
    render_rt_tables,
    rt_tables_paths,
    table_name_map,
)

STOCK_RT_TABLES = """\
#
# reserved values
#
255\tlocal
254\tmain
253\tdefault
0\tunspec
#
# local
#
#1\tinr.ruhep
"""

NICS = [
    {'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.1.254'},
    {'name': 'nic2', 'address': '198.18.2.11/24'},
]


# ---------------------------------------------------------------------------
# what ip prints


def rule(priority, table, src=None, **extra):
    out = {'priority': priority, 'src': src or 'all'}
    if src and '/' in src:
        out['src'], out['srclen'] = src.split('/')[0], int(src.split('/')[1])
    out.update(extra)
    out['table'] = str(table)
    return out


STOCK_RULES = [rule(0, 'local'), rule(32766, 'main'), rule(32767, 'default')]


def route(dst, dev, table=None, gateway=None, prefsrc=None, **extra):
    out = {'dst': dst}
    if gateway:
        out['gateway'] = gateway
    out['dev'] = dev
    if table is not None:
        out['table'] = str(table)
    out['protocol'] = 'static' if table is not None else 'kernel'
    if not gateway:
        out['scope'] = 'link'
    if prefsrc:
        out['prefsrc'] = prefsrc
    out['flags'] = []
    out.update(extra)
    return out


STOCK_ROUTES = [
    route('198.18.0.0/24', 'eth0', prefsrc='198.18.0.11'),
    route('198.18.1.0/24', 'nic1', prefsrc='198.18.1.11'),
    route('198.18.2.0/24', 'nic2', prefsrc='198.18.2.11'),
    route('127.0.0.0/8', 'lo', table='local', prefsrc='127.0.0.1', type='local', scope='host'),
    route('198.18.1.11', 'nic1', table='local', prefsrc='198.18.1.11', type='local', scope='host'),
]


def ours_live(tables, names=None):
    """The rules and routes the module makes for NICS with ``tables``, as ip prints them (``names``: table -> printed name)."""
    names = names or {}
    rules, routes = [], []
    for nic, address, gateway in (('nic1', '198.18.1.11', '198.18.1.254'), ('nic2', '198.18.2.11', None)):
        number = tables[nic]
        shown = names.get(number, number)
        rules.append(rule(number, shown, src=address))
        routes.append(route('198.18.%s.0/24' % nic[-1], nic, table=shown, prefsrc=address))
        if gateway:
            routes.append(route('default', nic, table=shown, gateway=gateway))
    return rules, routes


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)


@pytest.fixture
def etc(tmp_path):
    """An /etc/iproute2 with the stock rt_tables and an empty rt_tables.d; returns the rt_tables.d path."""
    root = tmp_path / 'iproute2'
    write(str(root / 'rt_tables'), STOCK_RT_TABLES)
    (root / 'rt_tables.d').mkdir()
    return str(root / 'rt_tables.d')


def planned(etc_dir, nics=None, state='present', base=1000, rules=None, routes=None, extra_tables=()):
    entries = read_rt_tables(rt_tables_paths(etc_dir, vendor_dirs=()))
    names = table_name_map(entries)
    live_rules = parse_ip_rules(json.dumps(STOCK_RULES + (rules or [])), names)
    live_routes = parse_ip_routes(json.dumps(STOCK_ROUTES + (routes or [])), names)
    return plan(
        normalize_interfaces(NICS if nics is None else nics),
        state,
        base,
        entries,
        os.path.join(etc_dir, OUR_FILE),
        live_rules,
        live_routes,
        extra_tables,
    )


# ---------------------------------------------------------------------------
# rt_tables


def test_parse_rt_tables_reads_numbers_names_hex_and_skips_the_rest():
    text = STOCK_RT_TABLES + '0x3e8 hexed # a comment\n  1001   spaced\nnot-a-number x\n1002\n\n'
    assert parse_rt_tables(text) == [
        (255, 'local'),
        (254, 'main'),
        (253, 'default'),
        (0, 'unspec'),
        (1000, 'hexed'),
        (1001, 'spaced'),
    ]


def test_rt_tables_paths_reads_rt_tables_and_only_conf_files_in_order(etc, tmp_path):
    write(os.path.join(etc, 'b.conf'), '1001 b\n')
    write(os.path.join(etc, 'a.conf'), '1000 a\n')
    write(os.path.join(etc, 'notes.txt'), '1002 ignored\n')
    vendor = tmp_path / 'usr' / 'iproute2'
    write(str(vendor / 'rt_tables'), '300 vendor\n')
    paths = rt_tables_paths(etc, vendor_dirs=(str(vendor),))
    assert paths == [
        str(vendor / 'rt_tables'),
        os.path.join(os.path.dirname(etc), 'rt_tables'),
        os.path.join(etc, 'a.conf'),
        os.path.join(etc, 'b.conf'),
    ]
    entries = read_rt_tables(paths)
    assert [(n, name) for n, name, _path in entries] == [
        (300, 'vendor'),
        (255, 'local'),
        (254, 'main'),
        (253, 'default'),
        (0, 'unspec'),
        (1000, 'a'),
        (1001, 'b'),
    ]
    assert table_name_map(entries)['a'] == 1000


def test_render_rt_tables_in_number_order():
    text = render_rt_tables({'nic2': 1003, 'nic1': 1000})
    assert text.splitlines()[1:] == ['1000 multihome-nic1', '1003 multihome-nic2']
    assert parse_rt_tables(text) == [(1000, 'multihome-nic1'), (1003, 'multihome-nic2')]


# ---------------------------------------------------------------------------
# table numbers


def test_new_nics_get_the_lowest_free_numbers_from_base():
    assert assign_tables(['nic1', 'nic2'], {}, set(), base=1000) == {'nic1': 1000, 'nic2': 1001}


def test_previous_numbers_are_kept_even_when_lower_ones_are_free():
    assert assign_tables(['nic1', 'nic2', 'nic3'], {'nic1': 1005, 'nic2': 1002}, set(), 1000) == {
        'nic1': 1005,
        'nic2': 1002,
        'nic3': 1000,
    }


def test_a_number_someone_else_now_holds_is_given_up():
    # nic1 had 1000; another rt_tables file (or a live table or rule) now has it.
    assert assign_tables(['nic1', 'nic2'], {'nic1': 1000, 'nic2': 1001}, {1000}, 1000) == {'nic1': 1002, 'nic2': 1001}


def test_numbers_of_dropped_nics_are_not_handed_out_in_the_same_run():
    assert assign_tables(['nic3'], {'nic1': 1000}, set(), 1000) == {'nic3': 1001}


def test_numbers_below_a_raised_base_are_renumbered():
    assert assign_tables(['nic1'], {'nic1': 1000}, set(), 2000) == {'nic1': 2000}


def test_used_numbers_are_skipped():
    assert assign_tables(['a', 'b', 'c'], {}, {1000, 1001, 1003}, 1000) == {'a': 1002, 'b': 1004, 'c': 1005}


@pytest.mark.parametrize('base', [0, -1, 32766, 40000, True, '1000'])
def test_base_out_of_range_names_the_value(base):
    with pytest.raises(
        PolicyRoutingError,
        match=r'table_base %s is out of range: expected a whole number from 1 to 32765'
        % repr(base).replace('(', r'\('),
    ):
        assign_tables(['nic1'], {}, set(), base)


def test_no_free_number_left_is_an_error():
    with pytest.raises(PolicyRoutingError, match='no free table number from table_base 32764 to 32765 for c'):
        assign_tables(['a', 'b', 'c'], {}, set(), 32764)


def test_foreign_numbers_are_other_files_live_tables_and_rule_tables_and_priorities(etc):
    our = os.path.join(etc, OUR_FILE)
    write(our, '1000 multihome-nic1\n')
    write(os.path.join(etc, 'other.conf'), '1001 other\n')
    entries = read_rt_tables(rt_tables_paths(etc, vendor_dirs=()))
    names = table_name_map(entries)
    rules = parse_ip_rules(
        json.dumps(
            STOCK_RULES
            + [
                rule(1000, 'multihome-nic1', src='198.18.1.11'),  # ours: our table at its own priority
                rule(1002, 'main', src='10.0.0.0/8'),  # someone's priority
                rule(500, 1003, fwmark='0x1'),  # someone's table (and priority 500)
            ]
        ),
        names,
    )
    routes = parse_ip_routes(
        json.dumps(
            STOCK_ROUTES
            + [route('10.9.0.0/16', 'nic2', table=1004), route('198.18.1.0/24', 'nic1', table='multihome-nic1')]
        ),
        names,
    )
    used = foreign_numbers(entries, our, rules, routes, {'nic1': 1000}, extra_tables=[1005, None])
    assert {1001, 1002, 1003, 500, 1004, 1005} <= used
    assert 1000 not in used
    assert assign_tables(['nic1', 'nic2'], {'nic1': 1000}, used, 1000) == {'nic1': 1000, 'nic2': 1006}


# ---------------------------------------------------------------------------
# ip -j parsing


def test_parse_rules_resolves_names_and_prefixes(etc):
    write(os.path.join(etc, OUR_FILE), '1000 multihome-nic1\n')
    names = table_name_map(read_rt_tables(rt_tables_paths(etc, vendor_dirs=())))
    got = parse_ip_rules(
        json.dumps(
            [
                rule(0, 'local'),
                rule(1000, 'multihome-nic1', src='198.18.1.11'),
                rule(1001, 1001, src='10.0.0.0/8', iif='nic2'),
                {'priority': 1002, 'src': 'all', 'action': 'unreachable'},
                rule(1003, 'unknown-name'),
            ]
        ),
        names,
    )
    assert [(r['priority'], r['src'], r['table']) for r in got] == [
        (0, None, 255),
        (1000, '198.18.1.11/32', 1000),
        (1001, '10.0.0.0/8', 1001),
        (1002, None, None),
        (1003, None, None),
    ]
    assert got[1]['other'] == () and got[2]['other'] == (('iif', '"nic2"'),)


def test_parse_routes_main_has_no_table_key_and_default_is_a_cidr():
    got = parse_ip_routes(
        json.dumps(
            [
                route('default', 'nic1', table=1000, gateway='198.18.1.254'),
                route('10.9.9.9', 'nic1', table=1000),
                route('198.18.1.0/24', 'nic1', prefsrc='198.18.1.11'),
            ]
        ),
        {},
    )
    assert [(r['table'], r['dst'], r['gateway'], r['prefsrc']) for r in got] == [
        (1000, '0.0.0.0/0', '198.18.1.254', None),
        (1000, '10.9.9.9/32', None, None),
        (254, '198.18.1.0/24', None, '198.18.1.11'),
    ]


@pytest.mark.parametrize('text, match', [('nope', 'is not JSON'), ('{"a": 1}', 'is a JSON dict')])
def test_parse_bad_json_says_what_was_expected(text, match):
    with pytest.raises(PolicyRoutingError, match=match):
        parse_ip_rules(text, {})


# ---------------------------------------------------------------------------
# plans


def test_fresh_host_gets_tables_rules_routes_and_a_batch(etc):
    got = planned(etc)
    assert got['tables'] == {'nic1': 1000, 'nic2': 1001}
    assert got['commands'] == [
        'route replace 198.18.1.0/24 dev nic1 scope link src 198.18.1.11 table 1000 proto static',
        'route replace default via 198.18.1.254 dev nic1 table 1000 proto static',
        'route replace 198.18.2.0/24 dev nic2 scope link src 198.18.2.11 table 1001 proto static',
        'rule add from 198.18.1.11 table 1000 priority 1000',
        'rule add from 198.18.2.11 table 1001 priority 1001',
    ]
    assert got['before'] == ''
    assert got['rt_tables'].splitlines()[1:] == ['1000 multihome-nic1', '1001 multihome-nic2']
    assert (
        got['batch']
        == BATCH_HEADER
        + '\n'.join(
            [
                '',
                '# nic1 198.18.1.11/24 -> table 1000 (multihome-nic1)',
                'rule flush table 1000',
                'route replace 198.18.1.0/24 dev nic1 scope link src 198.18.1.11 table 1000 proto static',
                'route replace default via 198.18.1.254 dev nic1 table 1000 proto static',
                'rule add from 198.18.1.11 table 1000 priority 1000',
                '',
                '# nic2 198.18.2.11/24 -> table 1001 (multihome-nic2)',
                'rule flush table 1001',
                'route replace 198.18.2.0/24 dev nic2 scope link src 198.18.2.11 table 1001 proto static',
                'rule add from 198.18.2.11 table 1001 priority 1001',
            ]
        )
        + '\n'
    )


def test_a_host_already_as_wanted_needs_nothing(etc):
    write(os.path.join(etc, OUR_FILE), render_rt_tables({'nic1': 1000, 'nic2': 1001}))
    rules, routes = ours_live({'nic1': 1000, 'nic2': 1001}, names={1000: 'multihome-nic1', 1001: 'multihome-nic2'})
    got = planned(etc, rules=rules, routes=routes)
    assert got['commands'] == []
    assert got['before'] == got['after']
    assert 'rule from 198.18.1.11 table 1000 priority 1000' in got['after']


def test_tables_already_on_the_host_are_never_reused(etc):
    write(os.path.join(etc, 'other.conf'), '1000 other\n')
    # a live table with routes, and a rule at priority 1002 of someone else
    got = planned(etc, rules=[rule(1002, 'main', src='10.1.0.0/16')], routes=[route('10.9.0.0/16', 'eth0', table=1001)])
    assert got['tables'] == {'nic1': 1003, 'nic2': 1004}
    assert not any('table 1000 ' in c or 'table 1001 ' in c for c in got['commands'])


def test_the_assignment_is_stable_and_a_claimed_number_moves_without_touching_the_claimant(etc):
    write(os.path.join(etc, OUR_FILE), render_rt_tables({'nic1': 1000, 'nic2': 1001}))
    rules, routes = ours_live({'nic1': 1000, 'nic2': 1001})
    # someone names 1000 in their own file after us: it is theirs now (ip then prints its name)
    write(os.path.join(etc, 'zz-vpn.conf'), '1000 vpn\n')
    rules[0]['table'] = 'vpn'
    for r in routes[:2]:
        r['table'] = 'vpn'
    got = planned(etc, rules=rules, routes=routes)
    assert got['tables'] == {'nic1': 1002, 'nic2': 1001}
    assert got['commands'] == [
        'rule del from 198.18.1.11 table 1000 priority 1000',  # our old rule into their table
        'route replace 198.18.1.0/24 dev nic1 scope link src 198.18.1.11 table 1002 proto static',
        'route replace default via 198.18.1.254 dev nic1 table 1002 proto static',
        'rule add from 198.18.1.11 table 1002 priority 1002',
    ]  # and no 'route flush table 1000': its routes may be theirs


def test_an_address_change_replaces_rule_and_routes(etc):
    write(os.path.join(etc, OUR_FILE), render_rt_tables({'nic1': 1000, 'nic2': 1001}))
    rules, routes = ours_live({'nic1': 1000, 'nic2': 1001})
    nics = [dict(NICS[0], address='198.18.1.21/24'), NICS[1]]
    got = planned(etc, nics=nics, rules=rules, routes=routes)
    assert got['tables'] == {'nic1': 1000, 'nic2': 1001}
    assert got['commands'] == [
        'rule del from 198.18.1.11 table 1000 priority 1000',
        'route del 198.18.1.0/24 dev nic1 table 1000',
        'route replace 198.18.1.0/24 dev nic1 scope link src 198.18.1.21 table 1000 proto static',
        'rule add from 198.18.1.21 table 1000 priority 1000',
    ]


def test_a_dropped_nic_loses_rule_and_table_and_stray_routes_go(etc):
    write(os.path.join(etc, OUR_FILE), render_rt_tables({'nic1': 1000, 'nic2': 1001}))
    rules, routes = ours_live({'nic1': 1000, 'nic2': 1001})
    routes.append(route('10.77.0.0/16', 'nic1', table=1000))  # not wanted any more
    got = planned(etc, nics=[NICS[0]], rules=rules, routes=routes)
    assert got['tables'] == {'nic1': 1000}
    assert got['commands'] == [
        'rule del from 198.18.2.11 table 1001 priority 1001',
        'route flush table 1001',
        'route del 10.77.0.0/16 dev nic1 table 1000',
    ]
    assert got['rt_tables'].splitlines()[1:] == ['1000 multihome-nic1']


def test_absent_removes_our_rules_and_tables_only(etc):
    write(os.path.join(etc, OUR_FILE), render_rt_tables({'nic1': 1000, 'nic2': 1001}))
    rules, routes = ours_live({'nic1': 1000, 'nic2': 1001})
    got = planned(
        etc,
        state='absent',
        rules=rules + [rule(1500, 1500, src='10.0.0.1')],
        routes=routes + [route('10.9.0.0/16', 'eth0', table=1500)],
    )
    assert got['tables'] == {} and got['rules'] == [] and got['rt_tables'] is None and got['batch'] is None
    assert got['commands'] == [
        'rule del from 198.18.1.11 table 1000 priority 1000',
        'rule del from 198.18.2.11 table 1001 priority 1001',
        'route flush table 1000',
        'route flush table 1001',
    ]
    assert got['after'] == ''


def test_absent_on_a_clean_host_does_nothing(etc):
    assert planned(etc, state='absent')['commands'] == []


def test_extra_routes_go_into_the_nic_table(etc):
    nics = [
        dict(
            NICS[1],
            gateway='198.18.2.254',
            routes=[{'dst': '10.20.0.0/16', 'via': '198.18.2.1'}, {'dst': '10.30.0.5/32'}],
        )
    ]
    got = planned(etc, nics=nics)
    assert got['commands'][:4] == [
        'route replace 198.18.2.0/24 dev nic2 scope link src 198.18.2.11 table 1000 proto static',
        'route replace default via 198.18.2.254 dev nic2 table 1000 proto static',
        'route replace 10.20.0.0/16 via 198.18.2.1 dev nic2 table 1000 proto static',
        'route replace 10.30.0.5/32 dev nic2 table 1000 proto static',
    ]


def test_ipv6_tables_count_as_used(etc):
    assert planned(etc, extra_tables=[1000])['tables'] == {'nic1': 1001, 'nic2': 1002}


# ---------------------------------------------------------------------------
# errors name the value


@pytest.mark.parametrize(
    'nics, match',
    [
        (
            [{'name': 'nic1', 'address': '198.18.1.300/24'}],
            r"interfaces\[nic1\].address '198.18.1.300/24' is not an address with prefix",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11'}],
            r"interfaces\[nic1\].address '198.18.1.11' is not an address with prefix",
        ),
        ([{'name': 'nic1', 'address': 'fd00::1/64'}], r'interfaces\[nic1\].address fd00::1/64 is IPv6'),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.2.254'}],
            r"interfaces\[nic1\].gateway 198.18.2.254 is outside the NIC's subnet 198.18.1.0/24",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': 'router'}],
            r"interfaces\[nic1\].gateway 'router' is not an IPv4 address",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.1.11'}],
            r"gateway 198.18.1.11 is the NIC's own address",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24'}, {'name': 'nic1', 'address': '198.18.2.11/24'}],
            r'interfaces names nic1 twice \(items 0 and 1\)',
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24'}, {'name': 'nic2', 'address': '198.18.1.11/25'}],
            r'interfaces nic1 and nic2 both have address 198.18.1.11',
        ),
        (
            [{'name': 'a-very-long-interface', 'address': '198.18.1.11/24'}],
            r"interfaces\[0\].name 'a-very-long-interface' is not an interface name",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'routes': [{'dst': '10.0.0.1/8'}]}],
            r"interfaces\[nic1\].routes\[0\].dst '10.0.0.1/8' is not a network",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'routes': [{'dst': '10.0.0.0/8', 'via': '10.0.0.1'}]}],
            r"interfaces\[nic1\].routes\[0\].via 10.0.0.1 is outside the NIC's subnet 198.18.1.0/24",
        ),
        (
            [{'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.1.1', 'routes': [{'dst': 'default'}]}],
            r'repeats the default route of interfaces\[nic1\].gateway 198.18.1.1',
        ),
        ('nic1', r"interfaces 'nic1' is not a list"),
    ],
)
def test_bad_interfaces_are_refused_naming_the_value(nics, match):
    with pytest.raises(PolicyRoutingError, match=match):
        normalize_interfaces(nics)


def test_check_addresses_names_the_missing_nic_and_address():
    nics = normalize_interfaces(NICS)
    with pytest.raises(PolicyRoutingError, match=r'this host has no interface nic2 \(it has eth0, nic1\)'):
        check_addresses(nics, {'eth0': ['198.18.0.11/24'], 'nic1': ['198.18.1.11/24']})
    with pytest.raises(
        PolicyRoutingError, match=r'interfaces\[nic1\].address 198.18.1.11/24 is not on nic1 \(it has 198.18.1.12/24\)'
    ):
        check_addresses(nics, {'nic1': ['198.18.1.12/24'], 'nic2': ['198.18.2.11/24']})
    check_addresses(nics, {'nic1': ['198.18.1.11/24', 'fd00::1/64'], 'nic2': ['198.18.2.11/24']})


def test_check_addresses_refuses_a_nic_that_went_down_before_anything_changes():
    nics = normalize_interfaces(
        [{'name': 'nic1', 'address': '198.18.1.11/24'}, {'name': 'nic2', 'address': '198.18.2.11/24'}]
    )
    addresses = {'nic1': ['198.18.1.11/24'], 'nic2': ['198.18.2.11/24']}
    with pytest.raises(PolicyRoutingError) as err:
        check_addresses(nics, addresses, {'nic1': True, 'nic2': False})
    assert str(err.value).startswith('interfaces nic2 is down on this host: the kernel refuses routes through a NIC')
    assert 'nothing was changed' in str(err.value) and 'ip link set dev nic2 up' in str(err.value)
    check_addresses(nics, addresses, {'nic1': True, 'nic2': True})
