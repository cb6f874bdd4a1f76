#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: connectivity_probe
short_description: Ping this node's peers from each of its addresses, a bounded number at a time
version_added: 0.1.0
description:
  - Runs on a node and sends O(count) ICMP echo requests for every probe in O(probes), from the probe's
    source address to its destination. The results feed M(netplumb.multihome.connectivity_matrix), which
    builds the node-to-node table.
  - With O(engine=icmp) (the default as root) this one process sends and receives every echo itself, all probes at
    once, from raw ICMP sockets bound to each source address, so thousands of probes take about as long as one. With
    O(engine=ping) each probe runs C(ping -n -c COUNT -i INTERVAL -W TIMEOUT -I SRC DST) (as an argument list), at
    most O(concurrency) at once.
  - Instead of O(probes), give O(nodes) (and O(address_sets)) as M(netplumb.multihome.connectivity_matrix) takes them
    and this node's name in O(node). The module then plans this node's probes itself, exactly as that module's
    RV(netplumb.multihome.connectivity_matrix#module:plan) would. The role C(netplumb.multihome.connectivity_matrix) does so,
    to spare a planning round on the controller.
  - A probe is connected when at least one reply came back. The module never fails because a peer is
    unreachable, that is a result. It fails only on bad input or when C(ping) is missing.
  - Both engines bind the source address (C(-I SRC)); the kernel's routing, with any source-based rules of the
    multi-NIC setup, picks the interface, as it does for the workload's traffic.
  - With O(bandwidth), each connected probe is followed by a short C(iperf3) TCP test against the peer's
    C(iperf3 -s) on O(bandwidth_port), one test at a time on this node. Where C(iperf3) is missing (here or as a
    server on the peer) the bandwidth is null and RV(probes[].bandwidth_error) says C(not measured) and why;
    the probe itself is unaffected.
author:
  - netplumb.multihome contributors (@netplumb)
requirements:
  - Root (CAP_NET_RAW) for O(engine=icmp); C(ping) from iputils (or busybox) for O(engine=ping); C(iperf3) only for
    O(bandwidth).
extends_documentation_fragment:
  - netplumb.multihome.probe_scale
attributes:
  check_mode:
    support: full
    description: The probes only send echo requests (and iperf3 tests) and change nothing, so check mode runs them too.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to compare.
options:
  probes:
    description:
      - The probes to run from this node, for example this node's entry of M(netplumb.multihome.connectivity_matrix)'s plan.
      - Exactly one of O(probes) and O(nodes) is required.
    type: list
    elements: dict
    suboptions:
      src:
        description: This node's address to send from (IPv4 or IPv6, no prefix length).
        type: str
        required: true
      dst:
        description: The peer's address to reach, of the same family.
        type: str
        required: true
      network:
        description: The network both addresses are on (a NIC's CIDR, or an address set's name); reported back.
        type: str
        required: true
      peer:
        description: The peer node's name; reported back.
        type: str
        required: true
  nodes:
    description:
      - "Plan the probes here rather than taking O(probes) - every node's NICs, C({node: multihome_nics}), as
        M(netplumb.multihome.connectivity_matrix) takes them. Needs O(node)."
    type: dict
  address_sets:
    description: "With O(nodes), the extra address sets, C({set name: {node: address or [addresses]}})."
    type: dict
    default: {}
  node:
    description: With O(nodes), the name of this node among them (its probes are those from its addresses).
    type: str
  count:
    description: Echo requests per probe.
    type: int
    default: 3
  interval:
    description:
      - Seconds between the echo requests of a probe (C(ping -i)); iputils allows less than 0.2 only as root.
      - Unset, 0.05 with O(engine=icmp) and 0.2 with O(engine=ping).
    type: float
  timeout:
    description: Seconds to wait for a reply (C(ping -W)); a probe with no reply ends about this long after its last request.
    type: float
    default: 1
  engine:
    description:
      - How the echo requests are sent. C(icmp) sends and receives them all in this process (raw ICMP sockets, root);
        C(ping) runs one C(ping) per probe. C(auto) is C(icmp) where raw sockets may be opened, else C(ping).
    type: str
    choices: [auto, icmp, ping]
    default: auto
  concurrency:
    description: With O(engine=ping), probes run at once on this node (threads, each running one C(ping)).
    type: int
    default: 16
  bandwidth:
    description:
      - Also measure the TCP bandwidth of each connected probe with C(iperf3 -c DST -B SRC -t bandwidth_time -J).
      - The peers must run C(iperf3 -s) on O(bandwidth_port) (the role starts and stops them).
    type: bool
    default: false
  bandwidth_port:
    description: The port of the peers' iperf3 servers.
    type: int
    default: 5201
  bandwidth_time:
    description: Seconds each iperf3 test transmits.
    type: int
    default: 1
  bandwidth_wait:
    description:
      - Seconds a test keeps retrying while the peer's server is busy with another node's test (an iperf3 server
        serves one test at a time); after that the bandwidth is not measured.
    type: int
    default: 60
notes:
  - Always returns C(changed=false).
  - With O(engine=icmp) the module takes about O(count) times O(interval) (plus O(timeout) when a peer does not
    answer), for any number of probes. With O(engine=ping), that times the number of probes divided by
    O(concurrency).
seealso:
  - module: netplumb.multihome.connectivity_matrix
  - name: Multi-NIC CNI connection check
    description: The table this follows.
    link: https://github.com/foundation-model-stack/multi-nic-cni/tree/main/connection-check
'''

EXAMPLES = r'''
- name: Reach worker2 from both of worker1's data NICs
  netplumb.multihome.connectivity_probe:
    probes:
      - {src: 198.18.1.11, dst: 198.18.1.12, network: 198.18.1.0/24, peer: worker2}
      - {src: 198.18.2.11, dst: 198.18.2.12, network: 198.18.2.0/24, peer: worker2}
  register: probe

- name: Show what did not connect
  ansible.builtin.debug:
    msg: "{{ probe.probes | rejectattr('connected') | map(attribute='error') | list }}"

- name: Plan this node's probes from the inventory, as the role does
  netplumb.multihome.connectivity_probe:
    nodes: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'multihome_nics'))) }}"
    node: "{{ inventory_hostname }}"

