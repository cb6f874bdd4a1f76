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
  - O(state=absent) removes this module's rules and tables, its C(rt_tables.d) file and O(batch_file).
  - Sysctls (C(rp_filter), C(arp_ignore), C(arp_announce)) are not this module's business; the role sets them.
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
    description: Shows this module's rules and routes and its two files before and after.
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
    check_addresses,
    check_table_base,
    live_state,
    normalize_interfaces,
    parse_rt_tables,
    plan,
    read_rt_tables,
    routes_summary,
    rt_tables_paths,
    rules_summary,
    table_name_map,
)


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
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
        ),
        supports_check_mode=True,
    )
    params = module.params
    state = params['state']
    rt_dir = os.path.normpath(params['rt_tables_dir'])
    our_path = os.path.join(rt_dir, OUR_FILE)
    batch_file = params['batch_file']
    ip_bin = module.get_bin_path('ip', required=True)
    runner = Runner(module.run_command)
    ip = Ip(runner, ip_bin)
    try:
        check_table_base(params['table_base'])
        nics = normalize_interfaces(params['interfaces']) if state == 'present' else []
        if nics:
            links = ip.query('addr', 'show', allow_empty=False)
            check_addresses(nics, parse_ip_addr(links), parse_ip_admin_up(links))
        entries = read_rt_tables(rt_tables_paths(rt_dir))
        names = table_name_map(entries)
        rules, routes, extra = live_state(ip, names)
        todo = plan(nics, state, params['table_base'], entries, our_path, rules, routes, extra)
    except CommandError as exc:
        module.fail_json(msg='policy_routing: %s' % exc, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
    except (PolicyRoutingError, NicError) as exc:
        module.fail_json(msg='policy_routing: %s' % exc)

    rt_before = read_text(our_path)
    batch_before = read_text(batch_file)
    rt_after = todo['rt_tables']
    # Without persist a boot file of an earlier run would set a stale state at boot: it goes too.
    batch_after = todo['batch'] if state == 'present' and params['persist'] else None
    changed = bool(todo['commands']) or rt_before != rt_after or batch_before != batch_after
    result = dict(
        changed=changed,
        tables=todo['tables'],
        dropped_interfaces=todo['dropped'],
        rules=rules_summary(todo['rules']),
        routes=routes_summary(todo['routes']),
        commands=todo['commands'],
        batch=todo['batch'],
        batch_file=batch_file,
        batch_command=[ip_bin, '-force', '-batch', batch_file],
        rt_tables_file=our_path,
        backup_files=[],
    )
    if module._diff:
        result['diff'] = [
            dict(
                before_header='policy routing (ip rule / ip route)',
                after_header='policy routing (ip rule / ip route)',
                before=todo['before'],
                after=todo['after'],
            ),
            dict(before_header=our_path, after_header=our_path, before=rt_before or '', after=rt_after or ''),
            dict(before_header=batch_file, after_header=batch_file, before=batch_before or '', after=batch_after or ''),
        ]
    if module.check_mode or not changed:
        module.exit_json(**result)

    # The numbers are claimed in rt_tables.d before any rule uses them: a run cut short is cleaned up by the next.
    if rt_after is not None and rt_before != rt_after:
        write_file(module, our_path, rt_after, result['backup_files'])
    if todo['commands']:
        rc, out, err = runner.run([ip_bin, '-force', '-batch', '-'], data='\n'.join(todo['commands']))
        # Read back: only the state counts, whatever ip said.
        try:
            verify_entries = [e for e in entries if e[2] != our_path] + [
                (number, name, our_path)
                for number, name in parse_rt_tables(rt_after if rt_after is not None else rt_before)
            ]
            rules, routes, extra = live_state(ip, table_name_map(verify_entries))
            left = plan(nics, state, params['table_base'], verify_entries, our_path, rules, routes, extra)['commands']
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
    if batch_after is not None and batch_before != batch_after:
        write_file(module, batch_file, batch_after, result['backup_files'])
    for path in ([our_path] if state == 'absent' else []) + ([batch_file] if batch_after is None else []):
        if os.path.exists(path):
            os.remove(path)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
