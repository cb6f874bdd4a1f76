# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A filter's arguments, checked against the filter's own documentation, as ansible.utils does.

Every filter of ``plugins/filter/`` is documented in ``<name>.yml`` beside its file. Its
``DOCUMENTATION`` is the argument spec: ``positional`` orders the arguments, and each option's
``type``, ``elements``, ``required``, ``choices`` and ``default`` are checked with the type checkers of
ansible-core's ``ArgumentSpecValidator`` (what ansible.utils' ``AnsibleArgSpecValidator`` runs on ansible-core
2.11 and later) before the filter's function sees them. A failure names the filter, the
argument, the value and what the documentation expects.

Unlike a module's options, a filter's arguments come from templates, which keep native types:
a string where a list or dict is documented is a mistake, not a comma-separated list or
``k=v`` pairs to convert, and a number where a string is documented is not turned into one.
Numbers and booleans are converted as Ansible does (``'8'`` is 8). What the documentation
cannot say (a boolean is no count, a dict needs some key) the function still checks.
"""

import copy
import functools
import os
import sys
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS

COLLECTION = 'netplumb.multihome'
_SPEC_KEYS = ('type', 'elements', 'required', 'choices', 'default')
# Types whose checker may hand back another value than it was given ('8' -> 8): the filter gets that one.
_CONVERTED = ('int', 'float', 'bool')
_WORDS = {
    'str': ('a string', 'strings'),
    'int': ('a whole number', 'whole numbers'),
    'float': ('a number', 'numbers'),
    'bool': ('a boolean', 'booleans'),
    'list': ('a list', 'lists'),
    'dict': ('a dict', 'dicts'),
    'raw': ('any value', 'values'),
}
_SHOWN = 120  # characters of a refused value's repr in a message


def _string(value):
    if not isinstance(value, str):
        raise TypeError('%r is not a string' % (value,))
    return value


def _list(value):
    if not isinstance(value, (list, tuple)):
        raise TypeError('%r is not a list' % (value,))
    return list(value)


def _dict(value):
    if not isinstance(value, Mapping):
        raise TypeError('%r is not a dict' % (value,))
    return value


_STRICT = {'str': _string, 'list': _list, 'dict': _dict}


def load_documentation(path):
    """``(argument names in positional order, {name: spec})`` from the ``DOCUMENTATION`` of a filter's .yml."""
    try:
        with open(path) as handle:
            doc = yaml.safe_load(handle)['DOCUMENTATION']
        options = doc['options']
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('%s has no usable DOCUMENTATION options: %s' % (path, exc))
    positional = [name.strip() for name in str(doc.get('positional', '_input')).split(',') if name.strip()]
    unknown = [name for name in positional if name not in options]
    if unknown:
        raise AnsibleFilterError('%s lists %s as positional but documents no such option' % (path, ', '.join(unknown)))
    order = positional + [name for name in options if name not in positional]
    specs = dict((name, dict((k, v) for k, v in (options[name] or {}).items() if k in _SPEC_KEYS)) for name in order)
    return order, specs


@functools.lru_cache(maxsize=None)
def _documentation(path):
    return load_documentation(path)


def plain(value):
    """Plain dicts and lists all the way down. Ansible hands filters its own lazy containers, which template what they
    hold as it is read and copy all of it (the variables they were made from too) when deep-copied: a filter that
    copies its argument took seconds with them."""
    if isinstance(value, Mapping):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def _argument(name):
    return 'the input' if name == '_input' else name


def shown(value):
    """A refused value as a message shows it: its repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + '...'


def expected(spec):
    """What an option's spec asks for, in words: ``a whole number``, ``a list of dicts``, ``one of a, b``."""
    if spec.get('choices'):
        return 'one of %s' % ', '.join(str(choice) for choice in spec['choices'])
    kind = spec.get('type', 'str')  # no type is a string, as for a module option
    if kind == 'list' and spec.get('elements') not in (None, 'raw'):
        return 'a list of %s' % _WORDS.get(spec['elements'], (None, spec['elements']))[1]
    return _WORDS.get(kind, (kind, None))[0]


