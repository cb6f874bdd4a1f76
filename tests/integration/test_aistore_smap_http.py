# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""aistore_smap_verify run for real (ansible-playbook) against a stand-in AIS proxy on 127.0.0.1.

The stand-in is Python's http.server in a thread, started and stopped by each test. It answers
GET /v1/daemon?what=smap, the request an AIS proxy serves its cluster map on (api/apc: QparamWhat "what",
GetWhatSmap "smap"), with maps built in AIStore's JSON shape (core/meta/smap.go), and can fail, stall,
speak TLS with a certificate made here, or insist on an AuthN token ("Authorization: Bearer <token>").
"""

import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import REPO

PLAYBOOK = os.path.join(REPO, 'tests', 'integration', 'playbooks', 'smap_verify.yml')
TASK = 'Verify the cluster map'
PLAN = {'10.51.248.68': ['10.51.248.116'], '10.51.248.77': ['10.51.248.105']}


# ------------------------------------------------------------ maps in AIStore's shape


def net(host, port='51081', proto='http'):
    return {'node_ip_addr': host, 'daemon_port': port, 'direct_url': '%s://%s:%s' % (proto, host, port)}


def node(daemon_id, daemon_type, ip, extras=()):
    pod = 'ais-%s-0.ais-%s.ais.svc.cluster.local' % (daemon_type, daemon_type)
    out = {
        'daemon_id': daemon_id,
        'daemon_type': daemon_type,
        'public_net': net(ip),
        'intra_control_net': net(pod, '51082'),
        'intra_data_net': net(pod, '51083'),
        'flags': 0,
        'id_digest': 7,
    }
    if extras:  # omitempty
        out['pub_extra'] = [net(e) for e in extras]
    return out


def cluster_map(version, targets=('t0', 't1'), bare=()):
    """One proxy and one target per node of PLAN; ``targets`` that joined; ``bare`` nodes without pub_extra."""
    nodes = []
    for i, (ip, extras) in enumerate(sorted(PLAN.items())):
        for daemon_id, daemon_type in (('p%d' % i, 'proxy'), ('t%d' % i, 'target')):
            if daemon_type == 'target' and daemon_id not in targets:
                continue
            nodes.append(node(daemon_id, daemon_type, ip, () if daemon_id in bare else extras))
    return {
        'pmap': {n['daemon_id']: n for n in nodes if n['daemon_type'] == 'proxy'},
        'tmap': {n['daemon_id']: n for n in nodes if n['daemon_type'] == 'target'},
        'proxy_si': nodes[0],
        'uuid': 'kQ3pLz',
        'creation_time': '2025-05-06 10:11:12',
        'version': str(version),
    }


# ------------------------------------------------------------ the stand-in proxy


class StandInProxy:
    """A thread serving ``answer(n)`` (n = 1, 2, ...) as (status, body, delay) for GET /v1/daemon?what=smap."""

    def __init__(self, answer, tls=None, token=None):
        self.answer = answer
        self.token = token
        self.requests = []  # (path, Authorization header) of every request that reached the handler
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest's output clean
                pass

            def do_GET(self):
                with proxy.lock:
                    proxy.requests.append((self.path, self.headers.get('Authorization')))
                    count = len(proxy.requests)
                if self.path != '/v1/daemon?what=smap':
                    status, body, delay = 404, 'no such path', 0
                elif proxy.token and self.headers.get('Authorization') != 'Bearer %s' % proxy.token:
                    status, body, delay = 401, 'token required', 0
                else:
                    status, body, delay = proxy.answer(count)
                time.sleep(delay)
                data = (body if isinstance(body, str) else json.dumps(body)).encode('utf-8')
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    pass  # the client gave up waiting (request_timeout)

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        scheme = 'http'
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls['cert'], tls['key'])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = 'https'
        self.url = '%s://127.0.0.1:%d' % (scheme, self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def proxy():
    started = []

    def start(answer, **kw):
        server = StandInProxy(answer, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def verify(run_playbook, tmp_path):
    """Run the playbook with the module's options; returns (PlaybookRun, task result, seconds)."""

    def run(*args, **options):
        variables = {'ansible_python_interpreter': sys.executable, 'smap_verify_expected': PLAN}
        variables.update(('smap_verify_%s' % k, v) for k, v in options.items())
        path = tmp_path / ('vars-%d.json' % len(list(tmp_path.iterdir())))
        path.write_text(json.dumps(variables))
        start = time.monotonic()
        result = run_playbook(PLAYBOOK, 'localhost,', '-e', '@%s' % path, *args)
        return result, result.results(TASK), time.monotonic() - start

    return run


