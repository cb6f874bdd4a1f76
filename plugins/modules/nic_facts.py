#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: nic_facts
short_description: Find a host's NICs, where they sit on the PCI bus, and pick the ones to use
version_added: 0.1.0
description:
  - Reads every interface under C(<sysfs_root>/class/net) (MAC, MTU, state, driver, speed, NUMA node, PCI address)
    and joins it with the addresses and default routes of C(ip -j addr show), C(ip -j route show default) and
    C(ip -6 -j route show default). Never changes anything.
  - On a host without IPv6 (C(ip -6) answers that the address family is not supported) there is no IPv6 default
    route; any other failure of C(ip) fails the module, naming the command.
  - RV(nics[].pci_address) is the PCI function that is the NIC. For a virtio NIC, whose C(device) link points at
    C(.../0000:00:03.0/virtio2), that is the parent C(0000:00:03.0); Ansible's own C(pciid) fact says C(virtio2).
    A USB NIC has none (its chain passes the USB controller's PCI function, which is not the NIC);
    RV(nics[].bus) and RV(nics[].bus_path) say where it is. veths, bridges and other virtual links have no device, so
    RV(nics[].virtual) is true.
  - RV(nics[].management) marks the interface holding the address the Ansible connection came in on
    (O(connection_ip), by default the server address of C(SSH_CONNECTION)); with local, nsenter or podman connections there is none.
  - O(select) picks NICs the way Multi-NIC CNI's attachment policy does (C(masterNets), C(cni-args) C(master) and C(nics),
    the C(devClass) vendor/product IDs, the C(topology) NUMA node), plus criteria of its own. Every given criterion must
    hold; the matches are sorted by name and the first O(select.count) are taken. The module fails, naming why each
    NIC was left out, when fewer than O(select.count) (or, without it, no) NICs match.
  - O(resolve) finds the NICs a list of C({name|mac|pci}) entries means, and which of them must not be taken away from
    the host (they carry a default route, hold the connection address or one of O(resolve.protected_addresses)). It
    does not fail for an entry it cannot resolve or a NIC it refuses; it returns them, with the reasons, in
    RV(resolved), RV(refused), RV(unresolved) and RV(resolve_errors), for the caller to fail before changing anything.
author:
  - netplumb.multihome contributors (@netplumb)
requirements:
  - iproute2 with JSON output (C(ip -j), iproute2 4.13 or later) on the managed host.
extends_documentation_fragment:
  - netplumb.multihome.changes_nothing
attributes:
  facts:
    support: full
    description: Sets the C(nic_facts) fact, the NICs by name.
