# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.cidr_plan: the module's work on the controller, in the worker process.

A plan only computes (module_utils/plan_run.py's plan_outcome): run here it spares the module process each plan
would start on the controller (about 0.4 s each; the addressing role runs three). Documented in
plugins/modules/cidr_plan.py, which stays the same thing as a module.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.plan_run import PLAN_ARGUMENT_SPEC, plan_outcome


class ActionModule(ActionBase):
    """Runs on the controller only: it reads its arguments, never the host."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=PLAN_ARGUMENT_SPEC)
        try:
            outcome = plan_outcome(args)
        except PlanError as exc:
            raise AnsibleActionFail('cidr_plan (%s): %s' % (args['scheme'], exc))
        result.update(outcome)
        # As a module's result has them: the report callback reads the scheme and the reserved networks from here.
        result['invocation'] = {'module_args': args}
        return result
