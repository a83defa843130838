"""People in posts over a programme: who holds each post when, and so which officers are at their desks.

The cap is posts: each phase's organisation has posts per unit and category
(its leaders, each function's officers, support staff). Each post is
simulated on its own, over the phases in which it exists (a function's
officer posts move with the function), from the workforce's named random
streams (``workforce/...``), so adding the workforce never shifts an
applicant's draws. A post is held by at most one person at a time, and a
person holds one post (a :class:`Stint`). Rules, in time order:

- at the start a post is filled (by experienced staff) with ``initial_fill``;
  a post created by a later phase starts vacant;
- a person leaves of their own accord after an exponential time
  (``attrition_per_year``); at each annual appraisal they fail with
  ``elimination_per_year``; ``dismiss_after_failures`` failures dismiss
  (one fewer lowers the post: a lost rank, for pay);
- at a re-appointment (全员聘任) a post is reserved with ``reserved_share``
  (its holder goes; it is filled after ``reserved_fill``), else filled on the
  day with ``filled_at_once`` (its holder stays, unless the post goes to an
  outsider, with ``outside_share``), else its holder goes and it is filled
  after ``time_to_fill``;
- a vacancy is filled after ``replacement_lag`` by a newcomer, who learns
  (the learning curve); a post the new organisation abolishes ends its stint.

The rules cover the posts in the workforce's ``scope`` (:func:`units_in_scope`;
default every unit): a post is in scope in a phase when its unit in that
phase is. A post outside is held throughout by experienced staff (a stint
with ``in_scope`` False: no draws, no attrition, appraisal, re-appointment or
learning) and serves its queue at full strength; the timeline does not count
it. A post entering the scope at a later phase (a function's officers moved
into the zone with it) starts vacant there, like a new post; one leaving it
ends its in-scope stint (``left_scope``) and is held from then on.

A post's officers serve a queue: the first ``servers`` officer posts of a
queue are its servers (posts beyond those are taken to do the standing
duties, so a vacancy there does not slow cases: an assumption).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from orgsim.model import org as o
from orgsim.scenario.schema import WORKING_DAYS_PER, Reappointment, Scenario, Workforce
from orgsim.sim.streams import RandomStreams
from orgsim.timeline.programme import Programme, Tenure

__all__ = ["Post", "Stint", "Staffing", "posts_of", "scope_side", "units_in_scope", "posts_in_scope", "staffing",
           "simulate_workforce", "tenures_of", "EXIT_CAUSES"]

#: Why a stint ends (besides the end of the run, ""). ``left_scope``: the post moved to a unit outside the scope.
EXIT_CAUSES = ("attrition", "eliminated", "not_reappointed", "post_abolished", "left_scope")

#: A post: (category, unit or function, role, number).
Post = tuple[str, str, str, int]


class Stint(NamedTuple):
    """One person in one post for a time (a tuple: a replication makes thousands)."""

    post: Post
    person: int
    start: float
    end: float
    #: When the person was hired (-inf: on staff before the run); learning counts from here.
    hired: float
    cause: str  # why it ended ("" when the run ended first)
    #: Time the person lost a rank after a failed appraisal (inf: never).
    demoted: float = math.inf
    #: False: a post outside the workforce's scope, held by experienced staff and not counted.
    in_scope: bool = True


def posts_of(org: o.Org) -> dict[Post, str]:
    """Every post of ``org`` and its unit: leaders, each function's officers, support."""
    g = org.graph
    out: dict[Post, str] = {}
    for u in org.units():
        for role in (o.CHIEF, o.DEPUTIES):
            for j in range(g.nodes[u][role]):
                out[("leaders", u, role, j)] = u
        for f in org.performed_by(u):
            for j in range(g.nodes[f][o.OFFICERS]):
                out[("officers", f, "", j)] = u
        for j in range(g.nodes[u][o.SUPPORT]):
            out[("support", u, "", j)] = u
    return out


def scope_side(scenario: Scenario) -> o.HandoffSide | None:
    """The workforce's scope resolved on the scenario's organisation (None: every unit)."""
    from orgsim.model.build import build_org

    scope = scenario.workforce.scope if scenario.workforce is not None else None
    if scope is None:
        return None
    return o.HandoffSide.resolve(build_org(scenario), scope.units, scope.jurisdictions)


def units_in_scope(programme: Programme, side: o.HandoffSide | None) -> tuple[frozenset[str], ...]:
    """Each phase's units in scope (every unit when ``side`` is None).

    A unit is in scope in a phase when it is of one of the side's jurisdictions, or it or a unit above it
    then is one of the side's units or came from one (so a unit a reform creates below them is in too).
    """
    out = []
    for org in programme.orgs:
        if side is None:
            out.append(frozenset(org.units()))
            continue
        by_jurisdiction, by_unit = o.HandoffSide((), side.jurisdictions), o.HandoffSide(side.units)
        inside = set()
        for u in org.units():
            x: str | None = u
            while x is not None and not by_unit.holds(org, x):
                x = org.parent(x)
            if x is not None or by_jurisdiction.holds(org, u):
                inside.add(u)
        out.append(frozenset(inside))
    return tuple(out)


