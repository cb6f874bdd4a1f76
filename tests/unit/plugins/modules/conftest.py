# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() as Ansible would: arguments in, JSON out, through AnsibleModule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    """``run_module(module, args)`` runs ``module.main()`` with ``args``; returns (failed, result)."""
    def run(module, args):
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                module.main()
        return exc.value.code != 0, json.loads(capsys.readouterr().out)
    return run
