# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One line per planned block or range, for people reading a play's output."""

from __future__ import annotations

from typing import Any, Mapping


def plan_summary(scheme: str, result: Mapping[str, Any]) -> list[str]:
    """Render a planner result (``plan`` and, for l3 Multi-NIC blocks, ``routes``) as a list of lines."""
    plan = result['plan']
    lines = []
    if scheme == 'multinic_blocks':
        for iface in plan.get('interfaces', []):
            lines.append('interface %d  master %s  vlan %s' % (iface['index'], iface['master_net'], iface['vlan_cidr']))
            for host in iface['hosts']:
                lines.append(
                    '  %-20s %-15s %-39s -> %s (host index %d)'
                    % (host['name'], host['interface'], host['host_ip'], host['pod_cidr'], host['index'])
                )
        for name, routes in sorted(result.get('routes', {}).items()):
            lines.append('routes on %s:' % name)
            lines.extend('  %s via %s dev %s' % (r['dst'], r['via'], r['dev']) for r in routes)
    elif scheme == 'node_subnets':
        lines.append(
            '%s  subnets %s'
            % (
                plan['topology'],
                ', '.join(
                    s['cidr'] if s.get('host_length') is None else '%s/%d' % (s['cidr'], s['host_length'])
                    for s in plan.get('subnets', [])
                ),
            )
        )
        if plan.get('exclude_subnets'):
            lines.append('  excluded %s' % ', '.join(plan['exclude_subnets']))
        for node in plan.get('nodes', []):
            lines.append('  %-20s %s' % (node['name'], ', '.join(node['subnets'])))
    else:
        for net in plan.get('networks', []):
            lines.append('%-24s %s  (%s - %s)' % (net['name'], net['range'], net['range_start'], net['range_end']))
            for node in net.get('nodes', []):
                lines.append('  %-22s %s' % (node['name'], node['range']))
    return lines
