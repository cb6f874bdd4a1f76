# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host network changes that cannot cut a node off: record, probe, apply, probe again, roll back.

The model is kubernetes-nmstate's (``pkg/client/client.go``, ApplyDesiredState): before a change
run the probes and keep only those that pass (a probe that already fails proves nothing about the
change); after it run the kept probes again, retrying for a while; when one fails, restore what was
there before and say which probe broke. As NetworkManager's checkpoints do, a change that is never
confirmed rolls back by itself: :func:`start_watchdog` leaves a process on the node that restores
the recorded state at a deadline unless the confirmation came first, so a change that cut the
Ansible connection still undoes itself.

What is recorded (:func:`read_state`): every IPv4 and IPv6 rule, every route of every table but
``local`` and the kernel's own (those follow the addresses and links), the state and addresses of
the named links, the named sysctls and the named files (content, mode, owner, or that they did not
exist; a symbolic link as its target). :func:`restore` puts back exactly that and reads it again:
what it could not put back is named.

The state lives in ``GUARD_DIR/<id>/`` (``/run``: a reboot ends the live state it protects anyway):
``checkpoint.json`` (state, probes kept, watchdog), ``result.json`` when the watchdog rolled back.

Nothing here imports Ansible; commands go through :class:`hostcmd.Runner`.
"""

from __future__ import annotations

import base64
import errno
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import CommandError, Ip, Runner, ping
from ansible_collections.netplumb.multihome.plugins.module_utils.nic_facts import parse_ip_admin_up

GUARD_DIR = '/run/netplumb-multihome/guard'
CHECKPOINT = 'checkpoint.json'
RESULT = 'result.json'
# Files bigger than this are no configuration file a network role writes.
MAX_FILE_BYTES = 1 << 20
# Route keys that say nothing about what the route is (kernel bookkeeping).
_ROUTE_VOLATILE = ('expires', 'cacheinfo', 'flags', 'pref', 'rt_offload', 'rt_trap')
_CONTROLLERS = frozenset((b'ansible-playbook', b'ansible', b'ansible-console', b'ansible-pull'))
_ID_CHARS = frozenset('abcdefghijklmnopqrstuvwxyz0123456789_-')


class GuardError(ValueError):
    """A bad setting, or a checkpoint that cannot be taken, named with what was expected."""


# ---------------------------------------------------------------------------
# settings


def check_id(value: Any) -> str:
    """The checkpoint's name: lower-case letters, digits, ``_`` and ``-`` (it is a directory)."""
    text = value if isinstance(value, str) else ''
    if not text or len(text) > 64 or set(text) - _ID_CHARS:
        raise GuardError('id %s is not a checkpoint name: expected 1 to 64 of a-z, 0-9, _ and -' % json.dumps(value))
    return text


def sysctl_path(key: str) -> str:
    """``net.ipv4.conf.eth0/100.rp_filter`` -> ``/proc/sys/net/ipv4/conf/eth0.100/rp_filter`` (sysctl(8)'s rule)."""
    if not isinstance(key, str) or not key or key.startswith('.') or '..' in key or key.endswith('.'):
        raise GuardError('sysctl %s is not a sysctl name: expected e.g. net.ipv4.conf.nic1.rp_filter' % json.dumps(key))
    return '/proc/sys/' + '/'.join(part.replace('/', '.') for part in key.split('.'))


def _port(value, what):
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise GuardError('%s: %s is not a TCP port (1 to 65535)' % (what, json.dumps(value)))
    return port


