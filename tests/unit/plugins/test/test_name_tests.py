# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test plugin dns_label, through the TestModule Ansible loads: the rule of the modules, for role asserts."""

import pytest

from ansible_collections.netplumb.multihome.plugins.module_utils.nad import NadError, check_dns_label
from ansible_collections.netplumb.multihome.plugins.test import dns_label as dns_label_plugin

# Through the module: pytest would collect a class named TestModule imported here.
TESTS = dns_label_plugin.TestModule().tests()


def test_the_tests_are_exported():
    assert sorted(TESTS) == ['dns_label']


@pytest.mark.parametrize(
    'value',
    ['ais', 'kube-system', '0', 'a' * 63, 'AIS', 'a-', '-a', 'a.b', 'a_b', 'a b', '', 'a' * 64, None, 5, ['ais']],
)
def test_dns_label_agrees_with_the_module_check(value):
    try:
        check_dns_label(value, 'name')
        accepted = True
    except NadError:
        accepted = False
    assert TESTS['dns_label'](value) is accepted
