# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubelet filter, through the FilterModule Ansible loads."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.netplumb.multihome.plugins.filter.kubelet import FilterModule

FILTERS = FilterModule().filters()


def test_the_filters_are_exported():
    assert sorted(FILTERS) == ['kubelet_extra_args_line']


def test_kubelet_extra_args_line_keeps_the_other_arguments_and_the_quoting():
    text = '# from the package\nKUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip 192.0.2.9"\n'
    assert (
        FILTERS['kubelet_extra_args_line'](text, '198.18.40.11')
        == 'KUBELET_EXTRA_ARGS="--fail-swap-on=false --node-ip=198.18.40.11"'
    )


@pytest.mark.parametrize(
    'text, node_ip, fragment',
    [
        ('', 'worker1', "node_ip 'worker1' is not an IP address"),
        (b'KUBELET_EXTRA_ARGS=', '192.0.2.1', "the input b'KUBELET_EXTRA_ARGS=' is not a string"),
    ],
)
def test_kubelet_extra_args_line_errors_name_the_value(text, node_ip, fragment):
    with pytest.raises(AnsibleFilterError, match='netplumb.multihome.kubelet_extra_args_line') as exc:
        FILTERS['kubelet_extra_args_line'](text, node_ip)
    assert fragment in str(exc.value)
