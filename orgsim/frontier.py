"""The frontier of a lever: how far it can go before a target on lead times is lost.

``frontier(scenario, "reforms[1].reforms[2].cap", 30, 60, "p90<=120")`` finds,
by bisection, the smallest cap (or, when the target holds at the low end and
fails at the high end, the largest value) that keeps the mean over
replications of a metric within the target. Every probe is a full before/after
comparison with the same seed and replications, so probes are compared on
common random numbers and the answer is a pure function of (scenario, lever,
range, target, replications, seed).

A probe *passes* when the chosen state is stable in every replication and the
mean of the metric meets the target; an unstable organisation fails. It is
*clear* when the 95% confidence interval of that mean lies wholly on one side
of the threshold (an unstable probe is a clear failure). The result states the
bracket [last failing value, first passing value] and whether the decisions at
its ends are statistically clear; when they are not, it names the range of
probed values where the target is within the noise of the replications.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from orgsim._callable_module import callable_module
from orgsim.errors import OrgsimError, Problem, ScenarioError, SweepError
from orgsim.executors import Executor
from orgsim.scenario.schema import Scenario

__all__ = ["Target", "Probe", "FrontierResult", "parse_target", "frontier", "METRIC_ALIASES"]

#: Short names of metrics in a target; any numeric column of the replication table works too.
METRIC_ALIASES = {
    "mean": "lead_working_mean",
    "p50": "lead_working_p50",
    "p90": "lead_working_p90",
    "p95": "lead_working_p95",
    "max": "lead_working_max",
    "calendar_mean": "lead_calendar_mean",
    "calendar_p50": "lead_calendar_p50",
    "calendar_p90": "lead_calendar_p90",
    "calendar_p95": "lead_calendar_p95",
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
}
_TARGET = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")

#: Probes at most, the two ends included.
MAX_PROBES = 20


@dataclass(frozen=True)
class Target:
    """``METRIC OP THRESHOLD`` on the mean over replications, e.g. ``p90<=120``."""

    text: str
    metric: str
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)


def parse_target(text: str) -> Target:
    """``"p90<=120"`` -> Target(metric="lead_working_p90", op="<=", threshold=120.0).

    Short names (``mean``, ``p50``, ``p90``, ``p95``, ``max``: lead time in
    working days; ``calendar_p90`` ...) or any numeric column of the
    replication table (``share_over_limit``, ``backlog_end`` ...).
    """
    m = _TARGET.match(text)
    if not m:
        raise ValueError(f"target {text!r}: write METRIC OP NUMBER, e.g. 'p90<=120' (OP one of <=, <, >=, >)")
    name, op, number = m.groups()
    return Target(text.strip(), METRIC_ALIASES.get(name, name), op, float(number))


@dataclass(frozen=True)
class Probe:
    """One value of the lever, compared before/after with R replications."""

    value: float
    #: Mean of the metric over replications (None when the state is unstable).
    mean: float | None
    ci95: tuple[float, float] | None
    stable: bool
    passes: bool
    #: The 95% CI lies wholly on one side of the threshold (or the state is unstable).
    clear: bool

    def describe(self, target: Target) -> str:
        """``lead_working_p90 118.2 [112.0, 124.4], passes (not clear)``."""
        from orgsim.i18n import _

        if not self.stable:
            return _("unstable (fails)")
        ci = self.ci95
        shown = f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci and not any(map(math.isnan, ci)) else ""
        verdict = _("passes") if self.passes else _("fails")
        return f"{target.metric} {self.mean:.1f}{shown}, {verdict}{'' if self.clear else _(' (not clear)')}"

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "mean": self.mean, "ci95": list(self.ci95) if self.ci95 else None,
                "stable": self.stable, "passes": self.passes, "clear": self.clear}


@dataclass(frozen=True)
class FrontierResult:
    """Where a target is lost along one lever, with the evidence."""

    path: str
    low: float
    high: float
    target: Target
    state: str
    replications: int
    seed: int
    scenario_sha256: str
    #: "smallest" (the target holds above the frontier) or "largest" (below); None if no frontier in range.
    direction: str | None
    #: The passing end of the bracket: the answer (None when there is no frontier in the range).
    value: float | None
    #: (last failing, first passing), in the lever's units.
    bracket: tuple[float, float] | None
    probes: tuple[Probe, ...] = field(default=())
    #: Other fields set for every probe: (path, value).
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def clear(self) -> bool:
        """Both ends of the bracket were decided with 95% confidence."""
        if self.bracket is None:
            return False
        by_value = {p.value: p for p in self.probes}
        return all(by_value[v].clear for v in self.bracket)

    def uncertain_range(self) -> tuple[float, float] | None:
        """Closest clearly failing and clearly passing probes around the frontier.

        Between them the target is within the noise of the replications (on
        the probes made); equal to the bracket when its ends are clear.
        """
        if self.bracket is None:
            return None
        fail, ok = self.bracket
        sign = 1 if ok > fail else -1  # +1: passing side is above
        clear_ok = [p.value for p in self.probes if p.passes and p.clear and sign * (p.value - fail) > 0]
        clear_fail = [p.value for p in self.probes if not p.passes and p.clear and sign * (ok - p.value) > 0]
        best_ok = (min if sign > 0 else max)(clear_ok) if clear_ok else None
        best_fail = (max if sign > 0 else min)(clear_fail) if clear_fail else None
        return (best_fail if best_fail is not None else math.nan, best_ok if best_ok is not None else math.nan)

    def to_dict(self) -> dict[str, Any]:
        from orgsim import __version__

        return {
            "path": self.path, "low": self.low, "high": self.high, "target": self.target.text,
            "metric": self.target.metric, "state": self.state, "replications": self.replications,
            "seed": self.seed, "scenario_sha256": self.scenario_sha256, "orgsim_version": __version__,
            "fixed": {path: value for path, value in self.fixed},
            "direction": self.direction, "value": self.value,
            "bracket": list(self.bracket) if self.bracket else None, "clear": self.clear,
            "uncertain_range": list(self.uncertain_range() or ()) or None,
            "probes": [p.to_dict() for p in self.probes],
        }

    def summary(self) -> str:
        """The answer in words, with its uncertainty."""
        from orgsim.i18n import _

        t = self.target
        state = _("before") if self.state == "before" else _("after")
        what = _("{metric} (mean over {n} replications, {state} the reforms) {op} {threshold:g}").format(
            metric=t.metric, n=self.replications, state=state, op=t.op, threshold=t.threshold)
        span = f"{self.path} = {_num(self.low)}..{_num(self.high)}"
        if self.bracket is None:
            ends = {p.value: p for p in self.probes}
            holds = [v for v in (self.low, self.high) if v in ends and ends[v].passes]
            if len(holds) == 2:
                return _("{what} holds at both ends of {span}: no frontier in this range; widen it").format(
                    what=what, span=span)
            return _("{what} fails at both ends of {span}: no frontier in this range; widen it, or the target "
                     "cannot be met").format(what=what, span=span)
        fail, ok = self.bracket
        direction = _("smallest") if self.direction == "smallest" else _("largest")
        lines = [
            _("{direction} {path} keeping {what}: {value}").format(direction=direction, path=self.path, what=what,
                                                                   value=_num(ok)),
            _("bracket: {fail} fails, {ok} passes").format(fail=_num(fail), ok=_num(ok)),
        ]
        by_value = {p.value: p for p in self.probes}
        for v in (fail, ok):
            lines.append("  " + _("at {value}: {what}").format(value=_num(v), what=by_value[v].describe(t)))
        if self.clear:
            lines.append(_("both decisions are statistically clear (95% CI of the mean on one side of the "
                           "threshold)"))
        else:
            lo, hi = self.uncertain_range()  # type: ignore[misc]
            unclear = ", ".join(_num(v) for v in self.bracket if not by_value[v].clear)
            if not math.isnan(lo) and not math.isnan(hi):
                known = _("the target clearly fails at {lo} and clearly holds at {hi}, so the frontier lies "
                          "between them").format(lo=_num(lo), hi=_num(hi))
            elif not math.isnan(lo):
                known = _("the target clearly fails at {lo}, and no probe passed clearly").format(lo=_num(lo))
            elif not math.isnan(hi):
                known = _("the target clearly holds at {hi}, and no probe failed clearly").format(hi=_num(hi))
            else:
                known = _("no probe was clear either way")
            lines.append(_("not statistically clear: at {unclear} the 95% CI includes the threshold; with {n} "
                           "replications {known}; more replications (-r) would narrow it").format(
                unclear=unclear, n=self.replications, known=known))
        return "\n".join(lines)


def _num(x: float | None) -> str:
    if x is None:
        return "n/a"
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


def _judge(frame: Any, value: float, target: Target, state: str) -> Probe:
    from orgsim.experiment import confidence_interval

    rows = frame[frame["state"] == state]
    if target.metric not in rows.columns:
        numeric = sorted(c for c in rows.columns if rows[c].dtype.kind == "f")
        raise OrgsimError(
            f"target: unknown metric {target.metric!r}",
            [Problem("--target", f"unknown metric {target.metric!r}; use {', '.join(METRIC_ALIASES)} "
                     f"or a column: {', '.join(numeric)}")],
        )
    stable = bool((rows["stable"] == 1.0).all())
    values = rows[target.metric].to_numpy(dtype=float)
    if not stable or len(values) == 0 or bool(np.isnan(values).any()):
        return Probe(value, None, None, False, False, True)
    mean = float(values.mean())
    lo, hi = confidence_interval(values)
    passes = target.holds(mean)
    clear = not math.isnan(lo) and target.holds(lo) == target.holds(hi) == passes
    return Probe(value, mean, (lo, hi), True, passes, clear)


def frontier(
    scenario: str | Path | Scenario,
    path: str,
    low: float,
    high: float,
    target: str | Target,
    *,
    replications: int | None = None,
    seed: int | None = None,
    state: str = "after",
    tolerance: float | None = None,
    max_probes: int = MAX_PROBES,
    fixed: Mapping[str, Any] | Sequence[str] = (),
    executor: str | Executor | None = None,
    address: str | None = None,
    workers: int | None = None,
    on_probe: Callable[[Probe], None] | None = None,
    allow_outside: bool = False,
    max_memory: float | None = None,
) -> FrontierResult:
    """Bisect a numeric lever between ``low`` and ``high`` for the edge of ``target``.

    Integer ends bisect on integers down to adjacent values; otherwise down
    to ``tolerance`` (default: 1/100 of the range). ``fixed`` sets other
    fields for every probe (``{"PATH": value}`` or ``["PATH=VALUE"]``). The
    executor runs each probe's replications in parallel; the result does not
    depend on it. ``allow_outside`` and ``max_memory`` as for :func:`orgsim.sweep.sweep`.
    """
    from orgsim.batches import RunCache
    from orgsim.executors import open_executor
    from orgsim.sweep.levers import Vary, resolve_path, resolve_vary
    from orgsim.sweep.points import Points, check_levers, load_base, point_document, setting

    goal = parse_target(target) if isinstance(target, str) else target
    if state not in ("before", "after"):
        raise ValueError(f"state must be 'before' or 'after', got {state!r}")
    for name, x in (("low", low), ("high", high)):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            msg = f"{name} must be a number, got {x!r}"
            raise ScenarioError(f"{path}: {msg}", [Problem(path, msg)])
    if not low < high:
        msg = f"low ({low}) must be less than high ({high})"
        raise ScenarioError(f"{path}: {msg}", [Problem(path, msg)])
    integer = isinstance(low, int) and isinstance(high, int)
    tol = 1 if integer else (tolerance if tolerance is not None else (high - low) / 100)
    if tol <= 0:
        raise ValueError("tolerance must be positive")

    base = load_base(scenario, allow_outside=allow_outside, max_memory=max_memory)
    fixed_levers: list[Vary] = resolve_vary(base.data, fixed, base.source) if fixed else []
    for v in fixed_levers:
        if len(v.values) != 1:
            msg = "a fixed setting takes one value"
            raise ScenarioError(f"{v.path}: {msg}", [Problem(v.path, msg, base.source)])
    if resolve_path(base.data, path, base.source)[1]:
        msg = "the frontier needs a numeric lever, not a toggle"
        raise ScenarioError(f"{path}: {msg}", [Problem(path, msg, base.source)])
    (lever,) = resolve_vary(base.data, {path: [low, high]}, base.source)
    check_levers(base, [*fixed_levers, lever])
    fixed_settings = [(v, v.values[0]) for v in fixed_levers]

    points = Points(base, [], seed, replications)
    # One cache for every probe: the organisation before the reforms (and any
    # state a probe meets again) is simulated once per replication.
    runs = RunCache()
    probes: dict[float, Probe] = {}
    order: list[Probe] = []
    with open_executor(executor, address=address, workers=workers, error=SweepError) as ex:

        def run(values: list[float]) -> None:
            start = len(points.settings)
            points.settings.extend([*fixed_settings, (lever, v)] for v in values)
            for i, frame in points.run(range(start, start + len(values)), ex, cache=runs):
                probe = _judge(frame, values[i - start], goal, state)
                probes[probe.value] = probe
                order.append(probe)
                if on_probe is not None:
                    on_probe(probe)

        run([low, high])
        doc = point_document(base, points.settings[0])
        n = replications if replications is not None else int(setting(doc, "replications"))
        used_seed = seed if seed is not None else int(setting(doc, "seed"))

        def result(direction: str | None, bracket: tuple[float, float] | None) -> FrontierResult:
            return FrontierResult(path, low, high, goal, state, n, used_seed, base.sha256, direction,
                                  bracket[1] if bracket else None, bracket, tuple(order),
                                  tuple((v.path, x) for v, x in fixed_settings))

        if probes[low].passes == probes[high].passes:
            return result(None, None)
        direction = "smallest" if probes[high].passes else "largest"
        fail, ok = (low, high) if direction == "smallest" else (high, low)
        while abs(ok - fail) > tol and len(order) < max_probes:
            mid = (fail + ok) // 2 if integer else (fail + ok) / 2
            if mid in (fail, ok):
                break
            run([mid])
            if probes[mid].passes:
                ok = mid
            else:
                fail = mid
        return result(direction, (fail, ok))


callable_module(__name__, frontier)
