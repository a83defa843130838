"""The three implementations of the model give the same results from the same seed.

The SimPy engine (the reference), the FIFO loop's source run as Python, and
the same source compiled by Cython consume the same random numbers in the
same order; lead times must be identical, integrals (utilisation, queue
length, time in system) equal to rounding. The Python mode is loaded from
``fifo_loop.py`` under another module name, so both modes run here even
when the compiled one is installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import networkx as nx

from orgsim.experiment import simulate
from orgsim.model.org import rework_conflicts
from orgsim.scenario import load_scenario
from orgsim.sim import fifo_engine, run_io
from factory import exp, fixed, network_scenario

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))
IMPLEMENTATIONS = ["simpy", "fifo-python"] + (["fifo-compiled"] if fifo_engine.compiled() else [])
LOOPS = {"simpy": fifo_engine.LOOP, "fifo-python": fifo_engine.python_loop(), "fifo-compiled": fifo_engine.LOOP}
# The tutorial in the fast suite; the real zones take seconds apiece in three implementations.
BUNDLED = [p if p.stem == "tutorial" else pytest.param(p, marks=pytest.mark.slow) for p in SCENARIOS]


def test_the_python_mode_is_the_same_source_not_compiled() -> None:
    python = fifo_engine.python_loop()
    assert not python.COMPILED and python.__file__ == str(Path(fifo_engine.__file__).with_name("fifo_loop.py"))
    assert fifo_engine.compiled() == fifo_engine.LOOP.COMPILED


def _run(scenario, implementation: str, state: str = "after", **kw):
    engine = "simpy" if implementation == "simpy" else "fifo"
    scenario = scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"engine": engine})})
    saved = fifo_engine.LOOP
    fifo_engine.LOOP = LOOPS[implementation]
    try:
        return simulate(scenario, state, seed=kw.pop("seed", 11), **kw)
    finally:
        fifo_engine.LOOP = saved


def _assert_same(a, b) -> None:
    assert (a.arrived, a.completed, a.completed_in_window, a.backlog_end, a.truncated, a.drained) == \
        (b.arrived, b.completed, b.completed_in_window, b.backlog_end, b.truncated, b.drained)
    np.testing.assert_array_equal(a.t_start, b.t_start)
    np.testing.assert_array_equal(a.t_end, b.t_end)
    np.testing.assert_array_equal(a.applicant_days, b.applicant_days)
    np.testing.assert_array_equal(a.flow_index, b.flow_index)
    assert a.wip_samples == b.wip_samples
    assert a.handoffs_per_application == pytest.approx(b.handoffs_per_application, nan_ok=True)
    assert a.visits_per_application == pytest.approx(b.visits_per_application, nan_ok=True)
    for name, value in a.component_days.items():
        assert value == pytest.approx(b.component_days[name], rel=1e-9, abs=1e-12, nan_ok=True), name
    assert len(a.component_days_by_flow) == len(b.component_days_by_flow)
    for f, (mine, theirs) in enumerate(zip(a.component_days_by_flow, b.component_days_by_flow, strict=True)):
        for name, value in mine.items():
            assert value == pytest.approx(theirs[name], rel=1e-9, abs=1e-12, nan_ok=True), (f, name)
    assert a.mean_in_system == pytest.approx(b.mean_in_system, rel=1e-9, abs=1e-12)
    assert [p.key for p in a.pools] == [p.key for p in b.pools]
    for p, q in zip(a.pools, b.pools, strict=True):
        assert p.utilisation == pytest.approx(q.utilisation, rel=1e-9, abs=1e-12), p.key
        assert p.mean_queue == pytest.approx(q.mean_queue, rel=1e-9, abs=1e-12), p.key


@pytest.mark.parametrize("state", ["before", "after"])
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_agree(path: Path, state: str) -> None:
    scenario = load_scenario(path)
    scenario = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
        update={"horizon_days": 250.0, "warmup_days": 25.0})})
    runs = [_run(scenario, impl, state) for impl in IMPLEMENTATIONS]
    assert runs[0].completed > 50
    for other in runs[1:]:
        _assert_same(runs[0], other)


def test_records_agree() -> None:
    scenario = load_scenario(SCENARIOS[0])
    scenario = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
        update={"horizon_days": 200.0, "warmup_days": 20.0})})
    runs = [_run(scenario, impl, "before", keep_records=True) for impl in IMPLEMENTATIONS]
    assert len(runs[0].records) == runs[0].completed > 50
    for other in runs[1:]:
        assert other.records == runs[0].records


def test_the_compiled_loop_is_installed_where_ci_requires_it() -> None:
    # .ci/run sets ORGSIM_REQUIRE_COMPILED: a broken build must fail CI, not fall back silently.
    if os.environ.get("ORGSIM_REQUIRE_COMPILED"):
        assert fifo_engine.compiled(), "orgsim.sim.fifo_loop was not compiled"
    else:
        pytest.skip("ORGSIM_REQUIRE_COMPILED is not set")


def test_a_compiled_loop_older_than_its_source_is_not_used(tmp_path: Path, monkeypatch) -> None:
    # In a checkout, an extension built before fifo_loop.py or .pxd last changed
    # would run old code: the source runs as Python instead, with a warning.
    old = tmp_path / "fifo_loop.cpython-311-x86_64-linux-gnu.so"
    old.write_bytes(b"")
    os.utime(old, (0, 0))
    monkeypatch.setattr(fifo_engine.importlib.util, "find_spec", lambda name: SimpleNamespace(origin=str(old)))
    with pytest.warns(RuntimeWarning, match="older than orgsim/sim/fifo_loop.py"):
        assert fifo_engine._load() is fifo_engine.python_loop()


def test_the_code_hash_covers_the_loop_s_c_types(tmp_path: Path, monkeypatch) -> None:
    # A change to fifo_loop.pxd changes the compiled loop, so it must change the hash a resumed sweep checks.
    import shutil

    from orgsim import _provenance

    package = Path(_provenance.__file__).parent
    copy = tmp_path / "orgsim"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__"))
    hashes = []
    for text in ("", "# changed\n"):
        with (copy / "sim" / "fifo_loop.pxd").open("a", encoding="utf-8") as fh:
            fh.write(text)
        monkeypatch.setattr(_provenance, "__file__", str(copy / "_provenance.py"))
        _provenance.code_sha256.cache_clear()
        hashes.append(_provenance.code_sha256())
    _provenance.code_sha256.cache_clear()
    assert hashes[0] != hashes[1]


_SERVICE = st.sampled_from([
    exp(1.0), exp(0.6), fixed(0.8),
    {"dist": "lognormal", "mean": 1.0, "cv": 0.7, "unit": "days"},
    {"dist": "gamma", "mean": 0.9, "cv": 0.5, "unit": "days"},
])


@st.composite
def _networks(draw):
    n = draw(st.integers(1, 4))
    nodes = []
    for k in range(n):
        nodes.append({
            "id": f"n{k}", "servers": draw(st.integers(1, 3)), "service": draw(_SERVICE),
            "rework": draw(st.sampled_from([0.0, 0.0, 0.2, 0.4])),
            "signoff": draw(st.integers(0, 2)),
            "leaders": {"chief": draw(st.integers(0, 1)), "deputies": draw(st.integers(1, 2))},
        })
    steps = []
    ancestors: list[set[str]] = []
    attributes = {"a0": draw(st.sampled_from([0.3, 0.7])), "a1": draw(st.sampled_from([0.0, 0.5, 1.0]))}
    for k in range(draw(st.integers(1, 6))):
        fn = draw(st.one_of(
            st.sampled_from([x["id"] for x in nodes]),
            st.lists(st.sampled_from([x["id"] for x in nodes]), min_size=2, max_size=2, unique=True)
            if n >= 2 else st.sampled_from([x["id"] for x in nodes]),
        ))
        after = draw(st.lists(st.sampled_from([f"s{j}" for j in range(k)]), unique=True, max_size=2)) if k else []
        step = {"id": f"s{k}", "function": fn, "after": after}
        if isinstance(fn, list):
            step["combine"] = draw(st.sampled_from(["sum", "max", 0.7]))
        # Not every application needs every step: a probability, an attribute, or both.
        step["probability"] = draw(st.sampled_from([1.0, 1.0, 0.5, 0.2, 0.0]))
        when = draw(st.sampled_from([None, None, "a0", "a1"]))
        if when is not None:
            step["when"] = when
        above = set(after).union(*(ancestors[int(a[1:])] for a in after)) if after else set()
        ancestors.append(above)
        if above and draw(st.booleans()):  # files sent back to an earlier step
            step["rework_to"] = draw(st.sampled_from(sorted(above)))
        steps.append(step)
    # Two steps that may be in progress at once may not send a file back through
    # a shared step (the loader refuses it): keep the first of each such pair.
    dag = nx.DiGraph()
    dag.add_nodes_from(s["id"] for s in steps)
    dag.add_edges_from((a, s["id"]) for s in steps for a in s["after"])
    for s in steps:
        targets = {x["id"]: x["rework_to"] for x in steps if "rework_to" in x}
        if any(b == s["id"] for _, b, _ in rework_conflicts(dag, targets)):
            del s["rework_to"]
    return network_scenario(
        nodes, steps=steps, rate_per_day=draw(st.sampled_from([0.3, 0.8, 1.5])),
        horizon=120.0, warmup=draw(st.sampled_from([0.0, 15.0])),
        signoff_time=draw(st.sampled_from([None, exp(0.1)])),
        resubmission_delay=draw(st.sampled_from([None, exp(2.0), fixed(0.0)])),
        handoff=draw(st.sampled_from([None, {"between_units": exp(0.5)}, {"between_units": fixed(0.25)},
                                      {"between_units": exp(0.5), "within_unit": fixed(0.1)}])),
        attributes=attributes,
        # enforcement cases on one desk: case types measured apart from the pooled approvals
        enforcement_cases=draw(st.sampled_from([None, [{
            "id": "cases", "name": "问题", "function": draw(st.sampled_from([x["id"] for x in nodes])),
            "rate": draw(st.sampled_from([0.2, 0.6])), "per": "day",
            "resolution": {"service": {"share": 0.5, "time": exp(0.2)}, "management": {"share": 0.3, "time": exp(0.5)},
                           "enforcement": {"share": 0.2, "time": exp(1.0)}}}]])),
    )


@pytest.mark.slow  # fuzzing: random networks in every implementation
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_networks(), st.integers(0, 2**31))
def test_random_networks_agree(scenario, seed: int) -> None:
    # Loads up to well past capacity: unstable runs (work-in-progress cap, no
    # drain) must agree as exactly as stable ones. Steps some applications
    # skip (by probability or attribute) and files sent back to earlier steps
    # are drawn too; records (each application's path parts) must agree as well.
    runs = [_run(scenario, impl, "before", seed=seed, keep_records=True) for impl in IMPLEMENTATIONS]
    for other in runs[1:]:
        _assert_same(runs[0], other)
        assert other.records == runs[0].records


@pytest.mark.parametrize("service", [exp(1.0), fixed(0.5)], ids=["exponential", "fixed"])
def test_simultaneous_events_agree(service) -> None:
    # No hand-off delays: s2 and s3 both wait for s0 and reach the same queue
    # (n3) at the same instant; with fixed times whole applications coincide.
    # Every engine takes simultaneous events in the order of flows.event_key.
    nodes = [{"id": f"n{k}", "servers": 1, "service": service} for k in range(4)]
    steps = [{"id": "s0", "function": ["n1", "n0"], "combine": "sum"}, {"id": "s1", "function": "n0"},
             {"id": "s2", "function": ["n3", "n0"], "after": ["s0", "s1"], "combine": "sum"},
             {"id": "s3", "function": "n3", "after": ["s0"]}, {"id": "s4", "function": "n0", "after": ["s2"]}]
    scenario = network_scenario(nodes, steps=steps, rate_per_day=0.3, horizon=120.0, warmup=0.0)
    runs = [_run(scenario, impl, "before", seed=0) for impl in IMPLEMENTATIONS]
    assert runs[0].completed > 30
    for other in runs[1:]:
        _assert_same(runs[0], other)


def test_thousands_in_the_system_at_once_agree() -> None:
    # An overloaded desk: work in progress climbs past 1,024, where the compiled
    # loop grows its application slots and its event heap.
    nodes = [{"id": "a", "servers": 1, "service": exp(1.0), "signoff": 1},
             {"id": "b", "servers": 2, "service": exp(0.05)}]
    scenario = network_scenario(nodes, rate_per_day=20.0, horizon=100.0, warmup=5.0, signoff_time=exp(0.01))
    runs = [_run(scenario, impl, "before") for impl in IMPLEMENTATIONS]
    assert runs[0].backlog_end > 1500 and not runs[0].stable
    for other in runs[1:]:
        _assert_same(runs[0], other)


def test_output_arrays_grow_when_more_finish_than_expected(monkeypatch) -> None:
    scenario = load_scenario(SCENARIOS[0])
    scenario = scenario.model_copy(update={"simulation": scenario.simulation.model_copy(
        update={"horizon_days": 200.0, "warmup_days": 20.0})})
    reference = _run(scenario, "simpy", "before")
    # Room for almost nothing: the arrays of finished applications grow many times.
    monkeypatch.setattr(run_io, "OUTPUT_ROOM", (0.0, 1))
    assert reference.completed > 100
    for implementation in IMPLEMENTATIONS[1:]:
        _assert_same(reference, _run(scenario, implementation, "before"))


def test_work_in_progress_cap_stops_arrivals_alike(monkeypatch) -> None:
    monkeypatch.setattr(run_io, "MAX_WORK_IN_PROGRESS", 40)
    nodes = [{"id": "a", "servers": 1, "service": exp(1.0)}]
    scenario = network_scenario(nodes, rate_per_day=2.0, horizon=200.0, warmup=10.0)
    runs = [_run(scenario, impl, "before") for impl in IMPLEMENTATIONS]
    assert runs[0].truncated and not runs[0].stable
    for other in runs[1:]:
        _assert_same(runs[0], other)


def test_trace_arrivals_agree(tmp_path: Path) -> None:
    # Several applications on one date: ties in time, taken in trace order by every engine.
    rng = np.random.default_rng(5)
    days = np.datetime64("2021-01-04") + np.sort(rng.integers(0, 200, 300))
    (tmp_path / "arrivals.csv").write_text("date\n" + "\n".join(str(d) for d in days) + "\n", encoding="utf-8")
    nodes = [{"id": "a", "servers": 2, "service": exp(0.7), "rework": 0.2},
             {"id": "b", "servers": 1, "service": exp(0.5)}]
    scenario = network_scenario(nodes, rate_per_day=1.0, horizon=150.0, warmup=10.0,
                                resubmission_delay=exp(1.0), calendar={"start": "2021-01-04", "holidays": "none"})
    doc = scenario.model_dump(mode="json", exclude_none=True)
    doc["workload"]["project_types"][0]["arrivals"] = {"trace": "arrivals.csv"}
    import yaml

    path = tmp_path / "traced.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    traced = load_scenario(path)
    runs = [_run(traced, impl, "before") for impl in IMPLEMENTATIONS]
    assert runs[0].completed > 100
    for other in runs[1:]:
        _assert_same(runs[0], other)
