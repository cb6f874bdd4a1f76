#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: connectivity_matrix
short_description: Plan the node-to-node probes of a multi-NIC cluster, and build its connectivity table from the results
version_added: 0.1.0
description:
  - Runs on the controller. Without O(results) it plans the probes; with them it builds the matrix.
  - "Planning: every node's networks come from its C(multihome_nics) (a NIC's network is its CIDR: C(198.18.1.11/24) is on
    C(198.18.1.0/24)) and from O(address_sets) (a set's network is its name, for example the test addresses a preflight
    gives an attachment's pods). Each node probes from each of its addresses every other node's address on the same
    network. RV(plan) has the probes of each node, for M(netplumb.multihome.connectivity_probe)."
  - "Building: the nodes' connectivity_probe results are joined with the plan, so a node that failed, was skipped
    or was unreachable counts all its probes as broken rather than vanishing from the table. RV(table) has one row per
    (from, to) node pair like Multi-NIC CNI's connection check (C(FROM TO CONNECTED/TOTAL IPs LATENCY)), then one
    per network; RV(matrix) is the same as data."
  - The module fails when fewer than O(threshold) of the address pairs connected, with a message naming each broken
    pair (from node, to node, network, addresses, NICs and why). It still returns RV(table), RV(matrix) and RV(broken).
author:
  - netplumb.multihome contributors (@netplumb)
extends_documentation_fragment:
  - netplumb.multihome.probe_scale
  - netplumb.multihome.changes_nothing
options:
  nodes:
    description:
      - "The nodes and their NICs, C({node: multihome_nics}); each NIC is C({name, address}) with the address in CIDR form."
      - Nodes keep their order in the table. A node with no NICs takes part only through O(address_sets).
    type: dict
    required: true
  address_sets:
    description:
      - "Extra addresses to probe, C({set name: {node: address or [addresses]}}); the set's name is the network
        in the table. Addresses are plain (a prefix length is dropped)."
      - Every node named must be one of O(nodes), and no address may belong to two nodes (in a set or on a NIC).
    type: dict
    default: {}
  results:
    description:
      - "Each node's registered M(netplumb.multihome.connectivity_probe) result, C({node: result}). A node missing here,
        or whose result is failed, skipped or unreachable, has every planned probe broken."
      - Leave it out to only plan.
    type: dict
  threshold:
    description: The fraction (0 to 1) of the address pairs that must connect; C(1.0) means all of them.
    type: float
    default: 1.0
  bandwidth:
    description: Add the C(BANDWIDTHs) column (iperf3's rates; C(not measured) where none was).
    type: bool
    default: false
  plan:
    description:
      - Return RV(plan), every node's probes. Off, the module only checks its input and the probe settings below
        (what the role does before the nodes probe, so that bad settings fail once, before any probe).
    type: bool
    default: true
  count:
    description: The nodes' O(netplumb.multihome.connectivity_probe#module:count), checked here.
    type: int
    default: 3
  interval:
    description: The nodes' O(netplumb.multihome.connectivity_probe#module:interval), checked here when given.
    type: float
  timeout:
    description: The nodes' O(netplumb.multihome.connectivity_probe#module:timeout), checked here.
    type: float
    default: 1
  concurrency:
    description: The nodes' O(netplumb.multihome.connectivity_probe#module:concurrency), checked here.
    type: int
    default: 16
seealso:
  - module: netplumb.multihome.connectivity_probe
  - name: Multi-NIC CNI connection check
    description: The table this follows.
    link: https://github.com/foundation-model-stack/multi-nic-cni/tree/main/connection-check
'''

EXAMPLES = r'''
- name: Plan the probes of every node in the play
  netplumb.multihome.connectivity_matrix:
    nodes: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'multihome_nics'))) }}"
  delegate_to: localhost
  run_once: true
  register: plan

- name: Probe from every node
  netplumb.multihome.connectivity_probe:
    probes: "{{ plan.plan[inventory_hostname] }}"
  register: probe

- name: Build the table; fail unless 95% of the address pairs connect
  netplumb.multihome.connectivity_matrix:
    nodes: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'multihome_nics'))) }}"
    results: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'probe'))) }}"
    threshold: 0.95
  delegate_to: localhost
  run_once: true
  register: matrix

- name: Print it
  ansible.builtin.debug:
    msg: "{{ matrix.table }}"
