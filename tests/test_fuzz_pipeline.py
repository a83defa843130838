"""The whole pipeline under hypothesis: load -> reforms -> estimate -> simulate -> summarise -> write.

Scenario documents are drawn at the edges of the format (times of 0, 1e-6
and 1e6, tiny and large coefficients of variation, officers 0, one-day
horizons, a warm-up up to the horizon, several project types with parallel
steps, reforms). Every document must end in one of two ways: an
:class:`~orgsim.errors.OrgsimError` whose problems name the file (a user's
mistake, said in words), or results whose JSON is strict (no NaN or
Infinity) and whose output set is complete. Anything else, an exception of
another kind included, is a failure found.

CI runs a fixed budget (derandomized, ``FUZZ_EXAMPLES`` examples, horizons of
at most 30 working days, at most about 2,000 applications a run). A longer
run on demand::

    ORGSIM_FUZZ_EXAMPLES=2000 python -m pytest -q -p no:cacheprovider tests/test_fuzz_pipeline.py

(``ORGSIM_FUZZ_SEED`` picks another derandomized sequence.)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("ORGSIM_FUZZ_EXAMPLES", "30"))
#: Expected applications per run at most (the fuzz is about edges, not size).
MAX_APPLICATIONS = 2_000

TIMES = st.sampled_from([0.0, 1e-6, 0.001, 0.5, 1.0, 3.0, 40.0, 1e6])
POSITIVE = st.sampled_from([1e-6, 0.001, 0.5, 1.0, 3.0, 40.0, 1e6])
CVS = st.sampled_from([0.001, 0.2, 1.0, 3.0, 100.0])
UNITS = st.sampled_from(["minutes", "hours", "days", "weeks"])


@st.composite
def distributions(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["exponential", "deterministic", "uniform", "triangular", "lognormal", "gamma",
                                 "empirical"]))
    unit = draw(UNITS)
    if kind == "exponential":
        return {"dist": kind, "mean": draw(POSITIVE), "unit": unit}
    if kind == "deterministic":
        return {"dist": kind, "value": draw(TIMES), "unit": unit}
    if kind in ("uniform", "triangular"):
        a, b = sorted([draw(TIMES), draw(TIMES)])
        if kind == "uniform":
            return {"dist": kind, "low": a, "high": b, "unit": unit}
        if a == b:
            b = a + 1.0
        return {"dist": kind, "low": a, "mode": draw(st.sampled_from([a, b])), "high": b, "unit": unit}
    if kind in ("lognormal", "gamma"):
        return {"dist": kind, "mean": draw(POSITIVE), "cv": draw(CVS), "unit": unit}
    values = draw(st.lists(TIMES, min_size=1, max_size=4))
    out: dict[str, Any] = {"dist": kind, "values": values, "unit": unit}
    if draw(st.booleans()):
        out["weights"] = [draw(st.sampled_from([0.0, 1.0, 1e12])) for _ in values]
        if not any(out["weights"]):
            out["weights"][0] = 1.0
    return out


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    n_bureaus = draw(st.integers(1, 3))
    units = [{"id": "zone", "name": "管委会", "kind": "committee",
              "leaders": {"chief": draw(st.integers(0, 1)), "deputies": draw(st.integers(0, 2))}}]
    for b in range(n_bureaus):
        units.append({"id": f"b{b}", "name": f"局{b}", "kind": "bureau", "parent": "zone",
                      "pooled": draw(st.booleans()), "non_case_share": draw(st.sampled_from([0.0, 0.5, 0.99])),
                      "leaders": {"chief": draw(st.integers(0, 1)), "deputies": draw(st.integers(0, 2))}})
    functions = []
    n_functions = draw(st.integers(1, 4))
    for f in range(n_functions):
        # Function ids that were internal queue names, to be kept apart from them.
        fid = draw(st.sampled_from([f"f{f}", f"f{f}", "deputies", "chief", "officers"]))
        if any(g["id"] == fid for g in functions):
            fid = f"f{f}"
        functions.append({
            "id": fid, "name": f"事项{f}", "category": "licensing", "owner": f"b{draw(st.integers(0, n_bureaus - 1))}",
            "officers": draw(st.integers(0, 4)), "signoff_levels": draw(st.integers(0, 3)),
            "rework_probability": draw(st.sampled_from([0.0, 0.3, 0.9])),
            "standing_hours_per_year": draw(st.sampled_from([0.0, 100.0, 5000.0])),
            "service_time": draw(distributions()),
        })
    horizon = draw(st.sampled_from([1.0, 5.0, 30.0]))
    warmup = draw(st.sampled_from([0.0, horizon / 2, horizon * 0.999999]))
    project_types = []
    for t in range(draw(st.integers(1, 2))):
        n_steps = draw(st.integers(1, 4))
        steps = []
        for k in range(n_steps):
            after = draw(st.lists(st.sampled_from([f"s{j}" for j in range(k)]), unique=True, max_size=2)) if k else []
            names = draw(st.lists(st.sampled_from([g["id"] for g in functions]), min_size=1, max_size=2, unique=True))
            step: dict[str, Any] = {"id": f"s{k}", "function": names[0] if len(names) == 1 else names, "after": after}
            if len(names) > 1:
                step["combine"] = draw(st.sampled_from(["sum", "max", 0.5]))
            steps.append(step)
        rate = draw(st.sampled_from([1e-6, 0.5, 5.0, 40.0]))
        rate = min(rate, MAX_APPLICATIONS / horizon / n_steps)
        project_types.append({"id": f"p{t}", "name": f"项目{t}", "arrivals": {"rate": rate, "per": "day"},
                              "steps": steps})
    workload: dict[str, Any] = {"project_types": project_types}
    for key in ("signoff_time", "resubmission_delay"):
        if draw(st.booleans()):
            workload[key] = draw(distributions())
    if draw(st.booleans()):
        workload["handoff"] = {"between_units": draw(distributions())}
    if draw(st.booleans()):
        workload["statutory_limit_days"] = draw(st.sampled_from([0.001, 1.0, 100_000.0]))
    reforms = draw(st.lists(st.sampled_from([
        {"op": "agency_service", "rework_factor": 0.0, "delay_factor": 1.0},
        {"op": "agency_service"},
        {"op": "set_leadership", "kinds": ["bureau"], "chief": 1, "deputies": 0},
        {"op": "parallelize", "steps": ["s0", "s1"]},
        {"op": "merge_steps", "steps": ["s0", "s1"], "into": "s01"},
    ]), max_size=2))
    return {
        "scenario": {"name": "模糊测试"},
        "units": units,
        "functions": functions,
        "workload": workload,
        "reforms": reforms,
        "simulation": {"horizon_days": horizon, "warmup_days": warmup, "replications": draw(st.integers(1, 2)),
                       "seed": draw(st.integers(0, 2**63 - 1)),
                       "engine": draw(st.sampled_from(["fifo", "simpy"])),
                       "calendar": {"start": "2020-01-02", "holidays": draw(st.sampled_from(["china", "none"])),
                                    "hours_per_day": draw(st.sampled_from([1.0, 8.0, 24.0]))}},
    }


def _finite_json(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            _finite_json(v)
    elif isinstance(value, list):
        for v in value:
            _finite_json(v)


def run_pipeline(doc: dict[str, Any], folder: Path) -> str:
    """The whole pipeline on one document; 'refused' (a located user error) or 'ran'."""
    from orgsim._io import json_text, write_csv, write_output_set
    from orgsim.errors import OrgsimError
    from orgsim.experiment import compare
    from orgsim.reforms import reform_scenario
    from orgsim.scenario import parse_scenario
    from orgsim.scenario._yaml import dump_core
    from orgsim.sim.estimate import estimate_plan
    from orgsim.sim.plan import compile_plan

    try:
        scenario = parse_scenario(dump_core(doc), "fuzz.yaml", folder)
        outcome = reform_scenario(scenario)
        for org in (outcome.before, outcome.after):
            estimate = estimate_plan(compile_plan(org, scenario), scenario.simulation.utilisation_target)
            json.loads(json_text(estimate.to_dict()))
        result = compare(scenario)
    except OrgsimError as exc:
        assert exc.problems or str(exc), "an error must say what is wrong"
        for problem in exc.problems:
            assert problem.file == "fuzz.yaml" and problem.message
        return "refused"
    summary = result.to_dict()
    _finite_json(summary)
    text = json_text(summary, sort_keys=True)  # strict: raises on NaN or Infinity
    out = folder / "out"
    write_output_set(out, {"summary.json": lambda p: p.write_text(text, encoding="utf-8"),
                           "replications.csv": lambda p: write_csv(result.to_frame(), p)})
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "replications.csv", "summary.json"]
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["replications"] == result.replications
    # Same seed, same numbers.
    assert compare(scenario).to_dict() == summary
    return "ran"


@given(documents())
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
def test_the_whole_pipeline_refuses_with_a_line_or_gives_strict_results(doc: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run_pipeline(doc, Path(tmp))


def test_the_fuzz_both_refuses_and_runs() -> None:
    """The strategy reaches both ends: some documents run, some are refused (so the fuzz has power)."""
    import tempfile

    from hypothesis import find

    with tempfile.TemporaryDirectory() as tmp:
        for wanted in ("ran", "refused"):
            def ends(d: dict[str, Any], w: str = wanted) -> bool:
                return run_pipeline(d, Path(tempfile.mkdtemp(dir=tmp))) == w

            find(documents(), ends,
                 settings=settings(max_examples=200, deadline=None, derandomize=True, database=None,
                                   suppress_health_check=list(HealthCheck)))
