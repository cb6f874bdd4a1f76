# Copyright (c) netplumb.multihome contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixed-width text tables, as the collection prints them: the connectivity matrix, AIStore's cluster map, a
``kubectl get -A``-style list of objects. Standard library only."""

from __future__ import annotations

from typing import Any, Sequence


def fixed_width(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Fixed-width lines: each column as wide as its widest cell, two spaces apart, no trailing spaces."""
    rows = list(rows)
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    return [('  '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row))).rstrip() for row in [header] + rows]
