"""Where an application goes, on average: visits, sign-off rounds and hand-offs per step.

One project type's routing, computed once when a plan is compiled and read
by the offered load (stability), the analytic estimate and the support
workload. An application needs a step when one of its functions' conditions
holds (:class:`orgsim.model.org.Need`: an attribute, and a draw below a
probability); a step it does not need is skipped, and the file is handed
straight from each step it did do to the next one it will do. A file sent
back from step S goes to the applicant, then to S's ``rework_to`` target T
(S itself by default), and every step on a path from T to S is done again.

For one *pattern* (the set of steps an application needs) this is a Markov
routing, so expected counts solve a linear system. Let ``r_x`` be step x's
rounds (times it is queued afresh and completed), ``p_S`` the chance that
a visit of S sends the file back (any of its needed functions does), and
``R_S`` the steps on a path from S's target to S. A step with a target is
left once per visit, so it is reworked ``p_S r_S`` times and every round of
it is one visit; a step without one is visited ``r_x / (1 - p_x)`` times
within its rounds. Each rework of S starts a new round of every step of
``R_S``::

    r_x = 1 + sum over S with a target, x in R_S, of p_S r_S

A pair of steps (i, k) is handed across once per round of k in which i
comes before it: once, plus once per rework of an S whose ``R_S`` holds
both. Expectations over applications weight each pattern by its
probability: attributes and the conditions' own draws are independent, so
patterns are enumerated exactly when there are at most ``2 **
MAX_EXACT_DRAWS`` of them; otherwise each step is taken as needed with its
own probability, independently of the others (``Routing.exact`` is False).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from orgsim.model.org import Need
    from orgsim.sim.plan import StepPlan

__all__ = ["Pattern", "Routing", "patterns", "routing_of", "combine_means", "MAX_EXACT_DRAWS"]

#: Patterns are enumerated when the attributes and conditional draws of a
#: project type number at most this many (2 ** 10 = 1,024 patterns).
MAX_EXACT_DRAWS = 10


def combine_means(means: Sequence[float], combine: str | float) -> float:
    """The mean working time of a step with several functions (of their means).

    The mean of a maximum is not the maximum of the means; for ``max`` this
    is a lower bound, which the estimate states as an approximation.
    """
    if not means:
        return 0.0
    if combine == "max":
        return max(means)
    total = sum(means)
    return total if combine == "sum" else total * float(combine)


@dataclass(frozen=True)
class Pattern:
    """The steps one kind of application needs, and its expected counts per step."""

    probability: float
    needed: tuple[bool, ...]
    #: Per step: expected visits to its officers, rounds (sign-offs), files sent back.
    visits: tuple[float, ...]
    rounds: tuple[float, ...]
    reworks: tuple[float, ...]
    #: Mean working time of one visit (of the functions needed), in working days.
    work: tuple[float, ...]
    #: (i, k) -> expected hand-offs from step i to step k.
    handoffs: dict[tuple[int, int], float]


@dataclass(frozen=True)
class Routing:
    """Expected counts per application of one project type, over its patterns."""

    #: Per step: probability that an application needs it.
    need: tuple[float, ...]
    visits: tuple[float, ...]
    rounds: tuple[float, ...]
    reworks: tuple[float, ...]
    #: Per step: expected working time at its officers (visits x work of each visit).
    work: tuple[float, ...]
    handoffs: dict[tuple[int, int], float]
    #: False when patterns were too many to enumerate (steps taken as needed independently).
    exact: bool


def _conditions(steps: Sequence[StepPlan]) -> tuple[list[Need], list[str]]:
    needs: dict[Need, None] = {}
    for st in steps:
        for need in st.needs:
            if need is not None:
                needs.setdefault(need)
    sources = list(dict.fromkeys(n.source for n in needs if n.probability < 1))
    attributes = list(dict.fromkeys(n.when for n in needs if n.when is not None))
    return list(needs), sources + [f"\x00{a}" for a in attributes]


def _draw_probabilities(steps: Sequence[StepPlan], attributes: dict[str, float]) -> dict[str, float]:
    """Probability that each conditional draw (a source's, or an attribute's) comes out true."""
    out: dict[str, float] = {}
    for st in steps:
        for need in st.needs:
            if need is None:
                continue
            if need.probability < 1:
                out[need.source] = need.probability
            if need.when is not None:
                out[f"\x00{need.when}"] = attributes[need.when]
    return out


def _holds(need: Need | None, true: dict[str, bool]) -> bool:
    if need is None:
        return True
    if need.when is not None and not true[f"\x00{need.when}"]:
        return False
    return need.probability >= 1 or true[need.source]


def patterns(steps: Sequence[StepPlan], successors: Sequence[Sequence[tuple[int, str]]],
             attributes: Sequence[tuple[str, float]], hours_per_day: float) -> Iterator[Pattern]:
    """Every pattern of needed steps with its probability (exact enumeration; see :data:`MAX_EXACT_DRAWS`).

    Raises ValueError when there are too many to enumerate.
    """
    probs = _draw_probabilities(steps, dict(attributes))
    names = list(probs)
    if len(names) > MAX_EXACT_DRAWS:
        raise ValueError(f"{len(names)} conditional draws: too many patterns to enumerate")
    for outcome in itertools.product((True, False), repeat=len(names)):
        weight = 1.0
        for name, value in zip(names, outcome, strict=True):
            weight *= probs[name] if value else 1.0 - probs[name]
        if weight == 0.0:
            continue
        true = dict(zip(names, outcome, strict=True))
        needed_functions = [tuple(_holds(st.need_of(k), true) for k in range(len(st.functions))) for st in steps]
        yield _pattern(weight, needed_functions, steps, successors, hours_per_day)


def _pattern(weight: float, needed_functions: list[tuple[bool, ...]], steps: Sequence[StepPlan],
             successors: Sequence[Sequence[tuple[int, str]]], h: float) -> Pattern:
    n = len(steps)
    needed = tuple(any(flags) for flags in needed_functions)
    back = []
    work = []
    for st, flags in zip(steps, needed_functions, strict=True):
        back.append(1.0 - math.prod(1.0 - p for p, on in zip(st.rework, flags, strict=True) if on))
        work.append(combine_means([d.mean_days(h) for d, on in zip(st.service, flags, strict=True) if on], st.combine))
    # Rounds: r = 1 + M r over the needed steps (M from the reworks sent to an earlier target).
    index = [i for i in range(n) if needed[i]]
    pos = {i: k for k, i in enumerate(index)}
    m = np.zeros((len(index), len(index)))
    for s in index:
        if steps[s].rework_to >= 0 and back[s] > 0:
            for x in steps[s].redo:
                if needed[x]:
                    m[pos[x], pos[s]] += back[s]
    rounds = [0.0] * n
    visits = [0.0] * n
    reworks = [0.0] * n
    if index:
        system = np.eye(len(index)) - m
        try:
            solved = np.linalg.solve(system, np.ones(len(index))) if m.any() else np.ones(len(index))
        except np.linalg.LinAlgError:
            solved = np.full(len(index), math.inf)
        if not np.all(np.isfinite(solved)) or np.any(solved <= 0):  # a step sends every file back
            solved = np.full(len(index), math.inf)
        for i in index:
            r = float(solved[pos[i]])
            rounds[i] = r
            if steps[i].rework_to >= 0:
                visits[i] = r
                reworks[i] = back[i] * r
            else:
                visits[i] = r / (1.0 - back[i]) if back[i] < 1 else math.inf
                reworks[i] = visits[i] - r
    handoffs: dict[tuple[int, int], float] = {}
    for i in index:
        for k in _reached(i, needed, successors):
            fired = 1.0
            for s in index:
                if steps[s].rework_to >= 0 and i in steps[s].redo and k in steps[s].redo:
                    fired += reworks[s]
            handoffs[(i, k)] = fired
    return Pattern(weight, needed, tuple(visits), tuple(rounds), tuple(reworks), tuple(work), handoffs)


def _reached(i: int, needed: Sequence[bool], successors: Sequence[Sequence[tuple[int, str]]]) -> list[int]:
    """The needed steps a file goes to from step ``i``: its successors, through those it skips."""
    out: list[int] = []
    seen: set[int] = set()
    stack = [j for j, _ in reversed(successors[i])]
    while stack:
        j = stack.pop()
        if j in seen:
            continue
        seen.add(j)
        if needed[j]:
            out.append(j)
        else:
            stack.extend(k for k, _ in reversed(successors[j]))
    return out


def routing_of(steps: Sequence[StepPlan], successors: Sequence[Sequence[tuple[int, str]]],
               attributes: Sequence[tuple[str, float]], hours_per_day: float) -> Routing:
    """Expected visits, rounds, reworks, work and hand-offs per application of one project type."""
    n = len(steps)
    try:
        chosen = list(patterns(steps, successors, attributes, hours_per_day))
        exact = True
    except ValueError:
        chosen = [_independent(steps, successors, attributes, hours_per_day)]
        exact = False
    need = [0.0] * n
    visits = [0.0] * n
    rounds = [0.0] * n
    reworks = [0.0] * n
    work = [0.0] * n
    handoffs: dict[tuple[int, int], float] = {}
    for pat in chosen:
        w = pat.probability
        for i in range(n):
            if pat.needed[i]:
                need[i] += w
                visits[i] += w * pat.visits[i]
                rounds[i] += w * pat.rounds[i]
                reworks[i] += w * pat.reworks[i]
                work[i] += w * (pat.visits[i] * pat.work[i] if pat.work[i] else 0.0)
        for pair, fired in pat.handoffs.items():
            handoffs[pair] = handoffs.get(pair, 0.0) + w * fired
    if not exact:
        need = _marginals(steps, attributes)
    return Routing(tuple(need), tuple(visits), tuple(rounds), tuple(reworks), tuple(work), handoffs, exact)


def _marginals(steps: Sequence[StepPlan], attributes: Sequence[tuple[str, float]]) -> list[float]:
    """Probability that each step is needed, its functions' conditions taken as independent."""
    attr = dict(attributes)
    out = []
    for st in steps:
        skip = 1.0
        for k in range(len(st.functions)):
            need = st.need_of(k)
            p = 1.0 if need is None else need.probability * (attr[need.when] if need.when else 1.0)
            skip *= 1.0 - p
        out.append(1.0 - skip)
    return out


def _independent(steps: Sequence[StepPlan], successors: Sequence[Sequence[tuple[int, str]]],
                 attributes: Sequence[tuple[str, float]], h: float) -> Pattern:
    """One pattern standing for all: every step needed, counts scaled by its need probability.

    Used when patterns are too many to enumerate; hand-offs are those of the
    path with every step done.
    """
    q = _marginals(steps, attributes)
    full = _pattern(1.0, [(True,) * len(st.functions) for st in steps], steps, successors, h)
    def scaled(values: Sequence[float]) -> tuple[float, ...]:
        return tuple(v * p for v, p in zip(values, q, strict=True))

    return Pattern(1.0, full.needed, scaled(full.visits), scaled(full.rounds), scaled(full.reworks), full.work,
                   full.handoffs)
