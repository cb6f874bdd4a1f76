#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: cni_preflight
short_description: Run network attachments' real CNI plugins on a node into throwaway namespaces, probe, clean up
version_added: 0.1.0
description:
  - A data-plane preflight for Multus network attachments, run on each node. For every attachment it runs the
    attachment's own CNI plugin binary from O(cni_bin_dir) exactly as a container runtime does (C(CNI_COMMAND),
    C(CNI_CONTAINERID), C(CNI_NETNS), C(CNI_IFNAME), C(CNI_PATH) set, the configuration on stdin) into a throwaway
    network namespace named C(npf-<attachment>-<hash>), checks the interface it made, pings the same attachment on
    the other nodes from inside the namespace, and removes everything again.
  - The attachment's IPAM is replaced by a C(static) one that holds only the test address, so no cluster IPAM
    state (whereabouts) is read or written. An attachment without IPAM, or with one that has no address
    pool (static, dhcp), runs without an address and is not probed. A conflist runs its plugins in turn as libcni
    does (each with the list's C(name) and C(cniVersion), C(prevResult) from the plugin before; DEL in reverse order).
  - O(state=present) (ADD) first removes namespaces an interrupted earlier run left for the same attachments, then
    creates one namespace per attachment and runs ADD. The interface must exist, be up with a carrier, hold the test
    address and have the MTU of the configuration (C(mtu)) or, when it gives none, of the macvlan/ipvlan master or
    the host-device device. A plugin that fails is reported with its own error text (the C(msg) of its JSON error).
  - O(state=probe) pings every peer of every attachment from inside its namespace (C(ip netns exec NS ping)),
    several at once.
  - O(state=absent) (DEL) runs DEL with the same configuration for every attachment (also those whose ADD failed; DEL
    is safe to repeat), deletes their namespaces and every other C(npf-*) namespace (left by an interrupted run), and
    deletes node links a plugin created for the preflight (a bridge the bridge plugin made, marked by an alias) once
    no port is left on them.
  - Give the three states the same O(attachments), O(ifname), O(plan), O(node) and O(node_index); the namespace names
    and test addresses are derived from them.
author:
  - netplumb.multihome contributors (@netplumb)
requirements:
  - Root on the node (network namespaces), iproute2 with JSON output (C(ip -j)), C(ping) (iputils) for O(state=probe).
  - The CNI plugin binaries of the attachments, and the C(static) IPAM plugin, in O(cni_bin_dir).
attributes:
  check_mode:
    support: full
    description: Reports the namespaces, commands and test addresses it would use, and changes nothing; nothing is pinged.
  diff_mode:
    support: none
    description: Nothing persistent is changed.
options:
  state:
    description:
      - C(present) creates the namespaces and runs ADD, C(probe) pings the peers, C(absent) runs DEL and removes the
        namespaces and marked links.
    type: str
    choices: [present, probe, absent]
    default: present
  attachments:
    description:
      - The network attachments to test on this node.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The attachment's name (the NAD's), used in the namespace name and the report. Unique.
        type: str
        required: true
      config:
        description: The CNI configuration, the NAD's C(spec.config), as JSON text or a dict. A conflist is accepted.
        type: raw
        required: true
      test_address:
        description:
          - The address with prefix this node tests with (C(198.18.61.254/24)).
          - Without it, the address is derived from the configuration's IPAM pool (whereabouts C(range),
            C(range_start), C(range_end), C(exclude), C(gateway); host-local C(subnet)/C(ranges)), counted down from
            the end of the pool by O(node_index), or the top usable address of this node's slice when O(plan) has
            per-node slices of that range.
        type: str
      peers:
        description: Addresses to ping for this attachment (bare IP addresses, or dicts with C(address) and C(node)).
        type: list
        elements: raw
        default: []
  peers:
    description:
      - The other nodes' attachments, for example the RV(attachments) of their O(state=present) runs. Each is a dict
        with C(name) and C(address) (or C(test_address)), optionally C(node) and C(status); those of this O(node),
        those whose C(status) is not C(ok) (their ADD failed) and those without an address are left out.
      - The peers of an attachment are its own C(peers) plus these entries of the same C(name).
    type: list
    elements: dict
    default: []
  plan:
    description:
      - The plan of M(netplumb.multihome.cidr_plan) with C(scheme=network_ranges) (or its whole result). When the plan
        network whose range is an attachment's range has per-node slices, the test address is the top of O(node)'s slice.
    type: dict
  node:
    description: This node's name, as in the plan's slices; also written into the records for the report.
    type: str
  node_index:
    description: This node's position among the nodes tested (0 for the first), for test addresses counted from the end.
    type: int
    default: 0
  ifname:
    description: The interface name in the namespace (C(CNI_IFNAME)), as Multus names the first secondary interface.
    type: str
    default: net1
  cni_bin_dir:
    description: Where the CNI plugin binaries are (C(CNI_PATH)).
    type: path
    default: /opt/cni/bin
  probe_count:
    description: Pings per peer.
    type: int
    default: 2
  probe_timeout:
    description: Seconds to wait for each reply (C(ping -W)).
    type: int
    default: 1
  probe_max_loss:
    description: Highest packet loss in percent for a peer to count as reachable; at least one reply is always needed.
    type: int
    default: 50
  probe_workers:
    description: How many pings run at once.
    type: int
    default: 8
  fail_on_error:
    description:
      - Fail when an ADD, an interface check, a probe or a DEL (of an interface that existed) failed. With C(false) the
        module succeeds and reports the failures in RV(failed_attachments) and RV(attachments).
      - Namespaces that could not be removed always fail the module.
    type: bool
    default: true
