#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: role_options
short_description: Check roles' options before they run, naming what each bad one is and expects
version_added: 0.2.0
description:
  - Ansible validates a role's variables against its C(meta/argument_specs.yml) at the role's first task and answers
    a bad one with the option's name and a type (C(argument 'multihome_routing_table_base' is of type str and we were
    unable to convert to int)). This action runs the same validation, with the same conversions, on the same variables
    before the play's roles, and names for each bad option its value, what it expects in words and what the option is
    (the first sentence of its description), then Ansible's own words. Nothing on the host is read or changed.
  - The playbooks of this collection run it first (C(pre_tasks)) for the roles of each play.
author:
  - netplumb.multihome contributors (@netplumb)
attributes:
  check_mode:
    support: full
    description: Reads variables only.
  diff_mode:
    support: none
    description: Reads variables only; nothing to show.
  action:
    support: full
    description: Runs on the controller; needs no connection to the host.
options:
  roles:
    description: The roles of this collection whose options to check (C(multihome_routing)), each optionally with an entry
      point after a colon (C(net_guard:checkpoint)); C(main) without one.
    type: list
    elements: str
    required: true
  hosts:
    description:
      - Check the options of each of these inventory hosts, with the variables a task of this play sees on each, in one
        task (use it with C(run_once=true), for example O(hosts=ansible_play_hosts_all)). A problem names the hosts
        that have it.
      - Without it, the options of the host the task runs on.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Per-NIC policy routing
  hosts: k8s_cluster
  pre_tasks:
    - name: Check the role's options
      netplumb.multihome.role_options:
        roles: [multihome_routing]
  roles:
    - netplumb.multihome.multihome_routing

- name: The same for every host of the play in one step
  hosts: k8s_cluster
  pre_tasks:
    - name: Check the role's options on every host
      netplumb.multihome.role_options:
        roles: [multihome_routing]
        hosts: "{{ ansible_play_hosts_all }}"
      run_once: true
  roles:
    - netplumb.multihome.multihome_routing
# multihome_routing_table_base=abc:
# multihome_routing: multihome_routing_table_base 'abc' is not a whole number (multihome_routing_table_base: Lowest
# table number to hand out (1 to 32765); each table's number is also its rule's priority). Ansible says: ...
'''

RETURN = r'''
problems:
  description: One line per bad option, empty when all are good.
  returned: always
  type: list
  elements: str
'''
