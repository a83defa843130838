"""Languages: the shipped Chinese catalog covers every message and is compiled from its source;
which language a command speaks (--lang, ORGSIM_LANG, scenario.language, English)."""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from orgsim import i18n
from orgsim.cli import main
from orgsim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial.yaml"
sys.path.insert(0, str(ROOT / "tools"))
catalog = pytest.importorskip("catalog")
pytest.importorskip("babel")


def test_every_message_in_the_code_has_a_chinese_entry() -> None:
    """Every _(), N_(), ngettext() and pgettext() message of the package and its templates."""
    extracted = [m for m in catalog.extract() if m.id]
    assert len(extracted) > 250  # the extraction sees the code (a broken babel.cfg would see nothing)
    assert catalog.missing() == []


def test_the_check_has_power(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A message added to the code without a Chinese entry is reported."""
    original = catalog.extract

    def with_new_message():  # noqa: ANN202
        c = original()
        c.add("a message nobody translated")
        return c

    monkeypatch.setattr(catalog, "extract", with_new_message)
    assert catalog.missing() == ["'a message nobody translated'"]


def test_the_shipped_catalog_is_compiled_from_its_source() -> None:
    assert catalog.MO.read_bytes() == catalog.compiled(catalog.read_po())


def test_the_template_lists_exactly_the_messages_of_the_code() -> None:
    from babel.messages.pofile import read_po

    with open(catalog.POT, "rb") as fh:
        pot = read_po(fh)
    ids = {(m.context, m.id) for m in pot if m.id}
    assert ids == {(m.context, m.id) for m in catalog.extract() if m.id}
    po = catalog.read_po()
    assert {(m.context, m.id) for m in po if m.id} == ids  # no obsolete entries either


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


#: Fields the code passes beyond those its English text shows: Chinese counts a list's items in all
#: ("A、B等 12 项"), English the ones left out ("A, B and 10 more").
EXTRA_FIELDS = {"{names} and {n} more": {"total"}}


def test_translations_keep_every_placeholder() -> None:
    """A translation that drops or renames {n} would fail at run time, or say less."""
    for m in catalog.read_po():
        if not m.id:
            continue
        sources = m.id if isinstance(m.id, tuple) else (m.id,)
        targets = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set().union(*(_fields(s) for s in sources))
        extra = EXTRA_FIELDS.get(sources[0], set())
        for t in targets:
            got = _fields(t)
            assert got <= wanted | extra, (m.id, t)  # nothing the code does not pass
            if not extra:  # and everything the English says
                assert got == wanted, (m.id, t)


def test_units_are_in_chinese() -> None:
    with i18n.use_language("zh"):
        assert i18n._("working days") == "工作日"
        assert i18n._("calendar days") == "自然日"
        assert i18n.ngettext("{n} person", "{n} people", 3).format(n=3) == "3 人"
    with i18n.use_language("en"):
        assert i18n._("working days") == "working days"


def test_which_language(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["scenario"]["language"] = "zh"
    chinese = parse_scenario(yaml.safe_dump(doc, allow_unicode=True), "zh.yaml")
    monkeypatch.delenv("ORGSIM_LANG", raising=False)
    assert i18n.resolve_language(None, None) == "en"
    assert i18n.resolve_language(None, chinese) == "zh"  # the scenario's
    assert i18n.resolve_language("en", chinese) == "en"  # --lang first
    monkeypatch.setenv("ORGSIM_LANG", "en")
    assert i18n.resolve_language(None, chinese) == "en"  # then the environment
    monkeypatch.setenv("ORGSIM_LANG", "zh-CN")
    assert i18n.resolve_language(None, None) == "zh"
    monkeypatch.setenv("ORGSIM_LANG", "fr")
    with pytest.raises(ValueError, match="ORGSIM_LANG: unknown language 'fr'"):
        i18n.resolve_language(None, None)


def test_a_bad_language_in_the_scenario_is_a_located_error(tmp_path: Path) -> None:
    doc = yaml.safe_load(TUTORIAL.read_text(encoding="utf-8"))
    doc["scenario"]["language"] = "fr"
    path = tmp_path / "fr.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert re.search(rf"^error: {re.escape(str(path))}:\d+: scenario\.language: ", result.stderr, re.M), result.stderr


@pytest.mark.parametrize("command", [["validate"], ["show"], ["apply"], ["estimate"]])
def test_every_command_speaks_chinese_on_request(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORGSIM_LANG", raising=False)
    english = CliRunner().invoke(main, [*command, str(TUTORIAL)])
    chinese = CliRunner().invoke(main, [*command, str(TUTORIAL), "--lang", "zh"])
    by_env = CliRunner().invoke(main, [*command, str(TUTORIAL)], env={"ORGSIM_LANG": "zh"})
    assert english.exit_code == chinese.exit_code == by_env.exit_code == 0, chinese.output
    assert chinese.stdout == by_env.stdout != english.stdout
    shown = chinese.stdout.replace(str(TUTORIAL), "")  # the file's own path
    cjk = len(re.findall(r"[\u4e00-\u9fff]", shown))
    latin = len(re.findall(r"[A-Za-z]", shown))
    assert cjk > latin, chinese.stdout


def test_every_command_takes_lang() -> None:
    from orgsim.cli import COMMANDS

    for name in COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert "--lang [en|zh]" in result.stdout, name


def test_an_unknown_language_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["show", str(TUTORIAL), "--lang", "fr"])
    assert result.exit_code == 2 and "--lang" in result.stderr
    result = CliRunner().invoke(main, ["show", str(TUTORIAL)], env={"ORGSIM_LANG": "fr"})
    assert result.exit_code == 2 and "Traceback" not in result.output
