# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate custom resources against the real upstream CRDs of ../shared/crds/ (see its README).

The CRDs are read where the workplace keeps them (``NETPLUMB_CRDS``, else ``../shared/crds``
beside this checkout) and never copied into the project. An object is checked the way an API
server checks a custom resource against its structural ``openAPIV3Schema``:

* types, ``required``, ``enum``, ``pattern``, bounds and formats, by the ``jsonschema``
  library (Draft 7) on a schema translated from the Kubernetes dialect:
  ``x-kubernetes-int-or-string``, ``nullable``, ``x-kubernetes-preserve-unknown-fields``;
* unknown fields are refused, as ``kubectl apply`` (``--validate=strict``) refuses them;
  without strict validation the server would drop them silently, which is worse;
* ``x-kubernetes-validations`` (CEL) rules, evaluated by ``cel-python`` with ``self`` bound
  to the value at that point of the object (transition rules on ``oldSelf`` are skipped:
  there is no old object on create);
* ``x-kubernetes-list-type: set`` and ``map`` uniqueness;
* ``metadata.name`` a DNS-1123 subdomain, ``metadata.namespace`` a DNS-1123 label, as the
  API server requires of every object, and the object's namespace matching the CRD's scope.

What this does not prove: admission webhooks (Spiderpool's rules, the AIS operator's
webhook) and defaulting. The real API server of the lab proves the rest.
"""

import copy
import glob
import os
import re

import celpy
import jsonschema
import yaml
from celpy import celtypes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRD_DIR = os.environ.get('NETPLUMB_CRDS') or os.path.join(os.path.dirname(REPO), 'shared', 'crds')

_DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')
_DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_CEL = celpy.Environment()


def _load():
    out = {}
    paths = sorted(glob.glob(os.path.join(CRD_DIR, '*.yaml')))
    if not paths:
        raise RuntimeError(
            'no CRDs in %s: set NETPLUMB_CRDS to the folder of the upstream CRDs (shared/crds)' % CRD_DIR
        )
    for path in paths:
        with open(path) as handle:
            for crd in yaml.safe_load_all(handle):
                if not crd or crd.get('kind') != 'CustomResourceDefinition':
                    continue
                spec = crd['spec']
                for version in spec['versions']:
                    key = ('%s/%s' % (spec['group'], version['name']), spec['names']['kind'])
                    out[key] = {
                        'crd': crd['metadata']['name'],
                        'scope': spec['scope'],
                        'served': version.get('served'),
                        'schema': version['schema']['openAPIV3Schema'],
                        'file': os.path.basename(path),
                    }
    return out


CRDS = _load()


def _json_schema(node):
    """The Kubernetes structural schema ``node`` as a plain JSON schema (a new dict)."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == 'properties':
            out[key] = dict((name, _json_schema(sub)) for name, sub in value.items())
        elif key in ('items', 'additionalProperties', 'not'):
            out[key] = _json_schema(value) if isinstance(value, dict) else value
        elif key in ('allOf', 'anyOf', 'oneOf'):
            out[key] = [_json_schema(sub) for sub in value]
        elif key.startswith('x-kubernetes-') or key in ('nullable', 'description', 'default', 'example'):
            continue
        else:
            out[key] = copy.deepcopy(value)
    if node.get('x-kubernetes-int-or-string'):
        out.pop('type', None)
        out['anyOf'] = out.get('anyOf', []) + [{'type': 'integer'}, {'type': 'string'}]
    if node.get('nullable') and 'type' in out:
        out['type'] = [out['type'], 'null']
    if (
        node.get('type') == 'object'
        and 'properties' in node
        and 'additionalProperties' not in node
        and not node.get('x-kubernetes-preserve-unknown-fields')
    ):
        out['additionalProperties'] = False
    return out


def _path(parts):
    text = ''
    for part in parts:
        text += '[%d]' % part if isinstance(part, int) else ('.' if text else '') + str(part)
    return text or '<root>'


