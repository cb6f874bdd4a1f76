# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's runs (module_utils/preflight_run.py) against a scripted node: the cases are in test_preflight_run.yml.

A ScriptedHost (tests/unit/scripted_host.py) answers every command from the case's table, in the order
given, and fails the test on a command the case does not expect; one test runs the module itself the same way.
"""

import os

import pytest
import yaml
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import preflight_run
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Runner
from ansible_collections.netplumb.multihome.plugins.modules import cni_preflight

from scripted_host import ScriptedHost, contained, filled

with open(os.path.join(os.path.dirname(__file__), 'test_preflight_run.yml')) as _handle:
    CASES = yaml.safe_load(_handle)
DEFAULTS = {
    'state': 'present',
    'attachments': [],
    'peers': [],
    'plan': None,
    'node': None,
    'node_index': 0,
    'ifname': 'net1',
    'cni_bin_dir': '/opt/cni/bin',
    'probe_count': 2,
    'probe_timeout': 1,
    'probe_max_loss': 50,
    'probe_workers': 8,
    'fail_on_error': True,
}
PLUGINS = ['macvlan', 'static']


def module_params(case):
    params = dict(DEFAULTS, **case['params'])
    params['attachments'] = [dict({'test_address': None, 'peers': []}, **a) for a in params['attachments']]
    return params


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_preflight_run(case):
    params = module_params(case)
    records = preflight_run.prepare(params)
    netns = dict((rec['name'], rec['netns']) for rec in records)
    host = ScriptedHost(filled(case['commands'], netns))
    plugins = case.get('plugins', PLUGINS)
    node = preflight_run.Node(
        Runner(host), 'ip', '/opt/cni/bin', executable=lambda path: os.path.basename(path) in plugins
    )
    if 'failed' in case:
        with pytest.raises(preflight_run.PreflightFailed) as exc:
            preflight_run.run(params, node, records, case.get('check_mode', False))
        assert filled(case['failed'], netns) in exc.value.msg
        result = exc.value.result
    else:
        result = preflight_run.run(params, node, records, case.get('check_mode', False))
    assert host.left() == [], 'commands the run never ran'
    contained(result, filled(case['result'], netns))
    if 'peak' in case:
        assert host.peak == case['peak']
    # Nothing private (the parsed configuration, the given peers) leaks into the result.
    assert not any(key.startswith('_') for rec in result.get('attachments', []) for key in rec)


def test_the_module_runs_the_same_through_ansible(run_module, monkeypatch):
    """The first case through cni_preflight's main(): the module only wires the runner and the ip binary in."""
    case = CASES[0]
    params = module_params(case)
    netns = dict((rec['name'], rec['netns']) for rec in preflight_run.prepare(params))
    host = ScriptedHost(filled(case['commands'], netns))
    monkeypatch.setattr(
        AnsibleModule, 'run_command', lambda self, argv, **kw: host(argv, kw.get('environ_update'), kw.get('data'))
    )
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: name)
    monkeypatch.setattr(os, 'access', lambda path, mode: os.path.basename(path) in PLUGINS)
    failed, result = run_module(cni_preflight, case['params'])
    assert not failed, result
    assert host.left() == []
    contained(result, filled(case['result'], netns))


def test_settings_out_of_range_fail_before_any_command(run_module, monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'run_command', lambda self, argv, **kw: pytest.fail('ran %r' % (argv,)))
    failed, result = run_module(cni_preflight, {'probe_max_loss': 101})
    assert failed and result['msg'] == 'cni_preflight: probe_max_loss 101 is out of range: expected 0 to 100'
    failed, result = run_module(
        cni_preflight, {'attachments': [{'name': 'a', 'config': {'cniVersion': '0.3.1', 'type': '/bin/sh'}}]}
    )
    assert failed and "attachments[0] 'a' config type '/bin/sh' is not a plugin name" in result['msg']
