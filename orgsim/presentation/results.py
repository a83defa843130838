"""Result tables and the headline, as text in the language in force, for every front end.

Each table is a :class:`Table` (title, headers, rows of cells): the CLI prints
it as aligned text (:func:`orgsim._format.table`), the report as HTML. The
numbers are read from a comparison's ``to_dict()`` (the ``compare --json``
document) and its states; nothing is computed here but formatting, except the
headline's choice of what to say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from orgsim.i18n import N_, _, current_language, ngettext, pgettext
from orgsim.presentation.names import Names
from orgsim.presentation.tables import Cell, Table, ci_text, fmt, pct
from orgsim.presentation.tables import destinations_text, structure_table  # noqa: F401 - one import for users
from orgsim.sim.results import COMPONENTS, PERCENTILES

__all__ = [
    "Table",
    "Cell",
    "fmt",
    "ci_text",
    "names_for",
    "queues_of",
    "structure_table",
    "lead_time_table",
    "project_type_table",
    "time_split_table",
    "staffing_table",
    "support_table",
    "queue_table",
    "headline",
    "bottleneck_text",
    "instability_text",
    "COMPONENT_LABELS",
    "STATE_LABELS",
    "STATE_PHRASES",
    "state_label",
    "state_phrase",
    "comparison_states",
    "clock_unit",
    "caveat_text",
]

#: The parts of the critical path, as a reader calls them.
COMPONENT_LABELS = {
    "waiting": N_("waiting in queues"),
    "processing": N_("officers' processing"),
    "signoff": N_("leaders' sign-off"),
    "handoff": N_("hand-offs between desks"),
    "rework": N_("rework (file back with the applicant)"),
}
#: Organisation states, as a reader calls them.
STATE_LABELS = {"before": N_("before"), "after": N_("after")}
#: The same as phrases ("before the reforms"); a package's state is "after package A".
STATE_PHRASES = {"before": N_("before the reforms"), "after": N_("after the reforms")}
_CLOCK_UNITS = {"working": N_("working days"), "calendar": N_("calendar days"),
                "statutory": N_("working days on the statutory clock")}


def clock_unit(clock: str) -> str:
    """The unit of a lead-time clock, in words (工作日, 自然日)."""
    return _(_CLOCK_UNITS[clock])


def state_label(name: str) -> str:
    """A state as a column or row label: before, after, or package A."""
    return _(STATE_LABELS[name]) if name in STATE_LABELS else _("package {package}").format(package=name)


def state_phrase(name: str) -> str:
    """A state in a sentence: before the reforms, after the reforms, or after package A."""
    return _(STATE_PHRASES[name]) if name in STATE_PHRASES else _("after package {package}").format(package=name)


def comparison_states(doc: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """A ``compare --json`` document's states in order, each state's part, and each later state's difference.

    Before and after; or, for a scenario with packages, before and each package.
    """
    if "packages" in doc:
        names = ["before", *doc["packages"]]
        return names, {n: doc["states"][n] for n in names}, doc["difference"]
    return ["before", "after"], {"before": doc["before"], "after": doc["after"]}, {"after": doc["difference"]}


def _value_headers(states: Sequence[str]) -> list[str]:
    """Column headers of a comparison: the first state with its CI, then each other's value, change and its CI."""
    if list(states) == ["before", "after"]:
        return [_("before (95% CI)"), _("after (95% CI)"), _("change"), _("95% CI of the change")]
    out = [_("{state} (95% CI)").format(state=state_label(states[0]))]
    for s in states[1:]:
        out += [_("{state} (95% CI)").format(state=state_label(s)), _("change, {state}").format(state=state_label(s)),
                _("95% CI of the change, {state}").format(state=state_label(s))]
    return out


def names_for(comparison: Any, ascii_only: bool = False) -> Names:
    """Names for everything in a comparison (or a single state's result), in the language in force."""
    outcomes = getattr(comparison, "outcomes", None)  # a comparison of packages
    if outcomes is None:
        outcome = getattr(comparison, "outcome", None)
        outcomes = {"after": outcome} if outcome is not None else {}
    orgs = [org for o in outcomes.values() for org in (o.before, *[s for _label, s in o.states])]
    return Names(comparison.scenario, orgs or [comparison.org], ascii_only=ascii_only).add_queues(queues_of(comparison))


