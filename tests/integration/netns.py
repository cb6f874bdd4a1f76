# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network namespaces for the tests that need no lab: commands in them, and veth pairs between two of them."""

import subprocess


def sh(*argv, ns=None, check=True, data=None):
    """Run ``argv`` (inside network namespace ``ns``); the CompletedProcess, raising on failure with ``check``."""
    prefix = ['ip', 'netns', 'exec', ns] if ns else []
    return subprocess.run(prefix + list(argv), capture_output=True, text=True, check=check, input=data)


def veth(ns, ifname, address, peer, other, peer_address):
    """A veth from ``ns`` (``ifname``, ``address``) to ``peer`` (``other``, ``peer_address``), both up.

    Addresses in CIDR form, IPv4 or IPv6 (IPv6 without duplicate address detection, usable at once).
    """
    sh('ip', 'link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', other, 'netns', peer)
    for name, dev, addr in ((ns, ifname, address), (peer, other, peer_address)):
        family, extra = ('-6', ['nodad']) if ':' in addr else ('-4', [])
        sh('ip', family, '-n', name, 'addr', 'add', addr, 'dev', dev, *extra)
        sh('ip', '-n', name, 'link', 'set', dev, 'up')
