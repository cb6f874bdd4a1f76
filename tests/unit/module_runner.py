# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest plugin (tests/pytest.ini loads it): the run_module fixture runs a module's main() as Ansible would.

Not a conftest.py: tests/integration imports names from its own conftest module, and two conftest
modules on sys.path would shadow each other.
"""

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
