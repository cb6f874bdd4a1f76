# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Kubernetes API emulator on 127.0.0.1 for running roles through real ansible-playbook.

The pytest fixture ``kube`` starts the PyPI package ``kmock`` (its stateful ``KubernetesEmulator``)
over real HTTP in a thread of the test process, writes a kubeconfig for it and stops it after the
test, also when the test fails. ``kubernetes.core.k8s`` and ``k8s_info`` talk to it exactly as to a
cluster: discovery, GET/LIST, POST, PATCH, PUT, DELETE, dry-run. The test then reads back what a
client would see, over HTTP (``kube.objects()``, ``kube.get()``), and can look at every request
the modules sent (``kube.request_log()``, ``kube.writes()``).

What this emulator does NOT prove (a green test here says nothing about these):

* No admission: no defaulting (no ``imagePullPolicy``, ``revisionHistoryLimit``, ``updateStrategy``
  or ``serviceAccountName`` filled in), no webhooks, no quota or pod security.  The only admission
  kept is NamespaceLifecycle: a namespaced object needs an existing Namespace (``default``,
  ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist from the start).
* No schema or OpenAPI validation: any field, any type, any misspelling is stored as sent.  CRDs'
  ``openAPIV3Schema`` is not applied, unknown fields are not pruned, ``kind``/``apiVersion`` are only
  checked against the URL.  The CNI JSON in a NetworkAttachmentDefinition's ``spec.config`` is a
  string to the emulator: nothing parses it.
* No controllers: DaemonSets never roll out (their status stays empty unless the test calls
  ``kube.patch_status()`` / ``kube.mark_daemonset_ready()`` or turns on ``kube.auto_rollout()``),
  no Pods are created, no garbage collection (deleting a Namespace does not delete what is in it,
  ownerReferences are ignored), creating a CRD neither registers nor unregisters an API (the custom
  resources listed in ``RESOURCES`` are always served) and nothing sets its ``Established``
  condition, no ServiceAccount tokens, no node lifecycle.
* No RBAC or authentication: the token in the kubeconfig is never checked; ClusterRoles and
  bindings are stored, never enforced.
* Patch semantics are approximate: JSON patch and JSON merge patch are exact, but a strategic merge
  patch is applied as a JSON merge patch (lists are replaced whole, not merged by their merge key;
  ``$setElementOrder``/``$retainKeys`` are dropped and ``$patch``/``$deleteFromPrimitiveList`` are
  refused with HTTP 500).  ``kubernetes.core.k8s`` ``state: present`` (no ``apply``/``force``) sends
  the whole definition as a strategic merge patch to built-in kinds: when a role drops a container,
  an env entry or a volume from a DaemonSet, the emulator removes it but a real server keeps it (it
  merges those lists by name); use ``apply: true`` or ``force: true`` for removals to be real.
  Server-side apply (``application/apply-patch+yaml``) is a merge without field ownership: fields
  removed from the applied configuration are NOT removed, and there are no conflicts or
  ``managedFields``.  Custom resources refuse strategic merge with 415, as a
  real server does, so ``kubernetes.core`` falls back to a merge patch as it would on a cluster.
* Watches are kmock's: no label/field selectors, no ``resourceVersion`` resume, no bookmarks.
  ``kubernetes.core.k8s`` ``wait`` polls with GET, so it is not affected.
* No deletecollection, no ``pods/log``, ``exec``, ``eviction``, ``scale`` or other subresource
  than ``status``; no ``metadata.managedFields``, no server-side ``generateName`` collisions, no
  ``resourceVersion`` semantics on LIST (``resourceVersion=0`` etc. are ignored), no pagination
  (``limit``/``continue`` are ignored: every list is complete), no Table or protobuf output.

Deviations of kmock 0.8 itself, fixed here in ``_Emulator`` (see the comments there):

* Its LIST responses are ``{"metadata": ..., "items": [...]}`` without ``kind: <Kind>List`` and
  ``apiVersion``, which the ``kubernetes`` client's ``ResourceInstance`` needs: ``k8s_info`` fails.
* It ignores ``labelSelector`` and ``fieldSelector`` (returns every object), and lists in insertion
  order rather than by namespace/name.
* It ignores ``dryRun=All`` (so ``ansible-playbook --check``, which ``kubernetes.core`` sends as a
  server-side dry run, would really create, patch and delete).
