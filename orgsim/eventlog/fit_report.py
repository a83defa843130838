"""The calibration's check and report: the fitted model simulated against the log, and an HTML page of the fit.

:func:`check_lead_times` simulates the fitted scenario (before its reforms)
and compares its lead-time distribution with the log's: the two-sample
Kolmogorov-Smirnov distance and quantiles. :func:`render_fit_report` makes a
self-contained HTML page (styles inline, figures as base64 PNG, text
escaped): per fitted number its observations, family, parameters, mean with
its 95% CI and KS distance, and a figure of the durations against the
fitted distribution; the arrivals by month; what stayed assumed; and the
lead times simulated against logged.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np

from orgsim.eventlog.calibrate import Calibration

__all__ = ["LeadTimeCheck", "check_lead_times", "render_fit_report", "QUANTILES"]

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True)
class LeadTimeCheck:
    """The fitted model's lead times (working days) against the log's."""

    simulated: np.ndarray
    logged: np.ndarray
    ks: float
    #: The two-sample KS distance at which equal distributions are rejected at 1% for these sizes.
    ks_critical_1pct: float
    replications: int

    def quantiles(self) -> list[tuple[float, float, float]]:
        return [(q, float(np.quantile(self.logged, q)), float(np.quantile(self.simulated, q))) for q in QUANTILES]


def check_lead_times(calibration: Calibration, fitted: Any, replications: int = 5,
                     seed: int | None = None) -> LeadTimeCheck:
    """Simulate ``fitted`` (the calibrated scenario) before its reforms and compare lead times with the log's."""
    from scipy import stats

    from orgsim.experiment import run_replications

    runs = run_replications(fitted, "before", replications=replications, seed=seed)
    simulated = np.concatenate([r.lead_working_days for r in runs])
    logged = calibration.lead_days
    ks = float(stats.ks_2samp(simulated, logged).statistic) if len(simulated) and len(logged) else math.nan
    n, m = len(simulated), len(logged)
    critical = 1.628 * math.sqrt((n + m) / (n * m)) if n and m else math.nan
    return LeadTimeCheck(simulated, logged, ks, critical, replications)


