#!/usr/bin/python
# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


DOCUMENTATION = r'''
---
module: aistore_smap_verify
short_description: Check that every AIStore node publishes its extra IPs in the cluster map
version_added: 0.1.0
description:
  - Reads an AIStore cluster map (Smap) and checks it against the multihome plan in O(expected).
  - Every expected node IP must be in the map as a proxy, a target or both (matched by C(public_net.node_ip_addr)),
    and every daemon at that IP must list exactly the expected extra IPs in C(pub_extra), each with the node's
    public port and a C(direct_url) of C(<protocol>://<extra IP>:<port>). A node that is not expected, an extra IP
    that is not expected and, when given, a wrong number of proxies or targets fail the check too.
  - AIStore starts without C(pub_extra), and says nothing, when a C(spec.hostnameMap) key of the AIS operator's
    AIStore resource is not the node's IP; this module is the check that catches it.
  - With O(url), the map is fetched from a proxy with C(GET <url>/v1/daemon?what=smap) and fetched again every
    O(interval) seconds until it passes or O(timeout) seconds have passed, since nodes join one by one. HTTP errors,
    refused connections and timeouts are tried again too; the last error is reported.
  - With O(smap) or O(src) the map is read once.
  - Never changes anything.
author:
  - netplumb.multihome contributors (@netplumb)
extends_documentation_fragment:
  - netplumb.multihome.changes_nothing
options:
  url:
    description:
      - Base URL of an AIS proxy's public endpoint, such as C(http://10.51.248.68:51080). The module requests
        C(<url>/v1/daemon?what=smap).
      - Exactly one of O(url), O(smap) and O(src) is required.
    type: str
  smap:
    description:
      - The cluster map itself, as a dict or as JSON text, such as the output of C(ais show cluster smap --json).
    type: raw
  src:
    description:
      - Path of a file on the target host holding the cluster map as JSON.
    type: path
  expected:
    description:
      - The plan, as a dict of each node's primary IP to its list of extra IPs.
      - A value may also be a comma-separated string of the extra IPs, or the C(spec.hostnameMap) value
        C(primary,extra1,...) (the C(expected) of the P(netplumb.multihome.aistore_hostname_map#filter) filter fits).
      - A node with no extra IPs (an empty list) must be in the map with no C(pub_extra).
    type: dict
    required: true
  proxies:
    description: The number of proxies the map must have. Not checked when omitted.
    type: int
  targets:
    description: The number of targets the map must have. Not checked when omitted.
    type: int
  timeout:
    description:
      - With O(url), how many seconds to keep trying in all. At least one request is made.
    type: float
    default: 120
  interval:
    description: With O(url), seconds to wait between two tries.
    type: float
    default: 5
  request_timeout:
    description: With O(url), the timeout of one request in seconds (never longer than what is left of O(timeout)).
    type: float
    default: 10
  validate_certs:
    description: With an C(https) O(url), whether to verify the proxy's certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates to verify the proxy's certificate with, instead of the system's.
    type: path
  client_cert:
    description: PEM file of a client certificate, for a cluster that asks for one (C(client_auth_tls)).
    type: path
  client_key:
    description: PEM file of the private key of O(client_cert), when it is not in that file.
    type: path
  names:
    description:
      - Names of the nodes for RV(table), as a dict of each node's primary IP to its name (an inventory host, a Node).
    type: dict
  probe_extra:
    description:
      - With O(url), also ask every daemon on each of its expected extra IPs (C(GET <direct_url>/v1/health), any HTTP
        answer counts) on every try. An extra that does not answer within O(request_timeout) fails its daemon,
        naming the node and the address. The map keeps an extra IP whose NIC went down after the daemons started;
        only asking it tells.
      - The requests go from the host the task runs on, which must reach the extra networks.
    type: bool
    default: false
  auth_token:
    description:
      - "An AIStore authentication token (AuthN JWT), sent as C(Authorization: Bearer <token>)."
      - Never logged or returned.
    type: str
notes:
  - AIStore on Kubernetes runs one proxy and one target on each node, so an IP is usually both; both must carry the extras.
  - The map is read from the host the task runs on; delegate to a host that can reach the proxy.
seealso:
  - name: AIS operator multihome deployment
    description: C(spec.hostnameMap) and C(spec.networkAttachment), and how C(pub_extra) shows a working setup.
    link: https://github.com/NVIDIA/ais-k8s/blob/main/docs/multihome.md
'''

EXAMPLES = r'''
- name: Wait until every node publishes its extra IP
  netplumb.multihome.aistore_smap_verify:
    url: http://10.51.248.68:51080
    expected:
      10.51.248.68: [10.51.248.116]
      10.51.248.77: [10.51.248.105]
    proxies: 2
    targets: 2
    timeout: 300

- name: Check a map saved with 'ais show cluster smap --json'
  netplumb.multihome.aistore_smap_verify:
    src: /tmp/smap.json
    expected: "{{ (groups['k8s_cluster'] | netplumb.multihome.aistore_hostname_map(['macvlan-conf'], hostvars=hostvars)).expected }}"

- name: Over HTTPS with the cluster's CA and an AuthN token
  netplumb.multihome.aistore_smap_verify:
    url: https://ais-proxy.ais.svc:51080
    ca_path: /etc/ais/ca.crt
    auth_token: "{{ ais_token }}"
    expected: "{{ aistore_plan.expected }}"
'''

