# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AIStore playbooks' network variables, as the ``networks`` list of the NAD builder.

The original AIStore deployment playbooks describe their secondary networks with three
variables: ``network_attachment`` (NAD names), ``network_interface`` (the node interface of
each) and ``attachment_namespace``. :func:`legacy_attachments` turns them into items for
:func:`nad.build_objects`, which checks them like any other network; the ``legacy`` option
of ``netplumb.multihome.nad_objects`` and the network_attachments role use it.
"""

from __future__ import annotations

from typing import Any, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import split_list
from ansible_collections.netplumb.multihome.plugins.module_utils.cidr import PlanError
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import NadError, check_dns_label, check_ifname

# The two lists pair one NAD with one interface: an empty item or a repeated one breaks the pairing.
_LIST_MESSAGES = {
    'type': "%(what)s %(value)r is not a comma-separated list",
    'item_type': "%(what)s %(value)r has an empty item at position %(position)d: expected a name between every "
    "pair of commas",
    'item_empty': "%(what)s %(value)r has an empty item at position %(position)d: expected a name between every "
    "pair of commas",
    'twice': "%(what)s %(value)r lists %(item)r twice (positions %(first)d and %(position)d): the lists pair one NAD "
    "with one interface",
}


def _split_list(value, what):
    return split_list(value, what, NadError, required=True, unique=True, messages=_LIST_MESSAGES)


def legacy_attachments(
    network_attachment: str | Sequence[str],
    network_interface: str | Sequence[str],
    attachment_namespace: str,
    template: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Turn the AIStore playbooks' variables into a ``networks`` list for :func:`nad.build_objects`.

    ``network_attachment`` (NAD names) and ``network_interface`` (node interfaces) are
    comma-separated lists (or lists) paired one to one; ``attachment_namespace`` is the
    namespace of every NAD. ``template`` holds the other network keys for every NAD
    (default ``type: macvlan``, ``mode: bridge``), typically ``ipam``; an ``ipam`` with
    ``from_plan: true`` takes each NAD's own range from the plan. Unequal lengths, empty
    items and duplicates fail naming them, as a :class:`nad.NadError`.
    """
    try:
        names = _split_list(network_attachment, 'network_attachment')
        ifaces = _split_list(network_interface, 'network_interface')
        if len(names) != len(ifaces):
            raise NadError(
                "network_attachment %r has %d names but network_interface %r has %d interfaces: expected "
                "one interface per NAD, in the same order"
                % (network_attachment, len(names), network_interface, len(ifaces))
            )
        namespace = check_dns_label(attachment_namespace, 'attachment_namespace')
        if template is None:
            template = {}
        elif not isinstance(template, dict):
            raise NadError("template %r is not a dict" % (template,))
        template = dict(template)
        for key in ('name', 'namespace', 'namespaces', 'master', 'kind'):
            if key in template:
                raise NadError(
                    "template sets %s %r: the legacy variables provide it; expected only the other network "
                    "keys" % (key, template[key])
                )
        out = []
        for name, iface in zip(names, ifaces):
            check_dns_label(name, 'network_attachment item')
            check_ifname(iface, 'network_interface item for %r' % name)
            item = {'name': name, 'namespace': namespace, 'type': template.get('type', 'macvlan'), 'master': iface}
            if item['type'] == 'macvlan':
                item['mode'] = template.get('mode', 'bridge')
            for key in template:
                if key not in item:
                    item[key] = template[key]
            if isinstance(item.get('ipam'), dict):
                item['ipam'] = dict(item['ipam'])
            out.append(item)
        return out
    except PlanError as exc:
        raise NadError('legacy attachments: %s' % exc)
