# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's options checked as Ansible's own role validation checks them, but said the way a user can act on.

Ansible validates a role's variables against its ``meta/argument_specs.yml`` before the role's
first task and answers ``argument 'multihome_routing_table_base' is of type str and we were
unable to convert to int``. :func:`check_role_options` runs the same validator (the same
conversions: ``'8'`` is 8, ``'a,b'`` a list) on the same values, and names for each bad one the
option, the value, what the spec expects in words and what the option is (the first sentence
of its description). The action ``netplumb.multihome.role_options`` runs it before a play's roles.
"""

import json
import os
import re

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.netplumb.multihome.plugins.plugin_utils.filter_arguments import expected, shown

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')
# What Ansible converts and checks; not required: a missing option is the role's default's business.
_SPEC_KEYS = ('type', 'elements', 'choices', 'options')
# libyaml's loader where PyYAML has it: a role's argument specs are read on every run, and the pure-Python
# parser takes tens of milliseconds for one of ours.
_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def role_spec(role, entry_point='main', roles_dir=ROLES):
    """``{option: spec}`` of a role's entry point; ValueError naming a role or entry point that does not exist."""
    path = os.path.join(roles_dir, role, 'meta', 'argument_specs.yml')
    try:
        with open(path) as handle:
            specs = yaml.load(handle, Loader=_LOADER)['argument_specs']  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise ValueError(
            'role %s has no readable argument specs (%s): expected one of %s'
            % (role, exc, ', '.join(sorted(os.listdir(roles_dir))))
        )
    if entry_point not in specs:
        raise ValueError(
            'role %s has no entry point %s: expected one of %s' % (role, entry_point, ', '.join(sorted(specs)))
        )
    return specs[entry_point].get('options') or {}


def _first_sentence(description):
    text = ' '.join(description) if isinstance(description, list) else str(description or '')
    # Ansible's markup (C(code), O(option)) as plain words.
    text = re.sub(r'\b[A-Z]\(([^()]*)\)', r'\1', text)
    head = text.split('. ')[0].strip()
    return head.rstrip('.')


def _strip_spec(spec):
    out = dict((k, v) for k, v in spec.items() if k in _SPEC_KEYS)
    if isinstance(out.get('options'), dict):
        out['options'] = dict((k, _strip_spec(v or {})) for k, v in out['options'].items())
    return out


def _key(value):
    """A value as text that is equal for equal values, for :class:`OptionsChecker`; None when it has no such text."""
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None


class OptionsChecker:
    """:func:`check_role_options` for many hosts: hosts whose values are the same (most often all of them, from
    group variables) are checked once. ``check(options, values)`` answers as :func:`check_role_options`."""

    def __init__(self):
        self._seen = {}

    def check(self, options, values):
        text = _key(values)
        if text is None:
            return check_role_options(options, values)
        key = (id(options), text)
        if key not in self._seen:
            # options is kept with the answer: the id stays its own while the checker lives.
            self._seen[key] = (options, check_role_options(options, values))
        return list(self._seen[key][1])


def check_role_options(options, values):
    """The problems (one line each, empty when none) among ``values`` ({name: value}) of the options ``options``
    (a role entry point's, from :func:`role_spec`)."""
    problems = []
    for name in sorted(options):
        if name not in values:
            continue
        spec = options[name] or {}
        result = ArgumentSpecValidator({name: _strip_spec(spec)}).validate({name: values[name]})
        if result.error_messages:
            problems.append(
                '%s (%s) expects %s, not %s. Ansible says: %s'
                % (
                    name,
                    _first_sentence(spec.get('description')),
                    expected(spec),
                    shown(values[name]),
                    '; '.join(result.error_messages),
                )
            )
    return problems