def queues_of(result: Any) -> list[Any]:
    """The queues a comparison's states (or a single state) simulated: their plans' pools."""
    states = list(result.states.values()) if hasattr(result, "states") else (
        [result.before, result.after] if hasattr(result, "before") else [result])
    return [pool for state in states if state.plan is not None for pool in state.plan.pools.values()]


# ---------------------------------------------------------------- lead times

def _with_ci(lead: dict, p: str) -> Cell:
    """A state's statistic; the mean with its 95% CI."""
    if p != "mean" or lead["mean"] is None:
        return fmt(lead[p])
    ci = ci_text(lead["ci95"]).text
    return Cell(f"{lead['mean']:.1f} {ci}".strip(), True)


def _lead_rows(d_before: dict, others: Sequence[tuple[dict, dict | None]] | None, key: str, clock: str,
               label: str = "") -> list[list[Cell]]:
    """Rows of lead-time statistics: one state's (``others`` None), or the first with each other state and the
    difference from the first (``(state part, difference)``, the difference None when there is none)."""
    unit = clock_unit(clock)
    rows = []
    none = {"mean": None, "ci95": None}
    for p in ("mean",) + tuple(f"p{x}" for x in PERCENTILES):
        stat = _("mean") if p == "mean" else p
        name = Cell(_("{stat} ({unit})").format(stat=label + stat, unit=unit))
        b = d_before[key]
        if others is None:
            rows.append([name, fmt(b[p]), ci_text(b["ci95"]) if p == "mean" else Cell("")])
            continue
        row = [name, _with_ci(b, p)]
        for d_after, diff in others:
            dv = diff[key][p] if diff is not None and key in diff else none
            row += [_with_ci(d_after[key], p), fmt(dv["mean"]), ci_text(dv["ci95"])]
        rows.append(row)
    return rows


def lead_time_table(doc: dict[str, Any], names: Names, state: str | None = None) -> Table:
    """Pooled lead times (all project types together), before/after with the paired change, or one state."""
    if state is not None:  # one state's document (orgsim run)
        rows = _lead_rows(doc, None, "lead_time_working_days", "working")
        rows += _lead_rows(doc, None, "lead_time_calendar_days", "calendar")
        return Table(_("lead times, all project types pooled"), [_("measure"), _("value"), _("95% CI")], rows)
    names_, parts, diffs = comparison_states(doc)
    b = parts[names_[0]]
    others = [(parts[s], diffs[s]) for s in names_[1:]]
    rows = _lead_rows(b, others, "lead_time_working_days", "working")
    rows += _lead_rows(b, others, "lead_time_calendar_days", "calendar")
    blank = [Cell(""), Cell("")]

    def across(label: str, cell: Any) -> list[Cell]:
        row = [Cell(label), cell(b)]
        for a, _diff in others:
            row += [cell(a), *blank]
        return row

    rows.append(across(_("share over the statutory limit"), lambda s: pct(s["share_over_statutory_limit"])))
    rows.append(across(_("throughput (applications per working day)"),
                       lambda s: fmt(s["throughput_per_working_day"], 2)))
    rows.append(across(_("stable"), lambda s: Cell(_("yes") if s["stable"] else _("NO"))))
    return Table(_("lead times, all project types pooled"), [_("measure"), *_value_headers(names_)], rows,
                 note=_("Means with 95% confidence intervals across replications; percentiles are means of each "
                        "replication's percentile; the change is paired replication by replication."))


def bottleneck_text(doc: dict[str, Any], names: Names) -> str:
    """The busiest queue of each state, in words."""
    def name(state: dict) -> str:
        return names.queue(state["bottleneck"]) if state["bottleneck"] else "–"

    states, parts, _diffs = comparison_states(doc)
    if states == ["before", "after"]:
        return _("Bottleneck (busiest queue): before, {before}; after, {after}.").format(
            before=name(doc["before"]), after=name(doc["after"]))
    return _("Bottleneck (busiest queue): {states}.").format(states=_("; ").join(
        _("{state}, {queue}").format(state=state_label(s), queue=name(parts[s])) for s in states))


