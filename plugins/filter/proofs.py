# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of site.yml's proofs a run makes again. Documented in site_proofs.yml beside this file.

The arguments are checked against that documentation first (plugin_utils/filter_arguments.py).
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.proofs import ProofError, proofs_to_run
from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import documented_filter


@documented_filter(ProofError)
def site_proofs(inputs, stamps=None, changed=None, mode='changed'):
    """``{proof: {run, reason, stamp}}``: whether each proof runs, why, and its record once it passed."""
    return proofs_to_run(inputs, stamps or [], changed or [], mode)


class FilterModule:
    """netplumb.multihome site proof filter."""

    def filters(self):
        return {'site_proofs': site_proofs}