notes:
  - Real pods get addresses from the start of a range (or node slice) first, so the test addresses come from its end;
    an address a pod already holds would still clash. The test address is up for a few seconds only.
  - Run one preflight at a time per node; O(state=absent) removes every C(npf-*) namespace.
  - C(changed) is true when namespaces or links were created or removed. The throwaway state of one run is gone
    after O(state=absent); RV(stale_removed) names what earlier, interrupted runs had left.
seealso:
  - module: netplumb.multihome.nad_objects
    description: Builds the NetworkAttachmentDefinitions whose C(spec.config) this module tests.
  - module: netplumb.multihome.cidr_plan
    description: Plans the ranges (and per-node slices) the test addresses come from.
  - name: CNI specification
    description: How a runtime runs a plugin (environment variables, stdin, results, errors, chaining).
    link: https://www.cni.dev/docs/spec/
'''

EXAMPLES = r'''
# playbooks/preflight.yml (role netplumb.multihome.cni_preflight) does all of this for the NADs of a networks list.
- name: Build the NADs' configurations
  netplumb.multihome.nad_objects:
    networks:
      - name: storage-net
        namespace: ais
        type: macvlan
        master: ens1f0
        ipam: {type: whereabouts, range: 198.18.61.0/24}
  register: nads
  delegate_to: localhost
  run_once: true

- name: Test them on every node, and always clean up
  module_defaults:
    netplumb.multihome.cni_preflight:
      attachments:
        - name: storage-net
          config: "{{ nads.objects[0].object.spec.config }}"
      node: "{{ inventory_hostname }}"
      node_index: "{{ ansible_play_hosts_all.index(inventory_hostname) }}"
      fail_on_error: false
  block:
    - name: Create the namespaces and run ADD (node index 0 gets 198.18.61.254/24, 1 gets .253...)
      netplumb.multihome.cni_preflight:
        state: present
      register: added

    - name: Ping the other nodes' test addresses from inside the namespaces
      netplumb.multihome.cni_preflight:
        state: probe
        peers: "{{ ansible_play_hosts | map('extract', hostvars, ['added', 'attachments']) | flatten }}"
      register: probed
  always:
    - name: Run DEL and remove the namespaces
      netplumb.multihome.cni_preflight:
        state: absent

- name: Test one attachment with an address of your choosing, and ping a known host
  netplumb.multihome.cni_preflight:
    state: present
    attachments:
      - name: storage-net
        config: '{"cniVersion":"0.3.1","name":"storage-net","type":"macvlan","master":"ens1f0","ipam":{}}'
        test_address: 198.18.61.250/24
        peers: [198.18.61.1]

- name: Remove whatever an interrupted preflight left on a node
  netplumb.multihome.cni_preflight:
    state: absent