* It stores the request body as is: no ``uid``, ``resourceVersion``, ``creationTimestamp``,
  ``generation``, nor ``metadata.namespace`` taken from the URL, no ``observedGeneration`` logic.
* It answers PUT (``force: true`` replace) with 404, applies a PATCH by the body's shape (an object:
  recursive merge, a list: JSON patch) whatever its content type, applies a ``/status`` PATCH to the
  whole object and lets the main resource change ``status``; it does not check that namespaces
  exist, nor ``resourceVersion`` preconditions (409), nor that a body's kind/namespace/name match
  the URL.
* It parses every ``/api/v1/namespaces/<x>/...`` URL as "inside namespace <x>": listing Namespaces
  is an HTTP 500 and one Namespace cannot be read, patched or deleted (``parse_path`` below).
* It returns its own Python traceback in every error ``Status``; here only for emulator bugs (500).
* Its discovery lists resources with no verbs unless told; here every resource is declared with
  its kind, scope, verbs, short names and ``status`` subresource.
"""

import asyncio
import contextlib
import copy
import datetime
import importlib
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

import aiohttp.web
import jsonpatch
import kmock
import pytest

# (apiVersion, kind, plural, namespaced, has a status subresource, short names)
RESOURCES = [
    ('v1', 'Namespace', 'namespaces', False, True, ('ns',)),
    ('v1', 'ConfigMap', 'configmaps', True, False, ('cm',)),
    ('v1', 'ServiceAccount', 'serviceaccounts', True, False, ('sa',)),
    ('v1', 'Node', 'nodes', False, True, ('no',)),
    ('v1', 'Pod', 'pods', True, True, ('po',)),
    ('apps/v1', 'DaemonSet', 'daemonsets', True, True, ('ds',)),
    ('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', False, False, ()),
    ('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', False, False, ()),
    ('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', False, True, ('crd', 'crds')),
    (
        'k8s.cni.cncf.io/v1',
        'NetworkAttachmentDefinition',
        'network-attachment-definitions',
        True,
        False,
        ('net-attach-def',),
    ),
    ('spiderpool.spidernet.io/v2beta1', 'SpiderSubnet', 'spidersubnets', False, True, ('ss',)),
    ('spiderpool.spidernet.io/v2beta1', 'SpiderIPPool', 'spiderippools', False, True, ('sp',)),
    ('multinic.fms.io/v1', 'MultiNicNetwork', 'multinicnetworks', False, True, ()),
    ('ais.nvidia.com/v1beta1', 'AIStore', 'aistores', True, True, ('ais',)),
]

# Groups compiled into kube-apiserver: they accept strategic merge patches; custom resources do not.
BUILTIN_GROUPS = ('', 'apps', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io')
DEFAULT_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')
VERBS = ('create', 'delete', 'get', 'list', 'patch', 'update', 'watch')
WRITE_METHODS = ('POST', 'PUT', 'PATCH', 'DELETE')
# Requests that the fixture itself sends carry this User-Agent; request_log() leaves them out.
FIXTURE_AGENT = 'kube-emulator-fixture'


# kmock 0.8 parses every /api/v1/namespaces/<x>/... URL as "inside namespace <x>": listing
# Namespaces crashes its parser (HTTP 500) and GET/PATCH/DELETE of one Namespace lose the resource.
# Its request parser looks parse_path up on its module at each request, so wrapping it there fixes
# that for this process; every other path goes through kmock's own parser unchanged.
_PARSING = importlib.import_module('kmock._internal.parsing')
_KMOCK_PARSE_PATH = getattr(_PARSING, '_kmock_parse_path', _PARSING.parse_path)


def parse_path(path):
    """kmock's URL parser, with the Namespace resource (``/api/v1/namespaces[/name[/status|finalize]]``) fixed."""
    parts = path.strip('/').split('/')
    if parts[:3] == ['api', 'v1', 'namespaces'] and (
        len(parts) <= 4 or (len(parts) == 5 and parts[4] in ('status', 'finalize'))
    ):
        return _PARSING.ParsedPath(
            group='',
            version='v1',
            plural='namespaces',
            namespace=None,
            name=parts[3] if len(parts) > 3 else None,
            subresource=parts[4] if len(parts) > 4 else None,
        )
    return _KMOCK_PARSE_PATH(path)


