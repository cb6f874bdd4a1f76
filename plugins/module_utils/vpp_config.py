# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contiv-VPP's VPP startup configuration (``/etc/vpp/contiv-vswitch.conf``): build it, and read it as VPP does.

Contiv-VPP's vSwitch image ships its default as ``/etc/vpp/contiv-vswitch.conf``
(contiv/vpp ``docker/vpp-vswitch/prod/vswitch/vpp.conf``), but its DaemonSet mounts the host's
``/etc/vpp`` over the image's, so a file written on the host **replaces** the default completely.
The file written here is therefore the upstream default (:data:`CONTIV_DEFAULT`) with the
``dpdk`` stanza of the node's data NICs added, and the user's changes merged in:

* ``socksvr { default }`` and ``statseg { default }`` create ``/run/vpp/api.sock`` and
  ``/run/vpp/stats.sock``, where Contiv's agent (vpp-agent's govppmux, govpp's default sockets)
  connects for the binary API and the stats;
* ``nat { endpoint-dependent ... }`` is what Contiv's NAT44 service renderer expects;
* ``acl-plugin`` and ``api-trace`` are upstream's too.

How VPP reads the file (contiv/vpp pins VPP ``stable/1908``, commit ec9ce338; ``src/vpp/vnet/main.c``
and ``src/vlib/init.c`` ``vlib_call_all_config_functions``): the text is split into words at
spaces, tabs and newlines, and a word that starts with ``#`` ends its line; the words then form
``name { ... }`` stanzas whose braces nest, each name one of VPP's config functions (any other
name stops VPP with ``unknown input``); a stanza given twice is read as one. :func:`parse`
follows those rules, and :data:`VPP_1908_STANZAS` lists the config function names of that
VPP, so that a stanza VPP would refuse is refused here first.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

# contiv/vpp docker/vpp-vswitch/prod/vswitch/vpp.conf (v3.4.2), in its order.
CONTIV_DEFAULT = (
    ('unix', ('nodaemon', 'cli-listen /run/vpp/cli.sock', 'cli-no-pager', 'poll-sleep-usec 100')),
    (
        'nat',
        (
            'endpoint-dependent',
            'translation hash buckets 1048576',
            'translation hash memory 268435456',
            'user hash buckets 1024',
            'max translations per user 10000',
        ),
    ),
    ('acl-plugin', ('use tuple merge 0',)),
    ('api-trace', ('on', 'nitems 5000')),
    ('socksvr', ('default',)),
    ('statseg', ('default',)),
)

# The VLIB_CONFIG_FUNCTION / VLIB_EARLY_CONFIG_FUNCTION names of VPP stable/1908 (commit ec9ce338),
# plus the ones src/vpp/vnet/main.c reads itself: the stanzas Contiv-VPP's VPP accepts.
VPP_1908_STANZAS = frozenset(
    (
        'acl-plugin',
        'api-queue',
        'api-segment',
        'api-trace',
        'buffers',
        'cj',
        'cpu',
        'ct6',
        'dns',
        'dpdk',
        'heapsize',
        'ip',
        'ip6',
        'l2learn',
        'l2tp',
        'logging',
        'mactime',
        'mc',
        'nat',
        'physmem',
        'plugin_path',
        'plugins',
        'punt',
        'quic',
        'session',
        'socksvr',
        'statseg',
        'tap',
        'tcp',
        'test_plugin_path',
        'tls',
        'tuntap',
        'unix',
        'unix-cli',
        'vhost-user',
        'vlib',
        'vmxnet3',
    )
)

# One option of a stanza: words of letters, digits and . _ , : = / @ + -, no braces, quotes, '#' or newlines.
_OPTION = re.compile(r'^[A-Za-z0-9][A-Za-z0-9 ._,:=/@+-]*\Z')
_PCI = re.compile(r'^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]\Z')
# A line of VPP's reader is at most 4095 characters (fgets into a 4096-byte buffer).
_MAX_LINE = 4000


class VppConfigError(ValueError):
    """A VPP startup configuration that VPP would refuse or misread; the message says why."""


def _options(values, what):
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise VppConfigError("%s %r is not a list of options: expected e.g. ['poll-sleep-usec 100']" % (what, values))
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not _OPTION.match(value.strip()) or len(value) > _MAX_LINE:
            raise VppConfigError(
                "%s[%d] %r is not one VPP option: expected words of letters, digits and . _ , : = / @ + - on one line, "
                "no braces, quotes or '#' (e.g. 'poll-sleep-usec 100')" % (what, i, value)
            )
        out.append(' '.join(value.split()))
    return out


def _append(lines, more):
    """``lines`` then each of ``more`` not already there (VPP reads options in order: a later value wins)."""
    out = list(lines)
    for line in more:
        if line not in out:
            out.append(line)
    return out


