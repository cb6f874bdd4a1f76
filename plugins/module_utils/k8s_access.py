# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this kubeconfig reach the cluster, and may its user do what a role is about to do?

Plain functions for the ``k8s_access`` module: what to ask (:func:`checks_for`), and the messages
a user can act on, written before anything is applied, instead of a half-applied run ending in a
client library's traceback. The module does the asking, through the ``kubernetes`` client that
kubernetes.core uses too: the server's ``/version`` (is it there, are the credentials good), then
one ``SelfSubjectAccessReview`` per verb and resource (does RBAC allow it).
"""

from __future__ import annotations

from typing import Any, Iterable

from ansible_collections.netplumb.multihome.plugins.module_utils.text_table import fixed_width

# What a role's state needs of each object: present reads and creates or patches; absent reads and deletes.
VERBS = {'present': ('get', 'create', 'patch'), 'absent': ('get', 'delete')}


class AccessError(ValueError):
    """The cluster cannot be reached, or the user may not do something; the message says which and why."""


def split_api_version(api_version: str) -> tuple[str, str]:
    """``('apps', 'v1')`` of ``apps/v1``; ``('', 'v1')`` of the core ``v1``."""
    if not isinstance(api_version, str) or not api_version:
        raise AccessError('apiVersion %r is not an API version such as v1 or apps/v1' % (api_version,))
    group, _sep, version = api_version.rpartition('/')
    return group, version


def checks_for(objects: Iterable[dict[str, Any]], default_state: str = 'present') -> list[dict[str, Any]]:
    """The access checks, one per verb, kind and namespace, in a fixed order, for ``objects``.

    Each object is a Kubernetes object (``apiVersion``, ``kind``, ``metadata``) or an item of
    ``nad_objects``' result (``{state, object}``). Returns ``[{verb, api_version, kind, namespace}]``.
    """
    out = []
    seen = set()
    for i, item in enumerate(objects):
        if not isinstance(item, dict):
            raise AccessError('objects[%d] %r is not a Kubernetes object' % (i, item))
        state = item.get('state', default_state)
        obj = item.get('object', item)
        if state not in VERBS:
            raise AccessError('objects[%d] state %r is not one of %s' % (i, state, ', '.join(sorted(VERBS))))
        if not isinstance(obj, dict) or not obj.get('kind') or not obj.get('apiVersion'):
            raise AccessError('objects[%d] %r has no apiVersion and kind' % (i, obj))
        split_api_version(obj['apiVersion'])
        namespace = (obj.get('metadata') or {}).get('namespace') or ''
        for verb in VERBS[state]:
            key = (verb, obj['apiVersion'], obj['kind'], namespace)
            if key not in seen:
                seen.add(key)
                out.append(
                    {'verb': verb, 'api_version': obj['apiVersion'], 'kind': obj['kind'], 'namespace': namespace}
                )
    return out


def describe_check(check: dict[str, Any], resource: str) -> str:
    """``create networkattachmentdefinitions.k8s.cni.cncf.io in namespace ais`` for a check on ``resource``."""
    group, _version = split_api_version(check['api_version'])
    what = '%s.%s' % (resource, group) if group else resource
    where = ' in namespace %s' % check['namespace'] if check.get('namespace') else ''
    return '%s %s%s' % (check['verb'], what, where)


def unreachable_message(server: str, source: str, reason: str) -> str:
    return (
        'The Kubernetes API at %s (%s) does not answer: %s. Check that the cluster runs and that this host reaches '
        'it; nothing was changed.' % (server, source, reason)
    )


def unauthorized_message(server: str, source: str, reason: str) -> str:
    return (
        'The Kubernetes API at %s refused the credentials of %s (HTTP 401 Unauthorized: %s): the token or certificate '
        'is expired, revoked or wrong. Get a fresh kubeconfig; nothing was changed.' % (server, source, reason)
    )


def denied_message(user: str, denied: list[str], source: str) -> str:
    return (
        'The user %s of %s may not %s (RBAC). Nothing was changed: grant these permissions or use a kubeconfig '
        'whose user has them.' % (user or '(unknown)', source, '; '.join(denied))
    )


def object_table(objects: Iterable[dict[str, Any]]) -> list[str]:
    """``kubectl get -A``-style lines of ``objects`` as the API returned them: namespace, kind, name, created."""
    rows = []
    for obj in sorted(
        objects,
        key=lambda o: (
            o.get('kind', ''),
            (o.get('metadata') or {}).get('namespace') or '',
            (o.get('metadata') or {}).get('name', ''),
        ),
    ):
        meta = obj.get('metadata') or {}
        rows.append(
            (
                meta.get('namespace') or '-',
                obj.get('kind', ''),
                meta.get('name', ''),
                meta.get('creationTimestamp') or '-',
            )
        )
    return fixed_width(('NAMESPACE', 'KIND', 'NAME', 'CREATED'), rows)