RETURN = r'''
table:
  description:
    - The last cluster map read, one line per daemon (and per expected node not in it) under a header, with the columns
      C(NODE) (from O(names), else the IP), C(PRIMARY IP), C(DAEMON) (type and ID, C(*) for the primary proxy),
      C(PUB_EXTRA) and C(STATUS) (with what is wrong).
  returned: when a cluster map was read
  type: list
  elements: str
  sample:
    - NODE     PRIMARY IP    DAEMON              PUB_EXTRA               STATUS
    - worker1  198.18.0.11   proxy kHpeDgZb *    198.18.1.11,198.18.2.11  ok
report:
  description:
    - The check of the last cluster map read.
  returned: when a cluster map was read
  type: dict
  contains:
    ok:
      description: Whether the map passed.
      type: bool
    summary:
      description: One line for people.
      type: str
    nodes:
      description:
        - One entry per daemon in the map and per expected IP that is not in it, each with C(daemon_id),
          C(daemon_type), C(node_ip), C(port), C(pub_extra) (the extra IPs found), C(status) (C(ok), C(mismatch),
          C(unexpected) or C(missing)), C(missing_extra), C(unexpected_extra), C(wrong_port) (C(node_ip), C(port),
          C(expected)), C(wrong_url) (C(node_ip), C(direct_url), C(expected)) and, with O(probe_extra),
          C(unreachable_extra) (C(node_ip), C(direct_url), C(error)).
      type: list
      elements: dict
    absent:
      description: Expected IPs that are in neither C(pmap) nor C(tmap).
      type: list
      elements: str
    counts:
      description: C(proxies), C(targets), C(expected_proxies), C(expected_targets), C(expected_nodes) and the number
        of entries of each status.
      type: dict
    version:
      description: The map's version.
      type: int
    uuid:
      description: The cluster's UUID.
      type: str
    primary:
      description: Daemon ID of the primary proxy.
      type: str
    notes:
      description: Things worth knowing that are not failures by themselves, such as a map without C(tmap).
      type: list
      elements: str
  sample:
    ok: true
    summary: "smap v12: all 2 expected nodes carry their extra IPs (2 proxies, 2 targets)"
    absent: []
    counts: {proxies: 2, targets: 2, expected_proxies: 2, expected_targets: 2, expected_nodes: 2,
             ok: 4, mismatch: 0, unexpected: 0, missing: 0}
smap_version:
  description: Version of the last cluster map read.
  returned: when a cluster map was read
  type: int
  sample: 12
attempts:
  description: How many times the map was read or requested.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds spent reading or requesting the map, waits included.
  returned: always
  type: float
  sample: 10.4
summary:
  description: One line for people; on failure it is also the start of the message.
  returned: always
  type: str
'''

import os
import socket
import time
from http.client import HTTPException
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.netplumb.multihome.plugins.module_utils.aistore_smap import (
    HEALTH_PATH,
    SMAP_PATH,
    FetchError,
    SmapError,
    smap_table,
    wait_for_smap,
)
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import run_ordered

# Extra addresses asked at once.
PROBE_THREADS = 16


def smap_endpoint(url):
    """``<url>/v1/daemon?what=smap`` for a proxy's base URL; raises SmapError when it is not http(s)."""
    base = (url or '').strip().rstrip('/')
    if not base.startswith(('http://', 'https://')) or len(base.split('://', 1)[1]) == 0:
        raise SmapError("url %r is not an AIS proxy endpoint: expected e.g. 'http://10.51.248.68:51080'" % (url,))
    return base + SMAP_PATH


def http_get(module, url, headers, timeout, late):
    """GET ``url``: the body, or FetchError for every failure (an HTTP error status included)."""
    params = module.params
    try:
        resp = open_url(
            url,
            method='GET',
            headers=headers,
            timeout=timeout,
            validate_certs=params['validate_certs'],
            ca_path=params['ca_path'],
            client_cert=params['client_cert'],
            client_key=params['client_key'],
        )
        return resp.read()
    except HTTPError as exc:
        body = ''
        try:
            body = to_native(exc.read(), errors='replace').strip()[:200]
        except (OSError, HTTPException):
            pass
        raise FetchError('HTTP %s %s from %s%s' % (exc.code, exc.reason, url, ': ' + body if body else ''), exc.code)
    except URLError as exc:
        if isinstance(exc.reason, socket.timeout):
            raise FetchError(late)
        raise FetchError('cannot reach %s: %s' % (url, to_native(exc.reason)))
    except socket.timeout:
        raise FetchError(late)
    except (UrlsConnectionError, HTTPException, OSError, ValueError) as exc:
        raise FetchError('cannot read %s: %s' % (url, to_native(exc)))


