#!/usr/bin/env bash
# ansible-test bootstraps pip in each sanity venv with a get-pip script it downloads
# from a host outside the package registries. Seed its cache with a stand-in that
# does the same from the registries: ensurepip, then `pip install` the pinned pip.
# Usage: seed-ansible-test.sh PYTHON   (the python that has ansible-test installed)
set -euo pipefail
python=${1:-python3}
src=$("$python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
version=$(sed -n "s/^ *pip='\([0-9.]*\)',*$/\1/p" "$src/_internal/python_requirements.py" | head -n 1)
if [[ -z $version ]]; then
    echo "seed-ansible-test: cannot find the pip version ansible-test pins in $src" >&2
    exit 1
fi
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
target=$cache/get_pip_${version//./_}.py
cat >"$target" <<'PY'
"""Stand-in for get-pip.py, written by netplumb.multihome's tests/seed-ansible-test.sh."""
import os
import subprocess
import sys

env = dict(os.environ)
env.pop('PIP_CONFIG_FILE', None)  # let the machine's pip configuration (index, certificates) apply
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], env=env)
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args, env=env)
PY
echo "seed-ansible-test: $target"
