# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What netplumb.multihome.nad_objects does with its arguments: the module (plugins/modules/nad_objects.py) and the
action of that name (plugins/action/nad_objects.py, which runs it in the controller's worker, without a module
process) both call :func:`nad_outcome` with arguments checked against :data:`NAD_ARGUMENT_SPEC`.
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_attachments import legacy_attachments
from ansible_collections.netplumb.multihome.plugins.module_utils.nad import (
    PRIMARY_UDN_LABEL,
    build_objects,
    primary_namespaces,
    summarize,
)

NAD_ARGUMENT_SPEC = dict(
    networks=dict(type='list', elements='dict', default=[]),
    defaults=dict(type='dict', default={}),
    plan=dict(type='dict'),
    reserved=dict(type='raw'),
    ovnk_internal_subnets=dict(type='dict'),
    whereabouts_namespace=dict(type='str', default='kube-system'),
    legacy=dict(
        type='dict',
        options=dict(
            network_attachment=dict(type='raw', required=True),
            network_interface=dict(type='raw', required=True),
            attachment_namespace=dict(type='str', required=True),
            template=dict(type='dict', default={}),
        ),
    ),
)


def run(params):
    """The objects for the module's parameters; raises PlanError (NadError) on bad input."""
    networks = list(params.get('networks') or [])
    legacy = params.get('legacy')
    if legacy:
        networks.extend(
            legacy_attachments(
                legacy['network_attachment'],
                legacy['network_interface'],
                legacy['attachment_namespace'],
                legacy.get('template'),
            )
        )
    return build_objects(
        networks,
        defaults=params.get('defaults'),
        plan=params.get('plan'),
        reserved=params.get('reserved'),
        ovnk_internal=params.get('ovnk_internal_subnets'),
        whereabouts_namespace=params.get('whereabouts_namespace'),
    )


def nad_outcome(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``(the module's result without invocation, its warnings)`` for checked ``params``; raises PlanError."""
    objects = run(params)
    primary = primary_namespaces(objects)
    warnings = [
        'namespace %s holds an OVN-Kubernetes primary network: OVN-Kubernetes uses it only when the namespace '
        'carries the label %s, which can only be set when the namespace is created' % (namespace, PRIMARY_UDN_LABEL)
        for namespace in primary
    ]
    return {
        'changed': False,
        'objects': objects,
        'summary': summarize(objects),
        'primary_namespaces': primary,
    }, warnings
