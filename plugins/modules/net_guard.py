#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: net_guard
short_description: Guard a host network change with probes, a rollback and a timer, so that it cannot cut a node off
version_added: 0.2.0
description:
  - The safety model of kubernetes-nmstate, for the changes the roles of this collection make to a node's networking.
    O(state=checkpoint) before the change records the state the change may alter (every rule, every route but the
    kernel's own, the links, sysctls and files of O(links), O(sysctls) and O(files)), runs the probes and keeps those
    that pass (a probe that fails already proves nothing about the change), and leaves a watchdog process on the node.
  - O(state=confirm) after the change runs the kept probes again, retrying for O(probe_timeout) seconds. When all
    pass the checkpoint is dropped. When one fails the recorded state is restored and the module fails, naming the
    probe and what it restored.
  - The watchdog restores the recorded state by itself when no confirmation came within O(timeout) seconds of the
    checkpoint, as a NetworkManager checkpoint does, so a change that cut the Ansible connection undoes itself. After
    the connection is back, O(state=status) reports that rollback (and fails).
  - O(state=rollback) restores the recorded state now (a step of the change failed).
  - The probes are O(probes) and, with O(default_probes), each default gateway of the main table (pinged as the node's
    own traffic is routed), the Ansible connection's peer (the client address of the SSH connection, also under sudo or su; none with
    local, podman or nsenter connections) and the API server O(api_server) (a TCP connection).
author:
  - netplumb.multihome contributors (@netplumb)
requirements:
  - iproute2 with JSON output (C(ip -j)) and iputils ping on the managed host; root.
attributes:
  check_mode:
    support: full
    description: O(state=checkpoint) records nothing and leaves no watchdog, but runs the probes and reports which it
      would keep; the other states change nothing.
  diff_mode:
    support: none
    description: The module reports what it restored (RV(restored)) rather than a diff.
