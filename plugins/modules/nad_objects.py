#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: nad_objects
short_description: Validate networks and build their NetworkAttachmentDefinitions
version_added: 0.1.0
description:
  - Turns one inventory list of secondary networks into the Kubernetes objects that implement them, without touching
    a cluster. Apply the result with M(kubernetes.core.k8s) (one task per RV(objects) item, C(state) and
    C(definition) from the item), or write it out as YAML.
  - C(kind=nad) items (the default) become Multus NetworkAttachmentDefinitions (C(k8s.cni.cncf.io/v1)), one per
    namespace, with C(spec.config) a compact CNI JSON string whose keys come in a fixed order. Supported C(type)s
    are C(macvlan), C(ipvlan), C(bridge), C(host-device), C(sriov) and C(ovn-k8s-cni-overlay) (OVN-Kubernetes
    secondary networks). C(kind=spiderpool) items become a Spiderpool SpiderSubnet and its SpiderIPPools
    (C(spiderpool.spidernet.io/v2beta1)); C(kind=multinicnetwork) items become a Multi-NIC CNI MultiNicNetwork
    (C(multinic.fms.io/v1)).
  - Everything is validated before anything is returned, and every problem is reported at once, each naming the
    network, the bad value and what was expected. Checked are names and namespaces (DNS-1123 labels), interface
    names (1 to 15 characters, no C(/), C(:), whitespace or shell metacharacters, not C(.) or C(..)), modes, MTUs
    (68 to 65535), VLANs, IPAM blocks against their type (ranges are CIDRs, bounds, excludes and gateways inside
    them), the OVN-Kubernetes rules (reserved network names C(default) and C(ovn-kubernetes), topology, subnets,
    C(vlan_id) only on localnet, NADs sharing a network name identical apart from C(netAttachDefName)), objects
    defined twice, and any two present networks whose address ranges overlap.
  - Give O(plan) (the RV(netplumb.multihome.cidr_plan#module:plan) of M(netplumb.multihome.cidr_plan) with
    C(scheme=network_ranges)) and C(ipam.from_plan) so that every NAD gets its own range instead of one hard-coded
    range for all.
  - The collection runs it as an action, on the controller in the task's worker, without a module process; this
    module is what runs where the action is not used.
author:
  - netplumb.multihome contributors (@netplumb)
extends_documentation_fragment:
  - netplumb.multihome.changes_nothing
  - netplumb.multihome.ovnk
options:
  networks:
    description:
      - The networks, one dict each. Common keys are C(kind) (C(nad), default, C(spiderpool) or C(multinicnetwork)),
        C(name), C(state) (C(present), default, or C(absent)), C(labels) and C(annotations).
      - For C(kind=nad) also C(namespace) or C(namespaces), C(type), C(cni_version) (default C(0.3.1), one of C(0.1.0)
        to C(1.0.0)), C(capabilities) (for example C(ips=true) and C(mac=true), so that the pod annotation's C(ips) and
        C(mac) reach the plugin), C(extra_config) (further plugin keys, passed through) and C(ipam).
      - C(macvlan) takes C(master) (required), C(mode) (C(bridge), C(vepa), C(private) or C(passthru)) and C(mtu);
        C(ipvlan) takes C(master) (required), C(mode) (C(l2), C(l3) or C(l3s)) and C(mtu); C(bridge) takes
        C(bridge) (required), C(mtu), C(vlan) (0 to 4094), C(is_gateway), C(is_default_gateway), C(force_address),
        C(ip_masq), C(hairpin_mode) and C(promisc_mode); C(host-device) takes exactly one of C(device),
        C(hwaddr), C(kernelpath) or C(pci_bus_id) and needs no C(ipam); C(sriov) takes C(resource_name) (required,
        written to the C(k8s.v1.cni.cncf.io/resourceName) annotation), C(vlan), C(vlan_qos), C(spoofchk), C(trust),
        C(link_state), C(mac), C(min_tx_rate) and C(max_tx_rate).
      - C(ovn-k8s-cni-overlay) takes C(topology) (C(layer3), C(layer2) or C(localnet), required), C(network_name)
        (default the NAD name), C(subnets), C(exclude_subnets), C(join_subnet), C(mtu), C(vlan_id) (localnet only),
        C(physical_network_name) (localnet only), C(allow_persistent_ips) (not layer3) and C(role) (C(primary) or
        C(secondary)), and no C(ipam). C(netAttachDefName) is always C(<namespace>/<name>) of each NAD.
      - C(ipam) has a C(type). C(whereabouts) takes C(range) (a CIDR), C(range_start), C(range_end), C(exclude),
        C(gateway), C(routes), C(enable_overlapping_ranges), C(network_name) and C(node_slice_size); C(host-local)
        takes C(subnet), C(range_start), C(range_end) and C(gateway), or C(ranges) (a list of range sets, each a
        list of those), and C(routes); C(static) takes C(addresses) (each C({address, gateway}) with C(address) in
        CIDR notation), C(routes) and C(dns); C(dhcp) takes nothing (not with C(ipvlan)); C(spiderpool) takes
        C(default_ipv4_ippool), C(default_ipv6_ippool) and C(clean_gateway); C(none) gives an empty C(ipam).
      - Instead of C(range) or C(subnet), C(whereabouts) and C(host-local) take C(from_plan), the name of a network
        of O(plan), or C(true) for the NAD's own name; C(whereabouts) then also takes C(node_slices=true) for a
        C(node_slice_size) from the plan's per-node slices. C(type) defaults to C(whereabouts) with C(from_plan).
      - For C(kind=spiderpool), C(subnet) (a CIDR), C(ips) and C(exclude_ips) (addresses or C(first-last) ranges),
        C(gateway), C(routes) (each C({dst, gw})), C(create_subnet) (default true) and C(ippools), each
        with C(name), C(ips), C(exclude_ips), C(gateway), C(routes),
        C(namespace_name), C(node_name), C(multus_name), C(default), C(labels) and C(annotations).
      - Spiderpool's webhooks are checked too - no default route in C(routes) (set C(gateway)), no two routes with
        one C(dst), a route's C(gw) inside the subnet, a C(gateway) inside C(ips) only when C(exclude_ips) holds it,
        and with C(create_subnet) every pool's addresses (C(ips) less C(exclude_ips)) among the subnet's (so a subnet
        with pools needs C(ips)). C(vlan) is refused, Spiderpool v1.0.0 removed it from both CRDs.
      - For C(kind=multinicnetwork), C(subnet) (IPv4), C(ipam) (C({type=multi-nic-ipam, host_block,
        interface_block, vlan_mode, exclude_cidrs}) or another IPAM block as above), C(multi_nic_ipam), C(plugin)
        (C({type, cni_version, args})), C(attach_policy) (C({strategy, target})), C(namespaces) and C(master_nets).
    type: list
    elements: dict
    default: []
  defaults:
    description:
      - Keys applied to every C(kind=nad) network that does not set them, for example C(cni_version), C(namespace),
        C(mtu) or C(ipam), or sets to null. Type-specific keys apply only to the types that have them, and
        C(ipam) and C(cni_version) not to C(ovn-k8s-cni-overlay). C(labels) and C(annotations) are merged key by key,
        and they and C(state) also apply to the other kinds.
    type: dict
    default: {}
  plan:
    description:
      - The RV(netplumb.multihome.cidr_plan#module:plan) of M(netplumb.multihome.cidr_plan) with
        C(scheme=network_ranges) (or that whole result), for C(ipam.from_plan).
    type: dict
  reserved:
    description:
      - The cluster's pod and service networks (and node networks), which an OVN-Kubernetes C(layer2) or C(layer3)
        network's C(subnets) and join subnets must not overlap. Other NAD types are not checked against them.
      - A list of CIDRs, a list of C({name, cidr}), or a dict of name to CIDR (or list of CIDRs), as for
        M(netplumb.multihome.cidr_plan).
    type: raw
  whereabouts_namespace:
    description:
      - The namespace whereabouts runs in (its node-slice controller's C(WHEREABOUTS_NAMESPACE); C(kube-system) in
        upstream's manifests). A whereabouts NAD with C(node_slice_size) (or C(node_slices)) in any other namespace is
        refused, because the controller keeps the NodeSlicePool in its own namespace with the NAD as its owner, and
        Kubernetes' garbage collector deletes an object whose owner is in another namespace, so the NAD's pods would
        get no address. Pods of other namespaces attach such a NAD as C(kube-system/<name>).
      - Set to an empty string to skip this check.
    type: str
    default: kube-system
  legacy:
    description:
      - The AIStore playbooks' variables, turned into more O(networks) (added after them).
      - Each name of O(legacy.network_attachment) becomes a NAD on the interface at the same position of
        O(legacy.network_interface), in O(legacy.attachment_namespace), with the keys of O(legacy.template).
    type: dict
    suboptions:
      network_attachment:
        description: The NAD names, comma-separated (or a list).
        type: raw
        required: true
      network_interface:
        description: The node interfaces, comma-separated (or a list), one per NAD in the same order.
        type: raw
        required: true
      attachment_namespace:
        description: The namespace of every NAD.
        type: str
        required: true
      template:
        description:
          - Network keys for every NAD (default C(type=macvlan), C(mode=bridge)), typically C(ipam).
          - An C(ipam) with C(from_plan=true) gives each NAD its own range from O(plan).
        type: dict
        default: {}
seealso:
  - module: netplumb.multihome.cidr_plan
    description: Plans one range per network attachment (C(scheme=network_ranges)) for C(ipam.from_plan).
  - module: kubernetes.core.k8s
    description: Applies the objects.
  - name: Multus NetworkAttachmentDefinition
    description: The custom resource and the pod annotation C(k8s.v1.cni.cncf.io/networks).
    link: https://github.com/k8snetworkplumbingwg/multus-cni
  - name: CNI plugins
    description: The macvlan, ipvlan, bridge, host-device, static, host-local and dhcp plugins.
    link: https://www.cni.dev/plugins/current/
'''

EXAMPLES = r'''
- name: Plan one range per network attachment
  netplumb.multihome.cidr_plan:
    scheme: network_ranges
    supernet: 198.18.32.0/20
    networks:
      - {name: storage-net, prefix: 24}
      - {name: repl-net, prefix: 24}
  register: ranges

- name: Validate the networks and build their objects
  netplumb.multihome.nad_objects:
    plan: "{{ ranges.plan }}"
    defaults:
      namespace: aistore
      mtu: 9000
    networks:
      - name: storage-net
        type: macvlan
        master: ens1f0
        mode: bridge
        ipam: {type: whereabouts, from_plan: true}
      - name: repl-net
        type: ipvlan
        master: ens1f1
        mode: l2
        ipam: {from_plan: true, gateway: 198.18.33.1}
      - name: tenant-l2
        type: ovn-k8s-cni-overlay
        namespaces: [team-a, team-b]
        topology: layer2
        subnets: 198.18.64.0/24
  register: nads

- name: Apply them
  kubernetes.core.k8s:
    state: "{{ item.state }}"
    definition: "{{ item.object }}"
  loop: "{{ nads.objects }}"
  loop_control:
    label: "{{ item.object.kind }} {{ item.object.metadata.namespace | default('') }}/{{ item.object.metadata.name }}"

- name: The AIStore playbooks' variables, one range each from the plan
  netplumb.multihome.nad_objects:
    plan: "{{ ranges.plan }}"
    legacy:
      network_attachment: storage-net,repl-net
      network_interface: ens1f0,ens1f1
      attachment_namespace: aistore
      template:
        ipam: {type: whereabouts, from_plan: true}
'''

RETURN = r'''
primary_namespaces:
  description:
    - The namespaces of OVN-Kubernetes networks with C(role=primary). OVN-Kubernetes uses such a network only in a
      namespace labelled C(k8s.ovn.org/primary-user-defined-network), and the label can only be set when the namespace
      is created; the module warns about each.
  returned: success
  type: list
  elements: str
  sample: [team-a]
objects:
  description:
    - One item per Kubernetes object, in the order of the networks (one per namespace, in the order given),
      each C(state) (C(present) or C(absent)) and C(object), the object to apply. For C(absent) the object has only
      C(apiVersion), C(kind) and C(metadata) (name and, for NADs, namespace).
  returned: success
  type: list
  elements: dict
  sample:
    - state: present
      object:
        apiVersion: k8s.cni.cncf.io/v1
        kind: NetworkAttachmentDefinition
        metadata: {name: storage-net, namespace: aistore}
        spec:
          config: >-
            {"cniVersion":"0.3.1","name":"storage-net","type":"macvlan","master":"ens1f0","mode":"bridge","mtu":9000,
            "ipam":{"type":"whereabouts","range":"198.18.32.0/24","range_start":"198.18.32.1","range_end":"198.18.32.254"}}
summary:
  description: One line per object, for people.
  returned: success
  type: list
  elements: str
  sample:
    - present NetworkAttachmentDefinition aistore/storage-net  macvlan master=ens1f0 mode=bridge mtu=9000 ipam=whereabouts 198.18.32.0/24
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad_run import NAD_ARGUMENT_SPEC, nad_outcome


def main():
    module = AnsibleModule(argument_spec=NAD_ARGUMENT_SPEC, supports_check_mode=True)
    try:
        outcome, warnings = nad_outcome(module.params)
    except PlanError as exc:
        module.fail_json(msg='nad_objects: %s' % exc)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**outcome)


if __name__ == '__main__':
    main()
