#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r'''
---
module: k8s_access
short_description: Check that the Kubernetes API answers and that the user may do what comes next
version_added: 0.2.0
description:
  - Asks the cluster of a kubeconfig, before a role applies anything, whether it answers (its C(/version)), whether it
    accepts the credentials, and, with one C(SelfSubjectAccessReview) per verb, kind and namespace, whether RBAC lets the
    user do what the role is about to do.
  - Fails with one message naming the server and the kubeconfig, or the user and every verb and resource it may not use,
    so that nothing is half applied. Changes nothing (access reviews are not stored).
  - Kinds the cluster does not serve are returned in RV(unknown_kinds) and not checked; the roles name them themselves.
author: netplumb.multihome contributors (@netplumb)
extends_documentation_fragment:
  - netplumb.multihome.changes_nothing
requirements:
  - the C(kubernetes) Python package on the controller (as for kubernetes.core)
options:
  kubeconfig:
    description: The kubeconfig; defaults to the C(K8S_AUTH_KUBECONFIG) environment variable, else C(~/.kube/config).
    type: path
  context:
    description: The kubeconfig context; defaults to C(K8S_AUTH_CONTEXT), else the current context.
    type: str
  objects:
    description:
      - The objects the next tasks apply or delete, Kubernetes objects or the C({state, object}) items of
        M(netplumb.multihome.nad_objects). C(present) needs C(get), C(create) and C(patch); C(absent) C(get) and C(delete).
    type: list
    elements: dict
    default: []
  state:
    description: The state of the objects that carry none.
    type: str
    choices: [present, absent]
    default: present
  checks:
    description: More checks, each C({verb, api_version, kind, namespace}).
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: Check the cluster and the permissions before applying
  netplumb.multihome.k8s_access:
    objects: "{{ nads.objects }}"

- name: May the user list Nodes?
  netplumb.multihome.k8s_access:
    checks:
      - {verb: list, api_version: v1, kind: Node}
'''

RETURN = r'''
server:
  description: The API server's URL.
  returned: when the kubeconfig was read
  type: str
  sample: https://198.18.0.2:6443
version:
  description: The server's version.
  returned: success
  type: str
  sample: v1.35.4
user:
  description: The user the server took the credentials for (C(SelfSubjectReview)), when it tells.
  returned: success
  type: str
  sample: kubernetes-admin
checked:
  description: The checks made, each with C(allowed).
  returned: success
  type: list
  elements: dict
unknown_kinds:
  description: The C(apiVersion kind) of objects the cluster does not serve.
  returned: success
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.netplumb.multihome.plugins.module_utils.k8s_access import (
    AccessError,
    checks_for,
    denied_message,
    describe_check,
    split_api_version,
    unauthorized_message,
    unreachable_message,
)

try:
    import urllib3
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False


def _reason(exc):
    text = str(getattr(exc, 'reason', '') or exc)
    return text.partition('\n')[0][:300]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubeconfig=dict(type='path', fallback=(env_fallback, ['K8S_AUTH_KUBECONFIG'])),
            context=dict(type='str', fallback=(env_fallback, ['K8S_AUTH_CONTEXT'])),
            objects=dict(type='list', elements='dict', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            checks=dict(type='list', elements='dict', default=[]),
        ),
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib('kubernetes'))
    params = module.params
    # kubernetes.core's default too.
    path = params['kubeconfig'] or os.path.join(os.environ.get('HOME', '/root'), '.kube', 'config')
    source = 'kubeconfig %s%s' % (path, ', context %s' % params['context'] if params['context'] else '')
    try:
        checks = checks_for(params['objects'], params['state']) + [
            dict(check, namespace=check.get('namespace') or '') for check in params['checks']
        ]
        for check in checks:
            split_api_version(check.get('api_version'))
    except AccessError as exc:
        module.fail_json(msg='k8s_access: %s' % exc)
    try:
        api = config.new_client_from_config(config_file=path, context=params['context'] or None)
    except Exception as exc:  # the kubernetes client raises several kinds for an unreadable kubeconfig
        module.fail_json(msg='Cannot read %s: %s. Nothing was changed.' % (source, _reason(exc)))
    server = api.configuration.host
    try:
        version = client.VersionApi(api).get_code(_request_timeout=15).git_version
    except ApiException as exc:
        if exc.status == 401:
            module.fail_json(msg=unauthorized_message(server, source, exc.reason), server=server)
        module.fail_json(
            msg=unreachable_message(server, source, 'HTTP %s %s' % (exc.status, exc.reason)), server=server
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        module.fail_json(msg=unreachable_message(server, source, _reason(exc)), server=server)
    user = ''
    try:
        review = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
        user = review.status.user_info.username
    except ApiException:
        pass  # servers before 1.28 have no SelfSubjectReview: the message then names no user
    dynamic = DynamicClient(api)
    checked, denied, unknown = [], [], []
    for check in checks:
        try:
            resource = dynamic.resources.get(api_version=check['api_version'], kind=check['kind'])
        except ResourceNotFoundError:
            kind = '%s %s' % (check['api_version'], check['kind'])
            if kind not in unknown:
                unknown.append(kind)
            continue
        group, version_name = split_api_version(check['api_version'])
        attrs = client.V1ResourceAttributes(
            verb=check['verb'],
            group=group,
            version=version_name,
            resource=resource.name,
            namespace=check['namespace'] or None,
        )
        body = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=attrs))
        allowed = client.AuthorizationV1Api(api).create_self_subject_access_review(body).status.allowed
        checked.append(dict(check, resource=resource.name, allowed=bool(allowed)))
        if not allowed:
            denied.append(describe_check(check, resource.name))
    result = dict(changed=False, server=server, version=version, user=user, checked=checked, unknown_kinds=unknown)
    if denied:
        module.fail_json(msg=denied_message(user, denied, source), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