def _headers(module):
    headers = {'Accept': 'application/json'}
    if module.params['auth_token']:
        headers['Authorization'] = 'Bearer %s' % module.params['auth_token']
    return headers


def _request_timeout(module, deadline, clock):
    """One request never runs past the overall timeout, but always gets a moment."""
    timeout, limit = module.params['request_timeout'], 'request_timeout'
    if deadline - clock() < timeout:
        timeout, limit = max(0.2, deadline - clock()), 'the rest of timeout'
    return timeout, limit


def http_fetcher(module, endpoint, started, clock):
    """A fetch() for wait_for_smap that GETs ``endpoint``, turning every failure into FetchError."""
    headers = _headers(module)
    deadline = started + module.params['timeout']

    def fetch():
        timeout, limit = _request_timeout(module, deadline, clock)
        return http_get(
            module, endpoint, headers, timeout, 'no answer from %s within %.1f s (%s)' % (endpoint, timeout, limit)
        )

    return fetch


def http_prober(module, started, clock):
    """A probe for verify_smap: GET ``<direct_url>/v1/health`` of every extra at once (a bounded pool of threads).

    Any HTTP answer means the daemon is reachable on that address; no answer is the error.
    """
    headers = _headers(module)
    deadline = started + module.params['timeout']

    def one(url):
        timeout, limit = _request_timeout(module, deadline, clock)
        health = url.rstrip('/') + HEALTH_PATH
        try:
            http_get(module, health, headers, timeout, 'no answer within %.1f s (%s)' % (timeout, limit))
        except FetchError as exc:
            if exc.status is not None:
                return None
            return str(exc)
        return None

    def probe(urls):
        return dict(zip(urls, run_ordered(urls, one, PROBE_THREADS)))

    return probe


def file_fetcher(path):
    def fetch():
        if not os.path.isfile(path):
            raise FetchError('src %s is not a file' % path)
        try:
            with open(path, 'rb') as handle:
                return handle.read()
        except OSError as exc:
            raise FetchError('cannot read src %s: %s' % (path, to_native(exc)))

    return fetch


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str'),
            smap=dict(type='raw'),
            src=dict(type='path'),
            expected=dict(type='dict', required=True),
            proxies=dict(type='int'),
            targets=dict(type='int'),
            timeout=dict(type='float', default=120.0),
            interval=dict(type='float', default=5.0),
            request_timeout=dict(type='float', default=10.0),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            client_cert=dict(type='path'),
            client_key=dict(type='path'),
            auth_token=dict(type='str', no_log=True),
            probe_extra=dict(type='bool', default=False),
            names=dict(type='dict'),
        ),
        mutually_exclusive=[('url', 'smap', 'src')],
        required_one_of=[('url', 'smap', 'src')],
        required_by={'client_key': 'client_cert'},
        required_if=[('probe_extra', True, ('url',))],
        supports_check_mode=True,
    )
    params = module.params
    clock = time.monotonic
    try:
        if params['url']:
            source = smap_endpoint(params['url'])
            started = clock()
            fetch = http_fetcher(module, source, started, clock)
            probe = http_prober(module, started, clock) if params['probe_extra'] else None
            timeout, interval = params['timeout'], params['interval']
        else:
            # A given map or file does not change while we wait: read it once.
            source = params['src'] or 'the smap option'
            fetch = file_fetcher(params['src']) if params['src'] else (lambda: params['smap'])
            timeout, interval, probe = 0.0, 0.0, None
        result = wait_for_smap(
            fetch,
            params['expected'],
            params['proxies'],
            params['targets'],
            timeout=timeout,
            interval=interval,
            clock=clock,
            probe=probe,
        )
    except SmapError as exc:
        module.fail_json(msg='aistore_smap_verify: %s' % exc, attempts=0, elapsed=0.0, summary=str(exc))

    report = result['report']
    out = dict(changed=False, attempts=result['attempts'], elapsed=result['elapsed'])
    if report is not None:
        out.update(report=report, smap_version=result['smap_version'], table=smap_table(report, params['names']))
    if result['ok']:
        module.exit_json(summary=report['summary'], **out)
    tries = '%d attempt%s in %.1f s' % (result['attempts'], '' if result['attempts'] == 1 else 's', result['elapsed'])
    if report is None:
        summary = 'no cluster map from %s (%s): %s' % (source, tries, result['last_error'])
    else:
        summary = report['summary']
        if result['last_error']:
            summary += '; last error (%s): %s' % (tries, result['last_error'])
        elif params['url']:
            summary += ' (%s)' % tries
    module.fail_json(msg='aistore_smap_verify: %s' % summary, summary=summary, **out)


if __name__ == '__main__':
    main()
