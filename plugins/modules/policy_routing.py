#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: policy_routing
short_description: Per-NIC source policy routing, so that each NIC answers from itself
version_added: 0.1.0
description:
  - For each NIC of O(interfaces) a routing table of its own with the NIC's subnet route (and its O(interfaces[].gateway)
    as default and its O(interfaces[].routes)), and a rule C(from <NIC address> lookup <table>) at priority equal to the
    table number. Traffic sourced from a NIC's address then leaves by that NIC, which ends asymmetric routing (and the
    drops of a strict C(rp_filter)) on hosts with several NICs in their own subnets.
  - Table numbers are stable and never collide with the host's own. A NIC keeps the number it had (from this module's
    file in O(rt_tables_dir), C(<number> multihome-<nic>)) unless someone else now holds it; a new NIC gets the lowest
    number from O(table_base) that no C(rt_tables) file names, no table with routes uses and no rule uses as table or priority.
  - Reads the live state with C(ip -j rule show) and C(ip -j route show table all) and changes it, with C(ip -force -batch -),
    only where it differs; then reads it again and fails unless it is as wanted.
  - With O(persist) writes O(batch_file), an C(ip -batch) file that sets the same state again when run with
    C(ip -force -batch <file>) at boot (the role C(netplumb.multihome.multihome_routing) installs a systemd unit that does).
  - O(sysctls) sets C(net.ipv4.conf.<nic>.<key>) for every NIC of O(interfaces) (C(rp_filter), C(arp_ignore),
    C(arp_announce)), reads them back, and writes them into O(sysctl_file) for the next boot.
  - With O(unit) and O(persist), a systemd unit that runs O(batch_file) at boot, enabled (by C(systemctl enable) where
    systemd runs, else by its C(multi-user.target.wants) link, as in containers and chroots).
  - One call sets it all, so that a run that finds everything as wanted is one module call (the role runs it in
    check mode first, and changes the host under its guard only when something would change).
  - O(state=absent) removes this module's rules and tables, its C(rt_tables.d) file, O(batch_file) (and its directory
    when empty), O(sysctl_file) and the unit; the live sysctls stay until reboot (what they were before is not known).
author:
  - netplumb.multihome contributors (@netplumb)
requirements:
  - iproute2 with JSON output (C(ip -j), iproute2 4.13 or later) on the managed host; for the boot file,
    C(ip rule flush) with selectors (older iproute2 refuses them, and the flush then fails harmlessly).
attributes:
  check_mode:
    support: full
    description: Computes the tables, rules, routes and files, and whether they would change, without changing anything.
  diff_mode:
    support: full
    description: Shows this module's rules and routes, the NICs' sysctls, its files and the unit before and after.
