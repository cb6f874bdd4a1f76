# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What netplumb.multihome.cidr_plan does with its arguments: the module (plugins/modules/cidr_plan.py) and the
action of that name (plugins/action/cidr_plan.py, which runs it in the controller's worker, without a module process)
both call :func:`plan_outcome` with arguments checked against :data:`PLAN_ARGUMENT_SPEC`.
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.multinic_plan import plan_multinic
from ansible_collections.netplumb.multihome.plugins.module_utils.ovnk_subnets import plan_node_subnets
from ansible_collections.netplumb.multihome.plugins.module_utils.plan_summary import plan_summary
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import plan_ranges

PLAN_ARGUMENT_SPEC = dict(
    scheme=dict(type='str', default='multinic_blocks', choices=['multinic_blocks', 'node_subnets', 'network_ranges']),
    subnet=dict(type='str'),
    interface_block=dict(type='int', default=2),
    host_block=dict(type='int', default=6),
    master_nets=dict(type='list', elements='str'),
    exclude=dict(type='list', elements='str'),
    vlan_mode=dict(type='str', default='l2', choices=['l2', 'l3', 'l3s']),
    hosts=dict(
        type='list',
        elements='dict',
        options=dict(
            name=dict(type='str', required=True),
            main_ip=dict(type='str'),
            interfaces=dict(type='list', elements='dict', default=[]),
        ),
    ),
    subnets=dict(type='raw'),
    topology=dict(type='str', default='layer3', choices=['layer3', 'layer2', 'localnet']),
    exclude_subnets=dict(type='raw'),
    nodes=dict(type='list', elements='str'),
    supernet=dict(type='str'),
    networks=dict(type='list', elements='dict'),
    reserved=dict(type='raw'),
    ovnk_internal_subnets=dict(type='dict'),
    previous=dict(type='dict'),
)


def run_plan(params):
    """Dispatch to the scheme's planner; returns its result dict or raises PlanError."""
    scheme = params['scheme']
    hosts = params.get('hosts') or []
    nodes = params.get('nodes')
    if nodes is None:
        nodes = [h.get('name') for h in hosts]
    if scheme == 'multinic_blocks':
        if not params.get('subnet'):
            raise PlanError("scheme multinic_blocks needs 'subnet', the pod network to cut blocks from")
        return plan_multinic(
            params['subnet'],
            params['interface_block'],
            params['host_block'],
            hosts,
            master_nets=params.get('master_nets'),
            exclude=params.get('exclude'),
            vlan_mode=params['vlan_mode'],
            previous=params.get('previous'),
            reserved=params.get('reserved'),
        )
    if scheme == 'node_subnets':
        if not params.get('subnets'):
            raise PlanError("scheme node_subnets needs 'subnets', e.g. '10.128.0.0/16/24'")
        return plan_node_subnets(
            params['subnets'],
            nodes,
            topology=params['topology'],
            exclude_subnets=params.get('exclude_subnets'),
            previous=params.get('previous'),
            reserved=params.get('reserved'),
            internal=params.get('ovnk_internal_subnets'),
        )
    if not params.get('supernet') or not params.get('networks'):
        raise PlanError("scheme network_ranges needs 'supernet' and 'networks'")
    return plan_ranges(
        params['supernet'],
        params['networks'],
        nodes=nodes,
        previous=params.get('previous'),
        reserved=params.get('reserved'),
    )


def plan_outcome(params: Mapping[str, Any]) -> dict[str, Any]:
    """The module's result (without ``invocation``) for checked ``params``; raises PlanError."""
    result = run_plan(params)
    return {
        'changed': False,
        'plan': result['plan'],
        'routes': result.get('routes', {}),
        'summary': plan_summary(params['scheme'], result),
    }
