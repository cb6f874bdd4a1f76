# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift: what a check-mode run of the roles would change, read from ansible-playbook's JSON output.

``playbooks/drift.yml`` runs ``site.yml``'s changes with ``--check --diff`` and the ``ansible.builtin.json``
callback; every task result that would change something is drift from the inventory. :func:`drift_rows`
turns that output into one row per host, task and loop item (a Kubernetes object named by kind,
namespace and name), each with the unified diff the task showed; :func:`drift_report` prints them.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Mapping

DIFF_LINES = 40  # lines of diff shown per row


class DriftError(ValueError):
    """The check run's output is not what ansible-playbook's json callback prints."""


# What the API server keeps about an object that no inventory sets: left out of a Kubernetes object's diff.
_SERVER_METADATA = ('managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink')


def _text(value):
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get('metadata'), Mapping):
        metadata = dict((k, v) for k, v in value['metadata'].items() if k not in _SERVER_METADATA)
        value = dict((k, v) for k, v in value.items() if k != 'status')
        value['metadata'] = metadata
    return json.dumps(value, indent=2, sort_keys=True, default=str) + '\n'


def diff_lines(diff: Any, limit: int = DIFF_LINES) -> list[str]:
    """A task's ``diff`` (one ``{before, after, before_header, after_header}`` or a list of them) as unified diff lines."""
    out: list[str] = []
    for part in diff if isinstance(diff, list) else [diff]:
        if not isinstance(part, Mapping):
            continue
        if 'prepared' in part and 'before' not in part:
            out += str(part['prepared']).splitlines()
            continue
        before, after = _text(part.get('before')), _text(part.get('after'))
        if before == after:
            continue
        out += [
            line.rstrip('\n')
            for line in difflib.unified_diff(
                before.splitlines(True),
                after.splitlines(True),
                fromfile=str(part.get('before_header') or 'before'),
                tofile=str(part.get('after_header') or 'after'),
                n=1,
            )
        ]
    if len(out) > limit:
        out = out[:limit] + ['... %d more lines' % (len(out) - limit)]
    return out


def _object_name(result):
    """``Kind namespace/name`` of a kubernetes.core.k8s result, None for other tasks."""
    obj = result.get('result') if isinstance(result.get('result'), Mapping) else None
    if obj is None or 'kind' not in obj:
        return None
    meta = obj.get('metadata') or {}
    name = meta.get('name', '?')
    return '%s %s' % (obj['kind'], '%s/%s' % (meta['namespace'], name) if meta.get('namespace') else name)


def _objects(result):
    """The per-object results of a kubernetes.core.k8s call given several definitions, else ``[result]``."""
    inner = result.get('result') if isinstance(result, Mapping) else None
    if isinstance(inner, Mapping) and isinstance(inner.get('results'), list):
        return [
            dict(sub, _ansible_item_label=result.get('_ansible_item_label'))
            for sub in inner['results']
            if isinstance(sub, Mapping)
        ]
    return [result]


def _label(result):
    label = result.get('_ansible_item_label', result.get('item'))
    if label is None:
        return None
    return label if isinstance(label, str) else json.dumps(label, sort_keys=True, default=str)


def drift_rows(run: Any) -> dict[str, Any]:
    """``{rows, failed, unreachable, hosts}`` of a check-mode run's JSON output (a dict or its text).

    ``rows``: ``[{host, task, what, diff}]`` for every result that would change something (``what`` is the
    Kubernetes object, else the loop item, else None). ``failed``/``unreachable``: ``[{host, task, msg}]``:
    a check that failed proves nothing about drift. ``hosts``: every host the run reached.
    """
    if isinstance(run, str):
        try:
            run = json.loads(run)
        except ValueError:
            raise DriftError('the check run printed no JSON: %s' % run.strip()[-300:]) from None
    if not isinstance(run, Mapping) or not isinstance(run.get('plays'), list):
        raise DriftError('the check run output has no plays: expected the ansible.builtin.json callback output')
    rows, failed, unreachable = [], [], []
    for play in run['plays']:
        for task in play.get('tasks', []):
            name = task.get('task', {}).get('name', '?')
            for host, result in sorted(task.get('hosts', {}).items()):
                if result.get('unreachable'):
                    unreachable.append({'host': host, 'task': name, 'msg': result.get('msg', '')})
                    continue
                if (
                    result.get('failed')
                    and not result.get('ignore_errors')
                    and not result.get('_ansible_ignore_errors')
                ):
                    failed.append({'host': host, 'task': name, 'msg': result.get('msg', '')})
                items = result.get('results') if isinstance(result.get('results'), list) else [result]
                for item in [sub for entry in items for sub in _objects(entry)]:
                    if not isinstance(item, Mapping) or not item.get('changed') or item.get('skipped'):
                        continue
                    rows.append(
                        {
                            'host': host,
                            'task': name,
                            'what': _object_name(item) or (_label(item) if item is not result else None),
                            'diff': diff_lines(item.get('diff')),
                        }
                    )
    return {'rows': rows, 'failed': failed, 'unreachable': unreachable, 'hosts': sorted(run.get('stats', {}))}


def drift_report(drift: Mapping[str, Any]) -> list[str]:
    """The lines to print: a summary, then per host each task (and object or item) that differs, with its diff."""
    rows = drift['rows']
    hosts = sorted(set(r['host'] for r in rows))
    lines = [
        'no drift: %d host%s checked, nothing differs from the inventory'
        % (len(drift['hosts']), '' if len(drift['hosts']) == 1 else 's')
        if not rows
        else 'drift: %d change%s on %s would bring the cluster back to the inventory'
        % (len(rows), '' if len(rows) == 1 else 's', ', '.join(hosts))
    ]
    for host in hosts:
        lines.append('%s:' % host)
        for row in (r for r in rows if r['host'] == host):
            lines.append('  %s%s' % (row['task'], ' [%s]' % row['what'] if row['what'] else ''))
            lines += ['      ' + line for line in row['diff']]
    for kind in ('failed', 'unreachable'):
        for entry in drift[kind]:
            lines.append('%s %s at "%s": %s' % (entry['host'], kind, entry['task'], entry['msg']))
    return lines


def summary(drift: Mapping[str, Any]) -> dict[str, Any]:
    """``{drifted, hosts: {host: count}}``, the JSON a script reads."""
    counts: dict[str, int] = {}
    for row in drift['rows']:
        counts[row['host']] = counts.get(row['host'], 0) + 1
    return {'drifted': bool(drift['rows']), 'hosts': counts, 'checked': list(drift['hosts'])}
