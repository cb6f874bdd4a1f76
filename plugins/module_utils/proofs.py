# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of site.yml's costly proofs (the preflight, the pod matrix) a run makes again, and the record of one that
passed (site_prove, docs/preflight.md).

A proof runs again when ``site_prove`` is ``always``, when this run changed something on the hosts or the cluster
before it, when no run of it passed before, or when its inputs (what it tests: the definitions, the nodes and their
NICs, the plan, its settings) differ from those of the run that passed. Otherwise the cluster is as it was when the
proof passed, and the run says so instead of proving it again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any, Iterable, Mapping

MODES = ('always', 'changed')


class ProofError(ValueError):
    """A site_prove setting that is none of MODES; the message names it. (A record that cannot be used is not an
    error: it counts as none.)"""


def fingerprint(inputs: Any) -> str:
    """The SHA-256 of ``inputs`` as canonical JSON (keys sorted): equal inputs, equal fingerprints."""
    text = json.dumps(inputs, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _records(stamps: Iterable[Any]) -> dict[str, Mapping[str, Any]]:
    """``{proof: record}`` of the records read back; anything else (a hand-edited or truncated file) is left out."""
    out = {}
    for stamp in stamps:
        if isinstance(stamp, Mapping) and isinstance(stamp.get('proof'), str) and stamp.get('fingerprint'):
            out[stamp['proof']] = stamp
    return out


def proofs_to_run(
    inputs: Mapping[str, Any],
    stamps: Iterable[Any],
    changed: Iterable[str],
    mode: str = 'changed',
    now: str | None = None,
) -> dict[str, dict[str, Any]]:
    """``{proof: {run, reason, stamp}}`` for each proof of ``inputs`` (``{proof: what it tests}``).

    ``stamps`` are the records of the proofs that passed before (as :func:`proofs_to_run` returned them in ``stamp``),
    ``changed`` names what this run changed before the proofs, ``mode`` is ``site_prove``. ``reason`` says in one line
    whether the proof runs and why; ``stamp`` is the record to keep once it passed.
    """
    if mode not in MODES:
        raise ProofError('site_prove %r is not one of %s' % (mode, ', '.join(MODES)))
    changed = [str(item) for item in changed if item]
    when = now or datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    records = _records(stamps)
    out = {}
    for proof in sorted(inputs):
        seal = fingerprint(inputs[proof])
        previous = records.get(proof)
        if mode == 'always':
            run, why = True, 'site_prove is always'
        elif changed:
            run, why = True, 'this run changed %s' % ', '.join(changed)
        elif previous is None:
            run, why = True, 'no run of it passed before (none on record)'
        elif previous['fingerprint'] != seal:
            run, why = True, 'what it tests differs from the run that passed at %s' % previous.get('passed', '?')
        else:
            run, why = (
                False,
                (
                    'it passed at %s with these exact inputs and this run changed nothing before it '
                    '(-e site_prove=always runs it)' % previous.get('passed', '?')
                ),
            )
        out[proof] = {
            'run': run,
            'reason': '%s: %s: %s' % (proof, 'runs' if run else 'not run', why),
            'stamp': {'proof': proof, 'fingerprint': seal, 'passed': when},
        }
    return out
