#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: cidr_plan
short_description: Plan multi-NIC addressing before anything is touched
version_added: 0.1.0
description:
  - Computes the addresses of a multi-homed cluster from its inventory, without changing anything.
  - C(multinic_blocks) is the scheme of Multi-NIC CNI's MultiNicNetwork. Interface index I(i) owns block I(i) of
    O(subnet) with O(interface_block) more prefix bits; host index I(h) owns block I(h) of that with O(host_block)
    more bits. Each NIC belongs to the master network that contains its address. A new host takes the highest
    index in use on that interface plus one, or the lowest free index once that no longer fits; blocks that
    overlap O(exclude) are skipped. In C(l3) and C(l3s) mode the routes every host needs to reach the other
    hosts' pod blocks are returned too.
  - C(node_subnets) is the scheme of OVN-Kubernetes secondary networks. O(subnets) is parsed the way OVN-Kubernetes
    parses a NetworkAttachmentDefinition's C(subnets) (C(10.128.0.0/16/24,fd00:10:128::/48)), and for C(layer3) each
    node of O(nodes) gets one host subnet per IP family, as OVN-Kubernetes gives it, the lowest free block first
    (OVN-Kubernetes' own allocator may pick other free blocks, so the plan says what is free, not the order it picks them in).
  - C(network_ranges) carves O(supernet) into non-overlapping IPAM ranges, one per network attachment in
    O(networks), with optional per-node slices, so that two NetworkAttachmentDefinitions never share a range.
  - In every scheme the result is checked against itself and against O(reserved), and the module fails naming
    both ranges of the first overlap. Give O(previous) (an earlier result's RV(plan)) to keep every existing
    host's or network's assignment on a re-plan.
  - Bad input fails with a message naming the value and what was expected; nothing is returned half done.
  - The collection runs it as an action, on the controller in the task's worker, without a module process; this
    module is what runs where the action is not used.
author:
  - netplumb.multihome contributors (@netplumb)
extends_documentation_fragment:
  - netplumb.multihome.changes_nothing
  - netplumb.multihome.ovnk
options:
  scheme:
    description: Which addressing scheme to plan.
    type: str
    choices: [multinic_blocks, node_subnets, network_ranges]
    default: multinic_blocks
  subnet:
    description:
      - For C(multinic_blocks), the pod network every block is cut from, as a network address (C(192.168.0.0/16)).
        IPv4 only, as Multi-NIC CNI's subnet; the hosts' NICs may be on IPv6 networks.
    type: str
  interface_block:
    description: For C(multinic_blocks), the number of bits for the interface index.
    type: int
    default: 2
  host_block:
    description: For C(multinic_blocks), the number of bits for the host index.
    type: int
    default: 6
  master_nets:
    description:
      - For C(multinic_blocks), the host networks of the NICs in interface-index order.
      - When omitted, the networks of the NIC addresses in the order they are first seen.
    type: list
    elements: str
  exclude:
    description: For C(multinic_blocks), CIDRs no pod block may overlap.
    type: list
    elements: str
  vlan_mode:
    description: For C(multinic_blocks), the Multi-NIC CNI VLAN mode; C(l3) and C(l3s) return routes.
    type: str
    choices: [l2, l3, l3s]
    default: l2
  hosts:
    description:
      - For C(multinic_blocks), the hosts and their NICs. C(address) is the NIC's IP with its prefix (C(10.0.1.5/24)).
      - For the other schemes, when O(nodes) is not given, the host names are used as nodes.
    type: list
    elements: dict
    suboptions:
      name:
        description: Host name, unique.
        type: str
        required: true
      main_ip:
        description: The host's main address (informational).
        type: str
      interfaces:
        description: The host's NICs as C({name, address}).
        type: list
        elements: dict
        default: []
  subnets:
    description:
      - For C(node_subnets), the OVN-Kubernetes C(subnets) value, a comma-separated string or a list,
        each entry C(CIDR) or for C(layer3) C(CIDR/hostlength).
    type: raw
  topology:
    description: For C(node_subnets), the OVN-Kubernetes topology.
    type: str
    choices: [layer3, layer2, localnet]
    default: layer3
  exclude_subnets:
    description: For C(node_subnets), the C(excludeSubnets) value; each must lie inside one of O(subnets).
    type: raw
  nodes:
    description: For C(node_subnets) and C(network_ranges), the node names, in order.
    type: list
    elements: str
  supernet:
    description: For C(network_ranges), the network every range is cut from.
    type: str
  networks:
    description:
      - For C(network_ranges), one entry per network attachment, C({name, prefix}) or C({name, size}) with
        C(size) the number of addresses needed, and optionally C(node_prefix), the prefix length of a per-node slice.
    type: list
    elements: dict
  reserved:
    description:
      - Networks no planned range may overlap (cluster pod network, service network, node networks).
      - A list of CIDRs, a list of C({name, cidr}), or a dict of name to CIDR (or list of CIDRs).
    type: raw
  previous:
    description: An earlier result's RV(plan), so that a re-plan keeps every existing assignment.
    type: dict
seealso:
  - name: Multi-NIC CNI
    description: The MultiNicNetwork resource whose C(hostBlock)/C(interfaceBlock) scheme C(multinic_blocks) follows.
    link: https://github.com/foundation-model-stack/multi-nic-cni
  - name: OVN-Kubernetes secondary networks
    description: The C(subnets) syntax that C(node_subnets) parses.
    link: https://ovn-kubernetes.io/
'''

EXAMPLES = r'''
- name: Plan Multi-NIC CNI blocks for two hosts with two NICs each
  netplumb.multihome.cidr_plan:
    subnet: 192.168.0.0/16
    interface_block: 2
    host_block: 6
    vlan_mode: l3
    hosts:
      - name: host1
        interfaces:
          - {name: eth1, address: 10.0.1.5/24}
          - {name: eth2, address: 10.0.2.5/24}
      - name: host2
        interfaces:
          - {name: eth1, address: 10.0.1.6/24}
          - {name: eth2, address: 10.0.2.6/24}
    reserved:
      pod_network: 10.128.0.0/14
      service_network: 172.30.0.0/16
  register: blocks

- name: Re-plan after adding a host, keeping everyone's indexes
  netplumb.multihome.cidr_plan:
    subnet: 192.168.0.0/16
    hosts: "{{ new_hosts }}"
    previous: "{{ blocks.plan }}"

- name: Host subnets of an OVN-Kubernetes layer3 secondary network
  netplumb.multihome.cidr_plan:
    scheme: node_subnets
    subnets: 10.128.0.0/16/24,fd00:10:128::/48
    topology: layer3
    nodes: "{{ groups['k8s_cluster'] }}"

- name: One whereabouts range per NetworkAttachmentDefinition, never shared
  netplumb.multihome.cidr_plan:
    scheme: network_ranges
    supernet: 198.18.0.0/16
    networks:
      - {name: storage-net, prefix: 24}
      - {name: replication-net, size: 200, node_prefix: 28}
    nodes: [worker1, worker2, worker3]
'''

RETURN = r'''
plan:
  description:
    - The plan. For C(multinic_blocks), C(interfaces) with C(index), C(master_net), C(vlan_cidr) and C(hosts)
      (each C(name), C(index), C(interface), C(host_ip), C(pod_cidr)).
    - For C(node_subnets), C(topology), C(subnets) (C(cidr), C(host_length)), C(exclude_subnets) and C(nodes)
      (each C(name) and its host C(subnets)).
    - For C(network_ranges), C(supernet) and C(networks) (each C(name), C(range), C(range_start), C(range_end)
      and C(nodes) with each node's C(range)).
    - Pass it back as O(previous) to keep assignments stable.
  returned: success
  type: dict
  sample:
    interfaces:
      - index: 0
        master_net: 10.0.1.0/24
        vlan_cidr: 192.168.0.0/18
        hosts:
          - {name: host1, index: 0, interface: eth1, host_ip: 10.0.1.5, pod_cidr: 192.168.0.0/24}
routes:
  description:
    - For C(multinic_blocks) in C(l3)/C(l3s) mode, per host, the routes to every other host's pod block on each interface.
    - Empty otherwise.
  returned: success
  type: dict
  sample:
    host1:
      - {dst: 192.168.1.0/24, via: 10.0.1.6, dev: eth1}
summary:
  description: One line per planned block, route or range, for people.
  returned: success
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.plan_run import PLAN_ARGUMENT_SPEC, plan_outcome


def main():
    module = AnsibleModule(argument_spec=PLAN_ARGUMENT_SPEC, supports_check_mode=True)
    try:
        outcome = plan_outcome(module.params)
    except PlanError as exc:
        module.fail_json(msg='cidr_plan (%s): %s' % (module.params['scheme'], exc))
    module.exit_json(**outcome)


if __name__ == '__main__':
    main()
