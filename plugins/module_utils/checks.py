# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small input checks shared by the collection: text, comma-separated lists, Kubernetes names, interface names.

Each check takes ``what`` (how the caller names the value in its messages) and ``error``
(the exception class the caller raises, so that its own ``except`` clauses keep working),
and returns the value, cleaned where that is said. Standard library only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from typing import TypeGuard  # Python 3.10+, for the checker only

DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
DNS_LABEL_MAX = 63
DNS_SUBDOMAIN_MAX = 253

IFNAME_MAX = 15  # IFNAMSIZ (16) less the terminating NUL
# The kernel refuses '/', ':' and whitespace (dev_valid_name); '%' makes the name a template
# ('eth%d'); the rest would be a shell command if a template ever pasted the name into one.
IFNAME_FORBIDDEN = '/:%;|&$`()<>\'"\\*?!{}[]#~'

_JSON_TYPES = (
    (bool, 'boolean'),
    (int, 'number'),
    (float, 'number'),
    (str, 'string'),
    (list, 'array'),
    (dict, 'object'),
    (type(None), 'null'),
)


def is_text(value: Any) -> TypeGuard[str]:
    """True for a string (of any content)."""
    return isinstance(value, str)


def is_name(value: Any) -> bool:
    """True for a non-empty string."""
    return isinstance(value, str) and bool(value)


def json_type(value: Any) -> str:
    """What JSON calls the type of ``value`` (``boolean``, ``number``, ``string``, ...), for messages."""
    for cls, name in _JSON_TYPES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


# What split_list says, unless the caller words it its own way. The fields: what, value, type
# (json_type of value), item, index (from 0), position (from 1) and first (position of the first
# occurrence of a repeated item).
LIST_MESSAGES = {
    'missing': "%(what)s is missing: expected a comma-separated list",
    'type': "%(what)s %(value)r is a %(type)s: expected a comma-separated string or a list",
    'item_type': "%(what)s %(value)r has a non-string item %(item)r at position %(position)d",
    'item_empty': "%(what)s %(value)r has an empty item at position %(position)d",
    'twice': "%(what)s %(value)r lists %(item)r twice (positions %(first)d and %(position)d)",
}


def split_list(
    value: Any,
    what: str,
    error: type[Exception] = ValueError,
    required: bool = False,
    unique: bool = False,
    messages: Mapping[str, str] | None = None,
) -> list[str]:
    """The stripped string items of ``value``, a comma-separated string or a list (or tuple) of strings.

    ``None`` and a blank string are an empty list, or fail with the ``missing`` message when
    ``required``. An item that is not a string fails (``item_type``), and so does an empty one
    (``item_empty``, such as the middle of ``'a,,b'``); with ``unique`` a repeated item fails
    (``twice``). ``messages`` replaces any of :data:`LIST_MESSAGES`; ``error`` is raised.
    """
    words = dict(LIST_MESSAGES, **(messages or {}))
    fields = {'what': what, 'value': value}
    if value is None or (is_text(value) and not value.strip()):
        if required:
            raise error(words['missing'] % fields)
        return []
    if is_text(value):
        items = value.split(',')
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise error(words['type'] % dict(fields, type=json_type(value)))
    out = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        here = dict(fields, item=item, index=i, position=i + 1)
        if not is_text(item):
            raise error(words['item_type'] % here)
        if not item.strip():
            raise error(words['item_empty'] % here)
        out.append(item.strip())
    if unique:
        for i, item in enumerate(out):
            if item in seen:
                raise error(words['twice'] % dict(fields, item=item, index=i, position=i + 1, first=seen[item] + 1))
            seen[item] = i
    return out


def dns_label_problem(value: Any) -> str | None:
    """Why ``value`` is not a DNS-1123 label (a Kubernetes namespace or object name), or None when it is one."""
    if not is_text(value) or not value:
        return "is not a name: expected a DNS-1123 label such as 'storage-net'"
    if len(value) > DNS_LABEL_MAX:
        return "is %d characters long: a DNS-1123 label has at most %d" % (len(value), DNS_LABEL_MAX)
    if not DNS_LABEL.match(value):
        return (
            "is not a DNS-1123 label: expected lower-case letters, digits and '-', starting and ending "
            "with a letter or digit"
        )
    return None


def dns_subdomain_problem(value: Any) -> str | None:
    """Why ``value`` is not a DNS-1123 subdomain (the name of most Kubernetes objects), or None when it is one."""
    if not is_text(value) or not value:
        return "is not a name: expected a DNS-1123 subdomain such as 'storage-v4'"
    if len(value) > DNS_SUBDOMAIN_MAX or not DNS_SUBDOMAIN.match(value):
        return (
            "is not a DNS-1123 subdomain: expected at most %d lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit" % DNS_SUBDOMAIN_MAX
        )
    return None


def check_dns_label(value: Any, what: str, error: type[Exception] = ValueError) -> str:
    """``value`` if it is a DNS-1123 label; otherwise ``error`` naming ``what`` and the value."""
    problem = dns_label_problem(value)
    if problem:
        raise error('%s %r %s' % (what, value, problem))
    return value


def check_dns_subdomain(value: Any, what: str, error: type[Exception] = ValueError) -> str:
    """``value`` if it is a DNS-1123 subdomain; otherwise ``error`` naming ``what`` and the value."""
    problem = dns_subdomain_problem(value)
    if problem:
        raise error('%s %r %s' % (what, value, problem))
    return value


def check_ifname(value: Any, what: str, error: type[Exception] = ValueError) -> str:
    """``value`` if it is a legal Linux interface name; otherwise ``error`` naming ``what`` and the value.

    1 to 15 characters, not ``.`` or ``..``, no ``/``, ``:`` or whitespace (the kernel's
    ``dev_valid_name``), no ``%`` (a name template) and no shell metacharacter.
    """
    expected = (
        "expected a Linux interface name of 1 to %d characters without '/', ':', whitespace or shell "
        "metacharacters, such as 'ens1f0' or 'net1'" % IFNAME_MAX
    )
    if not is_text(value) or not value:
        raise error("%s %r is not an interface name: %s" % (what, value, expected))
    if len(value) > IFNAME_MAX:
        raise error(
            "%s %r is %d characters long: the kernel allows at most %d (IFNAMSIZ)"
            % (what, value, len(value), IFNAME_MAX)
        )
    if value in ('.', '..'):
        raise error(
            "%s %r is not a valid interface name: '.' and '..' are refused by the kernel; %s" % (what, value, expected)
        )
    for char in value:
        if char.isspace() or char in IFNAME_FORBIDDEN or ord(char) < 32 or ord(char) == 127:
            raise error("%s %r is not a valid interface name: it contains %r; %s" % (what, value, char, expected))
    return value