def split_host_port(value: Any, what: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a URL (``https://198.18.0.2:6443``, port 443 without one) -> (host, port)."""
    text = str(value or '').strip()
    if '://' in text:
        scheme, _sep, rest = text.partition('://')
        text = rest.split('/', 1)[0]
        if not text.rpartition(':')[2].isdigit() or text.endswith(']'):
            text += ':%d' % (443 if scheme == 'https' else 80)
    host, sep, port = text.rpartition(':')
    host = host.strip('[]')
    if not sep or not host:
        raise GuardError('%s %s is not host:port or a URL: expected e.g. 198.18.0.2:6443' % (what, json.dumps(value)))
    return host, _port(port, what)


def host_port_text(host: str, port: int) -> str:
    """``198.18.0.2:6443``, ``[fd00::2]:6443``."""
    return '%s:%d' % ('[%s]' % host if ':' in host else host, port)


def normalize_probes(probes: Any, what: str = 'probes') -> list[dict[str, Any]]:
    """Check the user's probes: each ``{ping: ADDRESS[, source: ADDRESS or NIC]}`` or ``{tcp: HOST:PORT}``.

    Returns them with a ``name`` (given, or made from what they do) and a ``timeout`` (seconds, default 2).
    """
    if probes is None:
        return []
    if not isinstance(probes, list):
        raise GuardError(
            '%s %s is not a list: expected [{ping: 198.18.1.12}, {tcp: 198.18.0.2:6443}]' % (what, json.dumps(probes))
        )
    out = []
    for index, probe in enumerate(probes):
        where = '%s[%d]' % (what, index)
        if not isinstance(probe, Mapping) or len([k for k in ('ping', 'tcp') if probe.get(k)]) != 1:
            raise GuardError(
                '%s %s must have exactly one of ping (an address) or tcp (host:port)'
                % (where, json.dumps(probe, default=str))
            )
        unknown = sorted(set(probe) - {'name', 'ping', 'tcp', 'source', 'timeout'})
        if unknown:
            raise GuardError(
                '%s has unknown keys %s: expected name, ping or tcp, source, timeout' % (where, ', '.join(unknown))
            )
        try:
            timeout = float(probe.get('timeout', 2))
        except (TypeError, ValueError):
            timeout = -1
        if not 0 < timeout <= 60:
            raise GuardError('%s timeout %s is not 0 to 60 seconds' % (where, json.dumps(probe.get('timeout'))))
        item = {'timeout': timeout, 'source': probe.get('source') or None}
        if probe.get('ping'):
            try:
                item['ping'] = str(ipaddress.ip_address(str(probe['ping'])))
            except ValueError:
                raise GuardError('%s ping %s is not an IP address' % (where, json.dumps(probe['ping']))) from None
            default_name = 'ping %s%s' % (item['ping'], ' from %s' % item['source'] if item['source'] else '')
        else:
            host, port = split_host_port(probe['tcp'], where + ' tcp')
            item['tcp'] = host_port_text(host, port)
            default_name = 'tcp %s' % item['tcp']
        item['name'] = str(probe.get('name') or default_name)
        out.append(item)
    names = [p['name'] for p in out]
    twice = sorted(set(n for n in names if names.count(n) > 1))
    if twice:
        raise GuardError('%s name %s twice: every probe needs a name of its own' % (what, ', '.join(twice)))
    return out


# ---------------------------------------------------------------------------
# probes


def default_probes(
    routes4: Iterable[Mapping[str, Any]],
    routes6: Iterable[Mapping[str, Any]],
    connection_peer: str | None = None,
    api_server: str | None = None,
) -> list[dict[str, Any]]:
    """The probes every change gets: each default gateway of the main table (from ``ip -j route`` entries), the
    Ansible connection's peer, the API server (TCP), as kubernetes-nmstate's ping/api-server probes."""
    probes = []
    for route in list(routes4) + list(routes6):
        if route.get('dst') == 'default' and route.get('table', 'main') == 'main' and route.get('gateway'):
            # Routed as the node's own traffic is (bound to the NIC, the kernel skips the rules that matter);
            # only a link-local gateway needs its NIC named.
            link_local = ipaddress.ip_address(route['gateway']).is_link_local
            probes.append(
                {
                    'name': 'default gateway %s on %s' % (route['gateway'], route.get('dev')),
                    'ping': route['gateway'],
                    'source': route.get('dev') if link_local else None,
                    'timeout': 2.0,
                }
            )
    if connection_peer:
        probes.append(
            {
                'name': 'Ansible connection peer %s' % connection_peer,
                'ping': connection_peer,
                'source': None,
                'timeout': 2.0,
            }
        )
    if api_server:
        host, port = split_host_port(api_server, 'api_server')
        target = host_port_text(host, port)
        probes.append({'name': 'API server %s' % target, 'tcp': target, 'source': None, 'timeout': 3.0})
    return probes


def _stat_fields(pid: int, proc: str = '/proc') -> list[bytes]:
    """``/proc/PID/stat`` after the command name (which may hold spaces and parentheses): state, ppid, ...;
    OSError when there is no such process."""
    with open('%s/%d/stat' % (proc, pid), 'rb') as handle:
        return handle.read().rsplit(b')', 1)[1].split()


def connection_peer_from_proc(pid: int | None = None, proc: str = '/proc') -> str | None:
    """The client address of the SSH connection this process runs under, from its ancestors' environment.

    sudo and su drop ``SSH_CONNECTION``; the login shell above them still has it (root reads any
    process's environment). None under local, podman or nsenter connections: the walk stops at a
    controller process (``ansible-playbook``) on the node itself.
    """
    pid = os.getpid() if pid is None else pid
    seen = set()
    while pid and pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            with open('%s/%d/cmdline' % (proc, pid), 'rb') as handle:
                words = set(os.path.basename(word) for word in handle.read().split(b'\0')[:2])
            if words & _CONTROLLERS:
                # A controller on this host (the local connection): an SSH session above it is someone's login.
                return None
            with open('%s/%d/environ' % (proc, pid), 'rb') as handle:
                env = handle.read().split(b'\0')
            ppid = int(_stat_fields(pid, proc)[1])
        except OSError:
            return None
        for entry in env:
            if entry.startswith(b'SSH_CONNECTION='):
                words = entry.split(b'=', 1)[1].decode('ascii', 'replace').split()
                if words:
                    return words[0]
        pid = ppid
    return None


def run_probe(runner: Runner, probe: Mapping[str, Any]) -> dict[str, Any]:
    """One try of one probe: ``{name, ok, error}``."""
    if probe.get('ping'):
        result = ping(runner, probe['ping'], 1, probe['timeout'], src=probe.get('source'))
        return {'name': probe['name'], 'ok': result['connected'], 'error': result['error']}
    host, port = split_host_port(probe['tcp'], probe['name'])
    try:
        source = (probe['source'], 0) if probe.get('source') else None
        with socket.create_connection((host, port), timeout=probe['timeout'], source_address=source):
            pass
    except OSError as exc:
        return {'name': probe['name'], 'ok': False, 'error': 'tcp %s:%d: %s' % (host, port, exc.strerror or exc)}
    return {'name': probe['name'], 'ok': True, 'error': None}


def probe_until(
    runner: Runner,
    probes: Sequence[Mapping[str, Any]],
    timeout: float,
    interval: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Run the probes, the failing ones again every ``interval`` until they pass or ``timeout`` is over."""
    deadline = clock() + timeout
    results = {p['name']: run_probe(runner, p) for p in probes}
    while any(not r['ok'] for r in results.values()) and clock() < deadline:
        sleep(interval)
        for probe in probes:
            if not results[probe['name']]['ok']:
                results[probe['name']] = run_probe(runner, probe)
    return [results[p['name']] for p in probes]


# ---------------------------------------------------------------------------
# the recorded state


def _prefix(address, length):
    return '%s/%s' % (address, length) if length is not None else address


def rule_args(rule: Mapping[str, Any]) -> list[str]:
    """An ``ip -j rule show`` entry as ``ip rule add|del`` arguments (priority first, as the kernel keys it)."""
    args = ['priority', str(rule.get('priority', 0))]
    if rule.get('not'):
        args.append('not')
    src = rule.get('src')
    if src and src != 'all':
        args += ['from', _prefix(src, rule.get('srclen'))]
    dst = rule.get('dst')
    if dst and dst != 'all':
        args += ['to', _prefix(dst, rule.get('dstlen'))]
    for key in ('tos', 'iif', 'oif', 'ipproto'):
        if rule.get(key) not in (None, ''):
            args += [key, str(rule[key])]
    if rule.get('fwmark') is not None:
        args += ['fwmark', str(rule['fwmark']) + ('/%s' % rule['fwmask'] if rule.get('fwmask') else '')]
    if rule.get('uid_start') is not None:
        args += ['uidrange', '%s-%s' % (rule['uid_start'], rule.get('uid_end', rule['uid_start']))]
    for key in ('sport', 'dport'):
        if rule.get(key) is not None:
            args += [key, str(rule[key])]
    if rule.get('l3mdev'):
        args.append('l3mdev')
    action = rule.get('action')
    if action and action not in ('unicast', 'to_tbl'):
        args.append('goto' if action == 'goto' else action)
        if action == 'goto':
            args.append(str(rule.get('target', '')))
    elif rule.get('table') is not None and not rule.get('l3mdev'):
        args += ['table', str(rule['table'])]
    if rule.get('suppress_prefixlen') is not None:
        args += ['suppress_prefixlength', str(rule['suppress_prefixlen'])]
    return args


def route_args(route: Mapping[str, Any]) -> list[str]:
    """An ``ip -j route show table all`` entry as ``ip route add|del`` arguments."""
    args = []
    if route.get('type') not in (None, 'unicast'):
        args.append(route['type'])
    args.append(str(route.get('dst', 'default')))
    if route.get('tos') not in (None, 'default'):
        args += ['tos', str(route['tos'])]
    if route.get('gateway'):
        args += ['via', route['gateway']]
    if route.get('dev'):
        args += ['dev', route['dev']]
    if route.get('protocol') not in (None, 'boot'):
        args += ['proto', str(route['protocol'])]
    if route.get('scope') not in (None, 'global', 'universe'):
        args += ['scope', str(route['scope'])]
    if route.get('prefsrc'):
        args += ['src', route['prefsrc']]
    if route.get('metric') is not None:
        args += ['metric', str(route['metric'])]
    for metric in route.get('metrics') or []:
        for key, value in sorted(metric.items()):
            args += [key, str(value)]
    if 'onlink' in (route.get('flags') or []):
        args.append('onlink')
    for hop in route.get('nexthops') or []:
        args += ['nexthop', 'via', hop['gateway']] if hop.get('gateway') else ['nexthop']
        if hop.get('dev'):
            args += ['dev', hop['dev']]
        if hop.get('weight'):
            args += ['weight', str(hop['weight'])]
    args += ['table', str(route.get('table', 'main'))]
    return args


def guarded_routes(routes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The routes a change can own: not the ``local`` table's, not the kernel's own (``proto kernel``),
    not IPv6 multicast ones; without the kernel's bookkeeping keys."""
    out = []
    for route in routes:
        if route.get('table') == 'local' or route.get('protocol') == 'kernel' or route.get('type') == 'multicast':
            continue
        out.append(
            dict((k, v) for k, v in route.items() if k not in _ROUTE_VOLATILE or (k == 'flags' and 'onlink' in v))
        )
    return out


def _key(entry):
    return json.dumps(entry, sort_keys=True)


def read_link(ip: Ip, name: str) -> dict[str, Any] | None:
    """``{up, addresses}`` of a link: its admin state and the addresses a restore must add back (not link-local,
    not dynamic: DHCP and SLAAC bring those back themselves); None when there is no such link."""
    try:
        entries = ip.query('addr', 'show', 'dev', name)
    except CommandError as exc:
        if 'does not exist' in (exc.stderr or ''):
            return None
        raise
    if not entries:
        return None
    addresses = sorted(
        '%s/%s' % (a['local'], a['prefixlen'])
        for a in entries[0].get('addr_info', [])
        if a.get('scope') != 'link' and not a.get('dynamic') and a.get('local')
    )
    return {'up': parse_ip_admin_up(entries).get(name, False), 'addresses': addresses}


def read_file(path: str) -> dict[str, Any]:
    """A file as it is: ``{exists, link, content (base64), mode, uid, gid, parent_exists}``."""
    out: dict[str, Any] = {'exists': False, 'parent_exists': os.path.isdir(os.path.dirname(path) or '/')}
    if os.path.islink(path):
        out.update(exists=True, link=os.readlink(path))
        return out
    if not os.path.exists(path):
        return out
    if not os.path.isfile(path):
        raise GuardError('%s is not a regular file or a symbolic link: the guard records files only' % path)
    info = os.stat(path)
    if info.st_size > MAX_FILE_BYTES:
        raise GuardError(
            '%s has %d bytes: the guard records files up to %d bytes' % (path, info.st_size, MAX_FILE_BYTES)
        )
    with open(path, 'rb') as handle:
        content = handle.read()
    out.update(
        exists=True,
        content=base64.b64encode(content).decode('ascii'),
        mode=info.st_mode & 0o7777,
        uid=info.st_uid,
        gid=info.st_gid,
    )
    return out


def read_sysctl(key: str) -> str | None:
    """A sysctl's value as text; None when there is no such key (a NIC that does not exist yet)."""
    try:
        with open(sysctl_path(key)) as handle:
            return handle.read().strip()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def read_state(
    ip: Ip,
    links: Iterable[str] = (),
    sysctls: Iterable[str] = (),
    files: Iterable[str] = (),
) -> dict[str, Any]:
    """The state a change may alter: rules and routes (both families), the named links, sysctls and files."""
    return {
        'rules': {
            '4': ip.query('rule', 'show'),
            '6': ip.query('rule', 'show', family=6, optional=True),
        },
        'routes': {
            '4': guarded_routes(ip.query('route', 'show', 'table', 'all')),
            '6': guarded_routes(ip.query('route', 'show', 'table', 'all', family=6, optional=True)),
        },
        'links': dict((name, read_link(ip, name)) for name in links),
        'sysctls': dict((key, read_sysctl(key)) for key in sysctls),
        'files': dict((path, read_file(path)) for path in files),
    }


def differences(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two :func:`read_state` results, one readable line each (empty: equal)."""
    out = []
    for kind, verb in (('rules', 'rule'), ('routes', 'route')):
        for family in ('4', '6'):
            old = set(_key(e) for e in before[kind][family])
            new = set(_key(e) for e in now[kind][family])
            show = rule_args if kind == 'rules' else route_args
            out += ['IPv%s %s %s is gone' % (family, verb, ' '.join(show(json.loads(k)))) for k in sorted(old - new)]
            out += ['IPv%s %s %s is new' % (family, verb, ' '.join(show(json.loads(k)))) for k in sorted(new - old)]
    for name, link in sorted(before['links'].items()):
        if link != now['links'].get(name):
            out.append('link %s was %s and is %s' % (name, _link_text(link), _link_text(now['links'].get(name))))
    for key, value in sorted(before['sysctls'].items()):
        if value != now['sysctls'].get(key):
            out.append('sysctl %s was %s and is %s' % (key, value, now['sysctls'].get(key)))
    for path, info in sorted(before['files'].items()):
        other = now['files'].get(path, {})
        if dict(info, parent_exists=None) != dict(other, parent_exists=None):
            out.append('file %s %s' % (path, _file_change(info, other)))
    return out


def _link_text(link):
    if link is None:
        return 'missing'
    return '%s with %s' % ('up' if link['up'] else 'down', ', '.join(link['addresses']) or 'no address')


def _file_change(old, new):
    if not old.get('exists'):
        return 'is new'
    if not new.get('exists'):
        return 'is gone'
    if old.get('content') != new.get('content') or old.get('link') != new.get('link'):
        return 'has changed'
    return 'has another mode or owner'


# ---------------------------------------------------------------------------
# restoring


def _write_file(path, info):
    if info.get('link') is not None:
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(info['link'], path)
        return
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    if os.path.islink(path):
        os.unlink(path)
    tmp = '%s.netplumb-restore' % path
    with open(tmp, 'wb') as handle:
        handle.write(base64.b64decode(info['content']))
    os.chmod(tmp, info['mode'])
    os.chown(tmp, info['uid'], info['gid'])
    os.replace(tmp, path)


def restore(ip: Ip, before: Mapping[str, Any]) -> dict[str, Any]:
    """Put back the recorded state: files, sysctls, links (state, addresses), routes, then rules.

    Returns ``{restored: [what was put back], residual: [what still differs afterwards]}``; it goes on
    past a step that fails, so that as much as possible comes back, and names that step in ``residual``.
    """
    now = read_state(ip, before['links'], before['sysctls'], before['files'])
    restored: list[str] = []
    failed: list[str] = []

    def attempt(what, func):
        try:
            func()
            restored.append(what)
        except (OSError, CommandError, ValueError) as exc:
            failed.append('%s: %s' % (what, exc))

    for path, info in sorted(before['files'].items()):
        if dict(info, parent_exists=None) == dict(now['files'].get(path, {}), parent_exists=None):
            continue
        if info['exists']:
            attempt('file %s' % path, lambda path=path, info=info: _write_file(path, info))
        else:
            attempt('file %s removed' % path, lambda path=path: os.unlink(path))
    for path, info in sorted(before['files'].items()):
        parent = os.path.dirname(path)
        if not info['parent_exists'] and os.path.isdir(parent) and not os.listdir(parent):
            attempt('directory %s removed' % parent, lambda parent=parent: os.rmdir(parent))
    for key, value in sorted(before['sysctls'].items()):
        if value is not None and value != now['sysctls'].get(key):
            attempt('sysctl %s=%s' % (key, value), lambda key=key, value=value: _write_sysctl(key, value))
    for name, link in sorted(before['links'].items()):
        current = now['links'].get(name)
        if link is None or current is None or link == current:
            continue
        if link['up'] != current['up']:
            attempt(
                'link %s %s' % (name, 'up' if link['up'] else 'down'),
                lambda name=name, link=link: ip.must('link', 'set', 'dev', name, 'up' if link['up'] else 'down'),
            )
        for address in link['addresses']:
            if address not in current['addresses']:
                attempt(
                    'address %s on %s' % (address, name), lambda a=address, n=name: ip.must('addr', 'add', a, 'dev', n)
                )
    # Links back up bring back the kernel's routes; read again before comparing the others.
    now = read_state(ip, (), (), ())
    for kind, show in (('routes', route_args), ('rules', rule_args)):
        verb = kind[:-1]
        for family in ('4', '6'):
            number = 6 if family == '6' else None
            old = set(_key(e) for e in before[kind][family])
            new = set(_key(e) for e in now[kind][family])
            for key in sorted(new - old):
                args = show(json.loads(key))
                attempt(
                    'removed IPv%s %s %s' % (family, verb, ' '.join(args)),
                    lambda a=args, f=number, v=verb: ip.runner.must(ip.argv([v, 'del'] + a, family=f)),
                )
            for key in sorted(old - new):
                args = show(json.loads(key))
                attempt(
                    'IPv%s %s %s' % (family, verb, ' '.join(args)),
                    lambda a=args, f=number, v=verb: ip.runner.must(ip.argv([v, 'add'] + a, family=f)),
                )
    residual = failed + differences(before, read_state(ip, before['links'], before['sysctls'], before['files']))
    return {'restored': restored, 'residual': residual}


def _write_sysctl(key, value):
    with open(sysctl_path(key), 'w') as handle:
        handle.write(str(value))


# ---------------------------------------------------------------------------
# the checkpoint and its watchdog


def plain_run(
    argv: Sequence[str], environ_update: Mapping[str, str] | None = None, data: str | None = None
) -> tuple[int, str, str]:
    """A ``run_command`` without Ansible, for the watchdog (which outlives the module)."""
    env = dict(os.environ, LC_ALL='C', **(environ_update or {}))
    try:
        proc = subprocess.run(list(argv), input=data, capture_output=True, text=True, env=env, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, '', str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def process_start(pid: int, proc: str = '/proc') -> str | None:
    """A process's start time (``/proc/PID/stat`` field 22): with the PID, it names one process for good."""
    try:
        return _stat_fields(pid, proc)[19].decode()
    except (OSError, IndexError):
        return None


def watchdog_alive(checkpoint: Mapping[str, Any]) -> bool:
    watchdog = checkpoint.get('watchdog') or {}
    return bool(watchdog.get('pid')) and process_start(watchdog['pid']) == watchdog.get('start')


def load_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def write_json(path: str, value: Any) -> None:
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(value, handle, sort_keys=True)
    os.replace(tmp, path)


def stop_watchdog(checkpoint: Mapping[str, Any], wait: float = 120.0) -> None:
    """End the watchdog (it ignores the signal while it restores: then this waits for it to finish)."""
    if not watchdog_alive(checkpoint):
        return
    pid = checkpoint['watchdog']['pid']
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while watchdog_alive(checkpoint) and time.monotonic() < deadline:
        time.sleep(0.05)


def watchdog_loop(directory: str, deadline: float, ip: Ip) -> None:
    """The watchdog's life: at ``deadline`` (wall clock), unless stopped before, restore and write result.json."""
    state = {'restoring': False}

    def on_term(signum, frame):
        if not state['restoring']:
            os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    while time.time() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.time())))
    state['restoring'] = True
    checkpoint = load_json(os.path.join(directory, CHECKPOINT))
    if checkpoint is None:
        return
    outcome = restore(ip, checkpoint['state'])
    write_json(
        os.path.join(directory, RESULT),
        dict(outcome, by='timer', at=time.time(), started=checkpoint.get('started'), timeout=checkpoint.get('timeout')),
    )
    os.unlink(os.path.join(directory, CHECKPOINT))


def start_watchdog(directory: str, deadline: float, ip_bin: str = 'ip') -> dict[str, Any]:
    """Fork the watchdog, detached (its own session, no inherited descriptors), as Ansible's async wrapper does.

    Returns ``{pid, start}``. Everything it runs is imported already: the module's own files may be
    gone by the time it wakes.
    """
    read_fd, write_fd = os.pipe()
    first = os.fork()
    if first == 0:
        try:
            os.close(read_fd)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.write(write_fd, str(os.getpid()).encode())
            os.close(write_fd)
            os.closerange(3, 1024)
            os.chdir('/')
            watchdog_loop(directory, deadline, Ip(Runner(plain_run), ip_bin))
        finally:
            os._exit(0)
    os.close(write_fd)
    os.waitpid(first, 0)
    with os.fdopen(read_fd) as handle:
        pid = int(handle.read() or 0)
    if not pid:
        raise GuardError('the watchdog did not start')
    return {'pid': pid, 'start': process_start(pid)}


def remove_dir(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------
# the four steps a role takes


def _when(stamp):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(stamp)) if stamp else 'an unknown time'


def restored_text(outcome: Mapping[str, Any]) -> str:
    """``restored A; B`` and, when something could not be put back, ``; NOT restored: C``."""
    return 'restored %s%s' % (
        '; '.join(outcome.get('restored') or []) or 'nothing (nothing had changed)',
        '; NOT restored: %s' % '; '.join(outcome['residual']) if outcome.get('residual') else '',
    )


def timer_message(guard_id: str, result: Mapping[str, Any]) -> str:
    """What to say when the watchdog rolled a change back because nothing confirmed it in time."""
    return (
        'the change guarded as %s (started %s) was not confirmed within %ss, so the node rolled it back by itself at %s '
        '(the controller lost the node, or the play stopped): %s'
        % (
            guard_id,
            _when(result.get('started')),
            result.get('timeout'),
            _when(result.get('at')),
            restored_text(result),
        )
    )


def _claim(directory):
    """``(checkpoint or None, the watchdog's result or None)``, the watchdog stopped first; a result ends the checkpoint."""
    body = load_json(os.path.join(directory, CHECKPOINT))
    if body is not None:
        stop_watchdog(body)
    result = load_json(os.path.join(directory, RESULT))
    if result is not None:
        remove_dir(directory)
    return body, result


def checkpoint(
    ip: Ip,
    directory: str,
    record: Mapping[str, Iterable[str]],
    probes: Sequence[Mapping[str, Any]],
    timeout: float,
    defaults: Mapping[str, Any] | None = None,
    before_timeout: float = 2.0,
    check_mode: bool = False,
    start: Callable[[str, float], dict[str, Any]] = start_watchdog,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Record the state, keep the probes that pass now, and (not in check mode) leave the watchdog behind.

    ``probes`` are the user's, checked already (:func:`normalize_probes`); ``defaults``
    (``{connection_peer, api_server}``), when given, adds :func:`default_probes` before them, the
    gateways read from the state just recorded. Refuses a second change under the same id while the
    first one's watchdog still runs.
    """
    guard_id = os.path.basename(directory)
    warnings = []
    existing = load_json(os.path.join(directory, CHECKPOINT))
    if existing is not None and watchdog_alive(existing):
        raise GuardError(
            'a change guarded as %s is under way since %s (watchdog pid %s rolls it back at %s unless confirmed): '
            'let it finish, or end it with state=rollback'
            % (guard_id, _when(existing.get('started')), existing['watchdog']['pid'], _when(existing.get('deadline')))
        )
    if existing is not None:
        warnings.append(
            'the checkpoint %s of %s was left without its watchdog (killed, or the node restarted): its state was not restored, '
            'and a new checkpoint replaces it' % (guard_id, _when(existing.get('started')))
        )
    result = load_json(os.path.join(directory, RESULT))
    if result is not None:
        warnings.append('earlier: ' + timer_message(guard_id, result))
    state = read_state(ip, record.get('links', ()), record.get('sysctls', ()), record.get('files', ()))
    if defaults is not None:
        probes = default_probes(
            state['routes']['4'], state['routes']['6'], defaults.get('connection_peer'), defaults.get('api_server')
        ) + list(probes)
    results = probe_until(ip.runner, probes, before_timeout)
    kept = [p for p, r in zip(probes, results) if r['ok']]
    dropped = [dict(r, reason='fails before the change: %s' % r['error']) for r in results if not r['ok']]
    out = {
        'kept': [p['name'] for p in kept],
        'dropped': dropped,
        'warnings': warnings,
        'watchdog': None,
        'deadline': None,
    }
    if check_mode:
        return out
    if os.path.isdir(directory):
        remove_dir(directory)
    os.makedirs(directory, mode=0o700)
    started = clock()
    body = {
        'id': guard_id,
        'state': state,
        'probes': kept,
        'started': started,
        'timeout': timeout,
        'deadline': started + timeout,
    }
    write_json(os.path.join(directory, CHECKPOINT), body)
    body['watchdog'] = start(directory, started + timeout)
    write_json(os.path.join(directory, CHECKPOINT), body)
    out.update(watchdog=body['watchdog'], deadline=body['deadline'])
    return out


def confirm(ip: Ip, directory: str, probe_timeout: float, interval: float = 1.0) -> dict[str, Any]:
    """After the change: stop the watchdog, run the kept probes again; restore when one fails.

    ``{failed, probes, broken, restored, residual, by}``: ``by`` is ``probe`` when this restored,
    ``timer`` when the watchdog had restored already (the confirmation came too late).
    """
    guard_id = os.path.basename(directory)
    body, result = _claim(directory)
    if result is not None:
        return dict(result, failed=True, probes=[], broken=[], message=timer_message(guard_id, result))
    if body is None:
        raise GuardError(
            'there is no checkpoint %s on this node: take one (state=checkpoint) before the change' % guard_id
        )
    results = probe_until(ip.runner, body['probes'], probe_timeout, interval)
    broken = [r for r in results if not r['ok']]
    out = {
        'failed': False,
        'probes': results,
        'broken': broken,
        'restored': [],
        'residual': [],
        'by': None,
        'message': '',
    }
    if broken:
        outcome = restore(ip, body['state'])
        out.update(outcome, failed=True, by='probe')
        out['message'] = '%s passed before the change and %s after it, so the change was rolled back: %s' % (
            ', '.join('%s (%s)' % (r['name'], r['error']) for r in broken),
            'fails' if len(broken) == 1 else 'fail',
            restored_text(outcome),
        )
    remove_dir(directory)
    return out


def rollback(ip: Ip, directory: str) -> dict[str, Any]:
    """Restore the recorded state now (a step of the change failed); nothing to do without a checkpoint."""
    guard_id = os.path.basename(directory)
    body, result = _claim(directory)
    if result is not None:
        return dict(result, message=timer_message(guard_id, result))
    if body is None:
        return {
            'restored': [],
            'residual': [],
            'by': None,
            'message': 'no checkpoint %s: nothing to restore' % guard_id,
        }
    outcome = restore(ip, body['state'])
    remove_dir(directory)
    return dict(outcome, by='rollback', message=restored_text(outcome))


def status(directory: str) -> dict[str, Any]:
    """After the controller lost the node: ``{pending, result, message}`` (result when the timer rolled back)."""
    guard_id = os.path.basename(directory)
    body = load_json(os.path.join(directory, CHECKPOINT))
    result = load_json(os.path.join(directory, RESULT))
    if result is not None:
        remove_dir(directory)
        return {'pending': False, 'result': result, 'message': timer_message(guard_id, result)}
    if body is not None and watchdog_alive(body):
        return {
            'pending': True,
            'result': None,
            'message': 'the change guarded as %s waits for its confirmation until %s'
            % (guard_id, _when(body.get('deadline'))),
        }
    return {'pending': False, 'result': None, 'message': 'no change guarded as %s is pending' % guard_id}