def build(
    devices: Iterable[str],
    uio_driver: str | None = None,
    stanzas: dict[str, Sequence[str] | None] | None = None,
    unix_options: Sequence[str] | None = None,
    dpdk_options: Sequence[str] | None = None,
    comment: Iterable[str] | None = None,
) -> str:
    """The text of ``contiv-vswitch.conf``.

    ``devices``: the PCI addresses VPP takes over (``dev <pci>`` each, in order, once each).
    ``uio_driver``: ``uio-driver <name>`` in the dpdk stanza, or None. ``stanzas``: a dict of
    stanza name to a list of options that replaces that stanza of :data:`CONTIV_DEFAULT`, None
    to leave it out, or adds a new one (a name VPP stable/1908 knows); ``dpdk`` options go after
    the ``dev`` lines, which are the role's. ``unix_options`` and ``dpdk_options`` are appended to
    those stanzas. ``comment``: lines written first, each behind ``#``.
    """
    stanzas = {} if stanzas is None else stanzas
    if not isinstance(stanzas, dict):
        raise VppConfigError("the VPP stanzas %r are not a dict of stanza name to a list of options" % (stanzas,))
    order = [name for name, _lines in CONTIV_DEFAULT]
    body = dict((name, list(lines)) for name, lines in CONTIV_DEFAULT)
    for name in stanzas:
        if not isinstance(name, str) or name not in VPP_1908_STANZAS:
            raise VppConfigError(
                "VPP stanza %r is not one Contiv-VPP's VPP (stable/1908) reads: VPP would stop with \"unknown input\"; "
                "expected one of %s" % (name, ', '.join(sorted(VPP_1908_STANZAS)))
            )
        if stanzas[name] is None:
            body.pop(name, None)
            continue
        lines = _options(stanzas[name], 'VPP stanza %s' % name)
        if name not in order:
            order.append(name)
        body[name] = lines
    body['unix'] = _append(body.get('unix', []), _options(unix_options, 'unix options'))
    dpdk = []
    for pci in devices:
        if not isinstance(pci, str) or not _PCI.match(pci):
            raise VppConfigError("device %r is not a PCI address: expected e.g. '0000:00:09.0'" % (pci,))
        if 'dev %s' % pci not in dpdk:
            dpdk.append('dev %s' % pci)
    if not dpdk:
        raise VppConfigError("no device for the dpdk stanza: expected at least one data-plane NIC's PCI address")
    if uio_driver:
        dpdk.append('uio-driver %s' % _options([uio_driver], 'uio driver')[0])
    more = body.get('dpdk', []) + _options(dpdk_options, 'dpdk options')
    devs = [line for line in more if line.split()[0] == 'dev']
    if devs:
        raise VppConfigError(
            "the dpdk options list %s: the data-plane NICs come from dpdk_vpp_host_interfaces, which "
            "also takes them down and checks that none carries the node's connection" % ', '.join(devs)
        )
    body['dpdk'] = _append(dpdk, more)
    if 'dpdk' not in order:
        order.insert(1, 'dpdk')
    out = ['# %s' % line for line in (comment or [])]
    for name in order:
        if name not in body:
            continue
        out.append('%s {' % name)
        out.extend('    %s' % line for line in body[name])
        out.append('}')
    return '\n'.join(out) + '\n'


def words(text: str) -> list[str]:
    """The words VPP reads from a startup configuration file, comments dropped (VPP 19.08's reader)."""
    out = []
    for number, line in enumerate(text.split('\n'), 1):
        if len(line) > 4095:
            raise VppConfigError("line %d is %d characters long: VPP reads at most 4095 per line" % (number, len(line)))
        for word in re.split(r'[ \t]+', line):
            if not word:
                continue
            if word.startswith('#'):
                break
            out.append(word)
    return out


def parse(text: str) -> list[tuple[str, list[str]]]:
    """``[(stanza name, [option words])]`` as VPP reads the file; raises :class:`VppConfigError` where it would stop.

    Braces must balance inside each stanza; a stanza VPP stable/1908 does not know is refused
    with VPP's own wording. Nested groups (``dev 0000:00:09.0 { num-rx-queues 2 }``) stay as words.
    """
    items = words(text)
    out = []
    pos = 0
    while pos < len(items):
        name = items[pos]
        if pos + 1 >= len(items) or items[pos + 1] != '{':
            raise VppConfigError("unknown input `%s': expected '%s { ... }'" % (name, name))
        if name not in VPP_1908_STANZAS:
            raise VppConfigError("unknown input `%s { ...': not a stanza of VPP stable/1908" % name)
        depth = 0
        body = []
        pos += 1
        while True:
            if pos >= len(items):
                raise VppConfigError("stanza %s has an unclosed '{'" % name)
            word = items[pos]
            pos += 1
            if word == '{':
                depth += 1
                if depth == 1:
                    continue
            elif word == '}':
                depth -= 1
                if depth == 0:
                    break
            body.append(word)
        out.append((name, body))
    return out


def stanzas(text: str) -> dict[str, list[str]]:
    """``{name: [option lines]}`` of a file this module wrote (one option per line), for tests and diffs."""
    parse(text)
    out: dict[str, list[str]] = {}
    current = None
    for line in text.split('\n'):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.endswith('{') and current is None:
            current = line[:-1].strip()
            out.setdefault(current, [])
        elif line == '}':
            current = None
        elif current is not None:
            out[current].append(line)
    return out