'''

RETURN = r'''
nodes:
  description: O(nodes) as given (checked), for the nodes' M(netplumb.multihome.connectivity_probe) to plan from.
  returned: always
  type: dict
nodes_json:
  description:
    - RV(nodes) as compact JSON text, to pass as each node's O(netplumb.multihome.connectivity_probe#module:nodes)
      (a dict option takes JSON text).
    - One string is cheap to hand each node's task; the structure itself is templated again for every node, which
      costs the controller more CPU than the rest of that node's task on a big cluster.
  returned: always
  type: str
  sample: '{"worker1":[{"address":"198.18.1.11/24","name":"nic1"}]}'
plan:
  description: "The probes of each node, C({node: [{src, dst, network, peer}]}), for
    O(netplumb.multihome.connectivity_probe#module:probes)."
  returned: when O(plan) is true
  type: dict
  sample:
    worker1:
      - {src: 198.18.1.11, dst: 198.18.1.12, network: 198.18.1.0/24, peer: worker2}
networks:
  description: "Each node's addresses by network, C({node: {network: [{address, nic}]}})."
  returned: always
  type: dict
  sample:
    worker1: {198.18.1.0/24: [{address: 198.18.1.11, nic: nic1}]}
table:
  description:
    - The table as fixed-width lines. First C(FROM TO CONNECTED/TOTAL IPs LATENCY) (and C(BANDWIDTHs)) with one row per
      (from, to) node pair that shares a network, IPs being the destination's addresses and LATENCY the average round
      trip to each (C(-) where none came back); then C(NETWORK CONNECTED/TOTAL NODES LATENCY min/avg/max); then a summary.
  returned: when O(results) is given
  type: list
  elements: str
  sample:
    - "FROM     TO       CONNECTED/TOTAL  IPs                          LATENCY"
    - "worker1  worker2  2/2              [198.18.1.12 198.18.2.12]  [0.170ms 0.097ms]"
    - ""
    - "NETWORK        CONNECTED/TOTAL  NODES  LATENCY min/avg/max"
    - "198.18.1.0/24  6/6              3      0.063/0.120/0.376ms"
    - ""
    - "12/12 address pairs connected, 6/6 node pairs fully connected"
matrix:
  description:
    - The matrix as data. C(pairs) are the table's rows (C(from), C(to), C(connected), C(total), C(addresses), C(networks),
      C(latency_ms), C(bandwidth_bps)); C(networks) the per-network rows (C(network), C(connected), C(total), C(nodes),
      C(rtt_min_ms), C(rtt_avg_ms), C(rtt_max_ms)); C(probes) every probe's result with C(from), C(to), C(src_nic),
      C(dst_nic); C(summary) the counts (C(nodes), C(networks), C(pairs), C(pairs_connected), C(connected), C(total),
      C(fraction)).
  returned: when O(results) is given
  type: dict
broken:
  description: The address pairs that did not connect.
  returned: when O(results) is given
  type: list
  elements: dict
  sample:
    - {from: worker2, to: worker1, network: 198.18.2.0/24, src: 198.18.2.12, dst: 198.18.2.11, src_nic: nic2, dst_nic: nic2,
       error: "no reply: 3 sent, 0 received (100% loss)"}
passed:
  description:
    - Whether at least O(threshold) of the address pairs connected (the module fails when not). A role that registers the result
      with C(failed_when=false), to print the table before failing, checks this.
  returned: when O(results) is given
  type: bool
  sample: true
msg:
  description: The summary, naming the broken pairs.
  returned: when O(results) is given
  type: str
  sample: "12/12 address pairs connected (100.0%, threshold 100.0%) across 3 nodes and 2 networks"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import ConnectivityError
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import (
    MATRIX_ARGUMENT_SPEC,
    matrix_outcome,
)


def main():
    # The collection runs this as an action (plugins/action/connectivity_matrix.py: on the controller, in the worker
    # process, no module process); this module is what runs where the action is not used (ansible.legacy, a copy).
    module = AnsibleModule(argument_spec=MATRIX_ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result, warning = matrix_outcome(module.params)
    except ConnectivityError as exc:
        module.fail_json(msg='connectivity_matrix: %s' % exc)
    if warning:
        module.warn(warning)
    if result.get('failed'):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
