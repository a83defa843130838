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
from itertools import zip_longest
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from markupsafe import escape

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




@functools.cache
def report_of(path: Path, with_sweep: bool = True, lang: str = "en") -> str:
    c = comparison_of(path)
    return render_report(c, sweep=sweep_frame(c) if with_sweep else None, dpi=60, lang=lang)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def visible_text(html: str) -> str:
    """The text a reader sees: no style, no tags, entities decoded, the run details' hash left out."""
    import html as html_module

    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    body = re.sub(r"<title>.*?</title>", " ", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)
    return html_module.unescape(body)


def orgsim_text(html: str) -> str:
    """What orgsim itself writes on the page: the visible text less what it quotes from the scenario file
    (its description, operator labels, sources and assumptions, marked ``from-scenario``) and the run details."""
    body = html.split('<section id="run">', 1)[0]
    body = re.sub(r'<(p|span|div) class="[^"]*from-scenario[^"]*">.*?</\1>', " ", body, flags=re.S)
    return visible_text(body)


def page_text(html: str) -> str:
    """The whole visible page, the scenario's own text included, less the run details: the section on how the
    numbers were made (hash, seed, version), the footer's reproduce command and the sources' file names."""
    body = html.split('<section id="run">', 1)[0]
    body = re.sub(r'<td class="file">.*?</td>', " ", body, flags=re.S)
    return visible_text(body)


def cjk_share(text: str) -> float:
    """Share of CJK characters among letters (numbers, punctuation and spaces left out)."""
    cjk = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


# ---------------------------------------------------------------- the HTML


@pytest.mark.slow  # every bundled scenario, simulated and rendered
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_has_every_section_figure_and_change(path: Path) -> None:
    c = comparison_of(path)
    html = report_of(path)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # for an official: the headline first, then figures, tables, the reforms, sources, and run details last
    order = [html.index(f'<section id="{s}">') for s in ("headline", "figures", "tables", "changes", "sources", "run")]
    assert order == sorted(order)
    headline = html.split('<section id="headline">', 1)[1].split("</section>", 1)[0]
    assert 3 <= headline.count("<p>") <= 5
    figures = re.findall(r'<figure id="figure-([a-z]+)">', html)
    assert figures == ["leadtime", "timesplit", "utilisation", "waterfall", "orgchart", "sweep"]
    images = IMG.findall(html)
    assert len(images) == len(figures)
    for data, width, height in images:  # shown at their size in inches (96 CSS px each), drawn at 60 dpi here
        w, h = png_size(base64.b64decode(data))
        assert (round(w * 96 / 60), round(h * 96 / 60)) == (int(width), int(height))
    # self-contained: nothing fetched from elsewhere, no script
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "<script" not in html.lower()
    # one sentence per operator; numbers come with the seed and version that reproduce them
    body = html.split('<ol class="changes">', 1)[1].split("</ol>", 1)[0]
    assert body.count("<li>") == len(c.scenario.operators())
    assert f"--seed {c.seed}" in html and c.scenario.sha256 in html
    # every project type has its rows, with its own limit
    for t in c.scenario.workload.project_types:
        assert (t.name_en or t.name) in html


def test_report_tables_carry_confidence_intervals() -> None:
    c = comparison_of(TUTORIAL)
    d = c.to_dict()
    html = report_of(TUTORIAL)
    lead = d["before"]["lead_time_working_days"]
    assert f"{lead['mean']:.1f} [{lead['ci95'][0]:.1f}, {lead['ci95'][1]:.1f}]" in html
    diff = d["difference"]["lead_time_working_days"]["p90"]
    assert f"[{diff['ci95'][0]:.1f}, {diff['ci95'][1]:.1f}]" in html
    assert "95% CI of the change" in html
    typed = d["after"]["by_project_type"]["industrial"]["lead_time_working_days"]
    assert f"{typed['mean']:.1f} [{typed['ci95'][0]:.1f}, {typed['ci95'][1]:.1f}]" in html
    for source in c.scenario.scenario.sources:  # in English, as the report is
        assert str(escape(source.title_en or source.title)) in html
    for assumption in c.scenario.scenario.assumptions:
        assert str(escape(assumption.reason_en or assumption.reason)) in html
    assert "Demo high-tech zone (tutorial)" in html and '<meta charset="utf-8">' in html
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert 'font-family: "Noto Sans CJK SC"' in style and "&#34;" not in style  # styles are not escaped
    assert "@page { size: A4" in style and "@media print" in style