def _cel_errors(schema, value, parts):
    """Problems from the CEL rules and list types of ``schema`` at ``value``, recursively."""
    out = []
    if value is None:
        return out
    for rule in schema.get('x-kubernetes-validations', []):
        if 'oldSelf' in rule['rule']:
            continue
        program = _CEL.program(_CEL.compile(rule['rule']))
        try:
            result = program.evaluate({'self': celpy.json_to_cel(value)})
        except celpy.CELEvalError as exc:
            result = exc
        # A rule passes only by evaluating to true; false and evaluation errors both refuse the object.
        if not (isinstance(result, celtypes.BoolType) and bool(result)):
            out.append('%s: %s (rule %s)' % (_path(parts), rule.get('message') or 'failed', rule['rule']))
    list_type = schema.get('x-kubernetes-list-type')
    if isinstance(value, list) and list_type in ('set', 'map'):
        keys = schema.get('x-kubernetes-list-map-keys') or []
        seen = []
        for item in value:
            key = item if list_type == 'set' else tuple((item or {}).get(k) for k in keys)
            if key in seen:
                out.append('%s: duplicate entry %r in a list of type %s' % (_path(parts), key, list_type))
            seen.append(key)
    if isinstance(value, dict):
        for name, sub in (schema.get('properties') or {}).items():
            if name in value:
                out.extend(_cel_errors(sub, value[name], parts + [name]))
        extra = schema.get('additionalProperties')
        if isinstance(extra, dict):
            for name, item in value.items():
                if name not in (schema.get('properties') or {}):
                    out.extend(_cel_errors(extra, item, parts + [name]))
    if isinstance(value, list) and isinstance(schema.get('items'), dict):
        for i, item in enumerate(value):
            out.extend(_cel_errors(schema['items'], item, parts + [i]))
    return out


def crd_for(obj):
    """The CRD entry of ``obj``'s apiVersion and kind; raises KeyError naming what is known."""
    key = (obj.get('apiVersion'), obj.get('kind'))
    if key not in CRDS:
        raise KeyError(
            'no CRD in %s serves %s %s; known: %s'
            % (CRD_DIR, key[0], key[1], ', '.join(sorted('%s %s' % k for k in CRDS)))
        )
    return CRDS[key]


def errors(obj):
    """Every reason the API server would refuse ``obj`` (a custom resource dict); empty when accepted."""
    entry = crd_for(obj)
    out = []
    if not entry['served']:
        out.append('%s is not served by %s' % (obj['apiVersion'], entry['crd']))
    meta = obj.get('metadata') or {}
    name = meta.get('name')
    if not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        out.append('metadata.name %r is not a DNS-1123 subdomain' % (name,))
    namespace = meta.get('namespace')
    if entry['scope'] == 'Namespaced':
        if not isinstance(namespace, str) or not _DNS_LABEL.match(namespace):
            out.append('metadata.namespace %r is not a DNS-1123 label (the resource is namespaced)' % (namespace,))
    elif namespace is not None:
        out.append('metadata.namespace %r is set on a cluster-scoped resource' % (namespace,))
    body = dict((k, v) for k, v in obj.items() if k != 'metadata')
    schema = copy.deepcopy(entry['schema'])
    schema.setdefault('properties', {}).pop('metadata', None)
    schema['properties'].setdefault('apiVersion', {'type': 'string'})
    schema['properties'].setdefault('kind', {'type': 'string'})
    validator = jsonschema.Draft7Validator(_json_schema(schema))
    for err in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        out.append('%s: %s' % (_path(list(err.absolute_path)), err.message))
    out.extend(_cel_errors(schema, body, []))
    return out


def assert_accepted(obj):
    """Fail naming every problem when the API server would refuse ``obj``."""
    problems = errors(obj)
    assert not problems, '%s %s/%s would be refused (%s):\n  %s' % (
        obj.get('kind'),
        (obj.get('metadata') or {}).get('namespace'),
        (obj.get('metadata') or {}).get('name'),
        crd_for(obj)['file'],
        '\n  '.join(problems),
    )
