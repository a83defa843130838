"""The scenario's own text in the reader's language: its description, sources and assumptions.

A scenario writes each text a person reads in its own language (``description``,
a source's ``title`` and ``figures``, an assumption's ``about``, ``value`` and
``reason``) and may give it in English beside (``description_en``, ``title_en``,
``figures_en``, ...), as it does ``name`` and ``name_en``. Each is picked by
:func:`~orgsim.presentation.names.pick_text`, the one rule for names and texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from orgsim.presentation.names import pick_text

__all__ = ["SourceText", "AssumptionText", "ScenarioTexts", "scenario_texts"]


@dataclass(frozen=True)
class SourceText:
    """A source as a reader sees it."""

    title: str
    file: str | None
    figures: list[str]


@dataclass(frozen=True)
class AssumptionText:
    """An assumption as a reader sees it; ``value`` is None when the file gives none."""

    about: str
    value: str | None
    reason: str


@dataclass(frozen=True)
class ScenarioTexts:
    """The scenario's description, sources and assumptions, in one language."""

    description: str
    sources: list[SourceText]
    assumptions: list[AssumptionText]


def _value(value: str | float | None, value_en: str | None, lang: str | None) -> str | None:
    if value is None or isinstance(value, str):
        return pick_text(value, value_en, lang)
    return f"{value:g}"


def scenario_texts(meta: Any, lang: str | None = None) -> ScenarioTexts:
    """The texts of a scenario's metadata (``scenario.scenario``) in ``lang`` (default: the language in force)."""
    sources = [
        SourceText(
            title=pick_text(s.title, s.title_en, lang) or s.id,
            file=s.file,
            # one English line per figure (the schema checks), or none at all
            figures=[pick_text(f, f_en, lang) or "" for f, f_en in zip_longest(s.figures, s.figures_en)],
        )
        for s in meta.sources
    ]
    assumptions = [
        AssumptionText(
            about=pick_text(a.about, a.about_en, lang) or "",
            value=_value(a.value, a.value_en, lang),
            reason=pick_text(a.reason, a.reason_en, lang) or "",
        )
        for a in meta.assumptions
    ]
    description = pick_text(meta.description.strip() or None, meta.description_en, lang) or ""
    return ScenarioTexts(description.strip(), sources, assumptions)
