# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.cidr_plan: the module's work on the controller, in the worker process.

A plan only computes (module_utils/plan_run.py's plan_outcome): run here it spares the module process each plan
would start on the controller (about 0.4 s each; the addressing role runs three). Documented in
plugins/modules/cidr_plan.py, which stays the same thing as a module.
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.plan_run import PLAN_ARGUMENT_SPEC, plan_outcome
from ansible_collections.netplumb.multihome.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    """Runs on the controller only: it reads its arguments, never the host."""

    ARGUMENT_SPEC = PLAN_ARGUMENT_SPEC
    ERRORS = (PlanError,)
    NAME = 'cidr_plan'
    # The report callback reads the scheme and the reserved networks from the arguments.
    KEEP_INVOCATION = True

    def compute(self, args):
        return plan_outcome(args), []

    def failure(self, args, exc):
        return 'cidr_plan (%s): %s' % (args['scheme'], exc)
