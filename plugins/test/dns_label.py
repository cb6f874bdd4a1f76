# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test whether a value is a DNS-1123 label, with the rule the modules use; documented in dns_label.yml."""

from ansible_collections.netplumb.multihome.plugins.module_utils.checks import dns_label_problem


def dns_label(value):
    """True when ``value`` is a DNS-1123 label (a Kubernetes namespace or object name)."""
    return dns_label_problem(value) is None


class TestModule:
    """netplumb.multihome name tests."""

    def tests(self):
        return {'dns_label': dns_label}
