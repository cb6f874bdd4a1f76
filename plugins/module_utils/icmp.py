# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ICMP echo probes sent and received by this one process: no ``ping`` per probe.

:func:`echo` takes many probes (``{src, dst}``, IPv4 or IPv6) and sends each ``count`` echo requests
``interval`` seconds apart from raw ICMP sockets, one per source address, bound to that address (so the
kernel routes them as it routes ``ping -I <address>``: source-based policy rules apply), and waits up to
``timeout`` seconds after each request for its reply. All probes run at once; replies are matched by
the socket, the echo's identifier and sequence number, the peer's address and a token of this run in
the payload, so other pingers on the node cannot be counted.

Each probe's result has the shape of :func:`hostcmd.ping_result`'s: ``{connected, rc, transmitted,
received, loss, rtt, error}`` (``rtt`` in ms as ``{min, avg, max, mdev}``; ``rc`` 0 with a reply,
1 with none, 2 when nothing could be sent; ``transmitted``, ``received`` and ``loss`` None then). An ICMP error about an echo (host or network unreachable,
time exceeded; the kernel also sends one to itself when ARP finds nobody) is named in ``error``.

Raw sockets need root (CAP_NET_RAW): :func:`available` says whether this process may open them.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from heapq import heappop, heappush
from typing import Any

ECHO_REQUEST = {4: 8, 6: 128}
ECHO_REPLY = {4: 0, 6: 129}
# ICMP errors that quote the echo they are about: {type: {code: ping's words}}.
ERRORS = {
    4: {
        3: {
            0: 'Destination Net Unreachable',
            1: 'Destination Host Unreachable',
            2: 'Destination Protocol Unreachable',
            3: 'Destination Port Unreachable',
            9: 'Destination Net Prohibited',
            10: 'Destination Host Prohibited',
            13: 'Packet filtered',
        },
        11: {0: 'Time to live exceeded', 1: 'Frag reassembly time exceeded'},
    },
    6: {
        1: {0: 'No route', 1: 'Administratively prohibited', 3: 'Address unreachable', 4: 'Port unreachable'},
        3: {0: 'Hop limit exceeded', 1: 'Fragment reassembly time exceeded'},
    },
}
DEFAULT_ERROR = {
    4: {3: 'Destination Unreachable', 11: 'Time exceeded'},
    6: {1: 'Destination unreachable', 3: 'Time exceeded'},
}
PAYLOAD_SIZE = 48  # plus the 8-byte header: 56 bytes of ICMP, as ping sends by default
SEND_BURST = 256  # requests sent before the sockets are read again (replies must not overflow their buffers)
RECEIVE_BUFFER = 4 * 1024 * 1024


def available() -> str | None:
    """None when this process may open raw ICMP sockets; else why not (the OS's words)."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError as exc:
        return 'raw ICMP socket: %s' % (exc.strerror or exc)
    sock.close()
    return None


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def request(version: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An echo request; IPv6's checksum is the kernel's (raw ICMPv6 sockets always compute it)."""
    kind = ECHO_REQUEST[version]
    csum = 0 if version == 6 else checksum(struct.pack('!BBHHH', kind, 0, 0, ident, seq) + payload)
    return struct.pack('!BBHHH', kind, 0, csum, ident, seq) + payload


