# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.role_options: check a play's role options before its roles, with messages that say what
each option is and expects (plugin_utils/role_options.py). Documented in plugins/modules/role_options.py."""

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.netplumb.multihome.plugins.plugin_utils.role_options import check_role_options, role_spec


class ActionModule(ActionBase):
    """Runs on the controller only: it reads variables, never the host."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('roles',))
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        roles = self._task.args.get('roles')
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not roles:
            raise AnsibleError(
                'role_options: roles %r is not a list of role names (multihome_routing, role:entry_point)' % (roles,)
            )
        problems = []
        for item in roles:
            role, _sep, entry_point = str(item).partition(':')
            values = {}
            try:
                options = role_spec(role, entry_point or 'main')
            except ValueError as exc:
                raise AnsibleError('role_options: %s' % exc)
            for name in options:
                if name not in task_vars:
                    continue
                try:
                    values[name] = self._templar.template(task_vars[name])
                except AnsibleError:
                    # A value that needs what the role computes first: the role's own validation judges it.
                    continue
            problems += ['%s: %s' % (role, line) for line in check_role_options(options, values)]
        result['changed'] = False
        result['problems'] = problems
        if problems:
            result['failed'] = True
            result['msg'] = 'Bad options, nothing was changed: ' + ' | '.join(problems)
        return result