def project_type_table(doc: dict[str, Any], names: Names, state: str | None = None) -> Table:
    """Per project type: lead times (working and calendar days), the share over its own limit, throughput.

    Case types (enforcement cases, each way of resolving them) follow the project types, marked as such.
    """
    rows: list[list[Cell]] = []
    starts = set()
    cases = False
    one = state is not None
    states: list[str]
    parts: dict[str, dict[str, Any]]
    diffs: dict[str, dict[str, Any]]
    if state is not None:
        states, parts, diffs = [state], {state: doc}, {}
    else:
        states, parts, diffs = comparison_states(doc)
    per_type = parts[states[-1]]["by_project_type"]
    width = 2 if one else 1 + 3 * (len(states) - 1)
    for type_id in per_type:
        limit = per_type[type_id]["statutory_limit_days"]
        limit_text = (_("limit {days:g} working days").format(days=limit) if limit is not None
                      else _("no statutory limit"))
        starts.add(len(rows))
        if per_type[type_id].get("kind", "approval") == "enforcement":
            cases = True
            limit_text = _("enforcement cases; {limit}").format(limit=limit_text)
        title = Cell(_("{type} ({limit})").format(type=names.project_type(type_id), limit=limit_text))
        rows.append([title] + [Cell("")] * width)
        if one:
            t = doc["by_project_type"][type_id]
            rows += [[Cell("  " + r[0].text), *r[1:]] for r in _lead_rows(t, None, "lead_time_working_days",
                                                                        "working")]
            rows += [[Cell("  " + r[0].text), *r[1:]] for r in _lead_rows(t, None, "lead_time_calendar_days",
                                                                        "calendar")]
            rows.append([Cell("  " + _("share over its statutory limit")), pct(t["share_over_statutory_limit"]),
                         Cell("")])
            rows.append([Cell("  " + _("throughput (applications per working day)")),
                         fmt(t["throughput_per_working_day"], 2), Cell("")])
            continue
        b = parts[states[0]]["by_project_type"].get(type_id)
        if b is None:
            continue
        others = [(parts[s]["by_project_type"][type_id], diffs[s]["by_project_type"].get(type_id))
                  for s in states[1:]]
        for key, clock in (("lead_time_working_days", "working"), ("lead_time_calendar_days", "calendar")):
            rows += [[Cell("  " + r[0].text), *r[1:]] for r in _lead_rows(b, others, key, clock)]
        share_row = [Cell("  " + _("share over its statutory limit")), pct(b["share_over_statutory_limit"])]
        throughput_row = [Cell("  " + _("throughput (applications per working day)")),
                          fmt(b["throughput_per_working_day"], 2)]
        for a, diff in others:
            share = diff["share_over_statutory_limit"] if diff else {"mean": None, "ci95": None}
            share_row += [pct(a["share_over_statutory_limit"]), pct(share["mean"]),
                          Cell("" if share["ci95"] is None else f"[{share['ci95'][0]:.1%}, {share['ci95'][1]:.1%}]",
                               True)]
            throughput_row += [fmt(a["throughput_per_working_day"], 2), Cell(""), Cell("")]
        rows += [share_row, throughput_row]
    headers = ([_("project type and measure"), _("value"), _("95% CI")] if one else
               [_("project type and measure"), *_value_headers(states)])
    note = _("Enforcement cases are case types of their own, one per way of resolving them; they are not in the "
             "pooled figures.") if cases else ""
    return Table(_("lead times by project type"), headers, rows, note=note, group_starts=frozenset(starts))


def time_split_table(doc: dict[str, Any], names: Names, states: Sequence[str] = ("before", "after")) -> Table:
    """Where an application's time goes: pooled and per project type, per state (working days)."""
    headers = [_("project type"), _("state")] + [_(COMPONENT_LABELS[c]) for c in COMPONENTS] + [_("total")]
    rows: list[list[Cell]] = []
    starts = set()

    def row(label: str, state: str, split: dict | None) -> list[Cell]:
        cells = [Cell(label), Cell(state_label(state))]
        if split is None:
            return cells + [Cell("–")] * (len(COMPONENTS) + 1)
        values = [split.get(c) for c in COMPONENTS]
        total = sum(v for v in values if v is not None and not math.isnan(v))
        return cells + [fmt(v) for v in values] + [fmt(total)]

    single = len(states) == 1 and "by_project_type" in doc
    docs = {states[0]: doc} if single else {s: doc[s] for s in states}
    types = list(docs[states[-1]]["by_project_type"])
    if len(types) != 1:  # with one project type, the pooled rows would repeat its own
        starts.add(0)
        for s in states:
            rows.append(row(_("all (pooled)"), s, docs[s]["time_split_working_days"]))
    for type_id in types:
        starts.add(len(rows))
        for s in states:
            t = docs[s]["by_project_type"].get(type_id)
            rows.append(row(names.project_type(type_id), s, t and t["time_split_working_days"]))
    return Table(_("where the time goes (mean working days on the critical path)"), headers, rows,
                 note=_("The parts add up to the mean lead time."), group_starts=frozenset(starts))


