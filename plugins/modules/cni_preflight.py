#!/usr/bin/python
# -*- coding: utf-8 -*-
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
        - The probe results of O(state=probe), one per peer - C(address), C(node), C(ok), C(transmitted), C(received),
          C(loss) (percent), C(rtt_min), C(rtt_avg), C(rtt_max) (ms) and C(error) (ping's own words when it could not send).
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

import json
import os
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_config
from ansible_collections.netplumb.multihome.plugins.module_utils import cni_preflight as pf


class NodeError(Exception):
    """A command the preflight depends on (ip) failed: not an attachment's finding, the module's own error."""


class Node(object):
    """The commands run on the node, all through ``module.run_command`` with argv lists."""

    def __init__(self, module, cni_bin_dir):
        self.module = module
        self.ip = module.get_bin_path('ip', required=True)
        self.cni_bin_dir = cni_bin_dir

    def run(self, argv, env=None, data=None):
        return self.module.run_command(argv, environ_update=env, data=data, check_rc=False)

    def must(self, argv):
        rc, out, err = self.run(argv)
        if rc != 0:
            raise NodeError('%s failed (rc=%d): %s' % (' '.join(argv), rc, (err or out).strip()))
        return out

    def namespaces(self):
        rc, out, err = self.run([self.ip, '-j', 'netns', 'list'])
        if rc != 0:
            out = self.must([self.ip, 'netns', 'list'])
        return pf.parse_netns_list(out)

    def netns_add(self, name):
        self.must([self.ip, 'netns', 'add', name])

    def netns_del(self, name):
        rc, out, err = self.run([self.ip, 'netns', 'del', name])
        if rc != 0 and name in self.namespaces():
            raise NodeError('ip netns del %s failed (rc=%d): %s' % (name, rc, (err or out).strip()))

    def links(self, netns=None):
        argv = [self.ip, '-j'] + (['-n', netns] if netns else []) + ['addr', 'show']
        try:
            return pf.parse_ip_json(self.must(argv))
        except ValueError as exc:
            raise NodeError('%s printed no JSON: %s' % (' '.join(argv), exc))

    def node_links(self):
        try:
            return pf.parse_ip_json(self.must([self.ip, '-j', 'link', 'show']))
        except ValueError as exc:
            raise NodeError('ip -j link show printed no JSON: %s' % exc)

    def link(self, name):
        rc, out, err = self.run([self.ip, '-j', 'link', 'show', 'dev', name])
        if rc != 0:
            return None
        try:
            found = pf.parse_ip_json(out)
        except ValueError:
            return None
        return found[0] if found else None

    def plugin_path(self, kind):
        return os.path.join(self.cni_bin_dir, kind)

    def missing_plugins(self, chain):
        kinds = []
        for conf in chain:
            kinds.append(conf['type'])
            ipam = conf.get('ipam')
            if isinstance(ipam, dict) and ipam.get('type'):
                kinds.append(ipam['type'])
        return [k for k in kinds if not os.access(self.plugin_path(k), os.X_OK)]

    def cni(self, command, conf, netns, ifname):
        """Run one plugin as a runtime does; ``(result, error, rc)``."""
        env = {'CNI_COMMAND': command, 'CNI_CONTAINERID': netns, 'CNI_NETNS': '%s/%s' % (pf.NETNS_DIR, netns),
               'CNI_IFNAME': ifname, 'CNI_PATH': self.cni_bin_dir}
        rc, out, err = self.run([self.plugin_path(conf['type'])], env=env, data=json.dumps(conf))
        result, error = pf.parse_cni_output(rc, out, err)
        return result, error, rc

    def ping(self, netns, peer, count, timeout):
        argv = pf.ping_argv(netns, peer, count, timeout)
        argv[0] = self.ip
        rc, out, err = self.run(argv)
        return pf.parse_ping(rc, out, err)


def prepare(params):
    """One record per attachment with its runtime configuration, test address and namespace; PreflightError on bad input."""
    records = []
    seen = set()
    for i, item in enumerate(params['attachments']):
        name = item['name']
        what = 'attachments[%d] %r' % (i, name)
        if not name or name in seen:
            raise pf.PreflightError('%s: attachment names must be unique and non-empty' % what)
        seen.add(name)
        try:
            config = cni_config.parse_config(item['config'], '%s config' % what)
        except cni_config.CniConfigError as exc:
            raise pf.PreflightError(str(exc))
        if item.get('test_address'):
            test_address = pf.check_test_address(item['test_address'], what)
            source = 'given'
        else:
            test_address, source = pf.derive_test_address(name, config, params.get('plan'), params.get('node'), params['node_index'])
        chain = pf.runtime_configs(config, test_address)
        records.append({
            'name': name, 'node': params.get('node'), 'type': cni_config.attachment_type(config),
            'netns': pf.netns_name(name, chain, test_address, params['ifname']), 'ifname': params['ifname'],
            'test_address': test_address, 'address': test_address.split('/')[0] if test_address else None,
            'address_source': source, 'status': 'ok', 'ok': True, 'errors': [], 'config': chain,
            '_source': config, '_peers': item.get('peers') or [],
        })
    return records


def _fail_record(rec, message, plugin_error=None):
    rec['status'] = 'failed'
    rec['ok'] = False
    rec['errors'].append(message)
    if plugin_error is not None and not rec.get('plugin_error'):
        rec['plugin_error'] = plugin_error


def _del_chain(node, rec):
    """DEL every plugin of the chain in reverse order; the first error text, or None."""
    first_error = None
    for conf in reversed(rec['config']):
        if node.missing_plugins([conf]):
            first_error = first_error or 'plugin %s not found in %s' % (conf['type'], node.cni_bin_dir)
            continue
        _result, error, _rc = node.cni('DEL', conf, rec['netns'], rec['ifname'])
        if error and first_error is None:
            first_error = error
    return first_error


def _remove_stale_links(node, removed):
    for name, ports in pf.marked_links(node.node_links()):
        if ports == 0:
            node.must([node.ip, 'link', 'del', 'dev', name])
            removed.append('link %s' % name)


def do_present(module, node, records, out):
    existing = node.namespaces()
    stale = [ns for ns in pf.preflight_namespaces(existing) if any(pf.same_attachment(ns, r['name']) for r in records)]
    stale_links = ['link %s' % name for name, ports in pf.marked_links(node.node_links()) if ports == 0]
    if module.check_mode:
        out['stale_removed'] = stale + stale_links
        out['removed'] = list(out['stale_removed'])
        for rec in records:
            rec['status'] = 'would-run'
            missing = node.missing_plugins(rec['config'])
            if missing:
                _fail_record(rec, 'plugin binary %s not found in %s' % (', '.join(missing), node.cni_bin_dir))
            out['created'].append(rec['netns'])
        return
    created = out['created']
    try:
        by_netns = dict((r['netns'], r) for r in records)
        for ns in stale:
            # The same attachment with the same input: DEL it properly first (iptables rules of ipMasq...).
            if ns in by_netns:
                _del_chain(node, by_netns[ns])
            node.netns_del(ns)
            out['stale_removed'].append(ns)
        stale_removed_links = []
        _remove_stale_links(node, stale_removed_links)
        out['stale_removed'].extend(stale_removed_links)
        out['removed'].extend(out['stale_removed'])
        for rec in records:
            _add_one(node, rec, created)
    except NodeError as exc:
        # The module's own error: leave nothing behind before failing.
        _cleanup(node, records, created)
        module.fail_json(msg='cni_preflight: %s; removed the namespaces created so far (%s)' % (
            exc, ', '.join(created) or 'none'), attachments=_public(records))


def _cleanup(node, records, created):
    by_netns = dict((r['netns'], r) for r in records)
    for ns in created:
        try:
            if ns in by_netns:
                _del_chain(node, by_netns[ns])
            node.netns_del(ns)
        except NodeError:
            pass


def _add_one(node, rec, created):
    missing = node.missing_plugins(rec['config'])
    if missing:
        _fail_record(rec, 'plugin binary %s not found in %s' % (', '.join(missing), node.cni_bin_dir))
        return
    expected_mtu = pf.config_mtu(rec['_source'])
    source = pf.mtu_source(rec['_source'])
    if expected_mtu is None and source:
        link = node.link(source)
        expected_mtu = link.get('mtu') if link else None
    bridge = pf.bridge_name(rec['_source'])
    bridge_existed = bool(bridge) and node.link(bridge) is not None
    node.netns_add(rec['netns'])
    created.append(rec['netns'])
    prev = None
    rec['steps'] = []
    for conf in rec['config']:
        result, error, rc = node.cni('ADD', pf.with_prev_result(conf, prev), rec['netns'], rec['ifname'])
        rec['steps'].append({'type': conf['type'], 'rc': rc, 'error': error})
        if error is not None:
            _fail_record(rec, 'ADD of plugin %s failed: %s' % (conf['type'], error), plugin_error=error)
            break
        prev = result
    if bridge and not bridge_existed and node.link(bridge) is not None:
        # The plugin made the bridge for us: mark it, so that absent (or the next run) removes it.
        node.must([node.ip, 'link', 'set', 'dev', bridge, 'alias', pf.LINK_MARK])
        rec['marked_links'] = [bridge]
    rec['result'] = prev
    if rec['status'] != 'ok':
        return
    iface = pf.check_interface(pf.find_link(node.links(rec['netns']), rec['ifname']), rec['ifname'],
                               rec['test_address'], expected_mtu)
    rec['interface'] = iface
    for error in iface['errors']:
        _fail_record(rec, error)


def do_probe(module, node, records, out):
    params = module.params
    existing = node.namespaces()
    jobs = []
    for rec in records:
        rec['peers'] = [dict(p, ok=None) for p in pf.peers_for(rec['name'], rec['_peers'], params['peers'], params.get('node'))]
        rec['peers'] = [p for p in rec['peers'] if p['address'] != rec['address']]
        if module.check_mode:
            rec['status'] = 'would-run'
            continue
        if rec['netns'] not in existing:
            _fail_record(rec, 'namespace %s does not exist: run state=present with the same input first' % rec['netns'])
            continue
        if not rec['test_address']:
            rec.update(status='skipped', reason='no test address (the attachment has no address pool)')
            continue
        if pf.find_link(node.links(rec['netns']), rec['ifname']) is None:
            rec.update(status='skipped', reason='interface %s is not in %s: its ADD failed' % (rec['ifname'], rec['netns']))
            continue
        for peer in rec['peers']:
            jobs.append((rec, peer))
    if not jobs:
        return
    workers = max(1, min(params['probe_workers'], len(jobs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda job: node.ping(job[0]['netns'], job[1]['address'], params['probe_count'],
                                                      params['probe_timeout']), jobs))
    for (rec, peer), result in zip(jobs, results):
        peer.update(result)
        peer['ok'] = pf.probe_verdict(result, params['probe_max_loss'])
        if not peer['ok']:
            who = '%s (%s)' % (peer['address'], peer['node']) if peer.get('node') else peer['address']
            _fail_record(rec, 'peer %s unreachable from %s: %s' % (
                who, rec['netns'], peer['error'] or '%s%% packet loss' % pf.number_text(peer['loss'])))


def do_absent(module, node, records, out):
    existing = node.namespaces()
    ours = set(r['netns'] for r in records)
    stale = [ns for ns in pf.preflight_namespaces(existing) if ns not in ours]
    links = [name for name, ports in pf.marked_links(node.node_links()) if ports == 0]
    if module.check_mode:
        for rec in records:
            rec.update(status='would-run', del_ok=None, del_error=None, removed=rec['netns'] in existing)
            if rec['netns'] in existing:
                out['removed'].append(rec['netns'])
        out['stale_removed'] = stale
        out['removed'].extend(stale + ['link %s' % n for n in links])
        return
    problems = []
    for rec in records:
        had = rec['netns'] in existing
        rec.update(del_ok=None, del_error=None, removed=False)
        try:
            had_interface = had and pf.find_link(node.links(rec['netns']), rec['ifname']) is not None
        except NodeError:
            # A namespace that cannot be entered (a stale mount point) is still deleted below.
            had_interface = False
        try:
            # DEL always, also when the ADD failed or the namespace is gone: plugins clean up outside it too.
            error = _del_chain(node, rec)
            rec.update(del_ok=error is None, del_error=error)
            if had:
                node.netns_del(rec['netns'])
                rec['removed'] = True
                out['removed'].append(rec['netns'])
        except NodeError as exc:
            # Keep going: every other attachment is still cleaned up.
            problems.append(str(exc))
            _fail_record(rec, str(exc))
            continue
        if error and had_interface:
            _fail_record(rec, 'DEL failed while %s was still in %s: %s' % (rec['ifname'], rec['netns'], error),
                         plugin_error=error)
    for ns in stale:
        try:
            node.netns_del(ns)
        except NodeError as exc:
            problems.append(str(exc))
            continue
        out['stale_removed'].append(ns)
        out['removed'].append(ns)
    try:
        _remove_stale_links(node, out['removed'])
    except NodeError as exc:
        problems.append(str(exc))
    left = [ns for ns in node.namespaces() if ns in ours or ns in stale]
    if left or problems:
        module.fail_json(msg='cni_preflight: cleanup incomplete: %s' % '; '.join(
            problems + (['namespaces left behind: %s' % ', '.join(left)] if left else [])),
            attachments=_public(records), **out)


def _public(records):
    return [dict((k, v) for k, v in rec.items() if not k.startswith('_')) for rec in records]


DESCRIBE = {'present': pf.describe_add, 'probe': pf.describe_probe, 'absent': pf.describe_del}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=list(pf.STATES), default='present'),
            attachments=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                config=dict(type='raw', required=True),
                test_address=dict(type='str'),
                peers=dict(type='list', elements='raw', default=[]),
            )),
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
    for key, low in (('probe_count', 1), ('probe_timeout', 1), ('probe_workers', 1), ('probe_max_loss', 0), ('node_index', 0)):
        if params[key] < low or (key == 'probe_max_loss' and params[key] > 100):
            module.fail_json(msg='cni_preflight: %s %d is out of range: expected %d%s' % (
                key, params[key], low, ' to 100' if key == 'probe_max_loss' else ' or more'))
    try:
        pf.check_ifname(params['ifname'])
        records = prepare(params)
    except pf.PreflightError as exc:
        module.fail_json(msg='cni_preflight: %s' % exc)
    state = params['state']
    out = {'created': [], 'removed': [], 'stale_removed': []}
    try:
        node = Node(module, params['cni_bin_dir'])
        {'present': do_present, 'probe': do_probe, 'absent': do_absent}[state](module, node, records, out)
    except (NodeError, pf.PreflightError) as exc:
        module.fail_json(msg='cni_preflight: %s' % exc, attachments=_public(records), **out)
    for rec in records:
        rec['summary'] = DESCRIBE[state](rec)
    failed = [r['name'] for r in records if r['status'] == 'failed']
    result = dict(changed=bool(out['created'] or out['removed']), state=state, attachments=_public(records),
                  failed_attachments=failed, summary=[r['summary'] for r in records], **out)
    if failed and params['fail_on_error']:
        module.fail_json(msg='cni_preflight %s failed for %s: %s' % (
            state, ', '.join(failed), ' | '.join('; '.join(r['errors']) for r in records if r['status'] == 'failed')), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
