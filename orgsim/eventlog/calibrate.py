"""Calibrate a scenario from a zone's event log: every number the log can give, fitted in working time.

The log is read by :mod:`orgsim.eventlog.read`; its timestamps become working
time on the base scenario's calendar (office hours, weekends, holidays,
make-up days, extra closures), so a month of closure does not lengthen a
service time. The organisation is the base scenario's before its reforms:
the log is the zone's record of how it works today. What is fitted:

* **arrival rates** per project type: cases (by their first enable, or start)
  per working day of the log's window (per replication, when the log has
  several); the rate's variation by calendar month is reported with a
  chi-square test, but not written, since the format has one rate per type;
* **service times** per function, from the officers' rows of the steps that
  need that function alone: working time from start to end, times the
  queue's availability (a visit takes ``service / availability``), fitted
  among the supported families by AIC (:mod:`orgsim.eventlog.fit`);
* **rework probabilities** per function: files its single-function steps
  sent back over their visits (:mod:`orgsim.eventlog.returns` tells a
  return from the file coming forward again after one);
* **rework targets** per step (``rework_to``): where most of its returns
  came back to;
* **branch probabilities** (``steps[].probability``) and **attributes**
  (``when``): shares of each type's cases with rows of the steps;
* **resubmission delay**: from the sending visit's end to the file's return
  to its target's queue (needs the enable column);
* **sign-off time**: the leaders' rows (role ``leader``);
* **hand-off delays** per kind (within a unit, between units, between
  jurisdictions): the log's hand-off rows, or from the end of a step (its
  last sign-off) to the next step's enable, for steps that wait for one
  step only.

What the log cannot give (merged steps' separate times, anything without
rows) keeps the base scenario's number and is listed as an assumption.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orgsim.errors import EventLogError, Problem
from orgsim.i18n import N_, _
from orgsim.eventlog.fit import Fit, fit_durations
from orgsim.eventlog.read import ColumnMap, LogRows, _some, read_log
from orgsim.eventlog.returns import BACK_TO_APPLICANT, Return, find_returns, step_ancestors

__all__ = ["Fitted", "NotFitted", "Calibration", "calibrate", "blank_document", "HANDOFF_KINDS", "MIN_OBSERVATIONS"]

HANDOFF_KINDS = ("within_unit", "between_units", "between_jurisdictions")
HANDOFF_QUANTITIES = {"within_unit": N_("hand-off within a unit"), "between_units": N_("hand-off between units"),
                      "between_jurisdictions": N_("hand-off between jurisdictions")}
#: Fewer observations than this leave a number unfitted (an assumption).
MIN_OBSERVATIONS = 5
#: Consecutive working days without activity reported as a possible closure.
IDLE_RUN = 5
_SIGNOFF = re.compile(r"^(?P<step>.+) sign-off (?P<level>\d+)$")
_HANDOFF = re.compile(r"^hand-off (?P<a>.+) -> (?P<b>.+)$")


@dataclass(frozen=True)
class Fitted:
    """One fitted number of the scenario."""

    path: str  # the field, as the loader names it: functions[3].service_time
    label: str  # the same, by id: functions[land_supply].service_time
    n: int
    #: What the number is, for people: a message (marked N_, translated where shown) ...
    quantity: str
    #: ... of what: ("function", id), ("project_type", id), ("step", project type, step),
    #: ("attribute", project type, attribute), or None for the whole workload.
    subject: tuple[str, ...] | None
    #: The value written (a distribution's mapping, a probability or a rate per year).
    value: Any
    #: The duration fit, for distributions.
    fit: Fit | None = None
    #: Confidence interval (95%) of the mean (durations, working days), the probability or the rate per year.
    ci: tuple[float, float] = (math.nan, math.nan)
    estimate: float = math.nan
    note: str = ""
    #: The observed durations (working days), for the report's figure.
    observed: np.ndarray | None = field(default=None, repr=False, compare=False)

    def figure_text(self) -> str:
        """The fit in one line, by field (the text cited in the fitted scenario's sources)."""
        if self.fit is not None:
            lo, hi = self.fit.mean_ci()
            return (f"{self.label}: {self.fit.describe()} (n={self.n}; mean {self.fit.mean_days:.4g} working days, "
                    f"95% CI {lo:.4g}-{hi:.4g}; chosen by AIC; KS distance {self.fit.ks:.3f})")
        return f"{self.label}: {self.value} (n={self.n}; 95% CI {self.ci[0]:.4g}-{self.ci[1]:.4g}){self.note}"


@dataclass(frozen=True)
class NotFitted:
    """A number the log could not give: kept from the base scenario, and why (a message, translated where shown)."""

    path: str
    reason: str  # marked N_, with {placeholders} filled from params
    params: dict[str, Any] = field(default_factory=dict)

    def why(self) -> str:
        """The reason in the language in force."""
        return _(self.reason).format(**self.params)


@dataclass
class Calibration:
    """What the log gave: the fitted numbers, what stayed assumed, and the document of the fitted scenario."""

    base: Any  # Scenario
    log: LogRows
    fitted: list[Fitted]
    not_fitted: list[NotFitted]
    document: dict[str, Any]
    replications: int
    cases: int
    first: Any
    last: Any
    #: Per project type: the monthly table (month, cases, working days, rate per working day), chi2, p.
    monthly: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Share of each project type's cases that visit each step (branch probabilities, reported only).
    step_shares: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The log's lead times (working days), one per case.
    lead_days: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: Runs of at least IDLE_RUN working days without any activity in the log (a closure the calendar
    #: does not know?): (first date, last date, working days).
    idle_stretches: list[tuple[Any, Any, int]] = field(default_factory=list)
    hours_per_day: float = 8.0


def _calendar(base: Any, first_day: Any) -> Any:
    """The base scenario's calendar, started early enough for the log."""
    import datetime as dt

    from orgsim.sim.calendar import WorkingCalendar

    spec = base.simulation.calendar
    start = min(spec.start, first_day) if isinstance(first_day, dt.date) else spec.start
    return WorkingCalendar(start, hours_per_day=spec.hours_per_day, holidays=spec.holidays,
                           extra_holidays=spec.extra_holidays, extra_workdays=spec.extra_workdays,
                           day_start=spec.day_start())


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At k = 0 (or n) the bound is exactly 0 (or 1); the formula leaves rounding dust there.
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def _poisson_ci(n: int, exposure: float) -> tuple[float, float]:
    from scipy import stats

    lo = stats.chi2.ppf(0.025, 2 * n) / 2 if n > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * n + 2) / 2
    return (lo / exposure, hi / exposure)


def calibrate(log_path: str | Path, base_path: str | Path, columns: ColumnMap | None = None,
              state: str | None = None, output: str | Path | None = None, *, allow_outside: bool = False,
              max_memory_bytes: float | None = None) -> Calibration:
    """Fit ``base_path``'s numbers to the log at ``log_path``; :class:`EventLogError` on a bad log.

    ``output`` (the fitted scenario's path) only makes the log's path in
    ``sources`` relative to it; ``allow_outside`` and ``max_memory_bytes``
    are the base scenario's, as in :func:`orgsim.load_scenario`.
    """
    import pandas as pd

    from orgsim.model.build import build_org
    from orgsim.scenario.document import read_document
    from orgsim.sim.plan import compile_plan

    columns = columns or ColumnMap()
    base, data = read_document(base_path, allow_outside=allow_outside, max_memory_bytes=max_memory_bytes)
    if base.workload is None:
        raise EventLogError(f"{base_path}: no workload", [Problem("workload", "the base scenario has no workload "
                                                                  "(project types and their steps) to calibrate",
                                                                  str(base_path))])
    log = read_log(log_path, columns, state)
    frame = log.frame.copy()
    file = log.file
    names = {f: getattr(columns, f) or f for f in ("case", "activity", "project_type", "role", "enable")}
    org = build_org(base)
    plan = compile_plan(org, base)
    types = {f.id: f for f in plan.flows}

    # Project types.
    problems: list[tuple[int | None, str, str]] = []
    if "project_type" in log.present:
        unknown = frame.index[~frame["project_type"].isin(list(types))].tolist()
        problems += _some(unknown, names["project_type"],
                          f"unknown project type; the scenario has {', '.join(types)}")
    elif len(types) == 1:
        frame["project_type"] = next(iter(types))
    else:
        raise EventLogError(f"{file}: which project type?", [Problem(
            f"column {names['project_type']!r}", f"missing, and the scenario has {len(types)} project types "
            f"({', '.join(types)}): name the column with --project-type-column", file)])
    if "role" not in log.present:
        frame["role"] = "officer"
    if "replication" not in log.present:
        frame["replication"] = "0"
    # Steps: officers' rows name a step of their project type; leaders' rows "{step} sign-off {level}".
    frame["step"] = None
    officer = frame["role"] == "officer"
    leader = frame["role"] == "leader"
    if not problems:
        step_ok = pd.Series(False, index=frame.index)
        for fid, flow in types.items():
            ids = [s.id for s in flow.steps]
            mine = frame["project_type"] == fid
            step_ok |= mine & officer & frame["activity"].isin(ids)
            parsed = frame.loc[mine & leader, "activity"].str.extract(_SIGNOFF)
            good = parsed["step"].isin(ids)
            frame.loc[parsed.index[good], "step"] = parsed.loc[good, "step"]
            step_ok |= mine & leader & frame.index.isin(parsed.index[good])
        frame.loc[officer, "step"] = frame.loc[officer, "activity"]
        bad = frame.index[(officer | leader) & ~step_ok].tolist()
        problems += _some(bad, names["activity"], "unknown step for its project type (officers' rows name a step "
                          "id of the scenario; leaders' rows '<step> sign-off <level>')")
    if problems:
        raise EventLogError(f"{file}: {len(problems)} problem(s)",
                            [Problem(f"row {r}, column {c!r}" if r is not None else f"column {c!r}", m, file)
                             for r, c, m in problems])
    if not officer.any():
        raise EventLogError(f"{file}: no officers' rows", [Problem(
            f"column {names['role']!r}", "no row of role 'officer' (or without a role): nothing to calibrate", file)])

    # Working time.
    stamps = [frame[c] for c in ("start", "end", "enable") if c in frame.columns]
    first = min(s.min() for s in stamps)
    last = max(s.max() for s in stamps)
    calendar = _calendar(base, first.date())
    for c in ("start", "end", "enable"):
        if c in frame.columns:
            frame[f"t_{c}"] = calendar.from_datetime64(frame[c].to_numpy())
    if "t_enable" not in frame.columns:
        frame["t_enable"] = frame["t_start"]
    frame["case_key"] = frame["replication"].astype(str) + "\x00" + frame["case"].astype(str)
    h = base.simulation.calendar.hours_per_day

    fitted: list[Fitted] = []
    not_fitted: list[NotFitted] = []
    doc = _deep_copy(data)
    functions_index = {f["id"]: i for i, f in enumerate(doc.get("functions", []))}
    type_index = {pt["id"]: i for i, pt in enumerate(doc["workload"]["project_types"])}

    # Cases and arrivals.
    cases = frame.groupby("case_key").agg(project_type=("project_type", "first"), replication=("replication", "first"),
                                          arrival=("t_enable", "min"), done=("t_end", "max"),
                                          arrival_stamp=("enable" if "enable" in frame.columns else "start", "min"))
    replications = int(cases["replication"].nunique())
    windows = cases.groupby("replication")["arrival"].agg(["min", "max"])
    exposure = float((windows["max"] - windows["min"]).sum())
    monthly: dict[str, dict[str, Any]] = {}
    #: Where the log contradicts the base's routing: assumptions of the fitted scenario ({about, reason}).
    contradictions: list[dict[str, str]] = []
    for fid, t in type_index.items():
        n = int((cases["project_type"] == fid).sum())
        path = f"workload.project_types[{t}].arrivals"
        if n < MIN_OBSERVATIONS or exposure <= 0:
            not_fitted.append(NotFitted(f"{path}.rate", N_("{n} cases of this project type in the log: too few "
                                                            "to fit an arrival rate"), {"n": n}))
            continue
        rate_day = n / exposure
        lo, hi = _poisson_ci(n, exposure)
        per_year = _round(rate_day * 250.0)
        doc["workload"]["project_types"][t]["arrivals"] = {"rate": per_year, "per": "year"}
        fitted.append(Fitted(f"{path}.rate", f"workload.project_types[{fid}].arrivals.rate", n,
                             N_("arrivals per year"), ("project_type", fid), per_year, ci=(lo * 250, hi * 250),
                             estimate=rate_day * 250,
                             note=f" per year (cases per working day of the log's window x 250; "
                                  f"{replications} replication(s), {exposure:.1f} working days)"))
        monthly[fid] = _monthly(cases[cases["project_type"] == fid], calendar, replications)

    # Files sent back: which step sent each, and where it came back to.
    officers = frame[officer]
    applicant_rows = frame[frame["role"] == "applicant"]
    sender = applicant_rows["activity"].str.extract(BACK_TO_APPLICANT)["step"]
    applicant_rows = applicant_rows.assign(step=sender)[sender.notna()]
    ancestors = {fid: step_ancestors(flow.steps, flow.successors) for fid, flow in types.items()}
    returns = find_returns(officers, applicant_rows, ancestors)
    returned_by: dict[tuple[str, str], list[Return]] = {}
    for r in returns:
        returned_by.setdefault((r.project_type, r.sender), []).append(r)

    # Service times and rework, per function, from single-function steps.
    service: dict[str, list[np.ndarray]] = {}
    visits: dict[str, list[int]] = {}
    step_shares: dict[str, dict[str, float]] = {}
    visited: dict[str, dict[str, set[str]]] = {}
    for fid, flow in types.items():
        rows = officers[officers["project_type"] == fid]
        n_cases = int((cases["project_type"] == fid).sum())
        step_shares[fid] = {}
        visited[fid] = {}
        for st in flow.steps:
            mine = rows[rows["step"] == st.id]
            visited[fid][st.id] = set(mine["case_key"].unique())
            step_shares[fid][st.id] = (len(visited[fid][st.id]) / n_cases) if n_cases else math.nan
            if len(st.functions) > 1:
                not_fitted.append(NotFitted(f"steps {fid}.{st.id}", N_(
                    "a step of {n} merged functions: the log has their combined time only; their service times "
                    "and rework probabilities stay as they were"), {"n": len(st.functions)}))
                continue
            f = st.functions[0]
            availability = plan.pools[st.pool].availability
            service.setdefault(f, []).append(((mine["t_end"] - mine["t_start"]) * availability).to_numpy())
            counts = visits.setdefault(f, [0, 0])
            counts[0] += len(mine)
            counts[1] += len(returned_by.get((fid, st.id), []))
    for f, parts in service.items():
        x = np.concatenate(parts)
        i = functions_index[f]
        path = f"functions[{i}].service_time"
        if len(x) < MIN_OBSERVATIONS:
            not_fitted.append(NotFitted(path, N_("{n} visits in the log: too few"), {"n": len(x)}))
        else:
            fit = fit_durations(x, h)
            doc["functions"][i]["service_time"] = fit.distribution
            fitted.append(Fitted(path, f"functions[{f}].service_time", fit.n, N_("service time"), ("function", f),
                                 fit.distribution, fit,
                                 fit.mean_ci(), fit.mean_days, observed=x))
        total, sent = visits[f]
        if total >= MIN_OBSERVATIONS:
            p = _round(sent / total)
            doc["functions"][i]["rework_probability"] = p
            fitted.append(Fitted(f"functions[{i}].rework_probability", f"functions[{f}].rework_probability", total,
                                 N_("rework probability"), ("function", f), p,
                                 ci=_wilson(sent, total), estimate=sent / total,
                                 note=" (files this function's steps sent back over their visits)"))

    # Routing: branch probabilities and attributes, and where each step sends files back.
    for fid, t in type_index.items():
        n_cases = int((cases["project_type"] == fid).sum())
        _fit_branches(doc["workload"]["project_types"][t], t, fid, visited[fid], n_cases, fitted, not_fitted,
                      contradictions)
        _fit_rework_targets(doc["workload"]["project_types"][t], t, fid, returned_by, fitted, not_fitted,
                            contradictions)

    # Resubmission delay: a sending visit's end to the file's return to its target's queue.
    back = np.array([r.back - r.sent for r in returns])
    _fit_into(doc["workload"], "resubmission_delay", "workload.resubmission_delay", N_("resubmission delay"), back,
              h, fitted, not_fitted, N_("needs the enable column") if "enable" not in log.present
              else N_("{n} observations of files sent back in the log: too few"))

    # Sign-off time: the leaders' rows.
    signoff = frame[leader]
    _fit_into(doc["workload"], "signoff_time", "workload.signoff_time", N_("sign-off time"),
              (signoff["t_end"] - signoff["t_start"]).to_numpy(), h, fitted, not_fitted,
              N_("{n} leaders' rows (role leader) in the log: too few"))

    # Hand-offs, per kind: the log's hand-off rows ("hand-off a -> b", role transfer) when it has them; otherwise
    # a step's end (its last row: sign-off or officers') to the next step's first enable, in cases whose files
    # never went back to an earlier step (there a step's rounds interleave with its successors').
    handoffs: dict[str, list[float]] = {k: [] for k in HANDOFF_KINDS}
    transfer = frame[frame["role"] == "transfer"]
    pair = transfer["activity"].str.extract(_HANDOFF)
    if pair["a"].notna().any():
        for fid, flow in types.items():
            index = {st.id: i for i, st in enumerate(flow.steps)}
            mine = (transfer["project_type"] == fid) & pair["a"].notna()
            gaps = (transfer["t_end"] - transfer["t_start"])[mine].to_numpy()
            for a, b, gap in zip(pair.loc[mine, "a"], pair.loc[mine, "b"], gaps, strict=True):
                link = flow.handoffs.get((index.get(a, -1), index.get(b, -1)))
                if link is not None:
                    handoffs[link.kind].append(float(gap))
    elif "enable" in log.present:
        earlier = {r.case for r in returns if r.target != r.sender}
        worked = frame[(officer | leader) & ~frame["case_key"].isin(earlier)]
        step_end = worked.groupby(["case_key", "step"])["t_end"].max()
        step_enable = officers.groupby(["case_key", "step"])["t_enable"].min()
        for fid, flow in types.items():
            keys = cases.index[(cases["project_type"] == fid) & ~cases.index.isin(earlier)]
            for i, succ in enumerate(flow.successors):
                for j, kind in succ:
                    if flow.n_predecessors[j] != 1:
                        continue
                    a = step_end.reindex(pd.MultiIndex.from_product([keys, [flow.steps[i].id]]))
                    b = step_enable.reindex(pd.MultiIndex.from_product([keys, [flow.steps[j].id]]))
                    gap = b.to_numpy() - a.to_numpy()
                    handoffs[kind] += gap[np.isfinite(gap)].tolist()
    handoff_doc = doc["workload"].setdefault("handoff", {})
    for kind in HANDOFF_KINDS:
        _fit_into(handoff_doc, kind, f"workload.handoff.{kind}", HANDOFF_QUANTITIES[kind], np.asarray(handoffs[kind]),
                  h, fitted, not_fitted, N_("needs the enable column") if "enable" not in log.present
                  else N_("{n} hand-offs of this kind in the log: too few"))

    # Days of the window with no activity at all: a closure the calendar may not know.
    day_table = calendar.working_day_table
    k0, k1 = int(math.floor(frame["t_start"].min())), int(math.floor(frame["t_end"].max()))
    active = np.unique(np.floor(np.concatenate([frame["t_start"].to_numpy(), frame["t_end"].to_numpy(),
                                                frame["t_enable"].to_numpy()])).astype(np.int64))
    idle = np.setdiff1d(np.arange(k0, k1 + 1), active)
    stretches = []
    for run in np.split(idle, np.flatnonzero(np.diff(idle) != 1) + 1) if len(idle) else []:
        if len(run) >= IDLE_RUN:
            stretches.append((np.datetime64(int(day_table[run[0]]), "D").item(),
                              np.datetime64(int(day_table[run[-1]]), "D").item(), len(run)))

    _cite(doc, log, fitted, not_fitted, monthly, replications, len(cases), first, last, output, contradictions)
    return Calibration(base, log, fitted, not_fitted, doc, replications, len(cases), first, last, monthly,
                       step_shares, (cases["done"] - cases["arrival"]).to_numpy(), stretches, h)


def _fit_branches(pt: dict[str, Any], t: int, fid: str, visited: dict[str, set[str]], n_cases: int,
                  fitted: list[Fitted], not_fitted: list[NotFitted], contradictions: list[dict[str, str]]) -> None:
    """Fit one project type's branch probabilities and attributes from the cases that visit each step.

    A step without ``when`` is fitted when the base makes it optional or the
    log shows cases without it: the share of the type's cases with a row of
    it. An attribute is fitted from the steps that need it alone (``when``
    without a probability): the share of cases with a row of any of them;
    a step that needs the attribute and a probability, from those cases.
    """
    steps = pt["steps"]
    base, label = f"workload.project_types[{t}]", f"workload.project_types[{fid}]"
    for k, sd in enumerate(steps):
        if sd.get("when") is not None:
            continue
        seen = len(visited.get(sd["id"], set()))
        if float(sd.get("probability", 1)) >= 1 and seen == n_cases:
            continue
        _fit_share(sd, "probability", f"{base}.steps[{k}].probability", f"{label}.steps[{sd['id']}].probability",
                   seen, n_cases, N_("branch probability"), ("step", fid, sd["id"]),
                   " (share of the type's cases with a row of this step)", fitted, not_fitted)
    for attribute in list(pt.get("attributes") or {}):
        group = [(k, sd) for k, sd in enumerate(steps) if sd.get("when") == attribute]
        if not group:
            continue
        path, where = f"{base}.attributes.{attribute}", f"{label}.attributes.{attribute}"
        definite = [sd for _k, sd in group if float(sd.get("probability", 1)) >= 1]
        if not definite:
            reason = N_("every step that needs this attribute also needs a draw of its own: the log cannot tell "
                        "the attribute's share from the steps' shares")
            not_fitted.append(NotFitted(path, reason))
            not_fitted.extend(NotFitted(f"{base}.steps[{k}].probability", reason) for k, _sd in group)
            continue
        sets = [visited.get(sd["id"], set()) for sd in definite]
        having = set().union(*sets)
        together = set.intersection(*sets)
        stray = set().union(*(visited.get(sd["id"], set()) for _k, sd in group)) - having
        if having - together or stray:
            contradictions.append({"about": where, "reason": (
                f"the base needs steps {', '.join(sd['id'] for sd in definite)} together (when: {attribute}), but "
                f"{len(having - together)} of the log's {len(having)} cases with a row of one of them lack a row of "
                f"another, and {len(stray)} visit a step that needs the attribute without any of them; the grouping "
                "is kept, the attribute fitted as the share of cases with a row of any of them")})
        _fit_share(pt["attributes"], attribute, path, where, len(having), n_cases,
                   N_("share of applications with the attribute"), ("attribute", fid, attribute),
                   f" (share of the type's cases with a row of {' or '.join(sd['id'] for sd in definite)})",
                   fitted, not_fitted)
        for k, sd in group:
            if float(sd.get("probability", 1)) < 1:
                _fit_share(sd, "probability", f"{base}.steps[{k}].probability",
                           f"{label}.steps[{sd['id']}].probability", len(visited.get(sd["id"], set()) & having),
                           len(having), N_("branch probability"), ("step", fid, sd["id"]),
                           f" (share of the cases with the attribute {attribute} with a row of this step)",
                           fitted, not_fitted)


def _fit_share(section: dict[str, Any], key: str, path: str, label: str, k: int, n: int, quantity: str,
               subject: tuple[str, ...], note: str, fitted: list[Fitted], not_fitted: list[NotFitted]) -> None:
    """Write the share k/n into ``section[key]`` with its Wilson interval, or say why not."""
    if n < MIN_OBSERVATIONS:
        not_fitted.append(NotFitted(path, N_("{n} cases to count in the log: too few"), {"n": n}))
        return
    p = _round(k / n)
    section[key] = p
    fitted.append(Fitted(path, label, n, quantity, subject, p, ci=_wilson(k, n), estimate=k / n, note=note))


def _fit_rework_targets(pt: dict[str, Any], t: int, fid: str, returned_by: dict[tuple[str, str], list[Return]],
                        fitted: list[Fitted], not_fitted: list[NotFitted],
                        contradictions: list[dict[str, str]]) -> None:
    """Where each step sends files back: the step most of its returns come back to (``rework_to``)."""
    from collections import Counter

    base, label = f"workload.project_types[{t}]", f"workload.project_types[{fid}]"
    for k, sd in enumerate(pt["steps"]):
        sent = returned_by.get((fid, sd["id"]), [])
        path, where = f"{base}.steps[{k}].rework_to", f"{label}.steps[{sd['id']}].rework_to"
        if len(sent) < MIN_OBSERVATIONS:
            if sent or sd.get("rework_to") is not None:
                not_fitted.append(NotFitted(path, N_("{n} files sent back by this step in the log: too few to "
                                                     "tell where they go"), {"n": len(sent)}))
            continue
        counts = Counter(r.target for r in sent).most_common()
        target, n_target = counts[0]
        if target == sd["id"]:
            sd.pop("rework_to", None)
        else:
            sd["rework_to"] = target
        if len(counts) > 1:
            contradictions.append({"about": where, "reason": (
                "the format has one target per step; the log's files sent back by this step came back to "
                + ", ".join(f"{step} ({n})" for step, n in counts) + f": {target} is written")})
        fitted.append(Fitted(path, where, len(sent), N_("rework target"), ("step", fid, sd["id"]), target,
                             ci=_wilson(n_target, len(sent)), estimate=n_target / len(sent),
                             note=f" ({n_target} of {len(sent)} files this step sent back came back to {target}; "
                                  "the CI is that share's)"))


def _fit_into(section: dict[str, Any], key: str, path: str, quantity: str, x: np.ndarray, h: float,
              fitted: list[Fitted], not_fitted: list[NotFitted], too_few: str) -> None:
    """Fit one workload-wide duration, or say why not (``too_few``: a message with {n})."""
    x = x[np.isfinite(x)] if len(x) else x
    if len(x) < MIN_OBSERVATIONS:
        not_fitted.append(NotFitted(path, too_few, {"n": len(x)}))
        return
    x = np.clip(x, 0.0, None)
    fit = fit_durations(x, h)
    section[key] = fit.distribution
    fitted.append(Fitted(path, path, fit.n, quantity, None, fit.distribution, fit, fit.mean_ci(), fit.mean_days,
                         observed=x))


def _monthly(cases: Any, calendar: Any, replications: int) -> dict[str, Any]:
    """Arrivals per working day by calendar month, and a chi-square test of one constant rate."""
    import pandas as pd
    from scipy import stats

    stamps = pd.to_datetime(cases["arrival_stamp"])
    months = stamps.dt.to_period("M")
    first, last = stamps.min().normalize(), stamps.max().normalize() + pd.Timedelta(days=1)
    table = []
    for month in sorted(months.unique()):
        lo = max(month.start_time, first)
        hi = min(month.end_time.normalize() + pd.Timedelta(days=1), last)
        days = calendar.working_days_between(np.datetime64(lo.date()), np.datetime64(hi.date())) * replications
        n = int((months == month).sum())
        table.append((str(month), n, int(days), n / days if days else math.nan))
    counts = np.array([r[1] for r in table], dtype=float)
    days = np.array([r[2] for r in table], dtype=float)
    ok = days > 0
    expected = counts[ok].sum() * days[ok] / days[ok].sum()
    chi2 = float(((counts[ok] - expected) ** 2 / expected).sum()) if ok.sum() > 1 else math.nan
    p = float(stats.chi2.sf(chi2, ok.sum() - 1)) if ok.sum() > 1 else math.nan
    return {"months": table, "chi2": chi2, "dof": int(ok.sum() - 1), "p": p}


def _round(x: float) -> float:
    return float(f"{x:.6g}")


def _deep_copy(data: Any) -> Any:
    import copy

    return copy.deepcopy(data)


def _cite(doc: dict[str, Any], log: LogRows, fitted: list[Fitted], not_fitted: list[NotFitted],
          monthly: dict[str, dict[str, Any]], replications: int, cases: int, first: Any, last: Any,
          output: str | Path | None, contradictions: list[dict[str, str]]) -> None:
    """Cite the log for every fitted number; keep every other assumption, and add the ones calibration makes."""
    meta = doc.setdefault("scenario", {})
    sources = meta.setdefault("sources", [])
    ids = {s.get("id") for s in sources}
    source_id, n = "event_log", 2
    while source_id in ids:
        source_id, n = f"event_log_{n}", n + 1
    where = Path(log.file)
    file = os.path.relpath(where, Path(output).parent) if output is not None else str(where)
    sources.append({
        "id": source_id,
        "title": (f"event log {where.name}: {len(log.frame)} rows, {cases} cases, {first:%Y-%m-%d} to "
                  f"{last:%Y-%m-%d}, {replications} replication(s); SHA-256 {log.sha256}"),
        "file": file,
        "figures": [f.figure_text() for f in fitted],
    })
    done = {f.path for f in fitted}
    kept = [a for a in meta.get("assumptions", []) if a.get("about") not in done]
    for item in not_fitted:
        kept.append({"about": item.path,
                     "reason": f"not fitted from the log ({item.why()}); kept from the base scenario"})
    kept += contradictions
    varying = {fid: m for fid, m in monthly.items() if m["p"] == m["p"] and m["p"] < 0.05}
    if varying:
        kept.append({"about": "arrival rates by month", "reason": (
            "assumed constant over the year: the log's rate varies by month ("
            + "; ".join(f"{fid}: chi-square p={m['p']:.2g}" for fid, m in varying.items())
            + "), and the format has one rate per project type; see the calibration report")})
    meta["assumptions"] = kept


def blank_document(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a scenario document with every number calibration fits replaced by a placeholder.

    Service times and delays become exponential with mean 1 (day, or hour for
    sign-offs), rework probabilities 0, arrival rates 1 a year, branch
    probabilities below 1 and attributes 0.5, and every ``rework_to`` is
    dropped (files come back to the step that sent them): a scenario
    that still loads, and from which only a log can give the numbers (the
    round trip in tests/eventlog and benchmarks/calibration_round_trip.py).
    """
    doc = _deep_copy(data)
    one_day = {"dist": "exponential", "mean": 1, "unit": "days"}
    for f in doc.get("functions", []):
        if f.get("service_time") is not None:
            f["service_time"] = dict(one_day)
        f["rework_probability"] = 0.0
    w = doc["workload"]
    if w.get("signoff_time") is not None:
        w["signoff_time"] = {"dist": "exponential", "mean": 1, "unit": "hours"}
    if w.get("resubmission_delay") is not None:
        w["resubmission_delay"] = dict(one_day)
    w["handoff"] = {k: dict(one_day) for k, v in (w.get("handoff") or {}).items() if v is not None}
    for pt in w["project_types"]:
        pt["arrivals"] = {"rate": 1, "per": "year"}
        if pt.get("attributes"):
            pt["attributes"] = {a: 0.5 for a in pt["attributes"]}
        for st in pt["steps"]:
            if float(st.get("probability", 1)) < 1:
                st["probability"] = 0.5
            st.pop("rework_to", None)
    return doc