def staffing_table(doc: dict[str, Any], names: Names, target: float) -> Table:
    """Case officers per unit, and the fewest that keep each queue at or below the utilisation target."""
    states, parts, _diffs = comparison_states(doc)
    staffing = {s: parts[s]["staffing"] for s in states}
    units = sorted(set().union(*staffing.values()), key=lambda u: names.unit(u))

    def get(d: dict, u: str, k: str) -> Cell:
        return fmt(d.get(u, {}).get(k))

    title = _("case officers per unit, and the fewest that keep utilisation at or below {target:.0%}").format(
        target=target)
    if states == ["before", "after"]:
        b, a = staffing["before"], staffing["after"]
        rows = []
        for u in units:
            short = max(0, a.get(u, {}).get("needed", 0) - a.get(u, {}).get("officers", 0))
            rows.append([Cell(names.unit(u)), get(b, u, "officers"), get(b, u, "needed"), get(a, u, "officers"),
                         get(a, u, "needed"), Cell(f"+{short}" if short else "", True)])
        return Table(title, [_("unit"), _("officers before"), _("needed before"), _("officers after"),
                             _("needed after"), _("short after")], rows)
    rows = [[Cell(names.unit(u))] + [c for s in states for c in (get(staffing[s], u, "officers"),
                                                                  get(staffing[s], u, "needed"))] for u in units]
    headers = [_("unit")] + [h for s in states for h in (_("officers, {state}").format(state=state_label(s)),
                                                         _("needed, {state}").format(state=state_label(s)))]
    return Table(title, headers, rows)


def support_table(doc: dict[str, Any], names: Names) -> Table | None:
    """Support staff per unit, and those who would do all its support work (None without support work)."""
    states, parts, _diffs = comparison_states(doc)
    staffing = {s: parts[s]["staffing"] for s in states}
    units = sorted({u for d in staffing.values() for u, row in d.items() if row.get("support_needed")},
                   key=lambda u: names.unit(u))
    if not units:
        return None
    rows = [[Cell(names.unit(u))] + [fmt(staffing[s].get(u, {}).get(k)) for s in states
                                     for k in ("support", "support_needed")] for u in units]
    headers = [_("unit")] + [h for s in states for h in (_("support staff, {state}").format(state=state_label(s)),
                                                         _("needed, {state}").format(state=state_label(s)))]
    return Table(_("support staff per unit, and those who would do all its support work"), headers, rows,
                 note=_("Support work the support staff cannot do is done by the unit's officers, instead of "
                        "cases (docs/model.md, Support work)."))


def queue_table(state: Any, names: Names, n: int = 5) -> Table:
    """The busiest queues of one state."""
    rows = [[Cell(names.queue(b["pool"])), fmt(b["servers"]), pct(b["utilisation"]), fmt(b["mean_queue"], 2)]
            for b in state.bottlenecks()[:n]]
    return Table(_("busiest queues {state}").format(state=state_phrase(state.name)),
                 [_("queue"), _("servers"), _("utilisation"), _("mean queue")], rows)


def instability_text(state: Any, names: Names) -> str:
    """Why a state is unstable, in words: its overloaded queues and what the run saw."""
    parts = []
    loads: dict[str, float] = {}
    for run in state.runs:
        for key in run.overloaded_pools:
            loads[key] = max(loads.get(key, 0.0), run.offered_load[key])
    for key, load in sorted(loads.items(), key=lambda kv: -kv[1]):
        parts.append(_("{queue} is loaded at {load:.0%} of its capacity").format(queue=names.queue(key), load=load))
    if any(r.truncated for r in state.runs):
        parts.append(_("work in progress passed the safety limit; arrivals were stopped"))
    if any(not r.drained for r in state.runs):
        parts.append(_("applications from the window were still waiting a full window after the horizon"))
    return _("; ").join(parts)


# ---------------------------------------------------------------- headline

def _change_pct(b: float, a: float) -> str:
    return f"{(a - b) / b:+.0%}" if b else ""


