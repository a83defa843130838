"""The calibration's check and report: the fitted model simulated against the log, and an HTML page of the fit.

:func:`check_lead_times` simulates the fitted scenario (before its reforms)
and compares its lead-time distribution with the log's: the two-sample
Kolmogorov-Smirnov distance and quantiles. :func:`render_fit_report` makes a
self-contained HTML page from a Jinja2 template
(``orgsim/templates/fit_report.html``, autoescaped; styles inline, figures as
base64 PNG), in Chinese or English like the main report, with names, not ids:
per fitted number its observations, family, parameters, mean with its 95% CI
and KS distance, and a figure of the durations against the fitted
distribution; the arrivals by month; what stayed assumed; and the lead times
simulated against logged. :func:`fitted_text` and :func:`distribution_text`
say a fitted number in one line, for the command's output too.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from orgsim.eventlog.calibrate import Calibration, Fitted
from orgsim.i18n import N_, _, current_language, pgettext, use_language

__all__ = ["LeadTimeCheck", "check_lead_times", "render_fit_report", "fitted_text", "distribution_text",
           "fit_names", "QUANTILES"]

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
    """Simulate ``fitted`` (the calibrated scenario) before its reforms and compare lead times with the log's.

    The seed defaults to one drawn from the log's SHA-256, not the scenario's:
    a log simulated by orgsim came from the scenario's seed, and the fitted
    model run on those same random numbers would repeat the log's chance
    excess (or lack) of arrivals on top of a rate fitted from it, counting
    it twice (the tutorial's 2 replications drew 12% more applicants than
    its rate; on their own seeds the fitted model, at a rate 12% higher, drew
    13% more again and its median lead time was 59.7 working days against the
    log's 48.1).
    """
    from scipy import stats

    from orgsim.experiment import run_replications

    if seed is None:
        seed = int(calibration.log.sha256[:15], 16)
    runs = run_replications(fitted, "before", replications=replications, seed=seed)
    simulated = np.concatenate([r.lead_working_days for r in runs])
    logged = calibration.lead_days
    ks = float(stats.ks_2samp(simulated, logged).statistic) if len(simulated) and len(logged) else math.nan
    n, m = len(simulated), len(logged)
    critical = 1.628 * math.sqrt((n + m) / (n * m)) if n and m else math.nan
    return LeadTimeCheck(simulated, logged, ks, critical, replications)


#: Distribution families and parameters as people read them (translated where shown).
_FAMILIES = {"exponential": N_("exponential"), "gamma": N_("gamma"), "lognormal": N_("lognormal"),
             "uniform": N_("uniform"), "triangular": N_("triangular"), "deterministic": N_("fixed")}
_PARAMETERS = {"mean": N_("mean"), "cv": N_("cv"), "low": N_("low"), "high": N_("high"), "mode": N_("mode"),
               "value": N_("value")}


def _num(x: float | None, digits: int = 4) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def distribution_text(d: dict[str, Any]) -> str:
    """A fitted distribution in words: "gamma, mean 3.2, cv 0.8 (working days)"."""
    family = _(_FAMILIES.get(d["dist"], d["dist"]))
    params = _(", ").join(f"{_(_PARAMETERS.get(k, k))} {_num(v) if isinstance(v, float) else v}"
                       for k, v in d.items() if k not in ("dist", "unit"))
    unit = pgettext("duration unit", "hours") if d.get("unit") == "hours" else pgettext("duration unit", "days")
    return _("{family}, {parameters} ({unit})").format(family=family, parameters=params, unit=unit)


def fit_names(calibration: Calibration, ascii_only: bool = False) -> Any:
    """Names (not ids) for the base scenario's functions, units and project types, in the language in force.

    ``ascii_only`` for figures drawn without a font with Chinese glyphs.
    """
    from orgsim.model.build import build_org
    from orgsim.presentation.names import Names

    return Names(calibration.base, [build_org(calibration.base)], ascii_only=ascii_only)


def _what(f: Fitted, names: Any) -> str:
    """What a fitted number is, by name: "Land supply · service time"."""
    quantity = _(f.quantity)
    if f.subject is None:
        return quantity
    kind, ident, *rest = f.subject
    if kind == "step":
        who = f"{names.project_type(ident)} · {names.step(ident, rest[0])}"
    elif kind == "attribute":  # attributes have no names in the format: the file's own word
        who = f"{names.project_type(ident)} · {rest[0]}"
    else:
        who = names.project_type(ident) if kind == "project_type" else names.node(ident)
    return f"{who} · {quantity}"


def _value_text(f: Fitted) -> str:
    if f.fit is not None:
        return distribution_text(f.fit.distribution)
    return _num(f.value) if isinstance(f.value, float) else str(f.value)


def fitted_text(f: Fitted, names: Any) -> str:
    """One fitted number in one line, by name, with the field it was written to."""
    lo, hi = f.fit.mean_ci() if f.fit is not None else f.ci
    if f.fit is not None:
        return _("{what} ({field}): {value}; n={n}, mean {mean} working days, 95% CI {low}-{high}, KS distance "
                 "{ks:.3f}").format(what=_what(f, names), field=f.label, value=_value_text(f), n=f.n,
                                    mean=_num(f.fit.mean_days), low=_num(lo), high=_num(hi), ks=f.fit.ks)
    return _("{what} ({field}): {value}; n={n}, 95% CI {low}-{high}").format(
        what=_what(f, names), field=f.label, value=_value_text(f), n=f.n, low=_num(lo), high=_num(hi))


@contextmanager
def _figure_font() -> Iterator[None]:
    """Chinese glyphs in the figures (names can be Chinese in either language) with a CJK font, if one is installed.

    Without one the figures are in English (as orgsim's other figures), with names in ASCII (:func:`fit_names`).
    """
    import matplotlib as mpl

    from orgsim.plotting import cjk_font

    family = cjk_font()
    language = current_language() if family else "en"
    with mpl.rc_context({"font.family": [family, "DejaVu Sans"]} if family else {}), use_language(language):
        yield


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fit_figure(calibration: Calibration, names: Any) -> str:
    """Each fitted duration: the observed distribution (ECDF) against the fitted CDF."""
    from matplotlib.figure import Figure

    items = [f for f in calibration.fitted if f.fit is not None and f.observed is not None and len(f.observed)]
    if not items:
        return ""
    from orgsim.plotting import cjk_font

    cols = 3
    rows = math.ceil(len(items) / cols)
    with _figure_font():
        if cjk_font() is None:  # drawn without Chinese glyphs: names in ASCII
            names = fit_names(calibration, ascii_only=True)
        fig = Figure(figsize=(4 * cols, 2.8 * rows), constrained_layout=True)
        for k, item in enumerate(items):
            assert item.fit is not None and item.observed is not None  # chosen above
            ax = fig.add_subplot(rows, cols, k + 1)
            x = np.sort(item.observed)
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=_("log"), color="#4c72b0")
            grid = np.linspace(0, x.max() * 1.05 if x.max() > 0 else 1, 200)
            ax.plot(grid, item.fit.cdf(grid, calibration.hours_per_day), label=_("fitted"), color="#dd8452")
            ax.set_title(_("{what}\n{family}, KS {ks:.3f}").format(
                what=_what(item, names), family=_(_FAMILIES.get(item.fit.family, item.fit.family)), ks=item.fit.ks),
                fontsize=8)
            ax.set_xlabel(_("working days"), fontsize=8)
            ax.tick_params(labelsize=7)
            if k == 0:
                ax.legend(fontsize=7)
        return _png(fig)


def _lead_figure(check: LeadTimeCheck) -> str:
    from matplotlib.figure import Figure

    with _figure_font():
        fig = Figure(figsize=(10, 3.8), constrained_layout=True)
        ax = fig.add_subplot(1, 2, 1)
        for data, label, colour in ((check.logged, _("log"), "#4c72b0"),
                                    (check.simulated, _("fitted model"), "#dd8452")):
            x = np.sort(data)
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=label, color=colour)
        ax.set_xlabel(_("lead time (working days)"))
        ax.set_ylabel(_("share done within"))
        ax.legend()
        ax.set_title(_("KS distance {ks:.3f}").format(ks=check.ks))
        ax = fig.add_subplot(1, 2, 2)
        q = np.linspace(0.01, 0.99, 99)
        a, b = np.quantile(check.logged, q), np.quantile(check.simulated, q)
        ax.plot(a, b, "o", ms=3, color="#4c72b0")
        top = max(a.max(), b.max())
        ax.plot([0, top], [0, top], color="#888", lw=1)
        ax.set_xlabel(_("log quantile (working days)"))
        ax.set_ylabel(_("fitted model quantile"))
        ax.set_title(_("quantile plot"))
        return _png(fig)


def render_fit_report(calibration: Calibration, check: LeadTimeCheck | None, title: str, names: Any = None) -> str:
    """The calibration report as HTML text, in the language in force (:func:`orgsim.i18n.use_language`).

    ``names``: :func:`fit_names` of the calibration, when the caller has them.
    """
    from orgsim import __version__
    from orgsim.report import _css, _environment

    c = calibration
    names = names if names is not None else fit_names(c)
    fitted = []
    for f in c.fitted:
        lo, hi = f.ci
        aic = _(", ").join(f"{_(_FAMILIES.get(k, k))} {v:.1f}" for k, v in sorted(f.fit.aic.items(),
                                                                             key=lambda kv: kv[1])) \
            if f.fit is not None else ""
        fitted.append({
            "what": _what(f, names), "field": f.label, "n": f.n, "value": _value_text(f),
            "mean": _num(f.fit.mean_days if f.fit is not None else f.estimate),
            "ci": f"{_num(lo)}–{_num(hi)}", "ks": f"{f.fit.ks:.3f}" if f.fit is not None else "",
            "aic": (aic or _("all equal")) if f.fit is not None else "",
        })
    monthly = [{"name": names.project_type(fid), "chi2": _num(m["chi2"]), "dof": m["dof"], "p": _num(m["p"], 2),
                "months": [(month, n, days, _num(rate)) for month, n, days, rate in m["months"]]}
               for fid, m in c.monthly.items()]
    shares = [(names.project_type(fid), names.step(fid, step), _num(v))
              for fid, by_step in c.step_shares.items() for step, v in by_step.items()]
    context = {
        "lang_tag": "zh-Hans" if current_language() == "zh" else "en",
        "css": _css(),
        "title": title,
        "log_file": c.log.file, "log_sha256": c.log.sha256, "rows": len(c.log.frame), "cases": c.cases,
        "first": f"{c.first:%Y-%m-%d}", "last": f"{c.last:%Y-%m-%d}", "replications": c.replications,
        "base_file": c.base.source_file,
        "idle": [(str(a), str(b), n) for a, b, n in c.idle_stretches],
        "fitted": fitted,
        "fit_figure": _fit_figure(c, names),
        "monthly": monthly,
        "shares": shares,
        "not_fitted": [(item.path, item.why()) for item in c.not_fitted],
        "check": None if check is None else {
            "replications": check.replications, "simulated": len(check.simulated), "logged": len(check.logged),
            "ks": f"{check.ks:.3f}", "critical": f"{check.ks_critical_1pct:.3f}",
            "quantiles": [(f"p{int(q * 100)}", _num(a), _num(b)) for q, a, b in check.quantiles()],
            "figure": _lead_figure(check),
        },
        "version": __version__,
    }
    return _environment().get_template("fit_report.html").render(**context)