def parse(version: int, packet: bytes) -> tuple[str, int, int, bytes | None, str | None] | None:
    """``(kind, ident, seq, payload, words)`` of a received packet, None when it is not about an echo of ours.

    ``kind`` is ``reply`` (``payload`` the echoed data) or ``error`` (``words`` like ping's, ``payload``
    None). IPv4 raw sockets receive the IP header too; IPv6 ones only the ICMPv6 message.
    """
    if version == 4:
        if len(packet) < 20:
            return None
        packet = packet[(packet[0] & 0x0F) * 4 :]
    if len(packet) < 8:
        return None
    kind, code = packet[0], packet[1]
    if kind == ECHO_REPLY[version]:
        ident, seq = struct.unpack('!HH', packet[4:8])
        return 'reply', ident, seq, packet[8:], None
    if kind not in ERRORS[version]:
        return None
    inner = packet[8:]
    if version == 4:
        if len(inner) < 28 or inner[9] != socket.IPPROTO_ICMP:
            return None
        inner = inner[(inner[0] & 0x0F) * 4 :]
    else:
        if len(inner) < 48 or inner[6] != socket.IPPROTO_ICMPV6:
            return None
        inner = inner[40:]
    if len(inner) < 8 or inner[0] != ECHO_REQUEST[version]:
        return None
    ident, seq = struct.unpack('!HH', inner[4:8])
    words = ERRORS[version][kind].get(code) or '%s (code %d)' % (DEFAULT_ERROR[version][kind], code)
    return 'error', ident, seq, None, words


def summary(rtts: list[float]) -> dict[str, float] | None:
    """``{min, avg, max, mdev}`` in ms (ping's rounding: three decimals), None without a reply."""
    if not rtts:
        return None
    avg = sum(rtts) / len(rtts)
    mdev = (sum(r * r for r in rtts) / len(rtts) - avg * avg) ** 0.5 if len(rtts) > 1 else 0.0
    return {'min': round(min(rtts), 3), 'avg': round(avg, 3), 'max': round(max(rtts), 3), 'mdev': round(mdev, 3)}


class _Probe:
    __slots__ = ('version', 'src', 'dst', 'sent', 'rtts', 'send_error', 'icmp_error')

    def __init__(self, version, src, dst):
        self.version = version
        self.src = src
        self.dst = dst
        self.sent = 0
        self.rtts = []
        self.send_error = None
        self.icmp_error = None

    def result(self):
        received = len(self.rtts)
        out: dict[str, Any] = {
            'connected': received > 0,
            'rc': 0 if received else (1 if self.sent else 2),
            'transmitted': self.sent if self.sent else None,
            'received': received if self.sent else None,
            'loss': round(100.0 * (self.sent - received) / self.sent, 3) if self.sent else None,
            'rtt': summary(self.rtts),
            'error': None,
        }
        if not received:
            if not self.sent:
                out['error'] = self.send_error or 'nothing sent'
            else:
                out['error'] = 'no reply: %d sent, 0 received (100%% loss)' % self.sent
                if self.icmp_error:
                    out['error'] += '; %s' % self.icmp_error
                elif self.send_error:
                    out['error'] += '; %s' % self.send_error
        return out


class _Socket:
    """One raw socket bound to one source address, with its own identifiers and sequence numbers."""

    def __init__(self, version, src, number, opener):
        family = socket.AF_INET if version == 4 else socket.AF_INET6
        proto = socket.IPPROTO_ICMP if version == 4 else socket.IPPROTO_ICMPV6
        self.version = version
        self.sock = opener(family, socket.SOCK_RAW, proto)
        try:
            self.sock.setblocking(False)
            for option in (getattr(socket, 'SO_RCVBUFFORCE', 33), socket.SO_RCVBUF):
                try:
                    self.sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                    break
                except OSError:
                    continue
            self.sock.bind((src, 0) if version == 4 else (src, 0, 0, 0))
        except OSError:
            self.sock.close()
            raise
        self.base = (os.getpid() * 31 + number * 7919) & 0xFFFF
        self.next = 0
        self.outstanding: dict[tuple[int, int], tuple[_Probe, float]] = {}

    def allocate(self):
        """The next (identifier, sequence): 65,536 sequences per identifier."""
        ident = (self.base + (self.next >> 16)) & 0xFFFF
        seq = self.next & 0xFFFF
        self.next += 1
        return ident, seq