def headline(comparison: Any, doc: dict[str, Any], names: Names) -> list[str]:
    """Three to five sentences with the numbers that matter, for the top of the report."""
    c = comparison
    out: list[str] = []
    b, a = doc["before"], doc["after"]
    mb, ma = c.before.structure, c.after.structure
    out.append(_("The reforms take the zone government from {hb} to {ha} staff ({pct}) and from {ub} to {ua} "
                 "bodies ({ib} → {ia} internal bodies); leadership posts {lb} → {la}.").format(
        hb=mb.headcount, ha=ma.headcount, pct=_change_pct(mb.headcount, ma.headcount), ub=mb.units, ua=ma.units,
        ib=mb.internal_bodies, ia=ma.internal_bodies, lb=mb.chiefs + mb.deputies, la=ma.chiefs + ma.deputies))
    per_type = a["by_project_type"]
    said = []
    for type_id, t in list(per_type.items())[:3]:
        tb = b["by_project_type"].get(type_id)
        p90_after = t["lead_time_working_days"]["p90"]
        p90_before = tb["lead_time_working_days"]["p90"] if tb else None
        if p90_after is None:
            continue
        kw = {"type": names.project_type(type_id), "a": p90_after}
        if p90_before is not None:
            base = _("{type}: 90% of applications done within {b:.1f} → {a:.1f} working days").format(
                b=p90_before, **kw)
        else:
            base = _("{type}: 90% of applications done within {a:.1f} working days after the reforms").format(**kw)
        limit = t["statutory_limit_days"]
        if limit is not None:
            base += _(" (statutory limit {limit:g}; {share:.0%} over it after)").format(
                limit=limit, share=t["share_over_statutory_limit"] or 0.0)
        said.append(base)
    if said:
        out.append(_("; ").join(said) + _("."))
    unstable = [state_label(s.name) for s in (c.before, c.after) if not s.stable]
    if unstable:
        out.append(_("The organisation {states} the reforms cannot keep up with its applications: queues grow "
                     "without bound, so its lead times are not reported.").format(states=_(" and ").join(unstable)))
    if said and len(per_type) > 3:
        rest = len(per_type) - 3
        out.append(ngettext("The other project type is in the tables below.",
                            "The other {n} project types are in the tables below.", rest).format(n=rest))
    ranked = c.after.bottlenecks()
    if ranked:
        top = ranked[0]
        sentence = _("The bottleneck after the reforms is {queue}, busy {util:.0%} of its time").format(
            queue=names.queue(top["pool"]), util=top["utilisation"])
        staffing = a["staffing"].get(top["unit"])
        target = c.scenario.simulation.utilisation_target
        if staffing and staffing["needed"] > staffing["officers"]:
            sentence += _("; {unit} needs {needed} case officers instead of {has} to stay at or below {target:.0%}"
                          ).format(unit=names.unit(top["unit"]), needed=staffing["needed"],
                                   has=staffing["officers"], target=target)
        elif top["role"] in ("chief", "deputies"):
            sentence += _("; it is a leaders' sign-off queue: fewer sign-off levels or more deputies would "
                          "relieve it")
        else:
            sentence += _("; its officers suffice for the {target:.0%} utilisation target").format(target=target)
        out.append(sentence + _("."))
    return out


def caveat_text(item: tuple[str, str, str], names: Names) -> str:
    """An analytic estimate's caveat (:attr:`orgsim.sim.estimate.Estimate.caveat_items`) in words, with names."""
    kind, subject, step = item
    if kind == "trace":
        return _("{type}: arrivals from a trace are not included in the estimate").format(
            type=names.project_type(subject))
    if kind == "independent":
        return _("{type}: too many conditional steps to enumerate; each step is taken as needed independently of "
                 "the others").format(type=names.project_type(subject))
    if kind == "merged_step":
        return _("{type}, step {step}: merged step, its time distribution is approximated").format(
            type=names.project_type(subject), step=names.step(subject, step))
    if kind == "not_exponential":
        return _("{queue}: service times are not exponential (Allen-Cunneen approximation)").format(
            queue=names.queue(subject))
    if kind == "mixture":
        return _("{queue}: pooled functions with different service times (mixture treated as one)").format(
            queue=names.queue(subject))
    return _("{type}: parallel steps; the mean of the longest branch is at least the longest mean branch, so "
             "the estimate is low").format(type=names.project_type(subject))


def language_tag() -> str:
    """The HTML ``lang`` of the language in force."""
    return "zh-Hans" if current_language() == "zh" else "en"


def yes_no(value: bool) -> str:
    return pgettext("answer", "yes") if value else pgettext("answer", "no")