options:
  interfaces:
    description:
      - The secondary NICs, each with its address. Never list the interface of the default route or of the Ansible
        connection (the role refuses to).
      - Ignored with O(state=absent), which removes every table of this module.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Interface name (C(nic1), C(ens1f0)).
        type: str
        required: true
      address:
        description: The NIC's IPv4 address with prefix length (C(198.18.1.11/24)); it must be on the NIC.
        type: str
        required: true
      gateway:
        description: A router in the NIC's subnet, the default route of the NIC's table. Without it traffic from the NIC's
          address to other subnets falls through to the main table.
        type: str
      routes:
        description: More routes of the NIC's table.
        type: list
        elements: dict
        suboptions:
          dst:
            description: Destination network (C(10.20.0.0/16)) or C(default).
            type: str
            required: true
          via:
            description: Router in the NIC's subnet; without it the destination is on the link.
            type: str
  state:
    description: C(present) sets up the NICs of O(interfaces) (and removes tables of this module for NICs no longer listed);
      C(absent) removes everything of this module.
    type: str
    choices: [present, absent]
    default: present
  table_base:
    description:
      - The lowest table number to hand out (a table's number is also its rule's priority, so up to 32765, below main's 32766).
      - A NIC whose number lies below a raised O(table_base) is renumbered.
    type: int
    default: 1000
  rt_tables_dir:
    description: The C(rt_tables.d) directory; the module keeps its numbers in C(netplumb-multihome.conf) there, and reads
      the other files there and C(rt_tables) in its parent directory to avoid their numbers.
    type: path
    default: /etc/iproute2/rt_tables.d
  batch_file:
    description: The boot-time C(ip -batch) file (with O(persist)).
    type: path
    default: /etc/netplumb-multihome/policy-routing.batch
  persist:
    description: Write O(batch_file). Without it the live state and the C(rt_tables.d) file are still set, and an existing
      O(batch_file) is removed (it would set a stale state at boot).
    type: bool
    default: true
  sysctls:
    description:
      - Settings of C(net.ipv4.conf.<nic>) for every NIC of O(interfaces), keys to numbers (C(rp_filter=2)); none by
        default.
      - The role C(netplumb.multihome.multihome_routing) sets C(rp_filter=2) (loose, a reply may come in on any NIC),
        C(arp_ignore=1) and C(arp_announce=2) (each NIC answers ARP for its own address only).
    type: dict
    default: {}
  sysctl_file:
    description:
      - The C(sysctl.d) file that sets O(sysctls) again at boot (rewritten whole; removed with O(state=absent)).
      - Without it the live values are set and not kept.
    type: path
  unit:
    description:
      - The boot-time systemd unit that runs O(batch_file) (C(ip -force -batch)) after C(network-online.target).
      - Written and enabled with O(persist); disabled and removed without O(persist) and with O(state=absent).
    type: dict
    suboptions:
      name:
        description: The unit's file name.
        type: str
        default: netplumb-multihome-routing.service
      dir:
        description: The directory of the unit (its C(multi-user.target.wants) link goes in there).
        type: path
        default: /etc/systemd/system
notes:
  - IPv4 only. Table numbers used by IPv6 routes and rules are avoided all the same. On a host without IPv6 (C(ip -6)
    answers that the address family is not supported) there are none; any other failure of C(ip -6) fails the module
    before anything is changed.
  - Replaced files are backed up next to them (RV(backup_files)).
seealso:
  - name: ip-rule(8)
    description: Routing policy rules.
    link: https://man7.org/linux/man-pages/man8/ip-rule.8.html
'''

EXAMPLES = r'''
- name: Route each data NIC's traffic through a table of its own
  netplumb.multihome.policy_routing:
    interfaces:
      - {name: nic1, address: 198.18.1.11/24, gateway: 198.18.1.254}
      - name: nic2
        address: 198.18.2.11/24
        routes:
          - {dst: 10.20.0.0/16, via: 198.18.2.254}
  register: pr

- name: Show the tables
  ansible.builtin.debug:
    msg: "{{ pr.tables }}"  # {"nic1": 1000, "nic2": 1001}

- name: Remove it all
  netplumb.multihome.policy_routing:
    state: absent
'''

RETURN = r'''
tables:
  description: Table number of each NIC (also its rule's priority); empty with O(state=absent).
  returned: always
  type: dict
  sample: {nic1: 1000, nic2: 1001}
dropped_interfaces:
  description: NICs that had a table of this module and have none any more (no longer listed, or O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [nic3]
rules:
  description: The rules wanted.
  returned: always
  type: list
  elements: dict
  sample: [{priority: 1000, from: 198.18.1.11, table: 1000}]
routes:
  description: The routes wanted, C(via) and C(src) null when not set.
  returned: always
  type: list
  elements: dict
  sample:
    - {table: 1000, dst: 198.18.1.0/24, via: null, dev: nic1, src: 198.18.1.11}
    - {table: 1000, dst: default, via: 198.18.1.254, dev: nic1, src: null}
commands:
  description: The C(ip -batch) lines run (or, in check mode, that would be run) on the live state; empty when it was as wanted.
  returned: always
  type: list
  elements: str
  sample: ["route replace 198.18.1.0/24 dev nic1 scope link src 198.18.1.11 table 1000 proto static",
           "rule add from 198.18.1.11 table 1000 priority 1000"]
batch:
  description: The boot-time batch text; null with O(state=absent).
  returned: always
  type: str
batch_file:
  description: Path of the boot-time batch file.
  returned: always
  type: str
  sample: /etc/netplumb-multihome/policy-routing.batch
batch_command:
  description: The command that applies O(batch_file) (for a systemd unit's C(ExecStart)).
  returned: always
  type: list
  elements: str
  sample: [/usr/sbin/ip, -force, -batch, /etc/netplumb-multihome/policy-routing.batch]
rt_tables_file:
  description: This module's C(rt_tables.d) file.
  returned: always
  type: str
  sample: /etc/iproute2/rt_tables.d/netplumb-multihome.conf
pending:
  description:
    - What differed from the wanted state when the module started (what it changed, or in check mode would change);
      empty when everything was as wanted. The role C(netplumb.multihome.multihome_routing) runs its guarded change
      only when its check-mode call returns some.
  returned: always
  type: list
  elements: str
  sample: [rules and routes, sysctls, /etc/sysctl.d/90-netplumb-multihome.conf]
sysctls:
  description: The NICs' sysctls wanted (empty with O(state=absent)).
  returned: always
  type: dict
  sample: {net.ipv4.conf.nic1.rp_filter: 2, net.ipv4.conf.nic1.arp_ignore: 1}
unit_file:
  description: Path of the boot-time unit, null without O(unit).
  returned: always
  type: str
  sample: /etc/systemd/system/netplumb-multihome-routing.service
backup_files:
  description: Backups of the files replaced.
  returned: always
  type: list
  elements: str
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, Ip, Runner
from ansible_collections.netplumb.multihome.plugins.module_utils.nic_facts import (
    NicError,
    parse_ip_addr,
    parse_ip_admin_up,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.policy_routing import (
    OUR_FILE,
    PolicyRoutingError,
    check_absolute,
    check_addresses,
    check_sysctls,
    check_table_base,
    live_state,
    normalize_interfaces,
    parse_rt_tables,
    plan,
    read_rt_tables,
    routes_summary,
    rt_tables_paths,
    rules_summary,
    sysctl_entries,
    sysctl_file_text,
    sysctl_lines,
    table_name_map,
    unit_paths,
    unit_text,
)

# Where a running systemd keeps its state: without it (containers, chroots) the unit is enabled by its link.
SYSTEMD_DIR = '/run/systemd/system'


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def read_link(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def write_file(module, path, text, backups):
    """Write ``text`` to ``path`` atomically (mode 0644), backing up the file it replaces."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    if os.path.exists(path):
        backups.append(module.backup_local(path))
    handle, tmp = tempfile.mkstemp(prefix='.netplumb-', dir=directory)
    with os.fdopen(handle, 'w') as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, path)


def remove(path):
    if os.path.lexists(path):
        os.remove(path)


def read_sysctls(entries):
    """``{key: live text}`` of ``sysctl_entries``; a key the kernel does not have fails before anything changes."""
    live = {}
    for key, path, _value in entries:
        text = read_text(path)
        if text is None:
            raise PolicyRoutingError(
                'sysctls: %s does not exist on this host (no %s): expected a net.ipv4.conf key such as rp_filter, '
                'arp_ignore or arp_announce; nothing was changed' % (key, path)
            )
        live[key] = text.strip()
    return live


class Unit:
    """The boot-time unit: its file, and whether it is enabled (by systemctl where systemd runs, else by its link)."""

    def __init__(self, module, runner, unit_dir, name):
        self.module, self.runner, self.name = module, runner, name
        self.path, self.link = unit_paths(unit_dir, name)
        self.systemd = os.path.isdir(SYSTEMD_DIR)
        self.systemctl = module.get_bin_path('systemctl', required=self.systemd)

    def enabled(self):
        if self.systemd:
            rc, out, _err = self.runner.run([self.systemctl, 'is-enabled', self.name])
            return rc == 0 and out.strip() == 'enabled'
        return read_link(self.link) == self.path

    def systemctl_run(self, *args):
        self.runner.must([self.systemctl] + list(args))

    def install(self, text, before, backups):
        if before != text:
            write_file(self.module, self.path, text, backups)
            if self.systemd:
                self.systemctl_run('daemon-reload')
        if not self.enabled():
            if self.systemd:
                self.systemctl_run('enable', self.name)
            else:
                os.makedirs(os.path.dirname(self.link), 0o755, exist_ok=True)
                remove(self.link)
                os.symlink(self.path, self.link)

    def uninstall(self):
        if self.systemd and os.path.exists(self.path):
            self.systemctl_run('disable', self.name)
        remove(self.link)
        remove(self.path)
        if self.systemd:
            self.systemctl_run('daemon-reload')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            interfaces=dict(
                type='list',
                elements='dict',
                default=[],
                options=dict(
                    name=dict(type='str', required=True),
                    address=dict(type='str', required=True),
                    gateway=dict(type='str'),
                    routes=dict(
                        type='list',
                        elements='dict',
                        options=dict(
                            dst=dict(type='str', required=True),
                            via=dict(type='str'),
                        ),
                    ),
                ),
            ),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            table_base=dict(type='int', default=1000),
            rt_tables_dir=dict(type='path', default='/etc/iproute2/rt_tables.d'),
            batch_file=dict(type='path', default='/etc/netplumb-multihome/policy-routing.batch'),
            persist=dict(type='bool', default=True),
            sysctls=dict(type='dict', default={}),
            sysctl_file=dict(type='path'),
            unit=dict(
                type='dict',
                options=dict(
                    name=dict(type='str', default='netplumb-multihome-routing.service'),
                    dir=dict(type='path', default='/etc/systemd/system'),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    state = params['state']
    rt_dir = os.path.normpath(params['rt_tables_dir'])
    our_path = os.path.join(rt_dir, OUR_FILE)
    batch_file = params['batch_file']
    sysctl_file = params['sysctl_file']
    persist = state == 'present' and params['persist']
    ip_bin = module.get_bin_path('ip', required=True)
    runner = Runner(module.run_command)
    ip = Ip(runner, ip_bin)
    try:
        check_table_base(params['table_base'])
        check_absolute(dict(batch_file=batch_file, sysctl_file=sysctl_file))
        check_absolute(
            dict(
                rt_tables_dir=params['rt_tables_dir'], **({'unit.dir': params['unit']['dir']} if params['unit'] else {})
            ),
            files=False,
        )
        sysctls = check_sysctls(params['sysctls'])
        nics = normalize_interfaces(params['interfaces']) if state == 'present' else []
        if nics:
            links = ip.query('addr', 'show', allow_empty=False)
            check_addresses(nics, parse_ip_addr(links), parse_ip_admin_up(links))
        entries = read_rt_tables(rt_tables_paths(rt_dir))
        names = table_name_map(entries)
        rules, routes, extra = live_state(ip, names)
        todo = plan(nics, state, params['table_base'], entries, our_path, rules, routes, extra)
        wanted_sysctls = sysctl_entries([nic['name'] for nic in nics], sysctls)
        live_sysctls = read_sysctls(wanted_sysctls)
        unit = Unit(module, runner, params['unit']['dir'], params['unit']['name']) if params['unit'] else None
    except CommandError as exc:
        module.fail_json(msg='policy_routing: %s' % exc, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
    except (PolicyRoutingError, NicError) as exc:
        module.fail_json(msg='policy_routing: %s' % exc)

    batch_command = [ip_bin, '-force', '-batch', batch_file]
    rt_before = read_text(our_path)
    batch_before = read_text(batch_file)
    rt_after = todo['rt_tables']
    # Without persist a boot file of an earlier run would set a stale state at boot: it goes too.
    batch_after = todo['batch'] if persist else None
    sysctls_to_set = [(key, path, value) for key, path, value in wanted_sysctls if live_sysctls[key] != str(value)]
    sysctl_file_before = read_text(sysctl_file) if sysctl_file else None
    sysctl_file_after = sysctl_file_text(wanted_sysctls) if sysctl_file and wanted_sysctls else None
    unit_before = unit_after = None
    enabled_before = enabled_after = False
    if unit:
        unit_before = read_text(unit.path)
        unit_after = unit_text(todo['tables'], batch_command) if persist else None
        try:
            enabled_before = unit.enabled()
        except CommandError as exc:
            module.fail_json(msg='policy_routing: %s' % exc, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
        enabled_after = unit_after is not None
    differs = [
        ('rules and routes', bool(todo['commands'])),
        (our_path, rt_before != rt_after),
        (batch_file, batch_before != batch_after),
        ('sysctls', bool(sysctls_to_set)),
        (sysctl_file, sysctl_file_before != sysctl_file_after),
        (unit.path if unit else None, unit_before != unit_after),
        ('%s enabled' % (unit.name if unit else ''), enabled_before != enabled_after),
    ]
    pending = [what for what, differ in differs if differ]
    changed = bool(pending)
    result = dict(
        changed=changed,
        pending=pending,
        tables=todo['tables'],
        dropped_interfaces=todo['dropped'],
        rules=rules_summary(todo['rules']),
        routes=routes_summary(todo['routes']),
        commands=todo['commands'],
        batch=todo['batch'],
        batch_file=batch_file,
        batch_command=batch_command,
        rt_tables_file=our_path,
        sysctls=dict((key, value) for key, _path, value in wanted_sysctls),
        unit_file=unit.path if unit else None,
        backup_files=[],
    )
    if module._diff:
        files = [(our_path, rt_before, rt_after), (batch_file, batch_before, batch_after)]
        if sysctl_file:
            files.append((sysctl_file, sysctl_file_before, sysctl_file_after))
        if unit:
            files.append((unit.path, unit_before, unit_after))
            files.append(
                (
                    '%s (%s)' % (unit.name, 'systemctl is-enabled' if unit.systemd else unit.link),
                    'enabled\n' if enabled_before else '',
                    'enabled\n' if enabled_after else '',
                )
            )
        result['diff'] = [
            dict(
                before_header='policy routing (ip rule / ip route)',
                after_header='policy routing (ip rule / ip route)',
                before=todo['before'],
                after=todo['after'],
            ),
            dict(
                before_header='sysctls of the NICs (live)',
                after_header='sysctls of the NICs (live)',
                before=sysctl_lines((key, live_sysctls[key]) for key, _path, _value in wanted_sysctls),
                after=sysctl_lines((key, value) for key, _path, value in wanted_sysctls),
            ),
        ] + [
            dict(before_header=path, after_header=path, before=before or '', after=after or '')
            for path, before, after in files
        ]
    if module.check_mode or not changed:
        module.exit_json(**result)

    try:
        # The unit goes first when it goes, so that no boot in between sets again what is being removed.
        if unit and unit_after is None:
            unit.uninstall()
        # The numbers are claimed in rt_tables.d before any rule uses them: a run cut short is cleaned up by the next.
        if rt_after is not None and rt_before != rt_after:
            write_file(module, our_path, rt_after, result['backup_files'])
        if todo['commands']:
            apply_commands(
                module,
                runner,
                ip,
                ip_bin,
                todo,
                nics,
                state,
                params['table_base'],
                entries,
                our_path,
                rt_before,
                result,
            )
        if batch_after is not None and batch_before != batch_after:
            write_file(module, batch_file, batch_after, result['backup_files'])
        for path in ([our_path] if state == 'absent' else []) + ([batch_file] if batch_after is None else []):
            remove(path)
        if (
            state == 'absent'
            and os.path.isdir(os.path.dirname(batch_file))
            and not os.listdir(os.path.dirname(batch_file))
        ):
            os.rmdir(os.path.dirname(batch_file))
        for _key, path, value in sysctls_to_set:
            with open(path, 'w') as handle:
                handle.write('%d\n' % value)
        if sysctl_file and sysctl_file_before != sysctl_file_after:
            if sysctl_file_after is None:
                remove(sysctl_file)
            else:
                write_file(module, sysctl_file, sysctl_file_after, result['backup_files'])
        if unit and unit_after is not None:
            unit.install(unit_after, unit_before, result['backup_files'])
    except CommandError as exc:
        module.fail_json(msg='policy_routing: %s' % exc, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr, **result)
    except OSError as exc:
        module.fail_json(msg='policy_routing: %s' % exc, **result)
    # Read back: another sysctl.d file or a network manager may set them too.
    live = dict((key, (read_text(path) or '').strip()) for key, path, _value in wanted_sysctls)
    wrong = [
        '%s=%s (wanted %d)' % (key, live[key], value) for key, _path, value in wanted_sysctls if live[key] != str(value)
    ]
    if wrong:
        module.fail_json(
            msg='policy_routing: the sysctls are not as wanted right after setting them: %s. Something else sets them too '
            '(a network manager, a sysctl.d file sorting after %s).' % (', '.join(wrong), sysctl_file or 'ours'),
            **result,
        )
    module.exit_json(**result)


def apply_commands(module, runner, ip, ip_bin, todo, nics, state, base, entries, our_path, rt_before, result):
    """Run the ``ip -batch`` lines, then read the state back: only the state counts, whatever ip said."""
    rc, out, err = runner.run([ip_bin, '-force', '-batch', '-'], data='\n'.join(todo['commands']))
    rt_after = todo['rt_tables']
    try:
        verify_entries = [e for e in entries if e[2] != our_path] + [
            (number, name, our_path)
            for number, name in parse_rt_tables(rt_after if rt_after is not None else rt_before)
        ]
        rules, routes, extra = live_state(ip, table_name_map(verify_entries))
        left = plan(nics, state, base, verify_entries, our_path, rules, routes, extra)['commands']
    except (PolicyRoutingError, CommandError) as exc:
        module.fail_json(
            msg='policy_routing: reading the state back failed: %s' % exc, rc=rc, stdout=out, stderr=err, **result
        )
    if left:
        module.fail_json(
            msg="policy_routing: 'ip -force -batch -' (rc=%d) left the routing not as wanted; still to do: %s; ip said: %s"
            % (rc, '; '.join(left), (err or out or '').strip()),
            rc=rc,
            stdout=out,
            stderr=err,
            **result,
        )


if __name__ == '__main__':
    main()
