# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action that does a module's work on the controller, in the task's worker, without a module process.

For the collection's modules that only compute from their arguments (cidr_plan, nad_objects, connectivity_matrix):
the action of the same name checks the arguments against the module's own spec, calls the same module_utils
function the module calls, and returns what the module would. The module stays for where the action is not used.
"""

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC``, ``ERRORS`` (the exceptions whose message names the bad value) and ``NAME``,
    and define :meth:`compute`."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}
    ERRORS = ()
    NAME = ''
    # A module's result carries its arguments; keep them where a callback reads them (the report reads cidr_plan's).
    KEEP_INVOCATION = False

    def compute(self, args):
        """``(the module's result, its warnings)`` for checked ``args``; raises one of ``ERRORS``."""
        raise NotImplementedError

    def failure(self, args, exc):
        """The message of a failure, as the module words it."""
        return '%s: %s' % (self.NAME, exc)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            outcome, warnings = self.compute(args)
        except self.ERRORS as exc:
            raise AnsibleActionFail(self.failure(args, exc))
        if warnings:
            result.setdefault('warnings', []).extend(warnings)
        result.update(outcome)
        if self.KEEP_INVOCATION:
            result['invocation'] = {'module_args': args}
        return result
