# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.nad_objects: the module's work on the controller, in the worker process.

Building the objects only computes (module_utils/nad_run.py's nad_outcome): run here it spares the module process
(about 0.7 s on the controller of the main job's lab). Documented in plugins/modules/nad_objects.py, which stays the
same thing as a module.
"""

from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad_run import NAD_ARGUMENT_SPEC, nad_outcome
from ansible_collections.netplumb.multihome.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    """Runs on the controller only: it reads its arguments, never the host."""

    ARGUMENT_SPEC = NAD_ARGUMENT_SPEC
    ERRORS = (PlanError,)
    NAME = 'nad_objects'

    def compute(self, args):
        return nad_outcome(args)