options:
  state:
    description: The step of the change (see the description).
    type: str
    choices: [checkpoint, confirm, rollback, status]
    required: true
  id:
    description: The change's name (C(multihome_routing)); one change per name and node at a time.
    type: str
    required: true
  links:
    description: Links whose admin state and addresses the change may alter.
    type: list
    elements: str
    default: []
  sysctls:
    description: Sysctls the change may set, in sysctl(8)'s notation (C(net.ipv4.conf.nic1.rp_filter)).
    type: list
    elements: str
    default: []
  files:
    description: Files the change may write or remove (absolute paths); a symbolic link is recorded as its target.
    type: list
    elements: path
    default: []
  probes:
    description:
      - More probes; each has exactly one of C(ping) (an address, from C(source), an address or a NIC) and C(tcp)
        (C(host:port)), an optional C(name) and C(timeout) (seconds, default 2).
    type: list
    elements: dict
    default: []
  default_probes:
    description: Also probe the default gateways, the connection's peer and O(api_server).
    type: bool
    default: true
  api_server:
    description: The Kubernetes API server as the node reaches it (C(https://198.18.0.2:6443) or C(host:port)); empty for none.
    type: str
    default: ''
  connection_peer:
    description: The controller's address as the node sees it; empty to read it from the SSH connection.
    type: str
    default: ''
  timeout:
    description: Seconds from the checkpoint until the watchdog rolls back an unconfirmed change; long enough for the
      whole change and its confirmation.
    type: int
    default: 300
  probe_timeout:
    description: Seconds O(state=confirm) keeps retrying a failing probe (once a second) before it rolls back.
    type: int
    default: 30
  guard_dir:
    description: Where checkpoints live (on a file system that a reboot empties).
    type: path
    default: /run/netplumb-multihome/guard
notes:
  - Kernel modules loaded by a change stay loaded after a rollback; services restarted by it are not restarted again.
  - A node that restarts while a change is pending loses the watchdog; its files are as the change left them.
seealso:
  - name: kubernetes-nmstate probes and rollback
    description: The model (NodeNetworkConfigurationPolicy, ApplyDesiredState).
    link: https://nmstate.io/kubernetes-nmstate/user-guide/102-configuration.html
'''

EXAMPLES = r'''
- name: Record the state and the probes that pass now
  netplumb.multihome.net_guard:
    state: checkpoint
    id: storage_routes
    sysctls: [net.ipv4.conf.nic1.rp_filter]
    files: [/etc/sysctl.d/90-storage.conf]
    api_server: https://198.18.0.2:6443
    probes:
      - {name: storage peer, ping: 198.18.1.12, source: 198.18.1.11}

- name: The change
  ansible.builtin.command: ip route replace 198.18.9.0/24 via 198.18.1.254 table 1000
  changed_when: true

- name: Probe again; roll back when a probe that passed before fails now
  netplumb.multihome.net_guard:
    state: confirm
    id: storage_routes
'''

RETURN = r'''
kept:
  description: The probes that passed before the change and are run again after it (O(state=checkpoint)).
  returned: state is checkpoint
  type: list
  elements: str
  sample: [default gateway 198.18.0.1 via eth0, API server 198.18.0.2:6443]
dropped:
  description: The probes left out because they fail before the change, each with C(name) and C(reason).
  returned: state is checkpoint
  type: list
  elements: dict
deadline:
  description: When the watchdog rolls back an unconfirmed change (seconds since the epoch); null in check mode.
  returned: state is checkpoint
  type: float
probes:
  description: The probes run after the change, each with C(name), C(ok) and C(error).
  returned: state is confirm
  type: list
  elements: dict
broken:
  description: The probes that passed before and fail after the change.
  returned: state is confirm
  type: list
  elements: dict
restored:
  description: What was put back, one line each (nothing when all probes passed).
  returned: state is confirm, rollback or status
  type: list
  elements: str
  sample: [removed IPv4 rule priority 1000 from 198.18.1.11 table 1000]
residual:
  description: What still differs from the recorded state after restoring (empty when all came back).
  returned: state is confirm, rollback or status
  type: list
  elements: str
rolled_back_by:
  description: C(probe), C(rollback), C(timer) (the watchdog, because nothing confirmed in time), or null.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import net_guard
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, Ip, Runner


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', required=True, choices=['checkpoint', 'confirm', 'rollback', 'status']),
            id=dict(type='str', required=True),
            links=dict(type='list', elements='str', default=[]),
            sysctls=dict(type='list', elements='str', default=[]),
            files=dict(type='list', elements='path', default=[]),
            probes=dict(type='list', elements='dict', default=[]),
            default_probes=dict(type='bool', default=True),
            api_server=dict(type='str', default=''),
            connection_peer=dict(type='str', default=''),
            timeout=dict(type='int', default=300),
            probe_timeout=dict(type='int', default=30),
            guard_dir=dict(type='path', default=net_guard.GUARD_DIR),
        ),
        supports_check_mode=True,
    )
    params = module.params
    ip = Ip(Runner(module.run_command), module.get_bin_path('ip', required=True))
    result = {'changed': False, 'rolled_back_by': None}
    try:
        directory = '%s/%s' % (params['guard_dir'].rstrip('/'), net_guard.check_id(params['id']))
        if params['state'] == 'checkpoint':
            for key in params['sysctls']:
                net_guard.sysctl_path(key)
            if not 10 <= params['timeout'] <= 3600:
                raise net_guard.GuardError('timeout %s is not 10 to 3600 seconds' % params['timeout'])
            probes = net_guard.normalize_probes(params['probes'])
            defaults = None
            if params['default_probes']:
                defaults = {
                    'connection_peer': params['connection_peer'] or net_guard.connection_peer_from_proc(),
                    'api_server': params['api_server'] or None,
                }
            record = {key: params[key] for key in ('links', 'sysctls', 'files')}
            out = net_guard.checkpoint(
                ip, directory, record, probes, params['timeout'], defaults=defaults, check_mode=module.check_mode
            )
            for warning in out.pop('warnings'):
                module.warn(warning)
            result.update(out)
        elif module.check_mode:
            result.update(probes=[], broken=[], restored=[], residual=[])
        elif params['state'] == 'confirm':
            out = net_guard.confirm(ip, directory, params['probe_timeout'])
            result.update(
                probes=out['probes'],
                broken=out['broken'],
                restored=out['restored'],
                residual=out['residual'],
                rolled_back_by=out['by'],
            )
            if out['failed']:
                result['changed'] = bool(out['restored'])
                module.fail_json(msg=out['message'], **result)
        elif params['state'] == 'rollback':
            out = net_guard.rollback(ip, directory)
            result.update(
                restored=out['restored'], residual=out['residual'], rolled_back_by=out['by'], message=out['message']
            )
            result['changed'] = bool(out['restored'])
            if out['residual']:
                module.fail_json(msg=out['message'], **result)
        else:
            out = net_guard.status(directory)
            result.update(pending=out['pending'], message=out['message'])
            if out['result'] is not None:
                result.update(
                    restored=out['result']['restored'], residual=out['result']['residual'], rolled_back_by='timer'
                )
                module.fail_json(msg=out['message'], **result)
    except (net_guard.GuardError, CommandError, OSError) as exc:
        module.fail_json(msg='net_guard %s: %s' % (params['state'], exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