options:
  sysfs_root:
    description:
      - Root of the sysfs tree to read, for tests or a chroot. Interfaces are read from C(<sysfs_root>/class/net).
    type: path
    default: /sys
  include_loopback:
    description: Whether to report the loopback interface.
    type: bool
    default: false
  connection_ip:
    description:
      - The address on this host the Ansible connection came in on; the interface holding it is the management interface.
      - Defaults to the server address (third field) of the C(SSH_CONNECTION) variable of the module's process.
        C(become) through sudo usually drops that variable; pass C("{{ ansible_env.SSH_CONNECTION.split()[2] }}")
        from facts gathered without become in that case.
    type: str
  fallback_connection_ips:
    description:
      - Addresses to take as the connection address when O(connection_ip) is not given and C(SSH_CONNECTION) names none
        (local, nsenter and podman connections; sudo drops the variable), the first of them that is an IP address.
      - Values that are not IP addresses (an inventory host name, an empty string) are skipped, so C(ansible_host) and
        C(node_ip) can be passed as they are.
    type: list
    elements: str
    version_added: 0.2.0
  select:
    description:
      - Pick NICs. Every criterion given must hold. Lists match when any element matches.
      - The selected names are returned in RV(selected).
    type: dict
    suboptions:
      name:
        description: Interface name glob patterns (C(ens*), C(eth[12])), matched case-sensitively. Like Multi-NIC CNI's C(master).
        type: list
        elements: str
      mac:
        description: MAC addresses (C(52:54:00:12:34:56); C(-) separators and upper case are accepted).
        type: list
        elements: str
      pci_address:
        description:
          - PCI function addresses (C(0000:3b:00.0); C(3b:00.0) means domain C(0000)). A virtio NIC matches its parent function.
        type: list
        elements: str
      driver:
        description: Kernel driver names (C(mlx5_core), C(ixgbe), C(virtio_net)).
        type: list
        elements: str
      min_speed:
        description: Lowest link speed in Mb/s. NICs whose speed is unknown (down, virtio, veth without carrier) do not match.
        type: int
      count:
        description:
          - Take the first O(select.count) matches in name order, and fail when fewer match. Like Multi-NIC CNI's C(nics)
            (which takes fewer silently). Leave it out to take every match.
        type: int
      exclude_default_route:
        description: Leave out interfaces that carry an IPv4 or IPv6 default route (Multi-NIC CNI leaves out the default subnet).
        type: bool
        default: false
      exclude_management:
        description: Leave out the management interface (see O(connection_ip)).
        type: bool
        default: false
      master_nets:
        description: Networks (CIDRs) one of the NIC's addresses must lie in. Like Multi-NIC CNI's C(masterNets).
        type: list
        elements: str
      pci_ids:
        description:
          - PCI vendor or vendor:device IDs in hex as C(lspci -nn) prints them (C(15b3), C(15b3:1019)).
            A Multi-NIC CNI DeviceClass's C(ids) (vendor with products) written out.
        type: list
        elements: str
      numa_node:
        description: NUMA nodes the NIC must be attached to. NICs with no NUMA information do not match.
        type: list
        elements: int
      virtual:
        description: C(true) for only virtual links (veth, bridge, bond), C(false) for only NICs with a device (PCI, virtio, USB).
        type: bool
      operstate:
        description: Operational states (C(up), C(down), C(unknown)), as in C(/sys/class/net/*/operstate).
        type: list
        elements: str
  resolve:
    description:
      - Find the NICs O(resolve.interfaces) names, and which of them must not be taken away from the host.
      - A NIC is refused when it carries an IPv4 or IPv6 default route, holds the connection address (see
        O(connection_ip) and O(fallback_connection_ips)), or holds one of O(resolve.protected_addresses).
      - The results are RV(resolved), RV(refused), RV(unresolved) and RV(resolve_errors); the module fails only for an
        entry that is not valid.
    type: dict
    version_added: 0.2.0
    suboptions:
      interfaces:
        description:
          - The NICs, each a dict with exactly one of C(name) (the interface name), C(mac) (C(52:54:00:12:34:56); C(-)
            separators and upper case are accepted; virtual links that repeat a port's MAC do not count) or C(pci)
            (C(0000:00:09.0); C(00:09.0) means domain C(0000); a virtio NIC has the function its virtio device sits on).
          - Other keys are ignored, so a list of richer records (C([{name, address, gateway}])) can be given as it is.
        type: list
        elements: dict
        required: true
      require_pci:
        description: Only NICs with a PCI address can be used (DPDK takes PCI functions); others are in RV(resolve_errors).
        type: bool
        default: false
      protected_addresses:
        description:
          - Addresses whose NICs must stay with the host, by label, such as C(node_ip=192.0.2.10) or
            C(extra=[192.0.2.20, 192.0.2.21]). A value is an address or a list of them. The labels name them in the reasons.
          - Values that are not IP addresses are skipped, so inventory values (a host name in C(ansible_host)) can be
            passed as they are.
        type: dict
        default: {}
notes:
  - Speeds the kernel cannot report (reading C(speed) fails with EINVAL on a down link, or says C(-1)) are returned as null.
seealso:
  - name: Multi-NIC CNI attachment policy
    description: The NIC selection O(select) follows.
    link: https://github.com/foundation-model-stack/multi-nic-cni
'''

EXAMPLES = r'''
- name: Read the NICs
  netplumb.multihome.nic_facts:
  register: nics

- name: Show where each NIC sits
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.pci_address }} {{ item.driver }} {{ item.speed }}"
  loop: "{{ nics.nics }}"

- name: Pick two 25G+ Mellanox ports that carry neither the default route nor this SSH session
  netplumb.multihome.nic_facts:
    select:
      pci_ids: ['15b3']
      min_speed: 25000
      exclude_default_route: true
      exclude_management: true
      count: 2
  register: storage

- name: Use them as Multus masters
  ansible.builtin.set_fact:
    storage_masters: "{{ storage.selected }}"

- name: The NICs in the storage network, on NUMA node 1
  netplumb.multihome.nic_facts:
    select:
      master_nets: [10.0.1.0/24]
      numa_node: [1]

- name: Resolve the data-plane NICs, and refuse those the host needs
  netplumb.multihome.nic_facts:
    resolve:
      interfaces: [{name: ens4}, {mac: "52:54:00:8e:1a:02"}, {pci: "0000:3b:00.1"}]
      require_pci: true
      protected_addresses:
        ansible_host: "{{ ansible_host | default('') }}"
        node_ip: "{{ node_ip | default('') }}"
  register: data_nics

- name: Fail before changing anything
  ansible.builtin.fail:
    msg: "{{ (data_nics.resolve_errors + data_nics.refused | map(attribute='message') | list) | join('; ') }}"
  when: (data_nics.resolve_errors + data_nics.refused) | length > 0
'''

RETURN = r'''
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    nic_facts:
      description: The NICs of RV(nics) by name.
      type: dict
      returned: always
      sample:
        eth0: {name: eth0, pci_address: "0000:00:03.0", driver: virtio_net, default_route: true}
nics:
  description: Every NIC (loopback only with O(include_loopback)), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Interface name.
      type: str
      returned: always
    mac:
      description: Hardware address, lower case.
      type: str
      returned: always
    mtu:
      description: MTU.
      type: int
      returned: always
    operstate:
      description: Operational state (C(up), C(down), C(unknown), ...).
      type: str
      returned: always
    addresses:
      description: IPv4 and IPv6 addresses with prefix length, IPv6 link-local left out.
      type: list
      elements: str
      returned: always
    driver:
      description: Kernel driver of the device, null for virtual links.
      type: str
      returned: always
    speed:
      description: Link speed in Mb/s, null when unknown.
      type: int
      returned: always
    numa_node:
      description: NUMA node of the device, null when unknown.
      type: int
      returned: always
    pci_address:
      description: The PCI function that is the NIC (the parent for virtio), null for virtual and USB NICs.
      type: str
      returned: always
    bus:
      description: Bus of the device (C(pci), C(virtio), C(usb)), null for virtual links.
      type: str
      returned: always
    bus_path:
      description: The device's path under C(<sysfs_root>/devices), null for virtual links.
      type: str
      returned: always
    is_virtio:
      description: Whether the NIC is a virtio device.
      type: bool
      returned: always
    physfn:
      description: For an SR-IOV VF, its PF's PCI address; else null.
      type: str
      returned: always
    vendor_id:
      description: PCI vendor ID in hex (C(15b3)), null without a PCI function.
      type: str
      returned: always
    device_id:
      description: PCI device ID in hex (C(1019)), null without a PCI function.
      type: str
      returned: always
    virtual:
      description: True when the interface has no device (veth, bridge, bond, VLAN, loopback).
      type: bool
      returned: always
    loopback:
      description: True for the loopback interface.
      type: bool
      returned: always
    default_route:
      description: True when an IPv4 or IPv6 default route goes out of this interface.
      type: bool
      returned: always
    management:
      description: True for the interface holding the connection address.
      type: bool
      returned: always
    up:
      description: Whether the interface is administratively up (C(ip link)'s C(UP) flag); null when C(ip) does not list it.
      type: bool
      returned: always
      version_added: 0.2.0
  sample:
    - name: eth0
      mac: "02:fc:00:00:00:01"
      mtu: 1500
      operstate: up
      addresses: [192.0.2.2/24]
      driver: virtio_net
      speed: null
      numa_node: null
      pci_address: "0000:00:03.0"
      bus: virtio
      bus_path: pci0000:00/0000:00:03.0/virtio2
      is_virtio: true
      physfn: null
      vendor_id: 1af4
      device_id: "1000"
      virtual: false
      loopback: false
      default_route: true
      management: true
      up: true
selected:
  description: Names of the NICs O(select) picked, in name order.
  returned: when O(select) is given
  type: list
  elements: str
  sample: [ens1f0, ens1f1]
default_route_interfaces:
  description: Interfaces carrying an IPv4 or IPv6 default route.
  returned: always
  type: list
  elements: str
  sample: [eth0]
management_interface:
  description: The interface holding the connection address, null when unknown.
  returned: always
  type: str
  sample: eth0
connection_ip:
  description: The connection address used to find the management interface, null when there is none.
  returned: always
  type: str
  sample: 192.0.2.2
resolved:
  description: Every NIC an entry of O(resolve.interfaces) resolved to and that can be used, in the order of the entries.
  returned: when O(resolve) is given
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    name:
      description: Interface name.
      type: str
      returned: always
    given:
      description: How the entry gave it, its key and value as given (C(mac 52-54-00-8E-1A-02)).
      type: str
      returned: always
    pci_address:
      description: Its PCI function, null when it has none.
      type: str
      returned: always
    up:
      description: Whether it is administratively up.
      type: bool
      returned: always
    default_route:
      description: Whether it carries a default route.
      type: bool
      returned: always
    management:
      description: Whether it holds the connection address.
      type: bool
      returned: always
    addresses:
      description: Its addresses with prefix length.
      type: list
      elements: str
      returned: always
  sample:
    - {name: ens4, given: name ens4, pci_address: "0000:00:04.0", up: true, default_route: false, management: false,
       addresses: []}
refused:
  description: The NICs of RV(resolved) that must not be taken away from the host, and why.
  returned: when O(resolve) is given
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    name:
      description: Interface name.
      type: str
      returned: always
    given:
      description: How the entry gave it.
      type: str
      returned: always
    reasons:
      description:
        - C(it carries the default route), C(it holds the Ansible connection address <ip>),
          C(it holds <ip> (<labels of resolve.protected_addresses>)).
      type: list
      elements: str
      returned: always
    message:
      description: "C(<name> (<given>: <reasons>))."
      type: str
      returned: always
  sample:
    - name: ens3
      given: name ens3
      reasons: [it carries the default route, "it holds 192.168.56.105 (ansible_host, node_ip)"]
      message: "ens3 (name ens3: it carries the default route, it holds 192.168.56.105 (ansible_host, node_ip))"
unresolved:
  description: The entries of O(resolve.interfaces), as given, that no NIC matched.
  returned: when O(resolve) is given
  type: list
  elements: dict
  version_added: 0.2.0
  sample: [{name: ens9}]
resolve_errors:
  description:
    - Why entries cannot be used, one message each; empty when all resolved. No such interface, several NICs with the
      MAC, no PCI address (with O(resolve.require_pci)), in O(sysfs_root) but not listed by C(ip), given twice.
  returned: when O(resolve) is given
  type: list
  elements: str
  version_added: 0.2.0
  sample: ["name ens9: no such interface (NICs with a PCI address: ens3, ens4)"]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, Ip, Runner
from ansible_collections.netplumb.multihome.plugins.module_utils.nic_facts import (
    NicError,
    connection_ip_from_ssh,
    first_ip_address,
    management_interface,
    merge_facts,
    parse_ip_addr,
    parse_ip_admin_up,
    parse_ip_route,
    read_sysfs,
    resolve_interfaces,
    select_nics,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysfs_root=dict(type='path', default='/sys'),
            include_loopback=dict(type='bool', default=False),
            connection_ip=dict(type='str'),
            fallback_connection_ips=dict(type='list', elements='str'),
            select=dict(
                type='dict',
                options=dict(
                    name=dict(type='list', elements='str'),
                    mac=dict(type='list', elements='str'),
                    pci_address=dict(type='list', elements='str'),
                    driver=dict(type='list', elements='str'),
                    min_speed=dict(type='int'),
                    count=dict(type='int'),
                    exclude_default_route=dict(type='bool', default=False),
                    exclude_management=dict(type='bool', default=False),
                    master_nets=dict(type='list', elements='str'),
                    pci_ids=dict(type='list', elements='str'),
                    numa_node=dict(type='list', elements='int'),
                    virtual=dict(type='bool'),
                    operstate=dict(type='list', elements='str'),
                ),
            ),
            resolve=dict(
                type='dict',
                options=dict(
                    interfaces=dict(type='list', elements='dict', required=True),
                    require_pci=dict(type='bool', default=False),
                    protected_addresses=dict(type='dict', default={}),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    ip = Ip(Runner(module.run_command), module.get_bin_path('ip', required=True))
    try:
        addr_entries = ip.query('addr', 'show', allow_empty=False)
        route_entries = ip.query('route', 'show', 'default')
        # A host without IPv6 (disabled at boot) has no IPv6 default route.
        route6_entries = ip.query('route', 'show', 'default', family=6, optional=True)
    except CommandError as exc:
        module.fail_json(msg='nic_facts: %s' % exc, rc=exc.rc, stdout=exc.stdout, stderr=exc.stderr)
    connection_ip = (
        params['connection_ip']
        or connection_ip_from_ssh(os.environ.get('SSH_CONNECTION'))
        or first_ip_address(params['fallback_connection_ips'])
    )
    try:
        addresses = parse_ip_addr(addr_entries)
        default_ifaces = parse_ip_route(route_entries)
        default_ifaces += [name for name in parse_ip_route(route6_entries) if name not in default_ifaces]
        # The connection may come in on an IPv6 link-local address: look for it among all of them.
        management = management_interface(parse_ip_addr(addr_entries, include_link_local=True), connection_ip)
        nics = merge_facts(
            read_sysfs(params['sysfs_root']),
            addresses,
            default_ifaces,
            management,
            include_loopback=params['include_loopback'],
            admin_up=parse_ip_admin_up(addr_entries),
        )
        result = dict(
            changed=False,
            nics=nics,
            default_route_interfaces=default_ifaces,
            management_interface=management,
            connection_ip=connection_ip,
            ansible_facts=dict(nic_facts=dict((nic['name'], nic) for nic in nics)),
        )
        if params['select'] is not None:
            result['selected'] = select_nics(nics, **params['select'])
        if params['resolve'] is not None:
            # Every interface ip lists is in addresses: a NIC only a sysfs tree has is not the kernel's.
            result.update(
                resolve_interfaces(
                    nics,
                    connection_ip=connection_ip,
                    listed=addresses,
                    sysfs_root=params['sysfs_root'],
                    **params['resolve'],
                )
            )
    except NicError as exc:
        module.fail_json(msg='nic_facts: %s' % exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
