# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action netplumb.multihome.role_options: check a play's role options before its roles, with messages that say what
each option is and expects (plugin_utils/role_options.py). Documented in plugins/modules/role_options.py."""

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.netplumb.multihome.plugins.plugin_utils.role_options import OptionsChecker, role_spec


class ActionModule(ActionBase):
    """Runs on the controller only: it reads variables, never the host."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('roles', 'hosts'))
    _requires_connection = False

    def _sources(self, hosts, task_vars):
        """``[(host, variables, templar)]``: this host's task variables, or each listed host's as its tasks see them."""
        if hosts is None:
            return [(None, task_vars, self._templar)]
        if isinstance(hosts, str):
            hosts = [hosts]
        if not isinstance(hosts, list):
            raise AnsibleError('role_options: hosts %r is not a list of inventory hosts' % (hosts,))
        # pylint: disable-next=protected-access
        manager = self._task._variable_manager
        play = self._task.get_play()
        out = []
        for name in hosts:
            if name == task_vars.get('inventory_hostname'):
                out.append((name, task_vars, self._templar))
                continue
            # pylint: disable-next=protected-access
            host = manager._inventory.get_host(name)
            if host is None:
                raise AnsibleError('role_options: hosts names %r, which is not in the inventory' % (name,))
            # What a task of this play sees on that host: play, inventory, facts and extra variables in Ansible's order.
            variables = manager.get_vars(play=play, host=host, task=self._task)
            out.append((name, variables, self._templar.copy_with_new_env(available_variables=variables)))
        return out

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
        specs = []
        for item in roles:
            role, _sep, entry_point = str(item).partition(':')
            try:
                specs.append((role, role_spec(role, entry_point or 'main')))
            except ValueError as exc:
                raise AnsibleError('role_options: %s' % exc)
        # One line per problem, naming the hosts that have it when several hosts were checked.
        found = {}
        checker = OptionsChecker()
        for host, variables, templar in self._sources(self._task.args.get('hosts'), task_vars):
            for role, options in specs:
                values = {}
                for name in options:
                    if name not in variables:
                        continue
                    try:
                        values[name] = templar.template(variables[name])
                    except AnsibleError:
                        # A value that needs what the role computes first: the role's own validation judges it.
                        continue
                for line in checker.check(options, values):
                    found.setdefault('%s: %s' % (role, line), []).append(host)
        problems = []
        for line, hosts in found.items():
            named = [h for h in hosts if h is not None]
            problems.append('%s: %s' % (', '.join(named), line) if named else line)
        result['changed'] = False
        result['problems'] = problems
        if problems:
            result['failed'] = True
            result['msg'] = 'Bad options, nothing was changed: ' + ' | '.join(problems)
        return result
