"""The engines' event sink: the same per-visit events from every engine, consistent with the run's records.

The SimPy reference, the FIFO loop's source run as Python and the compiled
loop must emit the same multiset of events (each engine learns of a visit at
a different moment, so their order differs; the log writer orders them).
Recording events must not change the run, and the events must add up to the
run's own measurements: lead times, visits, hand-offs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orgsim.eventlog import events as ev
from orgsim.experiment import Runner
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario
from orgsim.sim import fifo_engine
from orgsim.sim.streams import replication_seeds

ROOT = Path(__file__).parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
IMPLEMENTATIONS = ["simpy", "fifo-python"] + (["fifo-compiled"] if fifo_engine.compiled() else [])
LOOPS = {"simpy": fifo_engine.LOOP, "fifo-python": fifo_engine.python_loop(), "fifo-compiled": fifo_engine.LOOP}


def _short(path: Path, horizon: float = 200.0):
    s = load_scenario(path)
    return s.model_copy(update={"simulation": s.simulation.model_copy(
        update={"horizon_days": horizon, "warmup_days": 20.0})})


def _events(scenario, state: str, implementation: str, batch: int | None = None):
    engine = "simpy" if implementation == "simpy" else "fifo"
    scenario = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(update={"engine": engine})})
    org = getattr(reform_scenario(scenario), state)
    batches: list[np.ndarray] = []
    saved = fifo_engine.LOOP
    fifo_engine.LOOP = LOOPS[implementation]
    old_sizes = (LOOPS[implementation].BATCH_EVENTS, ev.BATCH_EVENTS)
    if batch is not None:
        LOOPS[implementation].BATCH_EVENTS = batch
    try:
        run = Runner(scenario, keep_records=True).setup(org).simulate(
            replication_seeds(5, 1)[0], True, event_sink=batches.append)
    finally:
        fifo_engine.LOOP = saved
        LOOPS[implementation].BATCH_EVENTS = old_sizes[0]
    return run, batches


def _canonical(batches: list[np.ndarray]) -> np.ndarray:
    events = np.concatenate(batches)
    order = np.lexsort([events[k] for k in ("t_end", "t_start", "t_enable", "other", "step", "kind", "case")])
    return events[order]


@pytest.mark.parametrize("state", ["before", "after"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_engines_emit_the_same_events(path: Path, state: str) -> None:
    scenario = _short(path)
    streams = {impl: _canonical(_events(scenario, state, impl)[1]) for impl in IMPLEMENTATIONS}
    reference = streams["simpy"]
    assert len(reference) > 500
    for impl, events in streams.items():
        np.testing.assert_array_equal(events, reference, err_msg=impl)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_events_add_up_to_the_runs_records_and_do_not_change_it(implementation: str) -> None:
    scenario = _short(ROOT / "scenarios" / "tutorial.yaml", 300.0)
    run, batches = _events(scenario, "before", implementation)
    events = np.concatenate(batches)
    assert all(len(b) <= ev.BATCH_EVENTS for b in batches)
    # The same run without a sink: identical lead times.
    engine = "simpy" if implementation == "simpy" else "fifo"
    plain = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(update={"engine": engine})})
    saved = fifo_engine.LOOP
    fifo_engine.LOOP = LOOPS[implementation]
    try:
        alone = Runner(plain).setup(reform_scenario(plain).before).simulate(replication_seeds(5, 1)[0])
    finally:
        fifo_engine.LOOP = saved
    np.testing.assert_array_equal(alone.t_end, run.t_end)
    # Every finished application: its lead time, visits and hand-offs from its events equal its record.
    done = events[events["kind"] == ev.DONE]
    records = {(r["project_type"], r["applicant"]): r for r in run.records}
    measured = done[done["t_enable"] >= scenario.simulation.warmup_days]
    assert len(measured) == len(records) == run.completed
    flows = [pt.id for pt in scenario.workload.project_types]
    by_case = {int(c): events[events["case"] == c] for c in measured["case"]}
    for d in measured:
        r = records[(flows[d["flow"]], int(d["k"]))]
        assert d["t_end"] - d["t_enable"] == r["lead_time_working_days"]
        mine = by_case[int(d["case"])]
        assert (mine["kind"] == ev.SERVICE).sum() == r["visits"]
        assert (mine["kind"] == ev.HANDOFF).sum() == r["handoffs"]
        assert mine["t_end"].max() == d["t_end"]
        assert (mine["t_start"] >= mine["t_enable"]).all() and (mine["t_end"] >= mine["t_start"]).all()
        # The path before the reforms is serial: all the time back with the applicant is on the critical path.
        back = mine[mine["kind"] == ev.APPLICANT]
        assert (back["t_end"] - back["t_start"]).sum() == pytest.approx(r["rework_days"], abs=1e-9)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_small_batches_give_the_same_events(implementation: str) -> None:
    scenario = _short(ROOT / "scenarios" / "tutorial.yaml")
    whole = _canonical(_events(scenario, "after", implementation)[1])
    _, batches = _events(scenario, "after", implementation, batch=7)
    if implementation != "simpy":  # the SimPy engine's buffer size is EventBuffer's own
        assert max(len(b) for b in batches) == 7 and len(batches) > 100
    np.testing.assert_array_equal(_canonical(batches), whole)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("name", ["jinan_hitech_2016", "yizheng_one_zone_many_parks_2021"])
def test_events_follow_the_routing_skipped_steps_send_backs_and_cases(name: str, implementation: str) -> None:
    """Steps not every file needs, files sent back to an earlier step, enforcement cases: the events of each
    finished file or case add up to its record, and a file back from the applicant reaches a queue at once."""
    scenario = _short(ROOT / "scenarios" / f"{name}.yaml", 300.0)
    run, batches = _events(scenario, "before", implementation)
    events = np.concatenate(batches)
    plan = Runner(scenario).setup(reform_scenario(scenario).before).plan
    flows = [f.id for f in plan.flows]
    done = events[events["kind"] == ev.DONE]
    measured = done[done["t_enable"] >= scenario.simulation.warmup_days]
    records = {(r["project_type"], r["applicant"]): r for r in run.records}
    assert len(measured) == len(records) == len(run.t_end)  # case types too
    by_case = {int(c): events[events["case"] == c] for c in measured["case"]}
    earlier = 0
    for d in measured:
        r = records[(flows[d["flow"]], int(d["k"]))]
        assert d["t_end"] - d["t_enable"] == r["lead_time_working_days"]
        mine = by_case[int(d["case"])]
        service = mine[mine["kind"] == ev.SERVICE]
        assert len(service) == r["visits"]
        assert (mine["kind"] == ev.HANDOFF).sum() == r["handoffs"]
        for back in mine[mine["kind"] == ev.APPLICANT]:
            again = service[service["t_enable"] == back["t_end"]]
            assert len(again) >= 1, (name, r)  # to the step itself, or to the first needed steps from its target
            earlier += bool((again["step"] != back["step"]).any())
    if name == "jinan_hitech_2016":
        assert earlier > 0  # the permit sends designs back to the scheme review
        assert any(r["visits"] < len(plan.flows[flows.index(r["project_type"])].steps) for r in run.records)
    else:
        assert {plan.flows[int(f)].kind for f in measured["flow"]} == {"approval", "enforcement"}