def echo(
    probes: Iterable[Mapping[str, Any]],
    count: int = 3,
    interval: float = 0.2,
    timeout: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    opener: Callable[..., Any] = socket.socket,
) -> list[dict[str, Any]]:
    """Run all ``probes`` (``{src, dst}``, addresses as text) at once; one result per probe, in their order.

    Each probe sends ``count`` requests ``interval`` seconds apart (the first ones of all probes go out
    together, ``SEND_BURST`` at a time between reads) and waits ``timeout`` seconds after each. A source
    address that cannot be bound (not on this node) fails its probes with the OS's words; so does a send
    the kernel refuses (no route): the probe's later requests are still tried.
    """
    token = os.urandom(8)
    payload = token + bytes(range(PAYLOAD_SIZE - 8))
    items: list[_Probe] = []
    sockets: dict[tuple[int, str], _Socket | str] = {}
    schedule: list[tuple[float, int, int]] = []  # (when, order, probe index)
    start = clock()
    order = 0
    for index, probe in enumerate(probes):
        src, dst = str(probe['src']), str(probe['dst'])
        version = 6 if ':' in dst else 4
        item = _Probe(version, src, dst)
        items.append(item)
        key = (version, src)
        if key not in sockets:
            try:
                sockets[key] = _Socket(version, src, len(sockets), opener)
            except OSError as exc:
                sockets[key] = 'bind %s: %s' % (src, exc.strerror or exc)
        if isinstance(sockets[key], str):
            item.send_error = sockets[key]
            continue
        for k in range(count):
            heappush(schedule, (start + k * interval, order, index))
            order += 1
    by_fd = dict((s.sock.fileno(), s) for s in sockets.values() if isinstance(s, _Socket))
    deadlines: list[tuple[float, int, _Socket, tuple[int, int]]] = []
    order = 0
    try:
        while schedule or deadlines:
            now = clock()
            burst = 0
            while schedule and schedule[0][0] <= now and burst < SEND_BURST:
                _when, _order, index = heappop(schedule)
                item = items[index]
                sock = sockets[(item.version, item.src)]
                key = sock.allocate()
                packet = request(item.version, key[0], key[1], payload)
                try:
                    sock.sock.sendto(packet, (item.dst, 0))
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.ENOBUFS):
                        # The socket's send queue is full: this request goes again once replies were read.
                        heappush(schedule, (now + 0.001, _order, index))
                        break
                    item.send_error = 'sendto %s: %s' % (item.dst, exc.strerror or exc)
                    continue
                sent = clock()
                item.sent += 1
                sock.outstanding[key] = (item, sent)
                heappush(deadlines, (sent + timeout, order, sock, key))
                order += 1
                burst += 1
            # Forget what was answered or is past its deadline.
            now = clock()
            while deadlines and (deadlines[0][0] <= now or deadlines[0][3] not in deadlines[0][2].outstanding):
                _when, _order, sock, key = heappop(deadlines)
                sock.outstanding.pop(key, None)
            if not schedule and not deadlines:
                break
            wait = (
                min(schedule[0][0] if schedule else float('inf'), deadlines[0][0] if deadlines else float('inf')) - now
            )
            if burst >= SEND_BURST or wait < 0:
                wait = 0
            readable, _w, _x = select.select(list(by_fd), [], [], wait)
            for fd in readable:
                _drain(by_fd[fd], token, clock)
    finally:
        for sock in sockets.values():
            if isinstance(sock, _Socket):
                sock.sock.close()
    return [item.result() for item in items]


def _drain(sock: _Socket, token: bytes, clock: Callable[[], float]) -> None:
    """Read everything the socket has; count the replies (and errors) about its outstanding echoes."""
    while True:
        try:
            packet, address = sock.sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        got = clock()
        found = parse(sock.version, packet)
        if found is None:
            continue
        kind, ident, seq, payload, words = found
        entry = sock.outstanding.get((ident, seq))
        if entry is None:
            continue
        item, sent = entry
        if kind == 'reply':
            if payload[:8] != token or address[0].split('%')[0] != item.dst.split('%')[0]:
                continue
            del sock.outstanding[(ident, seq)]
            item.rtts.append((got - sent) * 1000.0)
        else:
            # The kernel (or a router) says this echo cannot arrive: no need to wait for its deadline.
            del sock.outstanding[(ident, seq)]
            item.icmp_error = '%s from %s' % (words, address[0])
