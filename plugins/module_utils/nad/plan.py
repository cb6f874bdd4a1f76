# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``ipam.from_plan``: a network's range taken from a cidr_plan ``network_ranges`` plan."""

from ansible_collections.netplumb.multihome.plugins.module_utils import cidr
from ansible_collections.netplumb.multihome.plugins.module_utils.checks import is_text
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.ranges import _check_range_bounds
from ansible_collections.netplumb.multihome.plugins.module_utils.nad.values import _fail
from ansible_collections.netplumb.multihome.plugins.module_utils.range_plan import unwrap_plan


def _plan_networks(plan):
    """``{name: entry}`` of a cidr_plan ``network_ranges`` plan (or a whole result holding one)."""
    plan = unwrap_plan(plan, 'plan')
    entries = plan.get('networks')
    if not isinstance(entries, list):
        _fail("plan %r has no 'networks' list: expected the plan of a cidr_plan network_ranges result" % (plan,))
    out = {}
    for i, entry in enumerate(entries):
        if isinstance(entry, dict) and is_text(entry.get('name')) and entry['name'] not in out:
            out[entry['name']] = entry
        else:
            _fail("plan networks[%d] %r is not a {name, range, range_start, range_end} entry" % (i, entry))
    return out


def _from_plan(ref, own_name, plan, what):
    """``(range network, first, last, node slice prefix or None)`` of ``ref`` in ``plan``."""
    name = own_name if ref is True else ref
    if not is_text(name) or not name:
        _fail(
            "%s from_plan %r is not a network name: expected the name of a network in the plan, or true for %r"
            % (what, ref, own_name)
        )
    if plan is None:
        _fail("%s from_plan %r needs a plan: pass the 'plan' of a cidr_plan network_ranges result" % (what, name))
    networks = _plan_networks(plan)
    if name not in networks:
        _fail(
            "%s from_plan %r is not in the plan: expected one of %s"
            % (what, name, ', '.join(sorted(networks)) or '(none)')
        )
    entry = networks[name]
    pwhat = 'plan network %r' % name
    network = cidr.parse_network(entry.get('range'), '%s range' % pwhat)
    first, last = _check_range_bounds(network, entry.get('range_start'), entry.get('range_end'), pwhat)
    slice_prefix = None
    nodes = entry.get('nodes') or []
    if nodes:
        slice_prefix = cidr.parse_network(nodes[0].get('range'), '%s nodes[0] range' % pwhat).prefixlen
    return network, first, last, slice_prefix
