# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real Kubernetes control plane for the tests: the lab role's, once per test session.

``control_plane`` (session-scoped) brings up a lab of no nodes with its control plane (etcd,
kube-apiserver, kube-controller-manager and kube-scheduler built from their Go modules, in one
podman pod on 198.18.150.2), with every CRD of ../shared/crds applied, and takes it down at the end
of the session, also when a test or the bring-up fails. ``kube`` (per test) is that API for one
test: it reads and writes as the test's own client (``netplumb-test-fixture``, a certificate of the
lab's CA), gives the roles the lab's admin kubeconfig (``kube.env()``), tells what the roles sent from
the API server's audit log (``kube.request_log()``, ``kube.writes()``), and afterwards deletes
every object created during the test and puts back any CRD the test deleted, so each test starts
from the same cluster.

What this cluster is not: no kubelet runs, so no pod ever starts and a DaemonSet with nodes to run
on never rolls out (the Node objects a test creates have no kubelet behind them); no admission
webhooks of other projects (Spiderpool's, the AIS operator's) and no operators act on their
resources. Everything else is the real API server: schemas, CEL rules, defaulting, RBAC, field
management, server-side dry-run, garbage collection and namespace finalization.
"""

import contextlib
import datetime
import glob
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import REPO
from lab import Lab, lab_lock, lab_up, missing

PREFIX = 'netplumb-test-cp'
OFFSET = 150
CRD_DIR = os.environ.get('NETPLUMB_CRDS') or os.path.join(os.path.dirname(REPO), 'shared', 'crds')
FIXTURE_USER = 'netplumb-test-fixture'
WRITE_VERBS = ('create', 'update', 'patch', 'delete', 'deletecollection')
# Reviews are "created" but stored nowhere: asking is no write.
REVIEWS = (
    'authorization.k8s.io/selfsubjectaccessreviews',
    'authentication.k8s.io/selfsubjectreviews',
    'authorization.k8s.io/selfsubjectrulesreviews',
)
# Audit verbs as the HTTP methods the tests speak of.
METHODS = {
    'create': 'POST',
    'update': 'PUT',
    'patch': 'PATCH',
    'delete': 'DELETE',
    'deletecollection': 'DELETE',
    'get': 'GET',
    'list': 'GET',
    'watch': 'GET',
}


def _fixture_certificate(pki):
    """A client certificate of the lab's CA for the fixture itself (system:masters), made once per lab."""
    crt, key = os.path.join(pki, FIXTURE_USER + '.crt'), os.path.join(pki, FIXTURE_USER + '.key')
    if os.path.exists(crt) and os.path.exists(key):
        return crt, key
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    with open(os.path.join(pki, 'ca.key'), 'rb') as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), None)
    with open(os.path.join(pki, 'ca.crt'), 'rb') as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    key_obj = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'system:masters'),
                    x509.NameAttribute(NameOID.COMMON_NAME, FIXTURE_USER),
                ]
            )
        )
        .issuer_name(ca.subject)
        .public_key(key_obj.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    with open(key, 'wb') as handle:
        handle.write(
            key_obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    os.chmod(key, 0o600)
    with open(crt, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return crt, key


class ControlPlane:
    """The lab's API server, read and written over HTTPS as the fixture's own user."""

    def __init__(self, lab):
        self.lab = lab
        self.url = 'https://198.18.%d.2:6443' % lab.subnet_offset
        state = os.path.dirname(lab.inventory)
        self.kubeconfig = os.path.join(state, 'kubeconfig')
        self.pki = os.path.join(state, 'pki')
        self.audit_log = os.path.join(state, 'audit', 'audit.log')
        cert, key = _fixture_certificate(self.pki)
        self.context = ssl.create_default_context(cafile=os.path.join(self.pki, 'ca.crt'))
        self.context.load_cert_chain(cert, key)
        self._resources = {}

    def request(self, method, path, body=None, content_type='application/json', params=None, timeout=30):
        """``(status, decoded JSON body or text)``; never raises on an HTTP error status."""
        url = self.url + path + ('?' + urllib.parse.urlencode(params) if params else '')
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            url, data=data, method=method, headers={'Content-Type': content_type, 'Accept': 'application/json'}
        )
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw or b'null')
        except ValueError:
            return status, raw.decode(errors='replace')

    def _ok(self, status, body, what):
        if status >= 300:
            raise AssertionError('%s: HTTP %d %s' % (what, status, body))
        return body

    def resource(self, api_version, kind):
        """``(plural, namespaced)`` of a kind, from the API's discovery (cached; refreshed once when unknown)."""
        key = (api_version, kind)
        if key not in self._resources:
            base = '/api/v1' if api_version == 'v1' else '/apis/' + api_version
            status, body = self.request('GET', base)
            if status == 200:
                for res in body.get('resources', []):
                    if '/' not in res['name']:
                        self._resources[(api_version, res['kind'])] = (res['name'], res['namespaced'])
        if key not in self._resources:
            raise KeyError('the API does not serve %s %s' % key)
        return self._resources[key]

    def path(self, api_version, kind, namespace=None, name=None, subresource=None):
        plural, namespaced = self.resource(api_version, kind)
        base = '/api/v1' if api_version == 'v1' else '/apis/' + api_version
        if namespaced and namespace:
            base += '/namespaces/' + namespace
        base += '/' + plural
        if name:
            base += '/' + name
        if subresource:
            base += '/' + subresource
        return base

    def objects(self, api_version, kind, namespace=None, label_selector=None):
        params = {'labelSelector': label_selector} if label_selector else None
        status, body = self.request('GET', self.path(api_version, kind, namespace), params=params)
        return sorted(
            self._ok(status, body, 'list %s' % kind)['items'],
            key=lambda o: (o['metadata'].get('namespace', ''), o['metadata']['name']),
        )

    def names(self, api_version, kind, namespace=None, label_selector=None):
        return [o['metadata']['name'] for o in self.objects(api_version, kind, namespace, label_selector)]

    def get(self, api_version, kind, name, namespace=None):
        try:
            status, body = self.request('GET', self.path(api_version, kind, namespace, name))
        except KeyError:
            return None
        return None if status == 404 else self._ok(status, body, 'get %s %s' % (kind, name))

    def create(self, obj):
        meta = obj['metadata']
        status, body = self.request('POST', self.path(obj['apiVersion'], obj['kind'], meta.get('namespace')), obj)
        created = self._ok(status, body, 'create %s %s' % (obj['kind'], meta['name']))
        if obj.get('status'):
            # Status is a subresource: a create keeps none of it (but a Node's), as on any cluster.
            self.patch_status(obj['apiVersion'], obj['kind'], meta['name'], obj['status'], meta.get('namespace'))
        return created

    def patch(self, api_version, kind, name, patch, namespace=None, subresource=None):
        status, body = self.request(
            'PATCH',
            self.path(api_version, kind, namespace, name, subresource),
            patch,
            content_type='application/merge-patch+json',
        )
        return self._ok(status, body, 'patch %s %s' % (kind, name))

    def patch_status(self, api_version, kind, name, status, namespace=None):
        return self.patch(api_version, kind, name, {'status': status}, namespace, 'status')

    def delete(self, api_version, kind, name, namespace=None):
        status, body = self.request(
            'DELETE',
            self.path(api_version, kind, namespace, name),
            {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'propagationPolicy': 'Background'},
        )
        if status not in (200, 202, 404):
            raise AssertionError('delete %s %s: HTTP %d %s' % (kind, name, status, body))

    def env(self):
        """The environment a role run needs to reach the API as the lab's admin."""
        return {'K8S_AUTH_KUBECONFIG': self.kubeconfig}

    def audit_size(self):
        return os.path.getsize(self.audit_log) if os.path.exists(self.audit_log) else 0

    def audit_events(self, since=0):
        """The audit events written after byte ``since`` of the log (ResponseComplete stage)."""
        if not os.path.exists(self.audit_log):
            return []
        with open(self.audit_log) as handle:
            handle.seek(since)
            events = [json.loads(line) for line in handle if line.strip()]
        return [e for e in events if e.get('stage') == 'ResponseComplete']

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while True:
            try:
                status, body = self.request('GET', '/readyz')
            except (urllib.error.URLError, OSError) as exc:  # not listening yet
                status, body = None, str(exc)
            if status == 200 and body == 'ok':
                return
            if time.time() > deadline:
                raise AssertionError('the API at %s is not ready after %d s: %s' % (self.url, timeout, body))
            time.sleep(1)


class Kube:
    """The control plane as one test sees it: the requests the roles sent during the test, and a cleanup."""

    def __init__(self, cp):
        self.cp = cp
        self.start = cp.audit_size()

    def __getattr__(self, name):
        return getattr(self.cp, name)

    def request_log(self, include_fixture=False):
        """Every request of the test's time but the fixture's own and the cluster's components'."""
        out = []
        for event in self.cp.audit_events(self.start):
            user = event.get('user', {}).get('username', '')
            if user == FIXTURE_USER and not include_fixture:
                continue
            ref = event.get('objectRef', {})
            out.append(
                {
                    'method': METHODS.get(event['verb'], event['verb'].upper()),
                    'verb': event['verb'],
                    'user': user,
                    'resource': '/'.join(filter(None, [ref.get('apiGroup'), ref.get('resource')])),
                    'namespace': ref.get('namespace'),
                    'name': ref.get('name'),
                    'subresource': ref.get('subresource'),
                    'uri': event.get('requestURI', ''),
                    'code': event.get('responseStatus', {}).get('code'),
                }
            )
        return out

    def writes(self, include_dry_run=False):
        """The write requests of the roles during the test (server-side dry runs left out unless asked)."""
        return [
            r
            for r in self.request_log()
            if r['verb'] in WRITE_VERBS
            and r['resource'] not in REVIEWS
            and (include_dry_run or 'dryRun=' not in r['uri'])
        ]

    def cleanup(self, baseline_crds):
        """Delete what the test created (newest first, namespaces last) and put back deleted baseline CRDs."""
        created = [
            r
            for r in self.request_log(include_fixture=True)
            if r['verb'] == 'create'
            and r['name']
            and not r['subresource']
            and r['code'] in (200, 201, 202)
            and r['resource'] not in REVIEWS
        ]
        namespaces = []
        for entry in reversed(created):
            group, _sep, plural = entry['resource'].rpartition('/')
            if plural == 'namespaces':
                namespaces.append(entry['name'])
                continue
            if entry['namespace'] in namespaces:
                continue
            api = self._api_of(group, plural)
            if api is not None:
                self.cp.delete(api[0], api[1], entry['name'], entry['namespace'])
        for name in namespaces:
            self.cp.delete('v1', 'Namespace', name)
        # Seconds normally; after the API server was restarted its controllers take up to a couple of minutes.
        deadline = time.time() + 240
        while any(self.cp.get('v1', 'Namespace', n) for n in namespaces):
            if time.time() > deadline:
                raise AssertionError('namespaces %s were not finalized within 240 s' % namespaces)
            time.sleep(0.5)
        # A baseline CRD the test deleted or changed (a role applying an operator's manifest) is put back as it was.
        touched = set(
            r['name'] for r in self.writes() if r['resource'] == 'apiextensions.k8s.io/customresourcedefinitions'
        )
        present = set(self.cp.names('apiextensions.k8s.io/v1', 'CustomResourceDefinition'))
        for name, path in sorted(baseline_crds.items()):
            if name not in present or name in touched:
                apply_crd(self.cp, path)

    def _api_of(self, group, plural):
        for (api_version, kind), (name, _namespaced) in list(self.cp._resources.items()):
            if name == plural and (api_version.rpartition('/')[0] if '/' in api_version else '') == group:
                return api_version, kind
        # Not discovered yet: ask the group's preferred version.
        status, body = self.cp.request('GET', '/apis/' + group if group else '/api')
        if status != 200:
            return None
        version = body.get('preferredVersion', {}).get('groupVersion') if group else 'v1'
        if not version:
            return None
        status, body = self.cp.request('GET', ('/apis/' + version) if group else '/api/v1')
        for res in body.get('resources', []) if status == 200 else []:
            if res['name'] == plural:
                self.cp._resources[(version, res['kind'])] = (res['name'], res['namespaced'])
                return version, res['kind']
        return None


def apply_crd(cp, path):
    """Apply a CRD file server-side, as its owner's install would, and wait until it is established."""
    import yaml

    with open(path) as handle:
        crd = yaml.safe_load(handle)
    name = crd['metadata']['name']
    status, body = cp.request(
        'PATCH',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/' + name,
        crd,
        content_type='application/apply-patch+yaml',
        params={'fieldManager': 'netplumb-test', 'force': 'true'},
    )
    cp._ok(status, body, 'apply CRD %s' % name)
    deadline = time.time() + 60
    while True:
        got = cp.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', name) or {}
        if any(
            c['type'] == 'Established' and c['status'] == 'True' for c in got.get('status', {}).get('conditions', [])
        ):
            cp._resources.clear()
            return name
        if time.time() > deadline:
            raise AssertionError('CRD %s is not established after 60 s' % name)
        time.sleep(0.3)


def crd_files():
    paths = sorted(glob.glob(os.path.join(CRD_DIR, '*.yaml')))
    if not paths:
        pytest.fail('no CRDs in %s: set NETPLUMB_CRDS to the folder of the upstream CRDs (shared/crds)' % CRD_DIR)
    return paths


def lab_binaries():
    """The lab role's binary directories, built if missing (tests/lab/upstream/build.py)."""
    out = os.path.join(REPO, '.build', 'lab-binaries.json')
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tests', 'lab', 'upstream', 'build.py'), '--lab-vars', out],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if proc.returncode != 0:
        pytest.fail('building the control plane failed:\n%s%s' % (proc.stdout, proc.stderr))
    return out


_SESSION = {}


@contextlib.contextmanager
def control_plane_up(prefix=PREFIX, offset=OFFSET, keep=False):
    """A lab of no nodes with its control plane and every CRD of ../shared/crds, for the ``with`` block."""
    reason = missing()
    if reason:
        pytest.fail(reason)
    lab = Lab(
        prefix, nodes=0, nics=1, subnet_offset=offset, control_plane=True, binaries=lab_binaries(), crds=crd_files()
    )
    with lab_lock(prefix):
        try:
            lab.up()
            cp = ControlPlane(lab)
            cp.wait_ready()
            cp.baseline_crds = dict((name, path) for path in crd_files() for name in [_crd_name(path)])
            yield cp
        finally:
            if not keep:
                lab.down()


def _crd_name(path):
    import yaml

    with open(path) as handle:
        return yaml.safe_load(handle)['metadata']['name']


@pytest.fixture(scope='session')
def control_plane():
    """The session's control plane (see the module's documentation)."""
    if 'cp' in _SESSION:
        yield _SESSION['cp']
        return
    with control_plane_up(keep=os.environ.get('NETPLUMB_LAB_KEEP') == '1') as cp:
        _SESSION['cp'] = cp
        try:
            yield cp
        finally:
            _SESSION.pop('cp', None)


@pytest.fixture
def kube(control_plane):
    """The control plane for one test; everything the test created is deleted afterwards."""
    view = Kube(control_plane)
    try:
        yield view
    finally:
        view.cleanup(control_plane.baseline_crds)


def main_job_lab(prefix, subnet_offset):
    """``lab_up`` of the lab ``make main`` brings up (3 nodes x 2 NICs, the router, the control plane with the CRDs the
    Makefile gives it: all but the NAD CRD, which the multus role brings; kubelet in every node, the AIS operator's
    stand-in), under ``prefix`` at ``subnet_offset``: a ``with`` block's lab, taken down afterwards."""
    crds = [path for path in crd_files() if not path.endswith('network-attachment-definitions.yaml')]
    return lab_up(
        prefix,
        nodes=3,
        nics=2,
        subnet_offset=subnet_offset,
        router=True,
        control_plane=True,
        binaries=lab_binaries(),
        crds=crds,
        kubelet=True,
        aistore_operator=True,
    )
