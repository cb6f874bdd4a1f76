# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a check-mode run would change, from its JSON output. Documented in drift_report.yml."""

from ansible_collections.netplumb.multihome.plugins.module_utils import drift
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(drift.DriftError)
def drift_report(run):
    """``{lines, drifted, hosts, checked, rows, failed, unreachable}`` of a ``--check --diff`` run's JSON output."""
    found = drift.drift_rows(run)
    return dict(found, lines=drift.drift_report(found), **drift.summary(found))


class FilterModule:
    """netplumb.multihome drift filter."""

    def filters(self):
        return {'drift_report': drift_report}
