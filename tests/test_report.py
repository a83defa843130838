"""``orgsim report``: one self-contained HTML file, checked as text and in headless Chromium.

The browser test opens the report in Chromium (``/usr/bin/chromium``, which
``.ci/run`` installs from Debian's packages), lets a small checking script,
added to a copy of the report, count the images that decoded with a non-zero
natural size and are laid out on the page, and reads the count back from the
DOM (``--dump-dom``). It also takes a screenshot. Without Chromium it skips
and says why.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shutil
import struct
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from orgsim import plotting
from orgsim.cli import main
from orgsim.experiment import Comparison
from orgsim.report import render_report, write_report
from orgsim.scenario import load_scenario
from quick_results import comparison_of, quick

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" width="(\d+)" height="(\d+)"')


def sweep_frame(c: Comparison) -> pd.DataFrame:
    frames = []
    for point, rate in enumerate((60, 120)):
        f = c.to_frame()
        f.insert(0, "point", point)
        f.insert(1, "workload.project_types[0].arrivals.rate", rate)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(autouse=True)
def _fonts() -> Iterator[None]:
    """Without a CJK font the figures' (expected, tested elsewhere) fallback warning is quiet."""
    with warnings.catch_warnings():
        if plotting.cjk_font() is None:
            warnings.simplefilter("ignore", plotting.CJKFontWarning)
        yield


@functools.cache
def report_of(path: Path, with_sweep: bool = True) -> str:
    c = comparison_of(path)
    return render_report(c, sweep=sweep_frame(c) if with_sweep else None, dpi=60)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# ---------------------------------------------------------------- the HTML


@pytest.mark.slow  # every bundled scenario, simulated and rendered
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_has_every_section_figure_and_change(path: Path) -> None:
    c = comparison_of(path)
    html = report_of(path)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for section in ("run", "sources", "results", "structure", "time", "figures", "changes"):
        assert f'<h2 id="{section}">' in html
    figures = re.findall(r'<figure id="figure-([a-z]+)">', html)
    assert figures == ["orgchart", "waterfall", "leadtime", "timesplit", "utilisation", "sweep"]
    images = IMG.findall(html)
    assert len(images) == len(figures)
    for data, width, height in images:
        assert png_size(base64.b64decode(data)) == (int(width), int(height))
    # self-contained: nothing fetched from elsewhere, no script
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "<script" not in html.lower()
    # the change log lists every change; numbers come with the seed and version that reproduce them
    body = html.split('<h2 id="changes">', 1)[1]
    assert body.count("<tr>") == len(c.outcome.changes) + 1
    assert f"--seed {c.seed}" in html and c.scenario.sha256 in html


def test_report_tables_carry_confidence_intervals() -> None:
    c = comparison_of(TUTORIAL)
    d = c.to_dict()
    html = report_of(TUTORIAL)
    lead = d["before"]["lead_time_working_days"]
    assert f"{lead['mean']:.1f} [{lead['ci95'][0]:.1f}, {lead['ci95'][1]:.1f}]" in html
    diff = d["difference"]["lead_time_working_days"]["p90"]
    assert f"[{diff['ci95'][0]:.1f}, {diff['ci95'][1]:.1f}]" in html
    assert "95% CI (paired)" in html
    for source in c.scenario.scenario.sources:
        assert source.title in html
    for assumption in c.scenario.scenario.assumptions:
        assert assumption.reason in html
    assert "示范高新区（教程）" in html and '<meta charset="utf-8">' in html


def test_report_escapes_the_scenarios_text() -> None:
    c = comparison_of(TUTORIAL)
    meta = c.scenario.scenario.model_copy(update={
        "name": "<script>alert('x')</script>", "description": "A & B <b>bold</b>",
    })
    scenario = c.scenario.model_copy(update={"scenario": meta})
    evil = Comparison(scenario, c.before, c.after, c.seed, c.replications, c.outcome)
    html = render_report(evil, dpi=40, english=True)
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "A &amp; B &lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.slow  # simulates every bundled scenario
def test_report_says_when_a_state_is_unstable() -> None:
    unstable = [p for p in SCENARIOS if not (comparison_of(p).before.stable and comparison_of(p).after.stable)]
    if not unstable:
        pytest.skip("every bundled scenario is stable at the short horizon")
    html = report_of(unstable[0], with_sweep=False)
    assert '<div class="warning"><b>Unstable:</b>' in html


# ---------------------------------------------------------------- orgsim report


@pytest.fixture
def quick_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    import orgsim.cli.present as cli_present

    monkeypatch.setattr(cli_present, "load_scenario", lambda path: quick(load_scenario(path)))


def test_report_command_writes_the_file(tmp_path: Path, quick_cli: None) -> None:
    out = tmp_path / "report.html"
    sweep = tmp_path / "sweep.csv"
    sweep_frame(comparison_of(TUTORIAL)).to_csv(sweep, index=False)
    result = CliRunner().invoke(main, ["report", str(TUTORIAL), "-o", str(out), "-r", "2", "--sweep", str(sweep),
                                       "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert len(IMG.findall(html)) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "sweep.csv"]


def test_report_command_refuses_other_suffixes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(TUTORIAL), "-o", str(tmp_path / "report.pdf")])
    assert result.exit_code == 2 and "must end in .html" in result.stderr
    assert not list(tmp_path.iterdir())


def test_write_report_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import orgsim.report as report

    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")

    def broken(*args: object, **kw: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "render_report", broken)
    with pytest.raises(KeyboardInterrupt):
        write_report(out, comparison_of(TUTORIAL))
    assert out.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ---------------------------------------------------------------- in a real browser

_CHECK = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const shown = images.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0
                                   && i.getBoundingClientRect().width > 0);
  const mark = document.createElement("p");
  mark.id = "orgsim-check";
  mark.textContent = "figures shown " + shown.length + " of " + images.length;
  document.body.appendChild(mark);
});
</script>"""


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--virtual-time-budget=10000", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, check=False)


@pytest.mark.slow  # a headless browser per scenario
@pytest.mark.skipif(CHROMIUM is None,
                    reason="chromium is not installed (.ci/run installs it: apt-get install chromium)")
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_renders_in_chromium_with_every_figure(path: Path, tmp_path: Path) -> None:
    html = report_of(path)
    n_figures = len(IMG.findall(html))
    checked = tmp_path / "checked.html"
    checked.write_text(html.replace("</body>", _CHECK + "\n</body>"), encoding="utf-8")
    done = _chromium(["--dump-dom", checked.as_uri()], tmp_path)
    marker = re.search(r'<p id="orgsim-check">([^<]*)</p>', done.stdout)
    assert marker, f"chromium exited {done.returncode} without the page's check: {done.stderr[-2000:]}"
    assert marker.group(1) == f"figures shown {n_figures} of {n_figures}"

    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    shot = tmp_path / "report.png"
    done = _chromium(["--window-size=1280,2000", f"--screenshot={shot}", report.as_uri()], tmp_path)
    assert shot.exists(), f"no screenshot; chromium exited {done.returncode}: {done.stderr[-2000:]}"
    assert png_size(shot.read_bytes()) == (1280, 2000)
    from PIL import Image

    with Image.open(shot) as image:
        low, high = image.convert("L").getextrema()
    assert high - low > 100, "the screenshot is blank"
