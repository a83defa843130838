"""``orgsim app``: a bad scenario is said before any server starts, and the web framework loads only to serve."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"

_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.__stderr__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
from orgsim.cli import main
main(sys.argv[1:], prog_name="orgsim")
"""


def bad_copy(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TUTORIAL.read_text(encoding="utf-8").replace("cap: 60", "cap: -5"), encoding="utf-8")
    return bad


def test_a_bad_scenario_gives_the_located_message_and_exit_2(tmp_path: Path) -> None:
    bad = bad_copy(tmp_path)
    app = CliRunner().invoke(main, ["app", str(bad), "--port", "0"])
    validate = CliRunner().invoke(main, ["validate", str(bad)])
    assert app.exit_code == validate.exit_code == 2
    assert app.stderr == validate.stderr and "bad.yaml:" in app.stderr and "Traceback" not in app.output


def test_a_reform_that_does_not_apply_is_said_before_serving(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TUTORIAL.read_text(encoding="utf-8").replace("to: lpc", "to: nowhere"), encoding="utf-8")
    done = CliRunner().invoke(main, ["app", str(broken), "--port", "0"])
    line = 1 + broken.read_text(encoding="utf-8").splitlines().index("      - op: devolve")  # where it starts
    assert done.exit_code == 2 and f"broken.yaml:{line}: reforms[0].reforms[1]: devolve" in done.stderr, done.output


def test_a_scenario_with_packages_is_refused_before_serving(tmp_path: Path) -> None:
    import yaml

    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["packages"] = {"full": doc.pop("reforms"), "none": []}
    path = tmp_path / "packages.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    done = CliRunner().invoke(main, ["app", str(path), "--port", "0"])
    assert done.exit_code == 2 and "compares packages (full, none)" in done.stderr, done.output


@pytest.mark.slow  # a fresh interpreter
def test_no_server_and_no_web_framework_for_a_bad_file(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE, "app", str(bad_copy(tmp_path))], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "bad.yaml:" in done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stderr.rsplit("MODULES ", 1)[1])}
    assert not loaded & {"shiny", "uvicorn", "starlette", "matplotlib"}


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = CliRunner().invoke(main, ["app", str(TUTORIAL), "--port", str(port)])
    assert done.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in done.output


def test_without_the_app_extra_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shiny", None)  # import shiny now raises ImportError
    done = CliRunner().invoke(main, ["app", str(TUTORIAL), "--port", "0"])
    assert done.exit_code == 2 and 'pip install "orgsim[app]"' in done.stderr