_PARSING.parse_path = parse_path
_PARSING._kmock_parse_path = _KMOCK_PARSE_PATH  # pylint: disable=protected-access


def split_api_version(api_version):
    """``'apps/v1'`` -> ``('apps', 'v1')``, ``'v1'`` -> ``('', 'v1')``."""
    group, sep, version = api_version.rpartition('/')
    return (group if sep else ''), version


def header(request, name):
    """A request header, case-insensitively (kmock keeps the case the client sent)."""
    return next((value for key, value in request.headers.items() if key.lower() == name.lower()), '')


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class KubeError(kmock.KubernetesError):
    """An API error rendered by kmock as a ``kind: Status`` body with this code and reason."""


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch: dicts merge, ``None`` deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strip_strategic_directives(patch):
    """Drop the ordering-only strategic-merge directives; refuse those that would change the result."""
    if isinstance(patch, list):
        return [strip_strategic_directives(item) for item in patch]
    if not isinstance(patch, dict):
        return patch
    out = {}
    for key, value in patch.items():
        if key.startswith('$setElementOrder/') or key == '$retainKeys':
            continue
        if key.startswith('$'):
            raise KubeError(
                status=500,
                reason='NotImplemented',
                message='the emulator does not implement the strategic-merge directive %s' % key,
            )
        out[key] = strip_strategic_directives(value)
    return out


_SET_RE = re.compile(r'^([^\s=!]+)\s+(in|notin)\s+\(([^)]*)\)$')
_CMP_RE = re.compile(r'^([^\s=!]+)\s*(==|=|!=)\s*(\S*)$')
_EXISTS_RE = re.compile(r'^(!?)([^\s=!(),]+)$')


def split_selector(selector):
    """Split at the commas that are not inside ``in (a,b)`` parentheses."""
    parts, depth, cur = [], 0, ''
    for char in selector:
        if char == ',' and depth == 0:
            parts.append(cur.strip())
            cur = ''
            continue
        depth += {'(': 1, ')': -1}.get(char, 0)
        cur += char
    parts.append(cur.strip())
    return [part for part in parts if part]


def label_selector_matches(selector, labels):
    """Kubernetes label selector: ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``, ``a notin (x)``."""
    for req in split_selector(selector):
        match = _SET_RE.match(req)
        if match:
            key, operator, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(',')}
            if (operator == 'in') != (key in labels and labels[key] in values):
                return False
            continue
        match = _CMP_RE.match(req)
        if match:
            key, operator, value = match.groups()
            if (operator == '!=') == (labels.get(key) == value):
                return False
            continue
        match = _EXISTS_RE.match(req)
        if not match:
            raise KubeError(status=400, reason='BadRequest', message='unable to parse requirement: %r' % req)
        if bool(match.group(1)) == (match.group(2) in labels):
            return False
    return True


def field_selector_matches(selector, obj):
    """Field selector ``a.b=c``/``a.b==c``/``a.b!=c`` on any dotted path (a real server knows only a few fields)."""
    for req in split_selector(selector):
        match = _CMP_RE.match(req)
        if not match:
            raise KubeError(status=400, reason='BadRequest', message='invalid field selector: %r' % req)
        path, operator, value = match.groups()
        cur = obj
        for part in path.split('.'):
            cur = cur.get(part) if isinstance(cur, dict) else None
        if (operator == '!=') == (('' if cur is None else str(cur)) == value):
            return False
    return True


