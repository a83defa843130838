"""orgsim calibrate: bad logs located, working time across a closure, column mapping, sources and the round trip.

The round trip is the proof: simulate a small zone, export its event log,
calibrate a copy of the zone whose every fitted number was blanked, and
recover the numbers. Each recovered number's confidence interval must hold
the true value; with k numbers checked at once the intervals are at level
1 - 0.05/k (Bonferroni), so that the whole check fails by chance at most 5%
of the time (the seed is fixed: it either holds or it does not).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats

from orgsim.cli import main
from orgsim.eventlog.calibrate import blank_document, calibrate
from orgsim.eventlog.read import ColumnMap
from orgsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad_logs"
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
SMALL = ROOT / "tests" / "data" / "calibration" / "small_zone.yaml"
#: The small zone with routing: an attribute two parallel steps need (when), a step for 40% of the
#: applications (probability), a step that sends files back to the first (rework_to).
BRANCHING = ROOT / "tests" / "data" / "calibration" / "branching_zone.yaml"
EXPECTED = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))


def cli(*args: object):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_log_is_located_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    out = tmp_path / "fitted.yaml"
    report = tmp_path / "fit.html"
    result = cli("calibrate", BAD / name, "--scenario", TUTORIAL, "-o", out, "--report", report)
    assert result.exit_code == 2, result.output
    assert f"error: {BAD / name}: {EXPECTED[name]}" in result.stderr
    assert not out.exists() and not report.exists()


def test_every_bad_log_has_an_expectation() -> None:
    assert sorted(p.name for p in BAD.glob("*.csv")) == sorted(EXPECTED)


def _variant(tmp_path: Path, name: str, **calendar: object) -> Path:
    """The small zone with its calendar changed."""
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["simulation"]["calendar"].update(calendar)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _export(scenario: Path, log: Path, replications: int = 2) -> None:
    result = cli("run", scenario, "--state", "before", "-r", replications, "--event-log", log, "--json")
    assert result.exit_code == 0, result.output


CLOSURE = [str(d.date()) for d in pd.date_range("2021-07-01", "2021-07-31")]


def test_a_month_of_closure_calibrates_to_working_time(tmp_path: Path) -> None:
    closed = _variant(tmp_path, "closed.yaml", extra_holidays=CLOSURE)
    log = tmp_path / "log.csv"
    _export(closed, log)
    fit = calibrate(log, closed)
    truth = load_scenario(SMALL)
    service = {f.label: f for f in fit.fitted}["functions[fa].service_time"]
    true_mean = next(f for f in truth.functions if f.id == "fa").service_time.mean_days(9.0)
    lo, hi = service.fit.mean_ci(0.99)
    assert lo <= true_mean <= hi
    # The visits in progress when the office closed: a month in calendar time, ordinary in working time.
    rows = pd.read_csv(log, parse_dates=["start_timestamp", "time:timestamp"])
    officers = rows[(rows["org:role"] == "officer") & (rows["concept:name"] == "plan")]
    across = officers[(officers["start_timestamp"] < "2021-07-01") & (officers["time:timestamp"] > "2021-07-31")]
    assert len(across) >= 1
    assert ((across["time:timestamp"] - across["start_timestamp"]).dt.days >= 31).all()
    calendar_mean = (officers["time:timestamp"] - officers["start_timestamp"]).dt.total_seconds().mean() / 86400
    assert calendar_mean > 1.3 * hi  # calendar time would have fitted a far longer service
    assert service.observed.max() < 30  # in working time none of them is long
    assert fit.idle_stretches == []
    # Calibrated on a calendar that does not know the closure: the idle month is reported.
    open_all_year = _variant(tmp_path, "open.yaml")
    result = cli("calibrate", log, "--scenario", open_all_year, "-o", tmp_path / "f.yaml", "-r", 1)
    assert result.exit_code == 0, result.output
    assert "warning: no activity in the log from 2021-07-01 to 2021-07-30 (22 working days)" in result.stderr


def test_columns_can_be_mapped(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    _export(SMALL, log, 1)
    renamed = tmp_path / "renamed.csv"
    names = {"case:concept:name": "案件编号", "concept:name": "环节", "start_timestamp": "开始时间",
             "time:timestamp": "结束时间", "enable_timestamp": "到达时间", "org:role": "角色",
             "case:project_type": "项目类型"}
    pd.read_csv(log, dtype=str).rename(columns=names).to_csv(renamed, index=False)
    mapped = ColumnMap(case="案件编号", activity="环节", start="开始时间", end="结束时间", enable="到达时间",
                       role="角色", project_type="项目类型")
    a = calibrate(log, SMALL)
    b = calibrate(renamed, SMALL, mapped)
    assert [(f.label, f.value) for f in a.fitted] == [(f.label, f.value) for f in b.fitted]
    result = cli("calibrate", renamed, "--scenario", SMALL, "-o", tmp_path / "f.yaml", "--case-column", "案件编号",
                 "--activity-column", "环节", "--start-column", "开始时间", "--end-column", "结束时间",
                 "--enable-column", "到达时间", "--role-column", "角色", "--project-type-column", "项目类型", "-r", 1)
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr


def _blanked(tmp_path: Path, scenario: Path = SMALL) -> Path:
    """The zone with every number the log can give replaced by a placeholder."""
    data = blank_document(yaml.safe_load(scenario.read_text(encoding="utf-8")))
    path = tmp_path / "blank.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_blank_document_blanks_the_routing() -> None:
    data = blank_document(yaml.safe_load(BRANCHING.read_text(encoding="utf-8")))
    build = data["workload"]["project_types"][0]
    assert build["attributes"] == {"new_land": 0.5}
    assert [st.get("probability") for st in build["steps"]] == [None, None, None, 0.5, None]
    assert not any("rework_to" in st for st in build["steps"])


# Per zone: the numbers fitted. Small: 1 rate, 4 service times, 4 rework probabilities, 2 rework targets (the
# steps whose files come back), sign-off, resubmission, 3 hand-offs. Branching: 5 service times and rework
# probabilities, 3 rework targets, the attribute and the branch probability besides.
@pytest.mark.parametrize(("scenario", "expected_k"), [(SMALL, 16), (BRANCHING, 21)], ids=["serial", "branching"])
def test_round_trip_recovers_the_parameters(tmp_path: Path, scenario: Path, expected_k: int) -> None:
    log = tmp_path / "log.csv"
    _export(scenario, log, 4)
    fitted_path = tmp_path / "fitted.yaml"
    result = cli("calibrate", log, "--scenario", _blanked(tmp_path, scenario), "-o", fitted_path, "--report",
                 tmp_path / "fit.html", "-r", 4)
    assert result.exit_code == 0, result.output
    truth, fitted = load_scenario(scenario), load_scenario(fitted_path)
    calibration = calibrate(log, _blanked(tmp_path, scenario))
    k = len(calibration.fitted)
    assert k == expected_k, [f.label for f in calibration.fitted]
    level = 1 - 0.05 / k
    z = stats.norm.ppf(1 - 0.025 / k)
    h = truth.simulation.calendar.hours_per_day
    true: dict[str, object] = {f"functions[{f.id}].service_time": f.service_time.mean_days(h) for f in truth.functions}
    true |= {f"functions[{f.id}].rework_probability": f.rework_probability for f in truth.functions}
    true |= {"workload.signoff_time": truth.workload.signoff_time.mean_days(h),
             "workload.resubmission_delay": truth.workload.resubmission_delay.mean_days(h)}
    true |= {f"workload.handoff.{k_}": getattr(truth.workload.handoff, k_).mean_days(h)
             for k_ in ("within_unit", "between_units", "between_jurisdictions")}
    for pt in truth.workload.project_types:
        where = f"workload.project_types[{pt.id}]"
        true[f"{where}.arrivals.rate"] = pt.arrivals.rate
        true |= {f"{where}.attributes.{a}": p for a, p in pt.attributes.items()}
        for st in pt.steps:
            true[f"{where}.steps[{st.id}].probability"] = st.probability
            true[f"{where}.steps[{st.id}].rework_to"] = st.rework_to or st.id
    for item in calibration.fitted:
        if item.fit is not None:
            lo, hi = item.fit.mean_ci(level)
            if item.fit.family == "deterministic":
                assert item.fit.mean_days == pytest.approx(true[item.label], abs=1e-6), item.label
            else:
                assert lo <= true[item.label] <= hi, (item.label, lo, true[item.label], hi)
        elif item.label.endswith("rework_to"):
            # Every file sent back comes back to the true target: the share is 1, the target exact.
            assert item.value == true[item.label] and item.estimate == 1.0, item.label
        elif item.label.endswith("arrivals.rate"):  # per year
            n = item.n
            rate = true[item.label]
            lo = stats.chi2.ppf((1 - level) / 2, 2 * n) / 2 / n * item.estimate
            hi = stats.chi2.ppf(1 - (1 - level) / 2, 2 * n + 2) / 2 / n * item.estimate
            assert lo <= rate <= hi, (lo, rate, hi)
        else:  # shares: rework and branch probabilities, attributes
            p, n = item.estimate, item.n
            half = z * math.sqrt(max(p * (1 - p), 1 / n) / n)
            assert abs(p - true[item.label]) <= half, (item.label, p, true[item.label], half)
    # Every fitted number is cited, and only the base's general assumption is left.
    source = fitted.scenario.sources[-1]
    assert source.id == "event_log" and len(source.figures) == k and source.file == "log.csv"
    assert [a.about for a in fitted.scenario.assumptions] == ["every number in this file"]
    # The recalibrated model's lead times against the original's, on common random numbers.
    from orgsim.experiment import run_replications

    original = np.concatenate([r.lead_working_days for r in run_replications(truth, "before", replications=8)])
    recalibrated = np.concatenate([r.lead_working_days for r in run_replications(fitted, "before", replications=8)])
    ks = stats.ks_2samp(original, recalibrated).statistic
    # Stated bound: 0.05, the distance two samples of ~2,700 from one distribution stay below 99% of the time
    # (1.63 * sqrt(2 / 2700) = 0.044), plus room for the fitted numbers' own error.
    assert ks < 0.05, ks
    assert "KS distance" in (tmp_path / "fit.html").read_text(encoding="utf-8")


def test_calibrate_speaks_the_language_asked_for_and_writes_the_same_scenario(tmp_path: Path) -> None:
    import re

    log = tmp_path / "log.csv"
    _export(SMALL, log, 2)
    out: dict[str, tuple[str, str, str]] = {}
    for lang in ("en", "zh"):
        fitted, report = tmp_path / f"fitted_{lang}.yaml", tmp_path / f"fit_{lang}.html"
        result = cli("calibrate", log, "--scenario", SMALL, "-o", fitted, "--report", report, "-r", 1, "--lang", lang)
        assert result.exit_code == 0, result.output
        out[lang] = (result.stdout, fitted.read_text(encoding="utf-8"), report.read_text(encoding="utf-8"))
    # The fitted scenario is data: the same text whatever the language of the command.
    assert out["en"][1] == out["zh"][1]
    base = load_scenario(SMALL)
    ids = {f.id for f in base.functions} | {t.id for t in base.workload.project_types}
    for lang, (stdout, _text, html) in out.items():
        assert f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">' in html
        # Functions and project types by name; their ids only inside the field paths (<code>, and "[...]").
        prose = re.sub(r"<code>.*?</code>|<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", html, flags=re.S)
        assert not ids & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", prose)), lang
        lines = [re.sub(r"\([^)]*\[[^]]*\][^)]*\)|（[^）]*\[[^]]*\][^）]*）", "", line) for line in stdout.splitlines()]
        assert not ids & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(lines))), lang
    chinese = re.sub(r"[\w.\[\]/-]*\[[^]]*\][\w.]*", "", out["zh"][0])  # field paths are the file's own words
    assert len(re.findall(r"[\u4e00-\u9fff]", chinese)) > len(re.findall(r"[A-Za-z]", chinese)), out["zh"][0]
    assert "已拟合" in out["zh"][0] and "fitted" in out["en"][0]
