"""The app in a real browser: Debian's headless Chromium, driven by Playwright (no browser is downloaded).

``orgsim app`` runs on a free local port, as a trainer would start it. The
test steps through the package, cancels a run, switches a reform off, runs,
and reads the lead times from the page: they equal what ``orgsim compare``
prints for the scenario file without that reform, with the same seed and
replications. Every request the browser made, during all of it, went to the
app's own address: the page needs no network.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.helpers import first_operators, without_operator

pytestmark = pytest.mark.slow  # a server and a browser

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
CHROMIUM = Path("/usr/bin/chromium")
#: The flags that keep Chromium off the network here (no background services, updates, sync or QUIC).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
#: The operator switched off, its place in the package, and the page's seconds to finish a run.
OFF, OFF_INDEX, RUN_TIMEOUT_MS = "agency_service", 4, 180_000


def orgsim_json(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", "from orgsim.cli import main; main()", *args, "--json"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    server = subprocess.Popen(
        [sys.executable, "-c", "from orgsim.cli import main; main()", "app", str(TUTORIAL), "--port", "0",
         "--lang", "en"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert server.stderr is not None
    lines: list[str] = []
    said = threading.Event()

    def drain() -> None:  # read all it says, so that a full pipe never stops the server
        assert server.stderr is not None
        for line in server.stderr:
            lines.append(line)
            said.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    said.wait(120)
    match = re.search(r"http://127\.0\.0\.1:\d+/", lines[0] if lines else "")
    try:
        assert match, f"no address from orgsim app: {lines}"
        yield match.group(0)
    finally:
        server.terminate()
        server.wait(30)
        reader.join(30)
        server.stderr.close()


@pytest.fixture(scope="module")
def browser_page(app_url: str) -> Iterator[tuple[Any, list[str]]]:
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as pw:
        # Playwright starts Chromium with a new, empty profile of its own.
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.set_default_timeout(60_000)
        page.goto(app_url)
        page.wait_for_selector("#orgchart .unit")
        yield page, requests
        context.close()
        browser.close()


def numbers(page: Any) -> dict[str, str]:
    return {el.get_attribute("data-key"): el.inner_text() for el in page.query_selector_all("#numbers [data-key]")}


def test_step_shows_the_numbers_of_orgsim_apply_after_each_operator(browser_page: Any, tmp_path: Path) -> None:
    page, _requests = browser_page
    page.click("a[data-value=story]")
    page.click("#first")
    page.wait_for_function("document.querySelector('#frame-title').innerText === 'Before the reforms'")
    start = orgsim_json("apply", str(TUTORIAL))["before"]
    assert numbers(page) == {k: str(start[k]) for k in numbers(page)} and "headcount" in numbers(page)
    for k in (1, 2, 3):
        page.click("#step")
        page.wait_for_function("n => document.querySelector('#frame-title').innerText.startsWith('Step ' + n + ' ')",
                               arg=k)
        after = orgsim_json("apply", str(first_operators(TUTORIAL, k, tmp_path / f"first{k}.yaml")))["after"]
        assert numbers(page) == {key: str(after[key]) for key in numbers(page)}
    assert "merged into" in page.inner_text("#story") or "stripped" in page.inner_text("#story")
    page.click("#first")
    page.wait_for_function("document.querySelector('#frame-title').innerText === 'Before the reforms'")


def test_a_second_click_cancels_the_run(browser_page: Any) -> None:
    page, _requests = browser_page
    # 50 replications: long enough to be caught running.
    page.evaluate("Shiny.setInputValue('replications', 50)")
    page.click("#run")
    page.wait_for_selector("#run-status[data-state=running]")
    page.wait_for_function("document.querySelector('#run').innerText.trim() === 'Cancel run'")
    page.click("#run")
    page.wait_for_selector("#run-status[data-state=cancelled]", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function("document.querySelector('#run').innerText.trim() === 'Run'")
    page.evaluate("Shiny.setInputValue('replications', 10)")


def test_a_reform_switched_off_gives_the_lead_times_of_orgsim_compare(browser_page: Any, tmp_path: Path) -> None:
    page, _requests = browser_page
    page.locator(f"#op_{OFF_INDEX}").uncheck()
    page.wait_for_timeout(500)  # the switch reaches the server
    page.click("#run")
    page.wait_for_selector("#run-status[data-state=done]", timeout=RUN_TIMEOUT_MS)
    page.click("a[data-value=results]")
    page.wait_for_selector("#key-numbers td[data-key]")
    shown = {el.get_attribute("data-key"): el.inner_text()
             for el in page.query_selector_all("#results [data-key]")}

    expected = orgsim_json("compare", str(without_operator(TUTORIAL, OFF, tmp_path / "without.yaml")))
    assert expected["replications"] == 10 and expected["seed"] == 2020  # the page's defaults: the file's
    lead_keys = [k for k in shown if ".lead_time_working_days." in k]
    assert len(lead_keys) == 4 * len(expected["after"]["by_project_type"])
    for key in shown:
        value: Any = expected
        for part in key.split("."):
            value = value[part]
        text = f"{value:.1%}" if key.endswith("share_over_statutory_limit") else (
            str(value) if isinstance(value, int) else f"{value:.1f}")
        assert shown[key] == text, key

    # And the switch mattered: with every reform on, the lead time after is another.
    full = orgsim_json("compare", str(TUTORIAL))
    (type_id,) = full["after"]["by_project_type"]
    key = f"after.by_project_type.{type_id}.lead_time_working_days.mean"
    assert abs(float(shown[key]) - full["after"]["by_project_type"][type_id]["lead_time_working_days"]["mean"]) > 0.1
    # The page's scenario, downloaded, gives the same numbers through orgsim compare.
    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / "downloaded.yaml"
    download.value.save_as(saved)
    again = orgsim_json("compare", str(saved))
    for state in ("before", "after"):
        assert again[state]["by_project_type"] == expected[state]["by_project_type"]
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    assert (tmp_path / "results.png").stat().st_size > 20_000


def test_no_request_left_this_computer(browser_page: Any, app_url: str) -> None:
    _page, requests = browser_page
    origin = app_url.rstrip("/")
    assert requests, "the network log is empty"
    assert any(r.startswith("ws://") for r in requests) and any("/lib/" in r for r in requests)
    elsewhere = [r for r in requests if not (r.startswith(origin) or r.startswith(origin.replace("http", "ws", 1))
                                             or r.startswith(("data:", "blob:")))]
    assert not elsewhere
