# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's runs (module_utils/preflight_run.py) against a scripted node: the cases are in test_preflight_run.yml.

A :class:`ScriptedHost` answers every command from the case's table, in the order given, and fails
the test on a command the case does not expect; the last test runs the module itself the same way.
"""


import json
import os
import re
import threading
import time

import pytest
import yaml

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.netplumb.multihome.plugins.module_utils import preflight_run
from ansible_collections.netplumb.multihome.plugins.module_utils.hostcmd import Runner
from ansible_collections.netplumb.multihome.plugins.modules import cni_preflight

with open(os.path.join(os.path.dirname(__file__), 'test_preflight_run.yml')) as _handle:
    CASES = yaml.safe_load(_handle)
DEFAULTS = {'state': 'present', 'attachments': [], 'peers': [], 'plan': None, 'node': None, 'node_index': 0, 'ifname': 'net1',
            'cni_bin_dir': '/opt/cni/bin', 'probe_count': 2, 'probe_timeout': 1, 'probe_max_loss': 50, 'probe_workers': 8,
            'fail_on_error': True}
PLUGINS = ['macvlan', 'static']
_NETNS = re.compile(r'\{netns\[([^\]]+)\]\}')


def filled(value, netns):
    """``value`` with every ``{netns[NAME]}`` replaced by the namespace of attachment NAME."""
    if isinstance(value, str):
        return _NETNS.sub(lambda m: netns[m.group(1)], value)
    if isinstance(value, list):
        return [filled(v, netns) for v in value]
    if isinstance(value, dict):
        return dict((k, filled(v, netns)) for k, v in value.items())
    return value


def contained(actual, expected, path='result'):
    """Assert that ``expected`` is in ``actual``: dicts by key, lists element by element (same length)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), '%s: %r is not a dict' % (path, actual)
        for key, value in expected.items():
            assert key in actual, '%s: no %r in %r' % (path, key, sorted(actual))
            contained(actual[key], value, '%s.%s' % (path, key))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), '%s: %r, expected %d items' % (path, actual, len(expected))
        for i, (got, want) in enumerate(zip(actual, expected)):
            contained(got, want, '%s[%d]' % (path, i))
    else:
        assert actual == expected, '%s: %r, expected %r' % (path, actual, expected)


class ScriptedHost(object):
    """``run_command`` answering from a table of expected commands, in order (``unordered`` runs in any order)."""

    def __init__(self, commands):
        self.expected = [dict(c, argv=[str(a) for a in c['argv']]) for c in commands]
        self.used = [False] * len(self.expected)
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def _next(self, argv):
        """Index of the entry that ``argv`` answers to; AssertionError for a command out of turn."""
        first = self.used.index(False) if False in self.used else len(self.used)
        candidates = [first]
        if first < len(self.expected) and self.expected[first].get('unordered'):
            candidates = []
            for i in range(first, len(self.expected)):
                if not self.expected[i].get('unordered'):
                    break
                candidates.append(i)
        for i in candidates:
            if i < len(self.expected) and not self.used[i] and self.expected[i]['argv'] == argv:
                return i
        wanted = [self.expected[i]['argv'] for i in candidates if i < len(self.expected)]
        raise AssertionError('unexpected command %r; the next expected: %r' % (argv, wanted or 'none'))

    def __call__(self, argv, environ_update=None, data=None):
        with self.lock:
            index = self._next([str(a) for a in argv])
            self.used[index] = True
            self.running += 1
            self.peak = max(self.peak, self.running)
        entry = self.expected[index]
        try:
            for key, value in (entry.get('env') or {}).items():
                assert (environ_update or {}).get(key) == value, '%r: %s=%r, expected %r' % (argv, key, (environ_update or {}).get(key), value)
            if 'stdin' in entry:
                contained(json.loads(data), entry['stdin'], 'stdin of %s' % argv[0])
            time.sleep(entry.get('delay', 0))
        finally:
            with self.lock:
                self.running -= 1
        out = entry.get('out', '')
        return entry.get('rc', 0), out if isinstance(out, str) else json.dumps(out), entry.get('err', '')

    def left(self):
        return [e['argv'] for e, used in zip(self.expected, self.used) if not used]


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
    node = preflight_run.Node(Runner(host), 'ip', '/opt/cni/bin', executable=lambda path: os.path.basename(path) in plugins)
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
    monkeypatch.setattr(AnsibleModule, 'run_command', lambda self, argv, **kw: host(argv, kw.get('environ_update'), kw.get('data')))
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
    failed, result = run_module(cni_preflight, {'attachments': [{'name': 'a', 'config': {'cniVersion': '0.3.1', 'type': '/bin/sh'}}]})
    assert failed and "attachments[0] 'a' config type '/bin/sh' is not a plugin name" in result['msg']
