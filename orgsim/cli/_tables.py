"""Tables of :mod:`orgsim.presentation` as aligned text for the terminal."""

from __future__ import annotations

from orgsim._format import table
from orgsim.presentation.tables import Table

__all__ = ["render"]


def render(t: Table) -> str:
    """``t`` as aligned text: its title, the columns (numbers right-aligned), its note."""
    numeric = [any(len(r) > i and r[i].numeric for r in t.rows) and
               all(len(r) <= i or r[i].numeric or not r[i].text or r[i].text == "–" for r in t.rows)
               for i in range(len(t.headers))]
    text = table(t.headers, [[c.text for c in r] for r in t.rows], title=t.title or None, numeric=numeric)
    return text + (f"\n({t.note})" if t.note else "")
