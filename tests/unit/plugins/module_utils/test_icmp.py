# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/icmp: the packets it sends and how it reads what comes back, without sockets.

The engine's loop runs for real in tests/integration/test_icmp_engine_netns.py (network namespaces).
The packets here are built by hand from RFC 792 / RFC 4443's layouts, not by the code under test.
"""

import socket
import struct

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils import icmp


def ipv4_header(src, dst, proto=1, length=0):
    # Version 4, IHL 5 (20 bytes), TTL 64; the header checksum is not checked by the parser.
    return struct.pack(
        '!BBHHHBBH4s4s', 0x45, 0, 20 + length, 0, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)
    )


def test_checksum_of_a_known_header():
    # 0x0800 + 0x0000 + 0x1234 + 0x0001 = 0x1a35; its one's complement is 0xe5ca.
    assert icmp.checksum(bytes.fromhex('0800000012340001')) == 0xE5CA
    # An odd length is padded with a zero byte.
    assert icmp.checksum(b'\x01') == 0xFEFF


def test_a_request_sums_to_zero_with_its_checksum():
    packet = icmp.request(4, 0x1234, 7, b'payload!')
    assert packet[:2] == b'\x08\x00' and struct.unpack('!HH', packet[4:8]) == (0x1234, 7)
    assert packet[8:] == b'payload!'
    assert icmp.checksum(packet) == 0
    # IPv6: type 128, the checksum left to the kernel.
    assert icmp.request(6, 1, 2, b'x')[:4] == b'\x80\x00\x00\x00'


def test_parse_an_ipv4_reply_and_ignore_others():
    reply = struct.pack('!BBHHH', 0, 0, 0, 0x4242, 9) + b'data'
    assert icmp.parse(4, ipv4_header('198.18.1.2', '198.18.1.1', length=12) + reply) == (
        'reply',
        0x4242,
        9,
        b'data',
        None,
    )
    # Someone's echo request to us, a truncated packet, a redirect: not about our echoes.
    request = struct.pack('!BBHHH', 8, 0, 0, 1, 1)
    assert icmp.parse(4, ipv4_header('198.18.1.2', '198.18.1.1') + request) is None
    assert icmp.parse(4, b'\x45' + b'\0' * 10) is None
    assert (
        icmp.parse(4, ipv4_header('198.18.1.2', '198.18.1.1') + struct.pack('!BBHI', 5, 1, 0, 0) + b'\0' * 28) is None
    )


def test_parse_an_ipv4_error_quoting_our_echo():
    quoted = ipv4_header('198.18.1.1', '198.18.1.9', length=8) + struct.pack('!BBHHH', 8, 0, 0, 0x4242, 3)
    error = struct.pack('!BBHI', 3, 1, 0, 0) + quoted
    assert icmp.parse(4, ipv4_header('198.18.1.1', '198.18.1.1') + error) == (
        'error',
        0x4242,
        3,
        None,
        'Destination Host Unreachable',
    )
    # An unknown code still names its type; an error quoting a UDP datagram is not ours.
    odd = struct.pack('!BBHI', 3, 7, 0, 0) + quoted
    assert icmp.parse(4, ipv4_header('198.18.1.1', '198.18.1.1') + odd)[4] == 'Destination Unreachable (code 7)'
    udp = struct.pack('!BBHI', 3, 3, 0, 0) + ipv4_header('198.18.1.1', '198.18.1.9', proto=17) + b'\0' * 8
    assert icmp.parse(4, ipv4_header('198.18.1.1', '198.18.1.1') + udp) is None


def test_parse_ipv6_reply_and_error():
    assert icmp.parse(6, struct.pack('!BBHHH', 129, 0, 0, 5, 6) + b'tok') == ('reply', 5, 6, b'tok', None)
    inner = struct.pack('!IHBB16s16s', 0x60000000, 8, 58, 64, b'\0' * 16, b'\0' * 16) + struct.pack(
        '!BBHHH', 128, 0, 0, 5, 6
    )
    assert icmp.parse(6, struct.pack('!BBHI', 1, 3, 0, 0) + inner) == ('error', 5, 6, None, 'Address unreachable')
    # Neighbour solicitations and router advertisements reach a raw ICMPv6 socket too.
    assert icmp.parse(6, struct.pack('!BBHI', 135, 0, 0, 0) + b'\0' * 16) is None


@pytest.mark.parametrize(
    'rtts, expected',
    [
        ([], None),
        ([1.0], {'min': 1.0, 'avg': 1.0, 'max': 1.0, 'mdev': 0.0}),
        # ping's mdev: the population standard deviation, sqrt(mean of squares - square of mean).
        ([1.0, 3.0], {'min': 1.0, 'avg': 2.0, 'max': 3.0, 'mdev': 1.0}),
    ],
)
def test_summary(rtts, expected):
    assert icmp.summary(rtts) == expected


def test_no_raw_sockets_for_the_unprivileged_is_said(monkeypatch):
    def refuse(*args):
        raise PermissionError(1, 'Operation not permitted')

    monkeypatch.setattr(icmp.socket, 'socket', refuse)
    assert icmp.available() == 'raw ICMP socket: Operation not permitted'


def test_a_source_that_cannot_be_bound_fails_its_probes_without_sending():
    class Refusing:
        def __init__(self, *args):
            self.closed = False

        def setblocking(self, flag):
            pass

        def setsockopt(self, *args):
            pass

        def bind(self, address):
            raise OSError(99, 'Cannot assign requested address')

        def close(self):
            self.closed = True

    results = icmp.echo([{'src': '198.18.9.9', 'dst': '198.18.1.1'}] * 2, count=2, opener=Refusing)
    assert (
        results
        == [
            {
                'connected': False,
                'rc': 2,
                'transmitted': None,
                'received': None,
                'loss': None,
                'rtt': None,
                'error': 'bind 198.18.9.9: Cannot assign requested address',
            }
        ]
        * 2
    )
