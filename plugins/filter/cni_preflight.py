# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the cni_preflight role: what to test, and the report of every node. Each is documented in the .yml beside this file.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils import cni_preflight as pf
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(pf.PreflightError)
def cni_preflight_attachments(objects, types):
    """``{tested, untested}``: the NADs among nad_objects' ``objects`` to test, by type."""
    return pf.pick_attachments(objects, types)


@documented_filter()
def cni_preflight_rows(nodes, present, probe, absent, expected=True):
    """One row per node and attachment from every node's registered cni_preflight results."""
    return pf.result_rows(nodes, present, probe, absent, expected)


@documented_filter()
def cni_preflight_report(rows, untested=None):
    """The report lines for people."""
    return pf.report_lines(rows, untested or [])


@documented_filter()
def cni_preflight_failures(rows):
    """``node/attachment: errors`` of every failed row."""
    return pf.failure_lines(rows)


class FilterModule:
    """netplumb.multihome cni_preflight role filters."""

    def filters(self):
        return {
            'cni_preflight_attachments': cni_preflight_attachments,
            'cni_preflight_rows': cni_preflight_rows,
            'cni_preflight_report': cni_preflight_report,
            'cni_preflight_failures': cni_preflight_failures,
        }
