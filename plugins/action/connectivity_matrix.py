# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.connectivity_matrix: the module's work on the controller, in the worker process.

The matrix only computes (module_utils/connectivity.py's matrix_outcome): run here it spares the module process
a run of the role would start on the controller (about half a second of a 16-node matrix). Documented in
plugins/modules/connectivity_matrix.py, which stays the same thing as a module.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netplumb.multihome.plugins.module_utils.connectivity import (
    MATRIX_ARGUMENT_SPEC,
    ConnectivityError,
    matrix_outcome,
)


class ActionModule(ActionBase):
    """Runs on the controller only: it reads its arguments, never the host."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=MATRIX_ARGUMENT_SPEC)
        try:
            outcome, warning = matrix_outcome(args)
        except ConnectivityError as exc:
            raise AnsibleActionFail('connectivity_matrix: %s' % exc)
        if warning:
            result.setdefault('warnings', []).append(warning)
        result.update(outcome)
        return result