def test_report_headline_says_what_matters() -> None:
    c = comparison_of(SCENARIOS[-1])  # Yizheng: four project types, two limits
    d = c.to_dict()
    html = report_of(SCENARIOS[-1])
    headline = visible_text(html.split('<section id="headline">', 1)[1].split("</section>", 1)[0])
    b, a = c.before.structure, c.after.structure
    assert f"from {b.headcount} to {a.headcount} staff" in headline
    first = c.scenario.workload.project_types[0]
    lead = d["after"]["by_project_type"][first.id]
    p90 = lead["lead_time_working_days"]["p90"]
    if c.before.stable:
        assert f"{first.name_en}: 90% of applications done within" in headline
        assert f"{p90:.1f} working days (statutory limit 120" in headline
    else:  # the state before cannot keep up at this short horizon: only after, and why
        assert (f"{first.name_en}: 90% of applications done within {p90:.1f} working days after the reforms "
                "(statutory limit 120") in headline
        assert "The organisation before the reforms cannot keep up with its applications" in headline
    top = c.after.bottlenecks()[0]
    assert "The bottleneck after the reforms is " in headline and f"busy {top['utilisation']:.0%}" in headline


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_chinese_report_is_mostly_chinese_with_names_not_ids(path: Path) -> None:
    c = comparison_of(path)
    html = report_of(path, lang="zh")
    assert '<html lang="zh-Hans">' in html
    text = orgsim_text(html)
    share = cjk_share(text)
    assert share > 0.95, f"only {share:.0%} of orgsim's own letters are Chinese"
    # and the whole page, with what it quotes from the scenario (description, sources, assumptions, labels)
    page = cjk_share(page_text(html))
    assert page > 0.8, f"only {page:.0%} of the page's letters are Chinese"
    ids = _named_ids(c)
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    assert not (ids & words), sorted(ids & words)[:10]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_english_report_uses_english_names(path: Path) -> None:
    c = comparison_of(path)
    html = report_of(path, lang="en")
    assert '<html lang="en">' in html
    text = orgsim_text(html)
    assert cjk_share(text) < 0.5
    named = [u for u in c.scenario.units if u.name_en]
    assert any(u.name_en in text for u in named)
    # ids with an underscore are never English words: none may show where a name exists
    ids = {i for i in _named_ids(c) if "_" in i}
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
    assert not (ids & words), sorted(ids & words)[:10]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_report_quotes_the_scenario_in_the_readers_language(path: Path) -> None:
    """Every text of the scenario that has an English companion shows in it in English and not in Chinese."""
    meta = load_scenario(path).scenario
    pairs = [(meta.description.strip(), meta.description_en)]
    for s in meta.sources:
        pairs += [(s.title, s.title_en), *zip_longest(s.figures, s.figures_en)]
    for a in meta.assumptions:
        pairs += [(a.about, a.about_en), (a.reason, a.reason_en)]
        if isinstance(a.value, str):
            pairs.append((a.value, a.value_en))
    pairs = [(zh, en.strip()) for zh, en in pairs if en and en.strip() != zh]
    assert len(pairs) >= 5  # every bundled scenario gives its texts in both languages
    html = {lang: page_text(report_of(path, lang=lang)) for lang in ("zh", "en")}
    english = [en for _zh, en in pairs]
    for zh, en in pairs:
        assert zh in html["zh"] and en not in html["zh"], en
        # An English text may quote the article's Chinese: a Chinese text inside one of them is no sign.
        assert en in html["en"] and (zh not in html["en"] or any(zh in e for e in english)), zh