- name: Faster, with more at once and bandwidth
  netplumb.multihome.connectivity_probe:
    probes: "{{ my_probes }}"
    count: 2
    interval: 0.05
    concurrency: 32
    bandwidth: true
'''

RETURN = r'''
probes:
  description: One result per probe, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    src:
      description: Source address.
      type: str
      returned: always
    dst:
      description: Destination address.
      type: str
      returned: always
    network:
      description: The probe's network.
      type: str
      returned: always
    peer:
      description: The peer node.
      type: str
      returned: always
    connected:
      description: True when at least one reply came back.
      type: bool
      returned: always
    rc:
      description: ping's exit code (0 replies, 1 no reply, 2 error such as an address not on this node).
      type: int
      returned: always
    transmitted:
      description: Echo requests sent, null when ping sent none.
      type: int
      returned: always
    received:
      description: Replies received, null when ping sent none.
      type: int
      returned: always
    loss:
      description: Packet loss in percent, null when ping sent none.
      type: float
      returned: always
    rtt:
      description: Round-trip times in ms (C(min), C(avg), C(max), C(mdev)), null without a reply.
      type: dict
      returned: always
    error:
      description: Why the probe did not connect (ping's message or the loss), null when it did.
      type: str
      returned: always
    bandwidth_bps:
      description: Bits per second iperf3 measured, null when not measured.
      type: float
      returned: always
    bandwidth_error:
      description: Why the bandwidth was not measured (C(not measured) and the reason), null when it was or was not asked for.
      type: str
      returned: always
  sample:
    - src: 198.18.1.11
      dst: 198.18.1.12
      network: 198.18.1.0/24
      peer: worker2
      connected: true
      rc: 0
      transmitted: 3
      received: 3
      loss: 0.0
      rtt: {min: 0.063, avg: 0.17, max: 0.376, mdev: 0.145}
      error: null
      bandwidth_bps: null
      bandwidth_error: null
connected:
  description: How many probes connected.
  returned: always
  type: int
  sample: 4
total:
  description: How many probes ran.
  returned: always
  type: int
  sample: 4
peak_concurrency:
  description: The most probes that ran at once (at most O(concurrency) with O(engine=ping); all with O(engine=icmp)).
  returned: always
  type: int
  sample: 4
engine:
  description: The engine that ran the probes, C(icmp) or C(ping).
  returned: always
  type: str
  sample: icmp
elapsed:
  description: Seconds the probes took on this node.
  returned: always
  type: float
  sample: 0.43
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (
    DEFAULT_INTERVAL,
    PROBE_ARGUMENT_SPEC,
    SCALE_ARGUMENT_SPEC,
    ConnectivityError,
    node_probes,
    probe_node,
    validate_settings,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Runner
from ansible_collections.netplumb.multihome.plugins.module_utils.icmp import available


def main():
    module = AnsibleModule(
        argument_spec=dict(
            probes=dict(
                type='list',
                elements='dict',
                options=dict(
                    src=dict(type='str', required=True),
                    dst=dict(type='str', required=True),
                    network=dict(type='str', required=True),
                    peer=dict(type='str', required=True),
                ),
            ),
            nodes=dict(type='dict'),
            address_sets=dict(type='dict', default={}),
            node=dict(type='str'),
            engine=dict(type='str', choices=['auto', 'icmp', 'ping'], default='auto'),
            bandwidth=dict(type='bool', default=False),
            bandwidth_port=dict(type='int', default=5201),
            bandwidth_time=dict(type='int', default=1),
            bandwidth_wait=dict(type='int', default=60),
            **SCALE_ARGUMENT_SPEC,
            **PROBE_ARGUMENT_SPEC,
        ),
        mutually_exclusive=[('probes', 'nodes')],
        required_one_of=[('probes', 'nodes')],
        required_together=[('nodes', 'node')],
        supports_check_mode=True,
    )
    params = module.params
    why_not = available() if params['engine'] != 'ping' else 'engine=ping'
    if params['interval'] is None:
        params['interval'] = DEFAULT_INTERVAL['ping' if why_not else 'icmp']
    try:
        validate_settings(params['count'], params['interval'], params['timeout'], params['concurrency'])
        probes = node_probes(
            params['probes'],
            params['nodes'],
            params['address_sets'],
            params['node'],
            dict((key, params[key]) for key in ('scale', 'neighbours', 'sample', 'seed')),
        )
    except ConnectivityError as exc:
        module.fail_json(msg='connectivity_probe: %s' % exc)
    settings = dict(params)
    if params['engine'] == 'icmp' and why_not:
        module.fail_json(msg='connectivity_probe: engine=icmp needs raw ICMP sockets (root), but %s' % why_not)
    settings['engine'] = 'ping' if why_not else 'icmp'
    ping_bin = module.get_bin_path('ping') if settings['engine'] == 'ping' else None
    if settings['engine'] == 'ping' and ping_bin is None:
        module.fail_json(
            msg='connectivity_probe: ping is not installed on this node: install iputils-ping (Debian, Ubuntu) '
            'or iputils (RHEL, SUSE)'
        )
    iperf3_bin = module.get_bin_path('iperf3') if params['bandwidth'] else None
    result = probe_node(Runner(module.run_command), probes, settings, ping_bin, iperf3_bin)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
