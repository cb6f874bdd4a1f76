# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scripted host for the tests of modules that run commands: each command answered from a table of cases.

A case lists the commands a run must make IN THAT ORDER, each with what it answers (``out``, ``err``,
``rc``; a list or dict ``out`` is printed as JSON). ``env`` and ``stdin`` are checked as subsets of what
the command got, a run of entries marked ``unordered`` may come in any order (commands run side by side),
``delay`` makes an answer slow. Used as hostcmd.Runner's ``run_command`` or as AnsibleModule.run_command.
"""

import json
import re
import threading
import time

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
        assert isinstance(actual, list) and len(actual) == len(expected), '%s: %r, expected %d items' % (
            path,
            actual,
            len(expected),
        )
        for i, (got, want) in enumerate(zip(actual, expected)):
            contained(got, want, '%s[%d]' % (path, i))
    else:
        assert actual == expected, '%s: %r, expected %r' % (path, actual, expected)


class ScriptedHost:
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
                assert (environ_update or {}).get(key) == value, '%r: %s=%r, expected %r' % (
                    argv,
                    key,
                    (environ_update or {}).get(key),
                    value,
                )
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