class _Emulator(kmock.KubernetesEmulator):
    """kmock's KubernetesEmulator with the deviations listed in the module docstring fixed.

    Reads (discovery, GET, watch) stay kmock's, except LIST.  Writes on resources are served here
    entirely: kmock's own write path stores the body as sent and cannot be told about dry runs.
    """

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        self.resource_version = 0
        self.rollout = None  # None: no DaemonSet controller; int or 'nodes': mark ready on every write.
        self.kinds = {}
        for api_version, kind, plural, namespaced, status, short in RESOURCES:
            group, version = split_api_version(api_version)
            subresources = {'status'} if status else set()
            self.resources[kmock.resource(group, version, plural)] = kmock.ResourceInfo(
                kind=kind,
                namespaced=namespaced,
                singular=kind.lower(),
                verbs=set(VERBS),
                shortnames=set(short),
                subresources=subresources,
            )
            self.kinds[(group, version, plural)] = (api_version, kind)
        for name in DEFAULT_NAMESPACES:
            self.store_new(kmock.resource('', 'v1', 'namespaces'), None, {'metadata': {'name': name}}, dry_run=False)

    async def _render_error(self, exc):
        # kmock puts its own Python traceback into every error Status; a real server sends no such thing,
        # and kubernetes.core would print it in every failure message.  Keep it for emulator bugs only.
        if isinstance(exc, kmock.KubernetesError):
            return aiohttp.web.json_response(
                {
                    'apiVersion': 'v1',
                    'kind': 'Status',
                    'metadata': {},
                    'status': 'Failure',
                    'code': exc.status,
                    'reason': exc.reason or type(exc).__name__,
                    'message': exc.message or repr(exc),
                    'details': exc.details or {},
                },
                status=exc.status,
            )
        return await super()._render_error(exc)

    def info(self, res):
        if (res.group, res.version, res.plural) not in self.kinds:
            raise kmock.KubernetesResourceNotFoundError()
        return self.resources[res]

    def next_version(self):
        self.resource_version += 1
        return str(self.resource_version)

    def current(self, res, namespace, name):
        key = (res, namespace, name)
        if key in self.objects and not self.objects[key].deleted:
            return self.objects[key]
        return None

    # kmock's list answer has no kind/apiVersion (k8s_info fails on it: the kubernetes client's
    # ResourceInstance needs `kind`), ignores labelSelector/fieldSelector and is in insertion order.
    async def _serve_list(self, request):
        res = request.resource
        self.info(res)
        async with self._lock:
            found = [
                (ns or '', name, obj.raw)
                for (r, ns, name), obj in self.objects.items()
                if r == res and not obj.deleted and (request.namespace is None or ns == request.namespace)
            ]
            version = str(self.resource_version)
        labels = request.params.get('labelSelector')
        fields = request.params.get('fieldSelector')
        items = [
            copy.deepcopy(raw)
            for ns, name, raw in sorted(found, key=lambda item: item[:2])
            if (not labels or label_selector_matches(labels, raw.get('metadata', {}).get('labels') or {}))
            and (not fields or field_selector_matches(fields, raw))
        ]
        api_version, kind = self.kinds[(res.group, res.version, res.plural)]
        return {
            'kind': kind + 'List',
            'apiVersion': api_version,
            'metadata': {'resourceVersion': version},
            'items': items,
        }

    async def _handle(self, request):
        if request.resource is None or request.resource.plural is None or request.method.value not in WRITE_METHODS:
            return await super()._handle(request)
        async with self._lock:
            code, event, obj = self.write(request)
        if event:
            await self._buses[request.resource].put({'type': event, 'object': copy.deepcopy(obj)})
        return aiohttp.web.json_response(obj, status=code)

    def write(self, request):
        """Serve one write request: ``(HTTP code, watch event type or None, object)``."""
        res, method = request.resource, request.method.value
        info = self.info(res)
        dry_run = bool(request.params.get('dryRun'))
        namespace = request.namespace
        if namespace is not None and not info.namespaced:
            raise kmock.KubernetesEndpointNotFoundError()
        if method == 'POST' and request.name is None:
            return self.create(res, info, namespace, request.data, dry_run)
        if request.name is None or method == 'POST':
            raise KubeError(
                status=405,
                reason='MethodNotAllowed',
                message='%s %s is not emulated (no deletecollection, no POST subresources)'
                % (method, request.url.path),
            )
        if info.namespaced and namespace is None:
            raise kmock.KubernetesEndpointNotFoundError()
        if request.subresource not in (None, 'status') or (
            request.subresource == 'status' and 'status' not in info.subresources
        ):
            raise kmock.KubernetesEndpointNotFoundError()
        old = self.current(res, namespace, request.name)
        content_type = header(request, 'Content-Type').split(';')[0].strip()
        if (
            old is None
            and method == 'PATCH'
            and content_type == 'application/apply-patch+yaml'
            and request.subresource is None
        ):
            return self.create(res, info, namespace, request.data, dry_run)  # server-side apply creates
        if old is None:
            raise KubeError(status=404, reason='NotFound', message='%s "%s" not found' % (res.plural, request.name))
        old = copy.deepcopy(old.raw)
        if method == 'DELETE':
            return self.delete(res, namespace, request.name, old, dry_run)
        if method == 'PUT':
            new = copy.deepcopy(request.data) if isinstance(request.data, dict) else None
            if new is None:
                raise KubeError(status=400, reason='BadRequest', message='PUT needs a JSON object body')
        else:
            new = self.patched(res, old, request.data, content_type)
        return self.update(res, info, namespace, request.name, old, new, request.subresource, dry_run)

    def patched(self, res, old, body, content_type):
        if content_type == 'application/json-patch+json':
            if not isinstance(body, list):
                raise KubeError(status=400, reason='BadRequest', message='a JSON patch must be a list')
            try:
                return jsonpatch.apply_patch(old, body, in_place=False)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise KubeError(status=422, reason='Invalid', message=str(exc)) from exc
        if not isinstance(body, dict):
            raise KubeError(status=400, reason='BadRequest', message='a merge patch must be a JSON object')
        if content_type == 'application/strategic-merge-patch+json':
            if res.group not in BUILTIN_GROUPS:
                raise KubeError(
                    status=415,
                    reason='UnsupportedMediaType',
                    message='the body of the request was in an unknown format - accepted media types include: '
                    'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
                )
            body = strip_strategic_directives(body)
        elif content_type not in ('application/merge-patch+json', 'application/apply-patch+yaml'):
            raise KubeError(
                status=415, reason='UnsupportedMediaType', message='unsupported patch type %r' % content_type
            )
        return merge_patch(old, body)

    def check_identity(self, res, namespace, name, obj):
        """The body's apiVersion/kind/namespace/name must match the URL (filled in when absent)."""
        api_version, kind = self.kinds[(res.group, res.version, res.plural)]
        if obj.setdefault('apiVersion', api_version) != api_version or obj.setdefault('kind', kind) != kind:
            raise KubeError(
                status=400,
                reason='BadRequest',
                message='%s %s does not match the expected %s %s' % (obj['apiVersion'], obj['kind'], api_version, kind),
            )
        meta = obj.setdefault('metadata', {})
        if not isinstance(meta, dict):
            raise KubeError(status=400, reason='BadRequest', message='metadata is not an object')
        if namespace is not None:
            if meta.setdefault('namespace', namespace) != namespace:
                raise KubeError(
                    status=400,
                    reason='BadRequest',
                    message='the namespace of the provided object does not match the namespace sent on the request',
                )
        else:
            meta.pop('namespace', None)
        if name is not None and meta.get('name') != name:
            raise KubeError(
                status=400,
                reason='BadRequest',
                message='the name of the object (%r) does not match the name on the URL (%r)'
                % (meta.get('name'), name),
            )
        return meta

    def create(self, res, info, namespace, body, dry_run):
        if not isinstance(body, dict):
            raise KubeError(status=400, reason='BadRequest', message='the body is not a JSON object')
        obj = copy.deepcopy(body)
        if info.namespaced:
            namespace = namespace or (obj.get('metadata') or {}).get('namespace')
            if not namespace:
                raise KubeError(status=400, reason='BadRequest', message='a namespaced object needs a namespace')
            if self.current(kmock.resource('', 'v1', 'namespaces'), None, namespace) is None:
                raise KubeError(status=404, reason='NotFound', message='namespaces "%s" not found' % namespace)
        return self.store_new(res, namespace if info.namespaced else None, obj, dry_run)

    def store_new(self, res, namespace, obj, dry_run):
        info = self.resources[res]
        meta = self.check_identity(res, namespace, None, obj)
        if not meta.get('name') and meta.get('generateName'):
            meta['name'] = meta['generateName'] + uuid.uuid4().hex[:5]
        name = meta.get('name')
        if not name:
            raise KubeError(status=422, reason='Invalid', message='metadata.name: Required value')
        if self.current(res, namespace, name) is not None:
            raise KubeError(status=409, reason='AlreadyExists', message='%s "%s" already exists' % (res.plural, name))
        for field in ('resourceVersion', 'deletionTimestamp', 'managedFields'):
            meta.pop(field, None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        if 'status' in info.subresources and res.plural != 'nodes':
            obj.pop(
                'status', None
            )  # a real server ignores status on create when it has a status subresource (Nodes excepted)
        if res.plural == 'namespaces':
            obj['status'] = {'phase': 'Active'}
        self.controllers(res, obj)
        if dry_run:
            meta['resourceVersion'] = str(self.resource_version)
            return 201, None, obj
        meta['resourceVersion'] = self.next_version()
        key = (res, namespace, name)
        if key in self.objects:
            self.objects[key].history.append(obj)
        else:
            self.objects[key] = obj
        return 201, 'ADDED', copy.deepcopy(obj)

    def update(self, res, info, namespace, name, old, new, subresource, dry_run):
        new = copy.deepcopy(new)
        meta = self.check_identity(res, namespace, name, new)
        sent_version = meta.get('resourceVersion')
        if sent_version and sent_version != old['metadata']['resourceVersion']:
            raise KubeError(
                status=409,
                reason='Conflict',
                message='Operation cannot be fulfilled on %s "%s": the object has been modified' % (res.plural, name),
            )
        if subresource == 'status':
            # Only status changes through /status; a real server keeps the rest as it was.
            status = new.get('status')
            new = {k: copy.deepcopy(v) for k, v in old.items() if k != 'status'}
            if status is not None:
                new['status'] = status
        elif 'status' in info.subresources:
            new = {k: v for k, v in new.items() if k != 'status'}
            if 'status' in old:
                new['status'] = copy.deepcopy(old['status'])
        # The server owns these metadata fields.
        for field in ('uid', 'creationTimestamp', 'generation', 'deletionTimestamp'):
            if field in old['metadata']:
                new['metadata'][field] = old['metadata'][field]
            else:
                new['metadata'].pop(field, None)
        new['metadata']['resourceVersion'] = old['metadata']['resourceVersion']
        spec_old = {k: v for k, v in old.items() if k not in ('metadata', 'status')}
        spec_new = {k: v for k, v in new.items() if k not in ('metadata', 'status')}
        if spec_new != spec_old:
            new['metadata']['generation'] = old['metadata'].get('generation', 0) + 1
        if subresource is None:
            self.controllers(res, new)
        if new == old:
            return 200, None, new  # a no-op write changes nothing, not even resourceVersion
        if dry_run:
            return 200, None, new
        new['metadata']['resourceVersion'] = self.next_version()
        self.objects[(res, namespace, name)].history.append(new)
        return 200, 'MODIFIED', copy.deepcopy(new)

    def delete(self, res, namespace, name, old, dry_run):
        if dry_run:
            return 200, None, old
        key = (res, namespace, name)
        if old['metadata'].get('finalizers'):
            if old['metadata'].get('deletionTimestamp'):
                return 200, None, old
            new = copy.deepcopy(old)
            new['metadata'].update(deletionTimestamp=now_rfc3339(), resourceVersion=self.next_version())
            self.objects[key].history.append(new)
            return 200, 'MODIFIED', copy.deepcopy(new)
        self.objects[key].delete()
        return 200, 'DELETED', old

    def controllers(self, res, obj):
        """The only controller: with auto_rollout() on, a written DaemonSet reports itself fully rolled out."""
        if self.rollout is None or (res.group, res.plural) != ('apps', 'daemonsets'):
            return
        number = self.rollout
        if number == 'nodes':
            number = sum(
                1
                for (r, ns, name), o in self.objects.items()
                if r.plural == 'nodes' and r.group == '' and not o.deleted
            )
        obj['status'] = daemonset_ready_status(obj, number)


def daemonset_ready_status(obj, number):
    """The status a DaemonSet controller reports once ``number`` pods run the current template."""
    return {
        'currentNumberScheduled': number,
        'desiredNumberScheduled': number,
        'numberAvailable': number,
        'numberMisscheduled': 0,
        'numberReady': number,
        'updatedNumberScheduled': number,
        'observedGeneration': obj.get('metadata', {}).get('generation', 1),
    }


class KubeEmulator:
    """A running emulator: its URL, kubeconfig, and HTTP helpers that read and seed it as a client would."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.kubeconfig = os.path.join(self.workdir, 'kubeconfig')
        self.inventory = os.path.join(self.workdir, 'hosts.ini')
        self.url = None
        self._loop = None
        self._thread = None
        self._stack = None
        self._handler = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._plurals = {(row[0], row[1]): (row[2], row[3]) for row in RESOURCES}

    # --- life cycle -------------------------------------------------------------------------
    def start(self):
        """Serve on 127.0.0.1, a free port chosen by the OS, in a daemon thread with its own event loop."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name='kube-emulator', daemon=True)
        self._thread.start()
        try:
            self.url = self._call(self._astart())
        except BaseException:
            self.stop()
            raise
        os.makedirs(os.path.join(self.workdir, 'tmp'), exist_ok=True)
        config = {
            'apiVersion': 'v1',
            'kind': 'Config',
            'preferences': {},
            'clusters': [{'name': 'emulator', 'cluster': {'server': self.url}}],
            'users': [{'name': 'emulator', 'user': {'token': 'not-checked'}}],
            'contexts': [
                {'name': 'emulator', 'context': {'cluster': 'emulator', 'user': 'emulator', 'namespace': 'default'}}
            ],
            'current-context': 'emulator',
        }
        with open(self.kubeconfig, 'w', encoding='utf-8') as handle:
            json.dump(config, handle, indent=2)  # JSON is YAML
        with open(self.inventory, 'w', encoding='utf-8') as handle:
            handle.write('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
        return self

    async def _astart(self):
        self._stack = contextlib.AsyncExitStack()
        self._handler = await self._stack.enter_async_context(_Emulator())
        server = await self._stack.enter_async_context(kmock.Server(self._handler, host='127.0.0.1'))
        return 'http://127.0.0.1:%d' % server.port

    async def _astop(self):
        if self._stack is not None:
            await self._stack.aclose()

    def stop(self):
        """Stop the server and its thread (idempotent)."""
        if self._loop is None:
            return
        try:
            if self._stack is not None and self._thread.is_alive():
                self._call(self._astop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            self._loop = self._stack = None

    def _call(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def env(self):
        """Extra environment for ansible-playbook: the kubeconfig, and a private TMPDIR for the client's discovery cache."""
        return {
            'K8S_AUTH_KUBECONFIG': self.kubeconfig,
            'TMPDIR': os.path.join(self.workdir, 'tmp'),
            'NO_PROXY': '127.0.0.1,localhost',
            'no_proxy': '127.0.0.1,localhost',
        }

    # --- HTTP helpers -------------------------------------------------------------------------
    def path(self, api_version, kind, namespace=None, name=None, subresource=None):
        """The URL path of a collection or an object, e.g. ``/apis/apps/v1/namespaces/x/daemonsets/y``."""
        try:
            plural, namespaced = self._plurals[(api_version, kind)]
        except KeyError:
            raise KeyError('the emulator does not serve %s %s (see RESOURCES)' % (api_version, kind)) from None
        parts = ['/api/v1' if api_version == 'v1' else '/apis/' + api_version]
        if namespaced and namespace:
            parts.append('namespaces/' + namespace)
        parts.append(plural)
        parts.extend(p for p in (name, subresource) if p)
        return '/'.join(parts)

    def request(self, method, path, body=None, content_type='application/json', params=None):
        """One HTTP request as the fixture: ``(status, decoded JSON body)``, never raising on HTTP errors."""
        url = self.url + path + ('?' + urllib.parse.urlencode(params) if params else '')
        data = None if body is None else json.dumps(body).encode('utf-8')
        req = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers={'Content-Type': content_type, 'Accept': 'application/json', 'User-Agent': FIXTURE_AGENT},
        )
        try:
            with self._opener.open(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b'null')
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b'null')

    def _ok(self, status, body, what):
        if status >= 300:
            raise AssertionError(
                '%s: HTTP %d %s' % (what, status, body.get('message') if isinstance(body, dict) else body)
            )
        return body

    def objects(self, api_version, kind, namespace=None, label_selector=None):
        """The stored objects of a kind, read back with a LIST over HTTP (all namespaces when ``namespace`` is None)."""
        params = {'labelSelector': label_selector} if label_selector else None
        return self._ok(
            *self.request('GET', self.path(api_version, kind, namespace), params=params),
            what='list %s %s' % (api_version, kind),
        )['items']

    def names(self, api_version, kind, namespace=None, label_selector=None):
        """Sorted ``metadata.name`` of ``objects()``."""
        return sorted(obj['metadata']['name'] for obj in self.objects(api_version, kind, namespace, label_selector))

    def get(self, api_version, kind, name, namespace=None):
        """One object read over HTTP, or None when the API answers 404."""
        status, body = self.request('GET', self.path(api_version, kind, namespace, name))
        return None if status == 404 else self._ok(status, body, 'get %s %s' % (kind, name))

    def create(self, obj):
        """POST an object (to seed what exists before the playbook runs); returns it as stored.

        A ``status`` in ``obj`` is then written through ``/status`` as its controller would (a real server drops
        the status sent on create, except for Nodes, which keep theirs: seed Nodes with their InternalIP here)."""
        meta = obj.get('metadata', {})
        stored = self._ok(
            *self.request('POST', self.path(obj['apiVersion'], obj['kind'], meta.get('namespace')), obj),
            what='create %s %s' % (obj['kind'], meta.get('name')),
        )
        if obj.get('status') and stored.get('status') != obj['status']:
            stored = self.patch_status(
                obj['apiVersion'], obj['kind'], meta['name'], obj['status'], meta.get('namespace')
            )
        return stored

    def patch(self, api_version, kind, name, patch, namespace=None, subresource=None):
        """JSON merge patch an object (as another client or a controller would)."""
        return self._ok(
            *self.request(
                'PATCH',
                self.path(api_version, kind, namespace, name, subresource),
                patch,
                content_type='application/merge-patch+json',
            ),
            what='patch %s %s' % (kind, name),
        )

    def patch_status(self, api_version, kind, name, status, namespace=None):
        """Merge ``status`` through the ``/status`` subresource, as the object's controller would."""
        return self.patch(api_version, kind, name, {'status': status}, namespace, subresource='status')

    def mark_daemonset_ready(self, name, namespace, number=1):
        """Emulate the DaemonSet controller once: ``number`` pods scheduled, updated and ready for the current generation."""
        current = self.get('apps/v1', 'DaemonSet', name, namespace)
        if current is None:
            raise AssertionError('no DaemonSet %s/%s to mark ready' % (namespace, name))
        return self.patch_status('apps/v1', 'DaemonSet', name, daemonset_ready_status(current, number), namespace)

    def delete(self, api_version, kind, name, namespace=None):
        """DELETE an object; returns the HTTP status."""
        return self.request('DELETE', self.path(api_version, kind, namespace, name))[0]

    def auto_rollout(self, number='nodes'):
        """From now on every DaemonSet written (created, patched, replaced) reports itself rolled out on ``number``
        pods (``'nodes'``: the number of Node objects stored; ``None`` turns this controller off again)."""
        self._handler.rollout = number

    # --- requests -----------------------------------------------------------------------------
    def request_log(self, include_fixture=False):
        """Every request the server received, oldest first, as dicts: method, path, params, action, resource
        (``group/version/plural``), namespace, name, subresource, content_type, body, dry_run."""

        async def snapshot():
            return list(self._handler)

        out = []
        for req in self._call(snapshot()):
            if header(req, 'User-Agent') == FIXTURE_AGENT and not include_fixture:
                continue
            res = req.resource
            out.append(
                {
                    'method': req.method.value,
                    'path': req.url.path,
                    'params': dict(req.params),
                    'action': req.action.value if req.action is not None else None,
                    'resource': '%s/%s/%s' % (res.group, res.version, res.plural) if res is not None else None,
                    'namespace': req.namespace,
                    'name': req.name,
                    'subresource': req.subresource,
                    'content_type': header(req, 'Content-Type').split(';')[0].strip() or None,
                    'body': req.data,
                    'dry_run': bool(req.params.get('dryRun')),
                }
            )
        return out

    def writes(self, include_dry_run=False):
        """The POST/PUT/PATCH/DELETE requests on resources that the playbooks sent (dry runs left out by default)."""
        return [
            r
            for r in self.request_log()
            if r['method'] in WRITE_METHODS and r['resource'] and (include_dry_run or not r['dry_run'])
        ]


@pytest.fixture
def kube(tmp_path):
    """A fresh emulator per test (starting one takes milliseconds), always stopped afterwards."""
    emulator = KubeEmulator(tmp_path / 'kube')
    os.makedirs(emulator.workdir, exist_ok=True)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
