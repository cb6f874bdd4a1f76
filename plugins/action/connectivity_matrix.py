# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.connectivity_matrix: the module's work on the controller, in the worker process.

The matrix only computes (module_utils/connectivity_matrix.py's matrix_outcome): run here it spares the module process
a run of the role would start on the controller (about half a second of a 16-node matrix). Documented in
plugins/modules/connectivity_matrix.py, which stays the same thing as a module.
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import ConnectivityError
from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity_matrix import (
    MATRIX_ARGUMENT_SPEC,
    matrix_outcome,
)
from ansible_collections.netplumb.multihome.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    """Runs on the controller only: it reads its arguments, never the host."""

    ARGUMENT_SPEC = MATRIX_ARGUMENT_SPEC
    ERRORS = (ConnectivityError,)
    NAME = 'connectivity_matrix'

    def compute(self, args):
        outcome, warning = matrix_outcome(args)
        return outcome, [warning] if warning else []
