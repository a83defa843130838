"""The app's controls as sweep levers: which reforms are on, the headcount caps, the arrival rates.

Every control is a field of the scenario document in the lever language of
sweeps (:mod:`orgsim.sweep.levers`): a reform's switch is
``reforms[0].reforms[2].enabled``, a cap ``reforms[1].reforms[2].cap``, an
arrival rate ``workload.project_types[0].arrivals.rate``. The settings of the
page are a point of a sweep (:func:`orgsim.sweep.points.parse_point`): the
scenario the page simulates is the file with those fields set, so
``orgsim compare`` on that scenario (which the page offers for download) gives
the page's numbers for the same seed and replications.

No web framework here: the page (:mod:`orgsim.app.page`) only reads and sets these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orgsim.errors import OrgsimError
from orgsim.i18n import _
from orgsim.presentation.changes import change_sentences
from orgsim.presentation.names import Names
from orgsim.reforms import ReformOutcome, reform_scenario
from orgsim.scenario.schema import Phase, Scenario
from orgsim.sweep.levers import Vary, resolve_vary
from orgsim.sweep.points import Base, at_point, load_base, parse_point, point_text

__all__ = ["ReformSwitch", "CapLever", "RateLever", "Levers", "Settings"]

#: The largest arrival rate a slider offers, as a multiple of the scenario's.
RATE_UP_TO = 3.0
#: Replications a slider offers at most.
MAX_REPLICATIONS = 50


@dataclass(frozen=True)
class ReformSwitch:
    """One operator of the package, as a switch."""

    #: Its place in the package, from 0.
    index: int
    #: The lever of its switch, e.g. ``reforms[0].reforms[2].enabled``.
    path: str
    phase: str | None
    op: str
    #: What it does, in words: the scenario's label, else the operator's own clause.
    title: str
    #: The whole sentence (what followed from it too), for a tooltip.
    sentence: str


@dataclass(frozen=True)
class CapLever:
    """A headcount cap of a ``cap_headcount`` operator, as a slider."""

    index: int
    path: str
    title: str
    default: int
    low: int
    high: int


@dataclass(frozen=True)
class RateLever:
    """A project type's Poisson arrival rate, as a slider (in the scenario's own period)."""

    project_type: str
    path: str
    title: str
    default: float
    low: float
    high: float
    step: float
    #: The period of the rate (``year``, ``week``...), as written in the scenario.
    per: str


@dataclass(frozen=True)
class Settings:
    """What the page is set to: the point of the scenario to simulate, and how."""

    #: Operators switched off, by place in the package.
    off: frozenset[int] = frozenset()
    #: Cap values by lever path (a missing path keeps the scenario's value).
    caps: Mapping[str, int] | None = None
    #: Arrival rates by lever path.
    rates: Mapping[str, float] | None = None
    replications: int | None = None
    seed: int | None = None


def _round_step(value: float) -> float:
    """A slider step about a fiftieth of ``value``, rounded to 1, 2 or 5 times a power of ten."""
    import math

    raw = max(value / 50, 1e-6)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


class Levers:
    """The controls a scenario offers, and the scenario each setting of them gives."""

    def __init__(self, scenario: Scenario, names: Names | None = None, *, allow_outside: bool = False,
                 max_memory: float | None = None) -> None:
        self.scenario = scenario
        # Every setting is checked like the file: traces confined, the memory budget (orgsim.budget).
        self.base: Base = load_base(scenario, allow_outside=allow_outside, max_memory=max_memory)
        outcome = reform_scenario(scenario)
        states = [outcome.before, *[org for _label, org in outcome.states]]
        names = names or Names(scenario, states)
        sentences = change_sentences(outcome, scenario, names)
        self.switches: list[ReformSwitch] = []
        self.caps: list[CapLever] = []
        k = 0
        for i, item in enumerate(scenario.reforms):
            ops = [(f"reforms[{i}].reforms[{j}]", op) for j, op in enumerate(item.reforms)] \
                if isinstance(item, Phase) else [(f"reforms[{i}]", item)]
            for where, op in ops:
                sentence = sentences[k]
                self.switches.append(ReformSwitch(k, f"{where}.enabled", sentence.phase, op.op,
                                                  sentence.label or sentence.head, sentence.text))
                if op.op == "cap_headcount":
                    within = [op.within] if isinstance(op.within, str) else list(op.within)
                    org = states[k]  # just before this operator
                    units = {u for r in within for u in org.subtree(r) if org.in_zone_government(u)}
                    current = sum(org.headcount(u) for u in units)
                    leaders = sum(org.leaders(u) for u in units)
                    self.caps.append(CapLever(k, f"{where}.cap", _("headcount cap: {units}").format(
                        units=names.units(within)), op.cap, min(leaders, op.cap), max(current, op.cap)))
                k += 1
        self.rates: list[RateLever] = []
        if scenario.workload is not None:
            for t_index, t in enumerate(scenario.workload.project_types):
                rate = t.arrivals.rate
                if rate is None:  # a trace: its dates are the arrivals
                    continue
                step = _round_step(rate)
                self.rates.append(RateLever(
                    t.id, f"workload.project_types[{t_index}].arrivals.rate", names.project_type(t.id), rate,
                    step, round(rate * RATE_UP_TO / step) * step, step, t.arrivals.per))
        self.replications = scenario.simulation.replications
        self.seed = scenario.simulation.seed

    def _varies(self, settings: Settings) -> list[tuple[Vary, Any]]:
        values: dict[str, bool | int | float] = {}
        for switch in self.switches:
            if switch.index in settings.off:
                values[switch.path] = False
        for lever in self.caps:
            cap = (settings.caps or {}).get(lever.path)
            if cap is not None and cap != lever.default:
                values[lever.path] = int(cap)
        for rate in self.rates:
            per = (settings.rates or {}).get(rate.path)
            if per is not None and per != rate.default:
                values[rate.path] = float(per)
        if not values:
            return []
        varies = resolve_vary(self.base.data, {path: [value] for path, value in values.items()}, self.base.source)
        return [(vary, vary.values[0]) for vary in varies]

    def scenario_for(self, settings: Settings) -> Scenario:
        """The scenario with these settings, validated like a file (ScenarioError naming the setting if not)."""
        varies = self._varies(settings)
        return parse_point(self.base, varies) if varies else self.scenario

    def reform(self, scenario: Scenario, settings: Settings) -> ReformOutcome:
        """``scenario`` (from :meth:`scenario_for`) reformed; an operator that fails says which settings made it."""
        try:
            return reform_scenario(scenario)
        except OrgsimError as exc:
            varies = self._varies(settings)
            raise (at_point(exc, self.base, varies) if varies else exc) from None

    def scenario_text(self, settings: Settings) -> str:
        """That scenario as YAML, with the run's seed and replications: ``orgsim compare`` on it gives the page's
        numbers."""
        varies = self._varies(settings)
        extra = []
        if settings.replications is not None:
            extra.append(("simulation.replications", settings.replications))
        if settings.seed is not None:
            extra.append(("simulation.seed", settings.seed))
        if extra:
            more = resolve_vary(self.base.data, {p: [v] for p, v in extra}, self.base.source)
            varies += [(vary, vary.values[0]) for vary in more]
        return point_text(self.base, varies)

    def replications_of(self, settings: Settings) -> int:
        return settings.replications or self.replications

    def seed_of(self, settings: Settings) -> int:
        return self.seed if settings.seed is None else settings.seed
