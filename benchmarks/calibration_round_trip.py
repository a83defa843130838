"""The calibration round trip on a bundled case: simulate, export the log, calibrate a blanked copy, compare.

Run on demand, never in the test suite::

    python benchmarks/calibration_round_trip.py [--scenario scenarios/tutorial.yaml] [--replications 5]

1. Simulate the scenario's organisation before its reforms (``--replications``
   runs, its seed) and export the event log (CSV), as ``orgsim run --state
   before --event-log`` does.
2. Blank every number calibration fits (:func:`orgsim.eventlog.calibrate.blank_document`)
   and calibrate the blanked copy from the log.
3. Print each fitted number beside the true one, with its 95% confidence
   interval and whether the truth is inside; then simulate the original and
   the recalibrated scenario on the same seeds (``--check`` replications
   each) and print their lead-time quantiles and the KS distance between them.

``--bundled`` instead does what a planner would on every bundled scenario:
``orgsim run X --state before -r 2 --event-log log.csv``, then ``orgsim
calibrate log.csv --scenario X -o fitted.yaml -r 2``, and prints the KS
distance of the fitted model's lead times against the log's, with the check
on seeds drawn from the log (what ``calibrate`` does) and on the log's own
seeds (what it did before: the log's chance excess of arrivals counted twice).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from orgsim.eventlog.calibrate import blank_document, calibrate
    from orgsim.experiment import run_replications, run_state
    from orgsim.scenario import load_scenario
    from orgsim.scenario.document import document_text, read_document

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "tutorial.yaml"))
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--check", type=int, default=10)
    parser.add_argument("--bundled", action="store_true", help="the planner's check on every bundled scenario")
    ns = parser.parse_args()
    if ns.bundled:
        return _bundled()
    truth, data = read_document(ns.scenario)
    h = truth.simulation.calendar.hours_per_day
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "log.csv"
        started = time.perf_counter()
        run_state(truth, "before", replications=ns.replications, event_log=log)
        blank = folder / "blank.yaml"
        blank.write_text(document_text(blank_document(data)), encoding="utf-8")
        exported = time.perf_counter()
        result = calibrate(log, blank)
        fitted_path = folder / "fitted.yaml"
        fitted_path.write_text(document_text(result.document), encoding="utf-8")
        fitted = load_scenario(fitted_path)
        calibrated = time.perf_counter()
    print(f"{Path(ns.scenario).name}, before its reforms: {ns.replications} replications, {result.cases:,} cases, "
          f"{len(result.log.frame):,} log rows; export {exported - started:.1f} s, calibration "
          f"{calibrated - exported:.1f} s")
    functions = {f.id: f for f in truth.functions}
    inside = 0
    print(f"{'fitted number':<48}{'true':>10}{'recovered':>11}{'95% CI':>22}  in CI  family")
    for item in result.fitted:
        if item.label.startswith("functions[") and item.label.endswith("service_time"):
            fid = item.label[len("functions["):item.label.index("]")]
            true = functions[fid].service_time.mean_days(h)
        elif item.label.endswith("rework_probability"):
            fid = item.label[len("functions["):item.label.index("]")]
            true = functions[fid].rework_probability
        elif item.label.endswith("arrivals.rate"):
            true = truth.workload.project_types[0].arrivals.rate
        elif item.label.startswith("workload.handoff."):
            true = getattr(truth.workload.handoff, item.label.rsplit(".", 1)[1]).mean_days(h)
        else:
            true = getattr(truth.workload, item.label.split(".", 1)[1]).mean_days(h)
        lo, hi = item.ci
        estimate = item.fit.mean_days if item.fit is not None else item.estimate
        ok = lo - 1e-9 <= true <= hi + 1e-9
        inside += ok
        family = item.fit.family if item.fit is not None else ""
        interval = f"{lo:.4g} - {hi:.4g}"
        print(f"{item.label:<48}{true:>10.4g}{estimate:>11.4g}{interval:>22}  {'yes' if ok else 'NO ':<5}  {family}")
    print(f"{inside} of {len(result.fitted)} true values inside their 95% CI "
          f"(expected about {0.95 * len(result.fitted):.1f} by chance)")
    for path, why in result.not_fitted:
        print(f"not fitted: {path}: {why}")
    original = np.concatenate([r.lead_working_days for r in run_replications(truth, "before", replications=ns.check)])
    again = np.concatenate([r.lead_working_days for r in run_replications(fitted, "before", replications=ns.check)])
    ks = stats.ks_2samp(original, again).statistic
    critical = 1.628 * math.sqrt((len(original) + len(again)) / (len(original) * len(again)))
    print(f"lead times (working days), original / recalibrated, {ns.check} replications each on the same seeds:")
    for q in (0.5, 0.9, 0.95):
        print(f"  p{int(q * 100)}: {np.quantile(original, q):.1f} / {np.quantile(again, q):.1f}")
    print(f"  mean: {original.mean():.1f} / {again.mean():.1f}")
    print(f"KS distance {ks:.3f} ({len(original):,} and {len(again):,} applications; two iid samples of these "
          f"sizes from one distribution stay below {critical:.3f} 99% of the time)")


def _bundled() -> None:
    from orgsim.eventlog.calibrate import calibrate
    from orgsim.eventlog.fit_report import check_lead_times
    from orgsim.experiment import run_state
    from orgsim.scenario import load_scenario
    from orgsim.scenario.document import document_text

    print(f"{'scenario':<40}{'cases':>7}{'KS on log seeds':>16}{'KS on new seeds':>16}  p50 log / fitted")
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        truth = load_scenario(path)
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "log.csv"
            run_state(truth, "before", replications=2, event_log=log)
            result = calibrate(log, path)
            fitted_path = Path(tmp) / "fitted.yaml"
            fitted_path.write_text(document_text(result.document), encoding="utf-8")
            fitted = load_scenario(fitted_path)
            fitted._base_dir = path.parent
            now = check_lead_times(result, fitted, 2)
            old = check_lead_times(result, fitted, 2, seed=truth.simulation.seed)
        p50 = dict((q, (a, b)) for q, a, b in now.quantiles())[0.5]
        print(f"{path.name:<40}{result.cases:>7}{old.ks:>16.3f}{now.ks:>16.3f}  {p50[0]:.1f} / {p50[1]:.1f}"
              f" (1% critical {now.ks_critical_1pct:.3f})")


if __name__ == "__main__":
    sys.exit(main())