def _convert(kind, value):
    """``value`` checked as (and, for numbers and booleans, converted to) ``kind``; TypeError or ValueError if not."""
    if kind in _STRICT:
        return _STRICT[kind](value)
    return DEFAULT_TYPE_VALIDATORS[kind](value)


def _check(name, spec, value):
    """``(value to pass on, problem or None)`` of one argument.

    The checks are the type checkers ansible-core's ArgumentSpecValidator uses, called on the value itself: the
    validator deep-copies what it validates, which for a template's lazy containers (a registered result, a dict of
    facts) copies all they hold and took seconds a call.
    """
    kind = spec.get('type', 'str')
    if value is None and not spec.get('required') and spec.get('default') is None:
        return value, None  # an unset optional argument: the function's own default
    if kind == 'raw' and not spec.get('choices'):
        return value, None
    try:
        checked = _convert(kind, value)
        if kind == 'list' and spec.get('elements') not in (None, 'raw'):
            checked = [_convert(spec['elements'], item) for item in checked]
        if spec.get('choices'):
            for item in checked if kind == 'list' else [checked]:
                if item not in spec['choices']:
                    raise ValueError(item)
    except (TypeError, ValueError):
        return value, '%s %s is not %s' % (_argument(name), shown(value), expected(spec))
    if kind in _CONVERTED or spec.get('elements') in _CONVERTED:
        return checked, None
    if kind in ('list', 'dict'):
        # Not raw, which may be hostvars: a plain copy of every host's variables would template them all.
        return plain(value), None
    return value, None


def check_arguments(filter_name, documentation, args, kwargs):
    """``{option: value}`` of a call ``filter_name(*args, **kwargs)``, checked against ``documentation``.

    ``documentation`` is what :func:`load_documentation` returns. Positional arguments take the
    documented positional names, then the other options in documentation order. An argument not
    given takes its documented default. Raises AnsibleFilterError naming every problem.
    """
    order, specs = documentation
    prefix = '%s.%s: ' % (COLLECTION, filter_name)
    if len(args) > len(order):
        raise AnsibleFilterError(
            '%sgot %d arguments: expected at most %d (%s)'
            % (prefix, len(args), len(order), ', '.join(_argument(n) for n in order))
        )
    given = dict(zip(order, args))
    for key, value in kwargs.items():
        if key not in specs:
            raise AnsibleFilterError(
                '%sunknown argument %s=%s: expected only %s'
                % (prefix, key, shown(value), ', '.join(n for n in order if n != '_input'))
            )
        if key in given:
            raise AnsibleFilterError('%s%s is given twice, by position and by name' % (prefix, _argument(key)))
        given[key] = value
    params = {}
    problems = []
    for name in order:
        spec = specs[name]
        if name not in given:
            if spec.get('required'):
                problems.append('%s is missing: expected %s' % (_argument(name), expected(spec)))
            elif spec.get('default') is not None:
                params[name] = copy.deepcopy(spec['default'])
            continue
        params[name], problem = _check(name, spec, given[name])
        if problem:
            problems.append(problem)
    if problems:
        raise AnsibleFilterError(prefix + '; '.join(problems))
    return params


def documented_filter(*errors):
    """Decorator: check a filter's arguments against ``<function name>.yml`` beside its file.

    The function is then called with the input first and the other arguments by name; an
    exception of one of ``errors`` (the module_utils' own, whose messages name the value)
    becomes an AnsibleFilterError prefixed with the filter's name.
    """

    def decorate(func):
        name = func.__name__

        @functools.wraps(func)
        def checked(*args, **kwargs):
            directory = os.path.dirname(os.path.abspath(sys.modules[func.__module__].__file__))
            params = check_arguments(name, _documentation(os.path.join(directory, name + '.yml')), args, kwargs)
            try:
                return func(params.pop('_input', None), **params)
            except errors as exc:
                raise AnsibleFilterError('%s.%s: %s' % (COLLECTION, name, exc))

        return checked

    return decorate
