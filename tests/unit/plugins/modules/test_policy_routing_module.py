# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy_routing module as Ansible runs it, against a fake ``ip`` that keeps a routing state.

The fake answers ``ip -j addr/rule/route show`` with JSON as iproute2 6.1 prints it (tables by their
rt_tables name when a file names them, ``table`` left out for main, ``default`` and host routes
without ``/32``) and applies the ``rule``/``route`` lines of ``ip -force -batch -`` to its state, so
that the module's read-back after a change sees what it did. rt_tables files live in a temporary directory.
"""

import json
import os

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import policy_routing as utils
from ansible_collections.netplumb.multihome.plugins.modules import policy_routing

IP = '/usr/sbin/ip'
NICS = [
    {'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.1.254'},
    {'name': 'nic2', 'address': '198.18.2.11/24', 'routes': [{'dst': '10.20.0.0/16', 'via': '198.18.2.1'}]},
]


def addr(name, address):
    local, prefix = address.split('/')
    return {
        'ifindex': 2,
        'ifname': name,
        'flags': ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        'mtu': 1500,
        'qdisc': 'noqueue',
        'operstate': 'UP',
        'group': 'default',
        'link_type': 'ether',
        'address': '02:00:00:00:00:01',
        'broadcast': 'ff:ff:ff:ff:ff:ff',
        'addr_info': [
            {
                'family': 'inet',
                'local': local,
                'prefixlen': int(prefix),
                'broadcast': '198.18.0.255',
                'scope': 'global',
                'label': name,
                'valid_life_time': 4294967295,
                'preferred_life_time': 4294967295,
            }
        ],
    }


class FakeIp:
    """A routing state, and ``ip`` over it."""

    def __init__(self, rt_dir):
        self.rt_dir = rt_dir
        self.calls = []
        self.batches = []
        self.refuse = None  # a word: batch lines containing it fail, as a missing device makes them
        # What ip -6 answers: this host has no IPv6 (booted with ipv6.disable=1).
        self.ipv6 = (2, '', 'RTNETLINK answers: Address family not supported by protocol\n')
        self.rules = [
            {'priority': 0, 'src': 'all', 'table': 255},
            {'priority': 32766, 'src': 'all', 'table': 254},
            {'priority': 32767, 'src': 'all', 'table': 253},
        ]
        self.routes = [
            {'dst': '198.18.0.0/24', 'dev': 'eth0', 'table': 254, 'prefsrc': '198.18.0.11', 'scope': 'link'},
            {'dst': '198.18.1.0/24', 'dev': 'nic1', 'table': 254, 'prefsrc': '198.18.1.11', 'scope': 'link'},
            {'dst': '198.18.2.0/24', 'dev': 'nic2', 'table': 254, 'prefsrc': '198.18.2.11', 'scope': 'link'},
            {'type': 'local', 'dst': '127.0.0.1', 'dev': 'lo', 'table': 255, 'prefsrc': '127.0.0.1', 'scope': 'host'},
        ]
        self.links = [
            addr('lo', '127.0.0.1/8'),
            addr('eth0', '198.18.0.11/24'),
            addr('nic1', '198.18.1.11/24'),
            addr('nic2', '198.18.2.11/24'),
        ]

    def names(self):
        """number -> name, as ip reads them from the rt_tables files at each call."""
        entries = utils.read_rt_tables(utils.rt_tables_paths(self.rt_dir))
        return dict((number, name) for number, name, _path in entries)

    def shown(self, table):
        return self.names().get(table, str(table))

    def rule_json(self):
        out = []
        for rule in sorted(self.rules, key=lambda r: r['priority']):
            item = {'priority': rule['priority'], 'src': rule['src'], 'table': self.shown(rule['table'])}
            out.append(item)
        return json.dumps(out)

    def route_json(self):
        out = []
        for route in self.routes:
            item = dict((k, v) for k, v in route.items() if k != 'table')
            if route['table'] != 254:
                item['table'] = self.shown(route['table'])
            item['flags'] = []
            out.append(item)
        return json.dumps(out)

    def apply(self, line):
        words = line.split()
        opts = dict(zip(words, words[1:]))
        table = int(opts.get('table', 254))
        if words[:2] == ['rule', 'add']:
            src = opts.get('from', 'all')
            if any(
                r['priority'] == int(opts['priority']) and r['src'] == src and r['table'] == table for r in self.rules
            ):
                return 'RTNETLINK answers: File exists'
            self.rules.append({'priority': int(opts['priority']), 'src': src, 'table': table})
        elif words[:2] == ['rule', 'del']:
            match = [
                r
                for r in self.rules
                if r['priority'] == int(opts['priority'])
                and r['table'] == table
                and r['src'] == opts.get('from', r['src'])
            ]
            if not match:
                return 'RTNETLINK answers: No such file or directory'
            self.rules.remove(match[0])
        elif words[:3] == ['route', 'flush', 'table']:
            self.routes = [r for r in self.routes if r['table'] != table]
        elif words[:2] in (['route', 'replace'], ['route', 'del']):
            dst = {'default': 'default'}.get(words[2], words[2].replace('/32', ''))
            self.routes = [r for r in self.routes if not (r['table'] == table and r['dst'] == dst)]
            if words[1] == 'replace':
                route = {'dst': dst, 'dev': opts['dev'], 'table': table, 'protocol': 'static'}
                if 'via' in opts:
                    route['gateway'] = opts['via']
                else:
                    route['scope'] = 'link'
                if 'src' in opts:
                    route['prefsrc'] = opts['src']
                self.routes.append(route)
        else:
            return 'Object "%s" is unknown' % words[0]
        return None

    def run_command(self, args, data=None, **kwargs):
        self.calls.append(list(args))
        assert isinstance(args, list) and args[0] == IP, args
        key = tuple(args[1:])
        if key == ('-j', 'addr', 'show'):
            return 0, json.dumps(self.links), ''
        if key in (('-j', 'rule', 'show'),):
            return 0, self.rule_json(), ''
        if key == ('-j', 'route', 'show', 'table', 'all'):
            return 0, self.route_json(), ''
        if key[0] == '-6':
            return self.ipv6
        if key == ('-force', '-batch', '-'):
            self.batches.append(data)
            errors = []
            for number, line in enumerate(data.splitlines(), 1):
                error = (
                    'Cannot find device "%s"' % self.refuse if self.refuse and self.refuse in line else self.apply(line)
                )
                if error:
                    errors.append('%s\nCommand failed -:%d' % (error, number))
            return (1 if errors else 0), '', '\n'.join(errors)
        raise AssertionError('unexpected command %r' % (args,))


@pytest.fixture
def host(tmp_path, monkeypatch):
    """(FakeIp, module args) with /etc/iproute2 and /etc/netplumb-multihome under tmp_path."""
    root = tmp_path / 'etc'
    (root / 'iproute2' / 'rt_tables.d').mkdir(parents=True)
    (root / 'iproute2' / 'rt_tables').write_text('255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n')
    monkeypatch.setattr(utils, 'VENDOR_DIRS', ())
    fake = FakeIp(str(root / 'iproute2' / 'rt_tables.d'))
    monkeypatch.setattr(AnsibleModule, 'run_command', lambda self, args, **kw: fake.run_command(args, **kw))
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: IP)
    args = {
        'interfaces': NICS,
        'rt_tables_dir': fake.rt_dir,
        'batch_file': str(root / 'netplumb-multihome' / 'policy-routing.batch'),
    }
    return fake, args


def read(path):
    with open(path) as handle:
        return handle.read()


def test_first_run_sets_tables_rules_routes_and_files(run_module, host):
    fake, args = host
    failed, result = run_module(policy_routing, args)
    assert not failed, result
    assert result['changed'] is True
    assert result['tables'] == {'nic1': 1000, 'nic2': 1001}
    assert result['rules'] == [
        {'priority': 1000, 'from': '198.18.1.11', 'table': 1000},
        {'priority': 1001, 'from': '198.18.2.11', 'table': 1001},
    ]
    assert result['routes'] == [
        {'table': 1000, 'dst': '198.18.1.0/24', 'via': None, 'dev': 'nic1', 'src': '198.18.1.11'},
        {'table': 1000, 'dst': 'default', 'via': '198.18.1.254', 'dev': 'nic1', 'src': None},
        {'table': 1001, 'dst': '198.18.2.0/24', 'via': None, 'dev': 'nic2', 'src': '198.18.2.11'},
        {'table': 1001, 'dst': '10.20.0.0/16', 'via': '198.18.2.1', 'dev': 'nic2', 'src': None},
    ]
    assert len(fake.batches) == 1 and fake.batches[0].splitlines() == result['commands']
    assert sorted((r['priority'], r['src'], r['table']) for r in fake.rules if 0 < r['priority'] < 32766) == [
        (1000, '198.18.1.11', 1000),
        (1001, '198.18.2.11', 1001),
    ]
    assert read(result['rt_tables_file']).splitlines()[1:] == ['1000 multihome-nic1', '1001 multihome-nic2']
    assert read(args['batch_file']) == result['batch']
    assert 'rule add from 198.18.2.11 table 1001 priority 1001' in result['batch']
    assert result['batch_command'] == [IP, '-force', '-batch', args['batch_file']]
    assert result['backup_files'] == []


def test_second_run_changes_nothing(run_module, host):
    fake, args = host
    assert not run_module(policy_routing, args)[0]
    failed, result = run_module(policy_routing, args)
    assert not failed, result
    assert result['changed'] is False and result['commands'] == []
    assert len(fake.batches) == 1
    assert result['tables'] == {'nic1': 1000, 'nic2': 1001}


def test_check_mode_changes_nothing_and_diff_shows_it(run_module, host):
    fake, args = host
    failed, result = run_module(policy_routing, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed, result
    assert result['changed'] is True and len(result['commands']) == 6
    assert fake.batches == []
    assert not os.path.exists(result['rt_tables_file']) and not os.path.exists(args['batch_file'])
    diffs = dict((d['before_header'], d) for d in result['diff'])
    live = diffs['policy routing (ip rule / ip route)']
    assert live['before'] == '' and 'rule from 198.18.1.11 table 1000 priority 1000' in live['after']
    rt_file = diffs[result['rt_tables_file']]
    assert rt_file['before'] == '' and '1001 multihome-nic2' in rt_file['after']
    assert diffs[args['batch_file']]['after'] == result['batch']


def test_a_foreign_table_number_is_avoided_and_a_changed_batch_file_backed_up(run_module, host):
    fake, args = host
    with open(os.path.join(fake.rt_dir, 'other.conf'), 'w') as handle:
        handle.write('1000 other\n')
    fake.rules.append({'priority': 1002, 'src': '10.0.0.0/8', 'table': 254})
    os.makedirs(os.path.dirname(args['batch_file']))
    with open(args['batch_file'], 'w') as handle:
        handle.write('# an older batch\n')
    failed, result = run_module(policy_routing, args)
    assert not failed, result
    assert result['tables'] == {'nic1': 1001, 'nic2': 1003}
    assert len(result['backup_files']) == 1 and read(result['backup_files'][0]) == '# an older batch\n'


def test_absent_removes_rules_tables_and_files(run_module, host):
    fake, args = host
    assert not run_module(policy_routing, args)[0]
    failed, result = run_module(policy_routing, dict(args, state='absent'))
    assert not failed, result
    assert result['changed'] is True and result['tables'] == {}
    assert [r['priority'] for r in fake.rules] == [0, 32766, 32767]
    assert not [r for r in fake.routes if r['table'] in (1000, 1001)]
    assert not os.path.exists(result['rt_tables_file']) and not os.path.exists(args['batch_file'])
    failed, result = run_module(policy_routing, dict(args, state='absent'))
    assert not failed and result['changed'] is False


def test_persist_false_writes_no_batch_file_and_removes_an_old_one(run_module, host):
    fake, args = host
    failed, result = run_module(policy_routing, dict(args, persist=False))
    assert not failed, result
    assert not os.path.exists(args['batch_file']) and os.path.exists(result['rt_tables_file'])
    assert not run_module(policy_routing, args)[0]
    assert os.path.exists(args['batch_file'])
    failed, result = run_module(policy_routing, dict(args, persist=False))
    assert not failed and result['changed'] is True and result['commands'] == []
    assert not os.path.exists(args['batch_file'])


def test_an_address_not_on_the_nic_is_refused_before_any_change(run_module, host):
    fake, args = host
    failed, result = run_module(policy_routing, dict(args, interfaces=[{'name': 'nic1', 'address': '198.18.1.99/24'}]))
    assert failed
    assert 'interfaces[nic1].address 198.18.1.99/24 is not on nic1 (it has 198.18.1.11/24)' in result['msg']
    assert fake.batches == [] and not os.listdir(fake.rt_dir)


def test_bad_input_fails_naming_the_value(run_module, host):
    fake, args = host
    failed, result = run_module(
        policy_routing, dict(args, interfaces=[{'name': 'nic1', 'address': '198.18.1.11/24', 'gateway': '198.18.9.1'}])
    )
    assert failed and "gateway 198.18.9.1 is outside the NIC's subnet 198.18.1.0/24" in result['msg']
    failed, result = run_module(policy_routing, dict(args, table_base=32766))
    assert failed and 'table_base 32766 is out of range' in result['msg']
    assert fake.batches == []


def test_a_batch_that_does_not_take_fails_with_what_is_left(run_module, host):
    fake, args = host
    fake.refuse = 'nic2'
    failed, result = run_module(policy_routing, args)
    assert failed
    assert "left the routing not as wanted; still to do: route replace 198.18.2.0/24 dev nic2" in result['msg']
    assert 'Cannot find device "nic2"' in result['msg']
    assert not os.path.exists(args['batch_file'])  # the boot file is only written for a state that took


def test_ip_6_failing_for_another_reason_than_a_missing_ipv6_fails_before_any_change(run_module, host):
    fake, args = host
    fake.ipv6 = (1, '', 'Error: an inet6 prefix is expected rather than "all".\n')
    failed, result = run_module(policy_routing, args)
    assert failed
    assert "'ip -6 -j rule show' failed (rc=1): Error: an inet6 prefix is expected" in result['msg']
    assert result['rc'] == 1
    assert fake.batches == [] and not os.listdir(fake.rt_dir)


# The NICs' sysctls (under a /proc/sys of the test's) and the boot-time unit, in the same call as the routing.


@pytest.fixture
def full(host, tmp_path, monkeypatch):
    """``host`` plus sysctls with their /proc/sys files (as the kernel has them: rp_filter 0, arp_* 0), a sysctl file
    and a unit directory; no systemd running unless a test says so."""
    fake, args = host
    proc = tmp_path / 'proc' / 'sys'
    for nic in ('nic1', 'nic2'):
        conf = proc / 'net' / 'ipv4' / 'conf' / nic
        conf.mkdir(parents=True)
        for key in ('rp_filter', 'arp_ignore', 'arp_announce'):
            (conf / key).write_text('0\n')
    monkeypatch.setattr(utils, 'PROC_SYS', str(proc))
    monkeypatch.setattr(policy_routing, 'SYSTEMD_DIR', str(tmp_path / 'no-systemd'))
    units = tmp_path / 'etc' / 'systemd' / 'system'
    args = dict(
        args,
        sysctls={'rp_filter': 2, 'arp_ignore': 1, 'arp_announce': '2'},
        sysctl_file=str(tmp_path / 'etc' / 'sysctl.d' / '90-netplumb-multihome.conf'),
        unit={'name': 'netplumb-multihome-routing.service', 'dir': str(units)},
    )
    return fake, args, proc / 'net' / 'ipv4' / 'conf', units


def live_values(conf):
    return dict(
        ('%s.%s' % (nic, key), (conf / nic / key).read_text().strip())
        for nic in ('nic1', 'nic2')
        for key in ('rp_filter', 'arp_ignore', 'arp_announce')
    )


def test_sysctls_and_the_unit_are_set_with_the_routing_and_a_second_run_changes_nothing(run_module, full):
    fake, args, conf, units = full
    failed, result = run_module(policy_routing, args)
    assert not failed, result
    assert live_values(conf) == {
        'nic1.rp_filter': '2', 'nic1.arp_ignore': '1', 'nic1.arp_announce': '2',
        'nic2.rp_filter': '2', 'nic2.arp_ignore': '1', 'nic2.arp_announce': '2',
    }  # fmt: skip
    lines = read(args['sysctl_file']).splitlines()
    assert lines[0].startswith('#') and sorted(lines[1:]) == sorted(
        'net.ipv4.conf.%s.%s = %s' % (nic, key, value)
        for nic in ('nic1', 'nic2')
        for key, value in (('rp_filter', 2), ('arp_ignore', 1), ('arp_announce', 2))
    )
    unit = read(str(units / 'netplumb-multihome-routing.service'))
    assert 'ExecStart=%s -force -batch %s\n' % (IP, args['batch_file']) in unit
    assert 'After=network-online.target' in unit and 'WantedBy=multi-user.target' in unit and '(nic1, nic2)' in unit
    # Without systemd running, enabled is the link systemctl enable would make.
    link = units / 'multi-user.target.wants' / 'netplumb-multihome-routing.service'
    assert os.readlink(str(link)) == str(units / 'netplumb-multihome-routing.service')
    assert result['unit_file'] == str(units / 'netplumb-multihome-routing.service')
    assert result['pending'] == [
        'rules and routes', result['rt_tables_file'], args['batch_file'], 'sysctls', args['sysctl_file'],
        result['unit_file'], 'netplumb-multihome-routing.service enabled',
    ]  # fmt: skip
    failed, again = run_module(policy_routing, args)
    assert not failed and again['changed'] is False and again['pending'] == [], again
    # One value changed by hand: the next run sets it back, and only that.
    (conf / 'nic2' / 'arp_ignore').write_text('0\n')
    failed, mended = run_module(policy_routing, dict(args, _ansible_diff=True))
    assert not failed and mended['changed'] is True and mended['pending'] == ['sysctls'], mended
    diffs = dict((d['before_header'], d) for d in mended['diff'])
    assert 'net.ipv4.conf.nic2.arp_ignore = 0\n' in diffs['sysctls of the NICs (live)']['before']
    assert (conf / 'nic2' / 'arp_ignore').read_text().strip() == '1'


def test_check_mode_shows_sysctls_and_unit_and_changes_nothing(run_module, full):
    fake, args, conf, units = full
    failed, result = run_module(policy_routing, dict(args, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result['changed'] is True, result
    diffs = dict((d['before_header'], d) for d in result['diff'])
    sysctls = diffs['sysctls of the NICs (live)']
    assert 'net.ipv4.conf.nic1.rp_filter = 0\n' in sysctls['before']
    assert 'net.ipv4.conf.nic1.rp_filter = 2\n' in sysctls['after']
    assert 'ExecStart=' in diffs[result['unit_file']]['after']
    assert set(live_values(conf).values()) == {'0'}
    assert not os.path.exists(args['sysctl_file']) and not os.path.exists(str(units))


def test_a_sysctl_the_kernel_does_not_have_or_a_relative_file_is_refused_before_any_change(run_module, full):
    fake, args, conf, units = full
    failed, result = run_module(policy_routing, dict(args, sysctls={'rp_filtr': 2}))
    assert failed and 'sysctls: net.ipv4.conf.nic1.rp_filtr does not exist on this host' in result['msg'], result
    failed, result = run_module(policy_routing, dict(args, sysctls={'rp_filter': 'loose'}))
    assert failed and 'rp_filter=loose is not a net.ipv4.conf.<nic> key and number' in result['msg'], result
    failed, result = run_module(policy_routing, dict(args, sysctl_file='sysctl.d/90.conf'))
    assert failed and 'sysctl_file "sysctl.d/90.conf" is not an absolute file path' in result['msg'], result
    assert fake.batches == [] and set(live_values(conf).values()) == {'0'} and not os.path.exists(str(units))


def test_absent_removes_the_sysctl_file_the_unit_and_its_link_and_the_empty_boot_directory(run_module, full):
    fake, args, conf, units = full
    assert not run_module(policy_routing, args)[0]
    failed, result = run_module(policy_routing, dict(args, state='absent'))
    assert not failed and result['changed'] is True, result
    for path in (args['sysctl_file'], args['batch_file'], os.path.dirname(args['batch_file']), result['unit_file']):
        assert not os.path.exists(path), path
    assert not os.path.lexists(str(units / 'multi-user.target.wants' / 'netplumb-multihome-routing.service'))
    # The live values stay: what they were before is not known.
    assert live_values(conf)['nic1.rp_filter'] == '2'
    failed, again = run_module(policy_routing, dict(args, state='absent'))
    assert not failed and again['changed'] is False, again


def test_with_systemd_running_the_unit_is_enabled_by_systemctl_and_reloaded_when_written(
    run_module, full, tmp_path, monkeypatch
):
    fake, args, conf, units = full
    (tmp_path / 'systemd').mkdir()
    monkeypatch.setattr(policy_routing, 'SYSTEMD_DIR', str(tmp_path / 'systemd'))
    systemctl = []
    enabled = {'state': 'disabled'}

    def run_command(self, args, **kw):
        if args[0] != '/bin/systemctl':
            return fake.run_command(args, **kw)
        systemctl.append(args[1:])
        if args[1] == 'is-enabled':
            return (0 if enabled['state'] == 'enabled' else 1), enabled['state'] + '\n', ''
        if args[1] == 'enable':
            enabled['state'] = 'enabled'
        return 0, '', ''

    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(
        AnsibleModule,
        'get_bin_path',
        lambda self, name, required=False, opt_dirs=None: '/bin/' + name if name == 'systemctl' else IP,
    )
    failed, result = run_module(policy_routing, args)
    assert not failed, result
    name = 'netplumb-multihome-routing.service'
    assert systemctl == [['is-enabled', name], ['daemon-reload'], ['is-enabled', name], ['enable', name]]
    assert not os.path.lexists(str(units / 'multi-user.target.wants' / name))  # systemctl's to make, not ours
    del systemctl[:]
    failed, again = run_module(policy_routing, args)
    assert not failed and again['changed'] is False and systemctl == [['is-enabled', name]], (again, systemctl)
