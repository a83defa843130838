"""How quickly the app's page answers a click, idle and while a run is going (side by side, one script).

Starts ``orgsim app`` on a free local port, drives Debian's headless Chromium
with Playwright, and times "Step" (the click until the new frame's title is on
the page) and "Back" alternately: ``--clicks`` times with no run, then as many
times while a run of ``--replications`` replications is simulating. Prints the
median and the largest, and the ratio of the medians (during / idle): the
simulation holds Python's lock one replication at a time, so the page should
answer within about one replication's time.

    python benchmarks/app_latency.py                     # Yantai (34 operators), 50 replications
    python benchmarks/app_latency.py --scenario scenarios/tutorial.yaml
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def click_times(page: Any, n: int, running: Callable[[], bool]) -> list[float]:
    out = []
    for i in range(n):
        if not running():
            break
        button, want = ("#step", "Step 1 ") if i % 2 == 0 else ("#back", "Before the reforms")
        started = time.perf_counter()
        page.click(button)
        page.wait_for_function("w => document.querySelector('#frame-title').innerText.startsWith(w)", arg=want)
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "yantai_zones_2020.yaml"))
    parser.add_argument("--replications", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(sys.argv)}")
    print(f"# python {platform.python_version()}, load average {os.getloadavg()}")
    server = subprocess.Popen([sys.executable, "-c", "from orgsim.cli import main; main()", "app", args.scenario,
                               "--port", "0", "--lang", "en"], stderr=subprocess.PIPE, text=True)
    assert server.stderr is not None
    line = server.stderr.readline()
    threading.Thread(target=server.stderr.read, daemon=True).start()
    url = re.search(r"http://\S+/", line)
    assert url, line
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(120_000)
            page.goto(url.group(0))
            page.wait_for_selector("#orgchart .unit")
            idle = click_times(page, args.clicks, lambda: True)
            page.evaluate(f"Shiny.setInputValue('replications', {args.replications})")
            page.click("#run")
            page.wait_for_selector("#run-status[data-state=running]")
            started = time.perf_counter()
            busy = click_times(page, args.clicks,
                               lambda: page.get_attribute("#run-status", "data-state") == "running")
            page.wait_for_selector("#run-status[data-state=done]", timeout=1_800_000)
            run_seconds = time.perf_counter() - started
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    for label, times in (("idle", idle), ("during a run", busy)):
        print(f"{label:>13}: {len(times)} clicks, median {statistics.median(times) * 1000:.0f} ms, "
              f"largest {max(times) * 1000:.0f} ms")
    print(f"ratio of medians (during / idle): {statistics.median(busy) / statistics.median(idle):.2f}")
    print(f"the run: {args.replications} replications before and after, {run_seconds:.1f} s from the click "
          "until the page said done (at least)")


if __name__ == "__main__":
    main()