def posts_in_scope(posts: Sequence[dict[Post, str]], units: Sequence[frozenset[str]]) -> tuple[dict[Post, str], ...]:
    """Each phase's posts whose unit is in scope then."""
    return tuple({post: u for post, u in phase.items() if u in inside}
                 for phase, inside in zip(posts, units, strict=True))


def _server_of(programme: Programme, p: int) -> dict[Post, str]:
    """The posts whose holders serve a queue in phase ``p``, with its key."""
    plan, org = programme.plans[p], programme.orgs[p]
    out: dict[Post, str] = {}
    for key, pool in plan.pools.items():
        if pool.role == "officers":
            k = 0
            for f in pool.functions:
                for j in range(org.graph.nodes[f][o.OFFICERS]):
                    if k < pool.servers:
                        out[("officers", f, "", j)] = key
                    k += 1
        else:
            for j in range(pool.servers):
                out[("leaders", pool.unit, o.CHIEF if pool.role == "chief" else o.DEPUTIES, j)] = key
    return out


def _appraisals(programme: Programme, calendar: object, month: int) -> list[float]:
    start = programme.dates[0]
    out: list[float] = []
    year = start.year
    while True:
        day = np.datetime64(f"{year:04d}-{month:02d}-01")
        t = float(calendar.calendar_to_working(np.array([day]))[0])  # type: ignore[attr-defined]
        if t >= programme.horizon_days:
            return out
        if t > 0:
            out.append(t)
        year += 1


@dataclass(frozen=True)
class _Life:
    """A run of phases in which a post exists, all in scope or all out of it."""

    post: Post
    born: float
    dies: float
    inside: bool
    #: How an in-scope life's last holder goes at ``dies``: the post is abolished, leaves the scope, or the run ends.
    end_cause: str
    #: The re-appointment at ``born`` (a post a phase creates is filled by its time to fill), if any.
    opening: Reappointment | None
    #: Appraisals and re-appointments strictly inside the life, in time order.
    marks: tuple[tuple[float, str], ...]


@dataclass(frozen=True, eq=False)
class Staffing:
    """What the workforce simulation needs that no random draw changes: computed once per timeline."""

    lives: tuple[_Life, ...]
    reappoint: dict[float, Reappointment]
    #: Each post that serves a queue in some phase: (phase, queue key) for those phases.
    serving: dict[Post, tuple[tuple[int, str], ...]]


def staffing(programme: Programme, spec: Workforce | None, calendar: object,
             posts: Sequence[dict[Post, str]] | None = None, scoped: Sequence[dict[Post, str]] | None = None
             ) -> Staffing:
    """The posts' lives over the programme and the posts that serve queues.

    ``posts``: each phase's :func:`posts_of`; ``scoped``: each phase's posts in scope
    (:func:`posts_in_scope`; None: every post).
    """
    spec = spec or Workforce()
    n = programme.n_phases
    ends = (*programme.starts[1:], programme.horizon_days)
    if posts is None:
        posts = [posts_of(org) for org in programme.orgs]
    if scoped is None:
        scoped = posts
    reappoint = {programme.starts[programme.names.index(r.phase)]: r for r in spec.reappointments
                 if r.phase in programme.names}
    appraisals = _appraisals(programme, calendar, spec.appraisal_month) if spec.elimination_per_year > 0 else []
    lives: list[_Life] = []
    for post in sorted(set().union(*posts)):
        # The post's lives: runs of phases in which it exists, in scope or out of it.
        p = 0
        while p < n:
            if post not in posts[p]:
                p += 1
                continue
            inside = post in scoped[p]
            q = p
            while q + 1 < n and post in posts[q + 1] and (post in scoped[q + 1]) == inside:
                q += 1
            born, dies = programme.starts[p], ends[q]
            abolished = q + 1 < n and post not in posts[q + 1]
            cause = "post_abolished" if abolished else "left_scope" if q + 1 < n else ""
            marks = sorted([(a, "appraisal") for a in appraisals if born < a < dies]
                           + [(c, "reappoint") for c in reappoint if born < c < dies])
            lives.append(_Life(post, born, dies, inside, cause, reappoint.get(born), tuple(marks)))
            p = q + 1
    serving: dict[Post, list[tuple[int, str]]] = {}
    for p in range(n):
        for post, key in _server_of(programme, p).items():
            serving.setdefault(post, []).append((p, key))
    return Staffing(tuple(lives), reappoint, {k: tuple(v) for k, v in serving.items()})