def free_port():
    """A port nobody listens on: bound, read, closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# ------------------------------------------------------------ tests


def test_waits_until_every_node_has_joined_with_its_extra_ip(proxy, verify):
    def answer(n):
        if n == 1:
            return 503, {'message': 'primary is starting up'}, 0
        if n == 2:
            return 200, cluster_map(3, targets=('t0',)), 0  # t1 has not joined yet
        if n == 3:
            return 200, cluster_map(4, bare=('t1',)), 0  # t1 joined without its extra IP
        return 200, cluster_map(5), 0

    server = proxy(answer)
    run, result, seconds = verify(url=server.url, proxies=2, targets=2, timeout=6, interval=0.2)
    assert run.rc == 0, run.failures() or run.stderr
    assert result['changed'] is False
    assert result['attempts'] > 1
    assert result['attempts'] == 4 == len(server.requests)  # it stops at the first map that passes
    assert result['smap_version'] == 5
    assert result['report']['ok'] is True
    assert [request[0] for request in server.requests] == ['/v1/daemon?what=smap'] * 4


def test_http_500_until_the_timeout_fails_with_the_status(proxy, verify):
    server = proxy(lambda n: (500, 'cluster map not ready', 0))
    run, result, seconds = verify(url=server.url, timeout=2, interval=0.3)
    assert run.rc != 0
    assert result['failed'] is True
    assert 'HTTP 500' in result['msg'] and 'cluster map not ready' in result['msg']
    assert 'report' not in result
    assert result['attempts'] > 1 and result['attempts'] == len(server.requests)
    assert seconds >= 2


def test_a_slow_answer_is_abandoned_after_request_timeout(proxy, verify):
    server = proxy(lambda n: (200, cluster_map(9), 3 if n == 1 else 0))  # the first answer takes 3 s
    run, result, seconds = verify(url=server.url, request_timeout=0.5, timeout=5, interval=0.2)
    assert run.rc == 0, run.failures() or run.stderr
    assert result['attempts'] == 2 == len(server.requests)
    assert result['elapsed'] < 3  # it did not sit out the 3 s answer


def test_always_slow_fails_saying_it_timed_out(proxy, verify):
    server = proxy(lambda n: (200, cluster_map(9), 2))
    run, result, seconds = verify(url=server.url, request_timeout=0.5, timeout=1.5, interval=0.2)
    assert run.rc != 0
    # Each try waits request_timeout, the last one only what is left of timeout.
    waits = re.findall(
        r'no answer from %s within (\d+\.\d) s \((request_timeout|the rest of timeout)\)'
        % re.escape(server.url + '/v1/daemon?what=smap'),
        result['msg'],
    )
    assert len(waits) == 1 and 0.2 <= float(waits[0][0]) <= 0.5, result['msg']
    assert result['attempts'] >= 2


def test_connection_refused_is_retried_then_reported(verify):
    url = 'http://127.0.0.1:%d' % free_port()
    run, result, seconds = verify(url=url, timeout=1, interval=0.2)
    assert run.rc != 0
    assert 'cannot reach %s/v1/daemon?what=smap' % url in result['msg']
    assert 'refused' in result['msg'].lower()
    assert result['attempts'] > 1


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (cryptography comes with ansible-core)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'ais-proxy test CA')])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp('tls')
    paths = {'cert': str(folder / 'proxy.crt'), 'key': str(folder / 'proxy.key')}
    with open(paths['cert'], 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths['key'], 'wb') as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return paths


def test_tls_self_signed_is_refused_by_default(proxy, verify, certificate):
    server = proxy(lambda n: (200, cluster_map(2), 0), tls=certificate)
    run, result, seconds = verify(url=server.url, timeout=1, interval=0.3)
    assert server.url.startswith('https://')
    assert run.rc != 0
    assert 'certificate verify failed' in result['msg'].lower()
    assert server.requests == []  # the client hung up before sending a request


@pytest.mark.parametrize('how', ['validate_certs_false', 'ca_path'])
def test_tls_passes_without_validation_or_with_the_ca(proxy, verify, certificate, how):
    server = proxy(lambda n: (200, cluster_map(2), 0), tls=certificate)
    options = {'validate_certs': False} if how == 'validate_certs_false' else {'ca_path': certificate['cert']}
    run, result, seconds = verify(url=server.url, timeout=3, interval=0.3, **options)
    assert run.rc == 0, run.failures() or run.stderr
    assert result['report']['ok'] is True
    assert len(server.requests) == 1


def test_auth_token_is_sent_as_bearer_and_never_printed(proxy, verify):
    token = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWFpcy10b2tlbg.Zm9vYmFy'
    server = proxy(lambda n: (200, cluster_map(3), 0), token=token)
    run, result, seconds = verify('--check', url=server.url, auth_token=token, timeout=3, interval=0.3)
    assert run.rc == 0, run.failures() or run.stderr
    assert server.requests[-1][1] == 'Bearer %s' % token
    assert token not in json.dumps(run.data) and token not in run.stderr
    assert result['invocation']['module_args']['auth_token'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def test_a_wrong_token_gets_the_401_reported(proxy, verify):
    server = proxy(lambda n: (200, cluster_map(3), 0), token='the-right-one')
    run, result, seconds = verify(url=server.url, auth_token='a-wrong-one', timeout=0.5, interval=0.2)
    assert run.rc != 0
    assert 'HTTP 401' in result['msg']
    assert 'a-wrong-one' not in json.dumps(run.data)