'''

RETURN = r'''
attachments:
  description: One record per attachment, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The attachment's name.
      type: str
    node:
      description: O(node).
      type: str
    type:
      description: The main plugin's type.
      type: str
      sample: macvlan
    netns:
      description: The namespace of the attachment.
      type: str
      sample: npf-storage-net-3f2a9c1d
    ifname:
      description: The interface name in the namespace.
      type: str
    test_address:
      description: The address with prefix the interface gets (null for an attachment tested without an address).
      type: str
      sample: 198.18.61.254/24
    address:
      description: RV(attachments[].test_address) without the prefix, what peers ping.
      type: str
    address_source:
      description: How the test address was chosen.
      type: str
      sample: end of range 198.18.61.0/24, node index 0
    status:
      description:
        - C(ok), C(failed), C(skipped) (probe of an attachment whose ADD failed or that has no address) or C(would-run)
          (check mode).
      type: str
    ok:
      description: Whether this phase passed for the attachment.
      type: bool
    errors:
      description: What went wrong, each naming the check or quoting the plugin's own error.
      type: list
      elements: str
    plugin_error:
      description: The plugin's own error text of a failed ADD (or DEL), as it printed it.
      type: str
      sample: "failed to create ipvlan: operation not supported"
    result:
      description: The CNI result of the last plugin of a successful ADD.
      type: dict
    config:
      description: The plugin configurations run (IPAM swapped), in order.
      type: list
      elements: dict
    interface:
      description:
        - The interface checks of O(state=present) - C(found), C(up), C(carrier), C(operstate), C(mtu), C(expected_mtu),
          C(addresses) and C(errors).
      type: dict
    peers:
      description:
        - The probe results of O(state=probe), one per peer - C(address), C(node), C(ok) (at least one reply and at most
          O(probe_max_loss) percent lost), then the ping's result in the shape M(netplumb.multihome.connectivity_probe)
          reports it - C(connected) (at least one reply), C(rc), C(transmitted), C(received), C(loss) (percent; null when
          ping sent nothing), C(rtt) (C(min), C(avg), C(max), C(mdev) in ms; null without a reply) and C(error) (why no
          reply came back - ping's own words, or the counts; null when one did).
      type: list
      elements: dict
    del_ok:
      description: Whether DEL succeeded (O(state=absent)).
      type: bool
    del_error:
      description: The plugin's error text of a failed DEL (O(state=absent)).
      type: str
    summary:
      description: One line for people.
      type: str
  sample:
    - name: storage-net
      node: worker1
      type: macvlan
      netns: npf-storage-net-3f2a9c1d
      ifname: net1
      test_address: 198.18.61.254/24
      address: 198.18.61.254
      status: ok
      ok: true
      errors: []
      interface: {found: true, up: true, carrier: true, mtu: 1500, expected_mtu: 1500, addresses: [198.18.61.254/24]}
      summary: "storage-net macvlan: ADD ok, net1 up in npf-storage-net-3f2a9c1d with 198.18.61.254/24, MTU 1500"
failed_attachments:
  description: The names of the attachments whose phase failed.
  returned: always
  type: list
  elements: str
created:
  description: Namespaces created (O(state=present)).
  returned: always
  type: list
  elements: str
removed:
  description: Namespaces and links removed, or that would be in check mode.
  returned: always
  type: list
  elements: str
stale_removed:
  description:
    - What earlier, interrupted runs had left and this run removed (or would remove in check mode) - namespaces of the
      same attachments with O(state=present), any other C(npf-*) namespace with O(state=absent), and marked links without ports.
  returned: always
  type: list
  elements: str
summary:
  description: One line per attachment, for people.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_preflight as pf
from ansible_collections.netplumb.multihome.plugins.module_utils import preflight_run
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Runner


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=list(pf.STATES), default='present'),
            attachments=dict(
                type='list',
                elements='dict',
                default=[],
                options=dict(
                    name=dict(type='str', required=True),
                    config=dict(type='raw', required=True),
                    test_address=dict(type='str'),
                    peers=dict(type='list', elements='raw', default=[]),
                ),
            ),
            peers=dict(type='list', elements='dict', default=[]),
            plan=dict(type='dict'),
            node=dict(type='str'),
            node_index=dict(type='int', default=0),
            ifname=dict(type='str', default='net1'),
            cni_bin_dir=dict(type='path', default='/opt/cni/bin'),
            probe_count=dict(type='int', default=2),
            probe_timeout=dict(type='int', default=1),
            probe_max_loss=dict(type='int', default=50),
            probe_workers=dict(type='int', default=8),
            fail_on_error=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        preflight_run.check_settings(params)
        records = preflight_run.prepare(params)
    except pf.PreflightError as exc:
        module.fail_json(msg='cni_preflight: %s' % exc)
    node = preflight_run.Node(
        Runner(module.run_command), module.get_bin_path('ip', required=True), params['cni_bin_dir']
    )
    try:
        result = preflight_run.run(params, node, records, module.check_mode)
    except preflight_run.PreflightFailed as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
