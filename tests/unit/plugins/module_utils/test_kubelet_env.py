# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The KUBELET_EXTRA_ARGS line of the kubelet's environment file, with --node-ip set."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.kubelet_env import (
    KubeletEnvError,
    extra_args_line,
    extra_args_lines,
)

IP = '192.168.56.105'


@pytest.mark.parametrize(
    'text, expected',
    [
        # No file, an empty one, or one without the variable: the line is the node IP alone.
        ('', 'KUBELET_EXTRA_ARGS=--node-ip=192.168.56.105'),
        (None, 'KUBELET_EXTRA_ARGS=--node-ip=192.168.56.105'),
        (
            '# written by the kubelet package\nKUBELET_KUBEADM_ARGS=--foo\n',
            'KUBELET_EXTRA_ARGS=--node-ip=192.168.56.105',
        ),
        # Set to nothing, as the kubelet package ships it.
        ('KUBELET_EXTRA_ARGS=\n', 'KUBELET_EXTRA_ARGS=--node-ip=192.168.56.105'),
        ('KUBELET_EXTRA_ARGS=""\n', 'KUBELET_EXTRA_ARGS="--node-ip=192.168.56.105"'),
        # Other arguments stay, in order; the quoting stays.
        (
            'KUBELET_EXTRA_ARGS=--fail-swap-on=false --max-pods=200',
            'KUBELET_EXTRA_ARGS=--fail-swap-on=false --max-pods=200 --node-ip=192.168.56.105',
        ),
        (
            'KUBELET_EXTRA_ARGS="--fail-swap-on=false"',
            'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip=192.168.56.105"',
        ),
        (
            "KUBELET_EXTRA_ARGS='--fail-swap-on=false'",
            "KUBELET_EXTRA_ARGS='--fail-swap-on=false --node-ip=192.168.56.105'",
        ),
        # An earlier --node-ip, in either form, is replaced wherever it is.
        (
            'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip 192.0.2.9"',
            'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip=192.168.56.105"',
        ),
        (
            'KUBELET_EXTRA_ARGS=--node-ip=192.0.2.9 --max-pods=200',
            'KUBELET_EXTRA_ARGS=--max-pods=200 --node-ip=192.168.56.105',
        ),
        (
            'KUBELET_EXTRA_ARGS="--node-ip 192.0.2.9 --max-pods=200 --node-ip=192.0.2.8"',
            'KUBELET_EXTRA_ARGS="--max-pods=200 --node-ip=192.168.56.105"',
        ),
        # Leading blanks and extra spaces are not kept; a --node-ip-like flag of another name is.
        (
            '  KUBELET_EXTRA_ARGS=  "--a   --node-ip-family=4"  ',
            'KUBELET_EXTRA_ARGS="--a --node-ip-family=4 --node-ip=192.168.56.105"',
        ),
        # The first line that sets the variable is the one read.
        ('KUBELET_EXTRA_ARGS=--a\nKUBELET_EXTRA_ARGS=--b\n', 'KUBELET_EXTRA_ARGS=--a --node-ip=192.168.56.105'),
    ],
    ids=[
        'empty',
        'none',
        'no-line',
        'bare',
        'quoted-empty',
        'plain',
        'double-quoted',
        'single-quoted',
        'node-ip-space',
        'node-ip-equals',
        'node-ip-both',
        'blanks',
        'first-line',
    ],
)
def test_extra_args_line(text, expected):
    assert extra_args_line(text, IP) == expected


def test_a_node_ip_given_last_without_a_value_is_dropped():
    assert (
        extra_args_line('KUBELET_EXTRA_ARGS="--a --node-ip"', IP) == 'KUBELET_EXTRA_ARGS="--a --node-ip=192.168.56.105"'
    )


def test_ipv6_and_dual_stack_node_ips():
    assert extra_args_line('', 'fd00::5') == 'KUBELET_EXTRA_ARGS=--node-ip=fd00::5'
    assert extra_args_line('', '192.0.2.5,fd00::5') == 'KUBELET_EXTRA_ARGS=--node-ip=192.0.2.5,fd00::5'


@pytest.mark.parametrize(
    'node_ip', ['worker1.example', '', None, '192.0.2.300', '192.0.2.1,fd00::1,fd00::2', 3232235777]
)
def test_a_node_ip_that_is_not_an_ip_is_named(node_ip):
    with pytest.raises(KubeletEnvError) as exc:
        extra_args_line('', node_ip)
    assert 'node_ip %r is not an IP address' % (node_ip,) in str(exc.value)


def test_extra_args_lines_are_those_that_set_the_variable():
    text = '# KUBELET_EXTRA_ARGS=--commented\nKUBELET_EXTRA_ARGS_OLD=x\n KUBELET_EXTRA_ARGS=--a\nKUBELET_EXTRA_ARGS=--b'
    assert extra_args_lines(text) == [' KUBELET_EXTRA_ARGS=--a', 'KUBELET_EXTRA_ARGS=--b']
    assert extra_args_lines(None) == [] and extra_args_lines('') == []


def test_a_file_that_is_not_text_is_named():
    with pytest.raises(KubeletEnvError) as exc:
        extra_args_line(['KUBELET_EXTRA_ARGS='], IP)
    assert "the environment file ['KUBELET_EXTRA_ARGS='] is not text" in str(exc.value)