_CSS = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1.5em; color: #222; line-height: 1.45; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d0d0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em 1em; }
"""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _num(x: float, digits: int = 4) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def _fit_figure(calibration: Calibration) -> str:
    """Each fitted duration: the observed distribution (ECDF) against the fitted CDF."""
    from matplotlib.figure import Figure

    items = [f for f in calibration.fitted if f.fit is not None and f.observed is not None and len(f.observed)]
    if not items:
        return ""
    cols = 3
    rows = math.ceil(len(items) / cols)
    fig = Figure(figsize=(4 * cols, 2.8 * rows), constrained_layout=True)
    for k, item in enumerate(items):
        assert item.fit is not None and item.observed is not None  # chosen above
        ax = fig.add_subplot(rows, cols, k + 1)
        x = np.sort(item.observed)
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label="log", color="#4c72b0")
        grid = np.linspace(0, x.max() * 1.05 if x.max() > 0 else 1, 200)
        ax.plot(grid, item.fit.cdf(grid, calibration.hours_per_day), label="fitted", color="#dd8452")
        ax.set_title(f"{item.label}\n{item.fit.family}, KS {item.fit.ks:.3f}", fontsize=8)
        ax.set_xlabel("working days", fontsize=8)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    return _png(fig)


def _lead_figure(check: LeadTimeCheck) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), constrained_layout=True)
    ax = fig.add_subplot(1, 2, 1)
    for data, label, colour in ((check.logged, "log", "#4c72b0"), (check.simulated, "fitted model", "#dd8452")):
        x = np.sort(data)
        ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=label, color=colour)
    ax.set_xlabel("lead time (working days)")
    ax.set_ylabel("share done within")
    ax.legend()
    ax.set_title(f"KS distance {check.ks:.3f}")
    ax = fig.add_subplot(1, 2, 2)
    q = np.linspace(0.01, 0.99, 99)
    a, b = np.quantile(check.logged, q), np.quantile(check.simulated, q)
    ax.plot(a, b, "o", ms=3, color="#4c72b0")
    top = max(a.max(), b.max())
    ax.plot([0, top], [0, top], color="#888", lw=1)
    ax.set_xlabel("log quantile (working days)")
    ax.set_ylabel("fitted model quantile")
    ax.set_title("quantile plot")
    return _png(fig)


def render_fit_report(calibration: Calibration, check: LeadTimeCheck | None, title: str) -> str:
    """The calibration report as HTML text."""
    c = calibration
    out = ["<!DOCTYPE html>", '<html lang="zh-Hans"><head><meta charset="utf-8">',
           f"<title>{escape(title)} — orgsim calibration</title><style>{_CSS}</style></head><body>",
           f"<h1>{escape(title)}: calibration from an event log</h1>",
           f"<p>Log <code>{escape(c.log.file)}</code> (SHA-256 <code>{escape(c.log.sha256)}</code>): "
           f"{len(c.log.frame)} rows, {c.cases} cases, {c.first:%Y-%m-%d} to {c.last:%Y-%m-%d}, "
           f"{c.replications} replication(s). Base scenario: <code>{escape(c.base.source_file)}</code>. "
           "Every duration is in working time on the scenario's calendar; families are chosen by AIC among "
           "exponential, gamma, lognormal, uniform and triangular.</p>"]
    stretches = c.idle_stretches
    if stretches:
        out.append('<div class="warning"><b>Working days without any activity in the log:</b> '
                   + ", ".join(f"{a} to {b} ({n} working days)" for a, b, n in stretches)
                   + ". If the office was closed, list these days in <code>simulation.calendar.extra_holidays"
                     "</code> and calibrate again, or they count as working time.</div>")
    out.append("<h2>Fitted numbers</h2><table><tr><th>field</th><th>n</th><th>fitted</th><th>mean</th>"
               "<th>95% CI</th><th>KS distance</th><th>AIC by family</th></tr>")
    for f in c.fitted:
        if f.fit is not None:
            lo, hi = f.ci
            aic = ", ".join(f"{k} {v:.1f}" for k, v in sorted(f.fit.aic.items(), key=lambda kv: kv[1]))
            out.append(f"<tr><td>{escape(f.label)}</td><td class=num>{f.n}</td><td>{escape(f.fit.describe())}</td>"
                       f"<td class=num>{_num(f.fit.mean_days)} days</td><td class=num>{_num(lo)}–{_num(hi)}</td>"
                       f"<td class=num>{f.fit.ks:.3f}</td><td>{escape(aic) or 'all equal'}</td></tr>")
        else:
            out.append(f"<tr><td>{escape(f.label)}</td><td class=num>{f.n}</td><td>{escape(str(f.value))}</td>"
                       f"<td class=num>{_num(f.estimate)}</td><td class=num>{_num(f.ci[0])}–{_num(f.ci[1])}</td>"
                       f"<td></td><td>{escape(f.note)}</td></tr>")
    out.append("</table>")
    figure = _fit_figure(c)
    if figure:
        out.append(f'<figure><img src="data:image/png;base64,{figure}" alt="durations against fitted"><figcaption>'
                   "Each fitted duration: the log's durations (ECDF, blue) against the fitted distribution "
                   "(orange).</figcaption></figure>")
    out.append("<h2>Arrivals by month</h2><p>Cases per working day in each calendar month. The scenario "
               "format has one constant rate per project type, so a variation by month is reported here and "
               "listed as an assumption, not written.</p>")
    for fid, m in c.monthly.items():
        rows = "".join(f"<tr><td>{escape(month)}</td><td class=num>{n}</td><td class=num>{days}</td>"
                       f"<td class=num>{_num(rate)}</td></tr>" for month, n, days, rate in m["months"])
        out.append(f"<h3>{escape(fid)}</h3><p>chi-square {_num(m['chi2'])} on {m['dof']} degrees of freedom, "
                   f"p = {_num(m['p'], 2)}</p><table><tr><th>month</th><th>cases</th><th>working days</th>"
                   f"<th>per working day</th></tr>{rows}</table>")
    out.append("<h2>Steps visited</h2><p>Share of each project type's cases that visit each step (branch "
               "probabilities, reported only: the scenario format has none yet).</p><table>"
               "<tr><th>project type</th><th>step</th><th>share of cases</th></tr>")
    for fid, shares in c.step_shares.items():
        out += [f"<tr><td>{escape(fid)}</td><td>{escape(s)}</td><td class=num>{_num(v)}</td></tr>"
                for s, v in shares.items()]
    out.append("</table><h2>Not fitted (kept from the base scenario, listed as assumptions)</h2><ul>")
    out += [f"<li><code>{escape(path)}</code>: {escape(why)}</li>" for path, why in c.not_fitted]
    out.append("</ul>")
    if check is not None:
        rows = "".join(f"<tr><td class=num>p{int(q * 100)}</td><td class=num>{_num(a)}</td><td class=num>{_num(b)}</td>"
                       f"</tr>" for q, a, b in check.quantiles())
        out.append(
            f"<h2>Lead times: fitted model against the log</h2><p>The fitted scenario, before its reforms, "
            f"simulated for {check.replications} replications ({len(check.simulated)} applications) against the "
            f"log's {len(check.logged)} cases, in working days. Kolmogorov-Smirnov distance "
            f"<b>{check.ks:.3f}</b> (two samples of these sizes from one distribution stay below "
            f"{check.ks_critical_1pct:.3f} 99% of the time).</p><table><tr><th>quantile</th><th>log</th>"
            f"<th>fitted model</th></tr>{rows}</table>"
            f'<figure><img src="data:image/png;base64,{_lead_figure(check)}" alt="lead times"></figure>')
    from orgsim import __version__

    out.append(f"<hr><p>Made by orgsim {escape(__version__)}.</p></body></html>")
    return "\n".join(out) + "\n"
