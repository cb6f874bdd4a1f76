# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as users get it: ansible-galaxy build, install from the tarball, ansible-doc, run."""

import glob
import json
import os
import subprocess
import tarfile

import pytest
import yaml

from conftest import BIN, REPO, ansible_env


def sh(cmd, env, cwd=None):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, '%s failed (rc=%d):\n%s\n%s' % (
        ' '.join(cmd),
        proc.returncode,
        proc.stdout,
        proc.stderr,
    )
    return proc.stdout


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """Build the tarball and install it into an empty collections path; the env sees only that path."""
    work = tmp_path_factory.mktemp('galaxy')
    env = ansible_env()
    sh([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(work), REPO], env, cwd=REPO)
    with open(os.path.join(REPO, 'galaxy.yml')) as f:
        meta = yaml.safe_load(f)
    tarball = work / ('%s-%s-%s.tar.gz' % (meta['namespace'], meta['name'], meta['version']))
    assert tarball.exists(), os.listdir(str(work))
    dest = work / 'collections'
    # Only the installed copy may be visible: not this checkout's symlink tree (which would also make
    # ansible-galaxy think the collection is installed already and skip it).
    clean = ansible_env(ANSIBLE_COLLECTIONS_PATH=str(dest))
    clean.pop('PYTHONPATH', None)
    # No Galaxy server is reachable: the dependencies come with the `ansible` package, so skip resolving them here.
    sh(
        [os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--no-deps', '-p', str(dest), str(tarball)],
        clean,
    )
    assert (dest / 'ansible_collections' / 'netplumb' / 'multihome' / 'MANIFEST.json').exists()
    return {'tarball': tarball, 'dest': dest, 'env': clean}


def test_tarball_holds_the_collection_and_not_the_workbench(installed):
    tarball = installed['tarball']
    with tarfile.open(str(tarball)) as tar:
        names = tar.getnames()
    assert 'plugins/modules/cidr_plan.py' in names
    assert 'plugins/module_utils/cidr.py' in names
    assert 'MANIFEST.json' in names
    for junk in ('.venv', '.build', '.git', '.ci', 'bench'):
        assert not any(n == junk or n.startswith(junk + '/') for n in names), junk


def test_installed_copy_is_the_one_ansible_finds(installed):
    dest, env = installed['dest'], installed['env']
    out = sh([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'list', 'netplumb.multihome', '--format', 'json'], env)
    paths = json.loads(out)
    assert list(paths) == [str(dest / 'ansible_collections')]


@pytest.mark.parametrize(
    'module', sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py')))
)
def test_ansible_doc_documents_every_module(installed, module):
    dest, env = installed['dest'], installed['env']
    doc = json.loads(sh([os.path.join(BIN, 'ansible-doc'), '-j', 'netplumb.multihome.' + module], env))
    entry = doc['netplumb.multihome.' + module]['doc']
    with open(os.path.join(REPO, 'plugins', 'modules', module + '.py')) as f:
        source = f.read()
    documented = yaml.safe_load(source.split("DOCUMENTATION = r'''", 1)[1].split("'''", 1)[0])
    options = set(documented['options'])
    # Options documented once in a fragment (plugins/doc_fragments/) count for every module that extends it.
    for fragment in documented.get('extends_documentation_fragment', []):
        with open(os.path.join(REPO, 'plugins', 'doc_fragments', fragment.split('.')[-1] + '.py')) as f:
            text = f.read()
        options.update(
            (yaml.safe_load(text.split("DOCUMENTATION = r'''", 1)[1].split("'''", 1)[0]) or {}).get('options', {})
        )
    assert entry['short_description'] == documented['short_description']
    assert sorted(entry['options']) == sorted(options)
    assert str(dest) in entry['filename']


@pytest.mark.parametrize(
    'name', sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(REPO, 'plugins', 'filter', '*.yml')))
)
def test_ansible_doc_documents_every_filter(installed, name):
    env = installed['env']
    doc = json.loads(sh([os.path.join(BIN, 'ansible-doc'), '-t', 'filter', '-j', 'netplumb.multihome.' + name], env))
    entry = doc['netplumb.multihome.' + name]
    assert entry['doc']['name'] == name
    assert entry['examples'].strip()


def test_installed_module_runs(installed):
    env = installed['env']
    out = sh(
        [
            os.path.join(BIN, 'ansible'),
            'localhost',
            '-m',
            'netplumb.multihome.cidr_plan',
            '-a',
            json.dumps(
                {
                    'subnet': '192.168.0.0/16',
                    'hosts': [{'name': 'h1', 'interfaces': [{'name': 'eth1', 'address': '10.0.1.5/24'}]}],
                }
            ),
            '-o',
        ],
        env,
    )
    assert '"pod_cidr": "192.168.0.0/24"' in out or "192.168.0.0/24" in out


def test_installed_filter_runs(installed):
    env = installed['env']
    out = sh(
        [
            os.path.join(BIN, 'ansible'),
            'localhost',
            '-m',
            'ansible.builtin.debug',
            '-a',
            "msg={{ '192.168.0.0/16' | netplumb.multihome.multinic_pod_block(2, 6, 1, 1) }}",
        ],
        env,
    )
    assert '192.168.65.0/24' in out
