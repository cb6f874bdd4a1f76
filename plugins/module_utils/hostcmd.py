# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The commands the modules run on a host, in one place: a runner, iproute2, ping, a bounded pool.

Nothing here imports Ansible. A module hands in its ``run_command`` (anything callable as
``run_command(argv, environ_update=None, data=None)`` returning ``(rc, stdout, stderr)``), so
the same code runs under Ansible and under a unit test's scripted fake:

* :class:`Runner` runs argv lists (never a shell string) and, for commands the caller cannot do
  without, raises :class:`CommandError` naming the command, its exit code and its own words;
* :class:`Ip` runs ``ip``, optionally inside a network namespace (``ip -n NS``), and reads
  ``ip -j`` output with :func:`load_ip_json`, the one loader of iproute2's JSON;
* :func:`ping` runs one iputils ping (from a source address, or inside a namespace) and
  returns :func:`ping_result`, the one shape of a ping's outcome;
* :func:`run_ordered` runs a function over items, a bounded number at once, results in the
  items' order; :class:`Gauge` counts how many ran at once.

What ``optional`` means for an ``ip`` query: the query is about an address family the host may
not have (``ip -6`` on a kernel booted with ``ipv6.disable=1`` answers "Address family not
supported by protocol"). That one answer means "nothing of that family": an empty list. Any other
failure of an optional query is an error like any other, so that a broken ``ip`` never passes
for "no IPv6".
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence, TypeVar

_T = TypeVar('_T')
_R = TypeVar('_R')

# iproute2 grew JSON output (-j) in 4.13; an older ip refuses the option.
IP_JSON_HINT = 'this needs iproute2 with JSON output (ip -j, iproute2 4.13 or later)'
# What ip prints when the kernel has no such address family (IPv6 disabled at boot).
_FAMILY_MISSING = 'not supported'

# iputils: "3 packets transmitted, 3 received, 0% packet loss, time 405ms";
# with errors: "5 packets transmitted, 0 received, +3 errors, 100% packet loss, time 4087ms";
# with duplicates: "+1 duplicates". busybox: "3 packets transmitted, 3 packets received, 0% packet loss".
PING_STATS = re.compile(
    r'(?P<transmitted>\d+) packets transmitted, (?P<received>\d+) (?:packets )?received'
    r'(?:, \+(?P<duplicates>\d+) duplicates)?(?:, \+(?P<errors>\d+) errors)?'
    r', (?P<loss>[\d.]+)% packet loss(?:, time (?P<time>[\d.]+)ms)?'
)
# iputils: "rtt min/avg/max/mdev = 0.063/0.170/0.376/0.145 ms"; busybox: "round-trip min/avg/max = 0.1/0.2/0.3 ms".
# A reply line: "64 bytes from 198.18.1.12: icmp_seq=1 ttl=64 time=0.031 ms".
PING_REPLY = re.compile(r'^\d+ bytes from ', re.MULTILINE)
PING_RTT = re.compile(
    r'(?:rtt|round-trip) min/avg/max(?:/mdev)? = (?P<min>[\d.]+)/(?P<avg>[\d.]+)/(?P<max>[\d.]+)(?:/(?P<mdev>[\d.]+))? ms'
)


class CommandError(Exception):
    """A command the caller depends on failed, or printed what it cannot use; the message says which and why.

    ``argv``, ``rc``, ``stdout`` and ``stderr`` are those of the command (None when unknown), for a
    module's ``fail_json``.
    """

    def __init__(
        self,
        message: str,
        argv: Sequence[str] | None = None,
        rc: int | None = None,
        stdout: str | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message)
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


def command_text(argv: Iterable[Any]) -> str:
    """``ip -j addr show``: the command as a person would type it (the binary without its directory)."""
    argv = [str(arg) for arg in argv]
    return ' '.join([os.path.basename(argv[0])] + argv[1:]) if argv else ''


class Runner:
    """Runs argv lists through an injected ``run_command(argv, environ_update=None, data=None)``.

    A module passes its own ``module.run_command``; a test passes a fake that answers from a table.
    """

    def __init__(self, run_command: Callable[..., tuple[int, str, str]]) -> None:
        self._run_command = run_command

    def run(
        self, argv: Iterable[str], env: Mapping[str, str] | None = None, data: str | None = None
    ) -> tuple[int, str, str]:
        """``(rc, stdout, stderr)`` of ``argv``, whatever the exit code; ``env`` is added to the environment."""
        return self._run_command(list(argv), environ_update=env, data=data)

    def must(self, argv: Sequence[str], env: Mapping[str, str] | None = None, data: str | None = None) -> str:
        """stdout of ``argv``; CommandError naming the command, its exit code and its words when it fails."""
        rc, out, err = self.run(argv, env=env, data=data)
        if rc != 0:
            raise CommandError(
                "'%s' failed (rc=%d): %s" % (command_text(argv), rc, (err or out or '').strip()),
                argv=list(argv),
                rc=rc,
                stdout=out,
                stderr=err,
            )
        return out


# ---------------------------------------------------------------------------
# iproute2


def load_ip_json(text: str | list[Any] | None, what: str, allow_empty: bool = True) -> list[dict[str, Any]]:
    """``ip -j`` output as a list of its objects; CommandError naming ``what`` when it is not a JSON list.

    Already parsed output (a list) is taken as it is. Empty output is an empty list (an older
    iproute2 prints nothing rather than ``[]`` when nothing matches) unless ``allow_empty`` is
    false, for queries that always have an answer. Entries that are not objects (old releases
    print ``{}`` for what a filter skipped, and nothing else) are dropped.
    """
    if isinstance(text, list):
        data = text
    elif allow_empty and not (text or '').strip():
        return []
    else:
        try:
            # None (allow_empty false) raises TypeError, reported below like text that is not JSON.
            data = json.loads(text)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise CommandError(
                "%s output %r is not JSON (%s): expected iproute2's -j output, a JSON list"
                % (what, (text or '')[:80], exc),
                stdout=text,
            )
        if not isinstance(data, list):
            raise CommandError(
                "%s output is a JSON %s: expected iproute2's -j output, a JSON list" % (what, type(data).__name__),
                stdout=text,
            )
    return [item for item in data if isinstance(item, dict)]


class Ip:
    """``ip`` through a :class:`Runner`; ``netns`` runs a command inside that network namespace (``ip -n NS``)."""

    def __init__(self, runner: Runner, ip_bin: str = 'ip') -> None:
        self.runner = runner
        self.bin = ip_bin

    def argv(
        self, args: Iterable[str], netns: str | None = None, family: int | None = None, json_output: bool = False
    ) -> list[str]:
        """``ip [-6] [-j] [-n NS] ARGS``."""
        return (
            [self.bin]
            + (['-%d' % family] if family else [])
            + (['-j'] if json_output else [])
            + (['-n', netns] if netns else [])
            + list(args)
        )

    def run(self, *args: str, netns: str | None = None) -> tuple[int, str, str]:
        """``(rc, stdout, stderr)`` of ``ip [-n NETNS] ARGS``, whatever the exit code."""
        return self.runner.run(self.argv(args, netns=netns))

    def must(self, *args: str, netns: str | None = None) -> str:
        """stdout of ``ip [-n NETNS] ARGS``; CommandError when it fails."""
        return self.runner.must(self.argv(args, netns=netns))

    def query(
        self,
        *args: str,
        netns: str | None = None,
        family: int | None = None,
        optional: bool = False,
        allow_empty: bool = True,
    ) -> list[dict[str, Any]]:
        """``ip [-6] -j [-n NETNS] ARGS`` as a list of objects (see :func:`load_ip_json` for ``allow_empty``).

        ``family=6`` asks for IPv6. ``optional``: the host may lack that family (see the docstring
        of this file): its "not supported" answer is an empty list, any other failure an error.
        """
        argv = self.argv(args, netns=netns, family=family, json_output=True)
        rc, out, err = self.runner.run(argv)
        if rc != 0 and optional and _FAMILY_MISSING in (err or '').lower():
            return []
        if rc != 0:
            raise CommandError(
                "'%s' failed (rc=%d): %s; %s" % (command_text(argv), rc, (err or out or '').strip(), IP_JSON_HINT),
                argv=argv,
                rc=rc,
                stdout=out,
                stderr=err,
            )
        return load_ip_json(out, command_text(argv), allow_empty)


# ---------------------------------------------------------------------------
# ping


def seconds_text(value: float) -> str:
    """ping's argument for seconds: ``0.2``, ``1`` (no trailing zeros, no exponent)."""
    text = ('%.3f' % float(value)).rstrip('0').rstrip('.')
    return text or '0'


def ping_argv(
    dst: object,
    count: int,
    timeout: float,
    interval: float | None = None,
    src: object | None = None,
    netns: str | None = None,
    ping_bin: str = 'ping',
    ip_bin: str = 'ip',
) -> list[str]:
    """``[ip netns exec NS] ping -n -c COUNT [-i INTERVAL] -W TIMEOUT [-I SRC] DST``, numeric (no reverse lookups).

    ``-I SRC`` binds the source address: the kernel's routing (and any source-based rules a
    multi-NIC setup installs) picks the interface, as it does for the workload's own traffic.
    ``netns`` runs it inside that namespace, where only the namespace's interfaces exist.
    """
    argv = [ping_bin, '-n', '-c', str(int(count))]
    if interval is not None:
        argv += ['-i', seconds_text(interval)]
    argv += ['-W', seconds_text(timeout)]
    if src:
        argv += ['-I', str(src)]
    argv.append(str(dst))
    return [ip_bin, 'netns', 'exec', netns] + argv if netns else argv


def parse_ping(text: str | None) -> dict[str, Any]:
    """iputils' (or busybox's) summary: ``{transmitted, received, errors, duplicates, loss, time_ms, rtt}``.

    ``rtt`` is ``{min, avg, max, mdev}`` in ms, None when nothing came back. Every field is None
    when the text has no summary (ping failed before sending: a bad source address, no route).
    """
    out: dict[str, Any] = {
        'transmitted': None,
        'received': None,
        'errors': None,
        'duplicates': None,
        'loss': None,
        'time_ms': None,
        'rtt': None,
    }
    stats = PING_STATS.search(text or '')
    if stats:
        out.update(
            transmitted=int(stats.group('transmitted')),
            received=int(stats.group('received')),
            errors=int(stats.group('errors') or 0),
            duplicates=int(stats.group('duplicates') or 0),
            loss=float(stats.group('loss')),
            time_ms=float(stats.group('time')) if stats.group('time') else None,
        )
    rtt = PING_RTT.search(text or '')
    if rtt:
        out['rtt'] = dict((key, float(rtt.group(key))) for key in ('min', 'avg', 'max'))
        out['rtt']['mdev'] = float(rtt.group('mdev')) if rtt.group('mdev') else None
    return out


def ping_result(rc: int, stdout: str | None, stderr: str | None) -> dict[str, Any]:
    """The outcome of one ping: ``{connected, rc, transmitted, received, loss, rtt, error}``.

    ``connected`` when at least one reply came back. ``transmitted``, ``received`` and ``loss``
    (percent) are None when ping sent nothing; ``rtt`` (``{min, avg, max, mdev}`` in ms) is None
    without a reply. ``error`` says why it did not connect (ping's own last words, else the
    counts), None when it did.
    """
    stats = parse_ping(stdout)
    connected = bool(stats['received']) and rc in (0, 1)
    result = {
        'connected': connected,
        'rc': rc,
        'transmitted': stats['transmitted'],
        'received': stats['received'],
        'loss': stats['loss'],
        'rtt': stats['rtt'],
        'error': None,
    }
    if not connected:
        said = (stderr or '').strip().splitlines()
        if not said and stats['transmitted'] is None:
            # No summary and nothing on stderr: whatever it printed is all there is to go by.
            said = (stdout or '').strip().splitlines()
        if said:
            result['error'] = said[-1].strip()
        elif stats['transmitted'] is not None:
            result['error'] = 'no reply: %s sent, %s received (%s%% loss)' % (
                stats['transmitted'],
                stats['received'],
                '%g' % stats['loss'],
            )
        else:
            result['error'] = 'ping failed (rc=%s) with no output' % rc
    return result


def ping(
    runner: Runner,
    dst: object,
    count: int,
    timeout: float,
    interval: float | None = None,
    src: object | None = None,
    netns: str | None = None,
    ping_bin: str = 'ping',
    ip_bin: str = 'ip',
) -> dict[str, Any]:
    """Run one ping through ``runner`` (see :func:`ping_argv`); its :func:`ping_result`.

    A ping that printed replies but no summary did not end by itself (a signal cut it short): it
    proves nothing either way, so it runs once more and that run counts.
    """
    argv = ping_argv(dst, count, timeout, interval=interval, src=src, netns=netns, ping_bin=ping_bin, ip_bin=ip_bin)
    rc, out, err = runner.run(argv)
    if not PING_STATS.search(out or '') and PING_REPLY.search(out or ''):
        rc, out, err = runner.run(argv)
    return ping_result(rc, out, err)


# ---------------------------------------------------------------------------
# a bounded pool


class Gauge:
    """Counts what runs at once, and the most there ever were (for tests and a module's report)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> Gauge:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        with self._lock:
            self.current -= 1
        return False


def run_ordered(items: Iterable[_T], func: Callable[[_T], _R], limit: int, gauge: Gauge | None = None) -> list[_R]:
    """``[func(item) for item in items]``, at most ``limit`` running at once (threads), in the items' order.

    ``gauge`` (a :class:`Gauge`) counts the calls running at once. An exception of ``func`` is raised
    here once the calls already running have ended; those not started yet are dropped. A caller that
    wants one bad item not to hide the others catches it inside ``func``.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError('limit is %r: expected at least 1 call at a time' % (limit,))
    items = list(items)
    if not items:
        return []

    def call(item):
        if gauge is None:
            return func(item)
        with gauge:
            return func(item)

    # Imported here: ~23 ms a module process pays only when it runs things side by side (the ICMP engine does not).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(limit, len(items))) as pool:
        return list(pool.map(call, items))
