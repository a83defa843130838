"""A programme over time (``orgsim timeline``) as a table and sentences: what the report shows of it.

Numbers are read from a :class:`~orgsim.timeline.run.TimelineResult` (its
``to_dict()`` periods), never recomputed; names and words go through the
language layer like every other table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orgsim.i18n import _
from orgsim.presentation.names import pick_text
from orgsim.presentation.results import STATE_LABELS
from orgsim.presentation.tables import Cell, Table, ci_text, fmt

if TYPE_CHECKING:
    from orgsim.timeline.run import TimelineResult

__all__ = ["phase_label", "phase_labels", "timeline_table", "phases_text"]


def phase_label(name: str, name_en: str | None = None) -> str:
    """A phase as a reader sees it: its name in this language, or "before" for the organisation before the first."""
    return _(STATE_LABELS[name]) if name == "before" else pick_text(name, name_en) or name


def phase_labels(phases: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Each phase's label by its name, from a timeline's ``phases`` (``name`` and ``name_en``)."""
    return {ph["name"]: phase_label(ph["name"], ph.get("name_en")) for ph in phases}


def _yuan(x: float | None) -> Cell:
    return Cell("–") if x is None else Cell(f"{x:,.0f}", True)


def timeline_table(result: TimelineResult) -> Table:
    """One row per period: posts, people, hires and exits, lead times with their interval, payroll."""
    headers = [_("period from"), _("phase"), _("posts"), _("people in post"), _("vacancies"), _("hires"),
               _("exits"), _("newcomers still learning"), _("applications filed"), _("mean lead time"),
               _("95% CI"), _("p90 lead time"), _("payroll (yuan)")]
    rows = []
    starts = set()
    previous = None
    labels = phase_labels(result.phases)
    for k, p in enumerate(result.periods):
        lead = p["lead_time_working_days"]
        rows.append([
            Cell(p["start"]), Cell(labels[p["phase"]]), fmt(p["posts"], 0), fmt(p["headcount"], 1),
            fmt(p["vacancies"], 1), fmt(p["hires"], 1), fmt(p["exits"], 1), fmt(p["learning"], 1),
            fmt(p["arrived"], 1), fmt(lead["mean"]), ci_text(lead["ci95"]), fmt(lead["p90"]),
            _yuan(p["payroll_yuan"]),
        ])
        if p["phase"] != previous:
            starts.add(k)
        previous = p["phase"]
    note = _("Means over {n} replications. People, posts and learners as each period opens; hires, exits and "
             "applications during it; lead times (working days) of the applications filed in it, with the "
             "95% confidence interval of the mean across replications. The last period ends at the horizon, "
             "{end}.").format(n=result.replications, end=result.end)
    return Table(_("The programme over time, per {period}").format(period=_period_word(result.period)), headers,
                 rows, note, frozenset(starts))


def _period_word(period: str) -> str:
    return {"month": _("month"), "quarter": _("quarter"), "year": _("year")}[period]


def phases_text(result: TimelineResult) -> list[str]:
    """Each dated phase in a sentence: its date and name."""
    return [_("From {date}: {phase}.").format(date=ph["effective"], phase=phase_label(ph["name"], ph.get("name_en")))
            for ph in result.phases[1:]]