def test_report_command_picks_the_texts_by_lang(tmp_path: Path, quick_cli: None) -> None:
    """``--lang`` chooses the scenario's own texts too; a text missing in one language shows in the other."""
    import yaml

    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    meta = doc["scenario"]
    meta["description"], meta["description_en"] = "中文的说明。", "An English description."
    meta["sources"] = [{"id": "a", "title": "某篇文章", "figures": ["精简机构 52%", "下放权力 154 项"],
                        "figures_en": ["bodies cut by 52%", "154 powers devolved"]}]  # no title_en
    meta["assumptions"] = [{"about": "每年项目数", "about_en": "projects a year", "value": "每年 120 个",
                            "value_en": "120 a year", "reason": "假设", "reason_en": "assumed"},
                           {"about": "workload.handoff", "value": 3, "reason": "假设，只有中文"}]
    first = doc["reforms"][0]["reforms"][0]
    first["label"], first["label_en"] = "组建国土规划建设局", "Land planning construction bureau formed"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    shown = {}
    for lang in ("zh", "en"):
        out = tmp_path / f"{lang}.html"
        result = CliRunner().invoke(main, ["report", str(scenario), "-o", str(out), "--dpi", "20", "--lang", lang])
        assert result.exit_code == 0, result.output
        shown[lang] = page_text(out.read_text(encoding="utf-8"))
    chinese = ["中文的说明。", "精简机构 52%；下放权力 154 项", "每年项目数", "每年 120 个", "组建国土规划建设局"]
    english = ["An English description.", "bodies cut by 52%; 154 powers devolved", "projects a year", "120 a year",
               "Land planning construction bureau formed"]
    for zh, en in zip(chinese, english, strict=True):
        assert zh in shown["zh"] and en not in shown["zh"], zh
        assert en in shown["en"] and zh not in shown["en"], en
    for lang in ("zh", "en"):  # given in one language only: shown in both
        assert "某篇文章" in shown[lang] and "假设，只有中文" in shown[lang] and "workload.handoff" in shown[lang]


def _named_ids(c: Comparison) -> set[str]:
    """Ids of units, functions and project types that have a name (every one: names are required)."""
    s = c.scenario
    ids = {u.id for u in s.units} | {f.id for f in s.functions} | {t.id for t in s.workload.project_types}
    for _phase, op in s.operators():
        for new in (getattr(op, "into", None), getattr(op, "bureau", None), getattr(op, "company", None)):
            if new is not None and hasattr(new, "id"):
                ids.add(new.id)
    return ids


def test_report_escapes_the_scenarios_text() -> None:
    c = comparison_of(TUTORIAL)
    meta = c.scenario.scenario.model_copy(update={
        "name_en": "<script>alert('x')</script>", "description_en": "A & B <b>bold</b>",
    })
    scenario = c.scenario.model_copy(update={"scenario": meta})
    evil = Comparison(scenario, c.before, c.after, c.seed, c.replications, c.outcome)
    html = render_report(evil, dpi=40, english=True)
    assert "<script" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
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

    monkeypatch.setattr(cli_present, "load_scenario", lambda path, **options: quick(load_scenario(path, **options)))


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
    # the footer's command writes the file it was written to, whatever its name
    other = tmp_path / "quarterly review.html"
    result = CliRunner().invoke(main, ["report", str(TUTORIAL), "-o", str(other), "-r", "2", "--dpi", "40",
                                       "--lang", "zh"])
    assert result.exit_code == 0, result.output
    text = other.read_text(encoding="utf-8")
    assert "-o quarterly review.html</code>" in text and "-o report.html" not in text
    assert "--lang zh" in text and f"已写入 {other}" in result.stderr


def test_report_default_is_print_quality() -> None:
    from orgsim.report import DEFAULT_DPI

    assert DEFAULT_DPI >= 200
    html = render_report(comparison_of(TUTORIAL), lang="en")
    data, width, _height = IMG.findall(html)[0]
    assert png_size(base64.b64decode(data))[0] >= 2 * int(width)  # at least 192 dpi on paper


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


@pytest.mark.skipif(CHROMIUM is None,
                    reason="chromium is not installed (.ci/run installs it: apt-get install chromium)")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_prints_to_a_pdf_of_sensible_length(lang: str, tmp_path: Path) -> None:
    """Headless Chromium prints the report on A4 (its print styles): a handful of pages, not one or fifty."""
    report = tmp_path / "report.html"
    report.write_text(report_of(TUTORIAL, lang=lang), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    done = _chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()], tmp_path)
    assert pdf.exists(), f"no PDF; chromium exited {done.returncode}: {done.stderr[-2000:]}"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert 4 <= pages <= 16, pages
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    sizes = {tuple(round(float(v)) for v in m) for m in boxes}
    assert sizes == {(595, 842)}, sizes  # A4 in points