def simulate_workforce(programme: Programme, spec: Workforce | None, streams: RandomStreams, calendar: object,
                       hours_per_day: float, posts: Sequence[dict[Post, str]] | None = None,
                       scoped: Sequence[dict[Post, str]] | None = None, plan: Staffing | None = None) -> list[Stint]:
    """Every stint of every post over the programme (with no workforce section: every post filled throughout).

    ``posts``, ``scoped``: as for :func:`staffing`; ``plan``: its result, when the caller has it (it is the
    same in every replication).
    """
    spec = spec or Workforce()
    if plan is None:
        plan = staffing(programme, spec, calendar, posts, scoped)
    reappoint = plan.reappoint
    rng_fill = streams.generator("workforce", "fill")
    rng_leave = streams.generator("workforce", "attrition")
    rng_appraisal = streams.generator("workforce", "appraisal")
    rng_reappoint = streams.generator("workforce", "reappointment")
    rate = spec.attrition_per_year / WORKING_DAYS_PER["year"]
    initial_fill, lag, elimination = spec.initial_fill, spec.replacement_lag, spec.elimination_per_year
    dismiss_after = spec.dismiss_after_failures

    def draw(dist: object) -> float:
        return 0.0 if dist is None else float(dist.draw(rng_fill, 1, hours_per_day)[0])  # type: ignore[attr-defined]

    stints: list[Stint] = []
    person = 0
    for life in plan.lives:
        post, born, dies = life.post, life.born, life.dies
        if not life.inside:  # held by experienced staff, untouched by the rules
            stints.append(Stint(post, person, born, dies, -math.inf, "", in_scope=False))
            person += 1
            continue
        # Who holds it: (since, hired, failures, demoted) or None, and when a vacancy is filled.
        holder: list | None = None
        fill_at = math.inf
        if born == 0.0:
            if rng_fill.random() < initial_fill:
                holder = [0.0, -math.inf, 0, math.inf]
            else:
                fill_at = draw(lag)
        else:
            r = life.opening
            fill_at = born + draw(r.time_to_fill if r is not None else lag)
        leave_at = math.inf
        if holder is not None and rate > 0:
            leave_at = holder[0] + rng_leave.exponential(1.0 / rate)
        marks = life.marks
        m = 0
        while True:
            nxt = marks[m][0] if m < len(marks) else math.inf
            if holder is None:
                if fill_at < nxt and fill_at < dies:  # hired
                    holder = [fill_at, fill_at, 0, math.inf]
                    leave_at = fill_at + rng_leave.exponential(1.0 / rate) if rate > 0 else math.inf
                    fill_at = math.inf
                    continue
            elif leave_at < nxt and leave_at < dies:
                stints.append(Stint(post, person, holder[0], leave_at, holder[1], "attrition", holder[3]))
                person, holder = person + 1, None
                fill_at = leave_at + draw(lag)
                continue
            if nxt >= dies:
                break
            t, what = marks[m]
            m += 1
            if what == "appraisal":
                if holder is not None and rng_appraisal.random() < elimination:
                    holder[2] += 1
                    if holder[2] >= dismiss_after:
                        stints.append(Stint(post, person, holder[0], t, holder[1], "eliminated", holder[3]))
                        person, holder = person + 1, None
                        fill_at = t + draw(lag)
                    elif holder[3] == math.inf:
                        holder[3] = t
                continue
            r = reappoint[t]
            u, v, w = rng_reappoint.random(3)
            goes = holder is not None and (u < r.reserved_share or v >= r.filled_at_once or w < r.outside_share)
            if goes:
                assert holder is not None
                stints.append(Stint(post, person, holder[0], t, holder[1], "not_reappointed", holder[3]))
                person, holder = person + 1, None
            if u < r.reserved_share:
                fill_at = t + draw(r.reserved_fill)
            elif v < r.filled_at_once:
                if holder is None:  # filled on the day: by someone new (the holder, if any, stayed)
                    holder = [t, t, 0, math.inf]
                    leave_at = t + rng_leave.exponential(1.0 / rate) if rate > 0 else math.inf
                    fill_at = math.inf
            else:
                fill_at = t + draw(r.time_to_fill)
        if holder is not None:
            stints.append(Stint(post, person, holder[0], dies, holder[1], life.end_cause, holder[3]))
            person += 1
    return stints


def tenures_of(programme: Programme, stints: list[Stint], plan: Staffing | None = None) -> list[Tenure]:
    """The servers of each queue: each stint's time in a serving post, per phase, joined across phases.

    ``plan``: the programme's :func:`staffing` (for the posts that serve), when the caller has it.
    """
    ends = (*programme.starts[1:], math.inf)
    starts, horizon = programme.starts, programme.horizon_days
    if plan is None:
        serving: dict[Post, list[tuple[int, str]]] = {}
        for p in range(programme.n_phases):
            for post, key in _server_of(programme, p).items():
                serving.setdefault(post, []).append((p, key))
    out: list[Tenure] = []
    by_post = plan.serving if plan is not None else serving
    for s in stints:
        phases = by_post.get(s.post)
        if not phases:
            continue
        end = s.end if s.cause or s.end < horizon else math.inf
        last: list | None = None
        last_phase = -2
        for p, key in phases:
            a, b = max(s.start, starts[p]), min(end, ends[p])
            if a >= b:
                last = None
                continue
            if last is not None and last_phase == p - 1 and last[0] == key and last[2] == a:
                last[2] = b
            else:
                last = [key, a, b, s.hired]
                out.append(last)  # type: ignore[arg-type]
            last_phase = p
    return [tuple(t) for t in out]  # type: ignore[misc]
