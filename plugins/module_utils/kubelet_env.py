# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet's environment file (``/etc/default/kubelet``, ``/etc/sysconfig/kubelet``) and its ``KUBELET_EXTRA_ARGS``.

kubeadm's kubelet unit reads ``KUBELET_EXTRA_ARGS`` from that file (``EnvironmentFile=-``), and a value
set there overrides a drop-in's ``Environment=``. So where the file sets it, ``--node-ip`` goes into the
file's line, next to the arguments already there. Plain functions, no Ansible import; errors are
:class:`KubeletEnvError` naming the bad value.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

# A line that sets the variable, as systemd's EnvironmentFile= reads it (leading blanks allowed).
EXTRA_ARGS_LINE = re.compile(r'^\s*KUBELET_EXTRA_ARGS=')
QUOTES = ('"', "'")


class KubeletEnvError(ValueError):
    """An environment file or node IP that cannot be used; the message says why."""


def extra_args_lines(text: str | None) -> list[str]:
    """The lines of the environment file ``text`` that set ``KUBELET_EXTRA_ARGS``, in file order."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise KubeletEnvError(
            'the environment file %r is not text: expected the content of /etc/default/kubelet' % (text,)
        )
    return [line for line in text.splitlines() if EXTRA_ARGS_LINE.match(line)]


def check_node_ip(node_ip: Any) -> str:
    """``node_ip`` as a string; KubeletEnvError unless it is an IP address, or two (IPv4,IPv6) for a dual-stack node."""
    text = str(node_ip).strip() if isinstance(node_ip, str) else None
    parts = text.split(',') if text else []
    try:
        if not 1 <= len(parts) <= 2:
            raise ValueError(text)
        for part in parts:
            ipaddress.ip_address(part)
    except ValueError:
        raise KubeletEnvError(
            "node_ip %r is not an IP address: expected the node's address such as '192.0.2.10' "
            "(or 'IPv4,IPv6' on a dual-stack node)" % (node_ip,)
        )
    return text  # type: ignore[return-value]  # text is None only when parts is empty, which raised above


def extra_args_line(text: str | None, node_ip: Any) -> str:
    """The ``KUBELET_EXTRA_ARGS=`` line that gives the kubelet ``--node-ip=<node_ip>``.

    Built from the first line of ``text`` that sets the variable: its other arguments stay, in
    order, as does its quoting (``"..."`` or ``'...'``); an earlier ``--node-ip=X`` or
    ``--node-ip X`` is replaced, and ``--node-ip=<node_ip>`` comes last. Without such a line the
    result is ``KUBELET_EXTRA_ARGS=--node-ip=<node_ip>``. Arguments are split on blanks, as the
    kubelet unit's ``$KUBELET_EXTRA_ARGS`` is.
    """
    node_ip = check_node_ip(node_ip)
    lines = extra_args_lines(text)
    value = lines[0].split('=', 1)[1].strip() if lines else ''
    quote = value[0] if value[:1] in QUOTES else ''
    args = []
    skip = False
    for arg in value.strip('"').strip("'").split():
        if skip:
            skip = False
        elif arg == '--node-ip':
            skip = True
        elif not arg.startswith('--node-ip='):
            args.append(arg)
    return 'KUBELET_EXTRA_ARGS=%s%s%s' % (quote, ' '.join(args + ['--node-ip=' + node_ip]), quote)
