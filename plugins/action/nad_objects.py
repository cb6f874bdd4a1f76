# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.nad_objects: the module's work on the controller, in the worker process.

Building the objects only computes (module_utils/nad_run.py's nad_outcome): run here it spares the module process
(about 0.7 s on the controller of the main job's lab). Documented in plugins/modules/nad_objects.py, which stays the
same thing as a module.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad_run import NAD_ARGUMENT_SPEC, nad_outcome


class ActionModule(ActionBase):
    """Runs on the controller only: it reads its arguments, never the host."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=NAD_ARGUMENT_SPEC)
        try:
            outcome, warnings = nad_outcome(args)
        except PlanError as exc:
            raise AnsibleActionFail('nad_objects: %s' % exc)
        if warnings:
            result.setdefault('warnings', []).extend(warnings)
        result.update(outcome)
        return result
