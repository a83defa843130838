"""Plain-text tables for the terminal (no dependency, aligned, CJK-aware)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

__all__ = ["table", "display_width"]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(text))
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None,
          numeric: Sequence[bool] | None = None) -> str:
    """Align ``rows`` under ``headers``; numbers (or the columns ``numeric`` says) are right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    if numeric is None:
        numeric = [
            all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) if rows else False
            for i in range(len(headers))
        ]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    for k, row in enumerate(cells):
        padded = (_pad(c, w, numeric[i] and k > 0) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        lines.append("  ".join(padded).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
