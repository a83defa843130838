"""The corpus of malformed scenarios: each gives its exact message, exit code 2.

``tests/data/bad/`` holds one broken scenario per file (YAML syntax, encoding,
format, references, reforms, sizes, alias bombs, Python tags) and
``expected.yaml`` the exact lines ``orgsim validate FILE`` prints on standard
error for each, run from that folder. A change to a message is a change to
this manifest, made on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from orgsim.cli import main

BAD = Path(__file__).parent / "data" / "bad"
MANIFEST = BAD / "expected.yaml"
EXPECTED: dict[str, list[str]] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
CASES = sorted(p.name for p in BAD.iterdir() if p.name != MANIFEST.name)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_every_file_has_an_expected_message_and_there_are_enough() -> None:
    assert sorted(EXPECTED) == CASES
    assert len(CASES) >= 30
    for name, lines in EXPECTED.items():
        assert isinstance(lines, list) and lines, name
        assert all(isinstance(line, str) and line.startswith(f"error: {name}") for line in lines), name


@pytest.mark.parametrize("name", CASES)
def test_bad_file_gives_its_exact_message(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    before = _snapshot(BAD)
    result = CliRunner().invoke(main, ["validate", name])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == EXPECTED[name]
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert _snapshot(BAD) == before  # nothing written (not even by a Python tag)


def test_the_messages_name_the_file_and_mostly_a_field_and_a_line() -> None:
    lines = [line for name in CASES for line in EXPECTED[name]]
    with_line = [line for line in lines if line.split(": ", 2)[1].split(":")[-1].isdigit()]
    # Only the empty, binary and deeply broken files have no line to point at.
    assert len(with_line) >= len(lines) - 5


def test_validate_reports_every_bad_file_and_keeps_going(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    good = str(Path(__file__).parents[1] / "scenarios" / "tutorial.yaml")
    names = ["12_negative_support.yaml", good, "04_empty.yaml"]
    result = CliRunner().invoke(main, ["validate", *names])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == EXPECTED[names[0]] + EXPECTED[names[2]]
    assert result.stdout.startswith(f"ok: {good} ")


@pytest.mark.parametrize("command", [["show"], ["show", "--after", "--json"], ["apply"], ["apply", "--json"]])
@pytest.mark.parametrize(
    "name", ["09_unknown_section.yaml", "25_operator_leaves_power_unstaffed.yaml", "29_alias_bomb.yaml"]
)
def test_show_and_apply_give_the_same_messages(name: str, command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = CliRunner().invoke(main, [*command, name])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == EXPECTED[name]
    assert result.stdout == ""
    assert "Traceback" not in result.output
