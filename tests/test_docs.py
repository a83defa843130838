"""docs/scenario-format.md is a test: its examples are accepted and it covers the schema.

Conventions in the document. A directive is an HTML comment (invisible when
rendered) on the last non-blank line before a fenced block; it holds
``key: value`` pairs separated by ``;``.

- A ```yaml block with a top-level ``scenario:`` key is a complete scenario:
  it must load (:func:`orgsim.scenario.parse_scenario`) and its reforms must
  apply (:func:`orgsim.reforms.reform_scenario`). ``<!-- example: NAME -->``
  names it, so that fragments can be applied to it.
- ``<!-- validate: TYPE -->`` marks a fragment, validated with pydantic's
  ``TypeAdapter(TYPE)``; TYPE is a name in :mod:`orgsim.scenario.schema` or
  :mod:`orgsim.distributions` (``UnitSpec``, ``ReformOp``, ``Distribution``
  ...). A YAML list is validated item by item.
- ``apply-to: NAME`` (with ``validate: ReformOp`` or ``ReformItem``) also
  applies the fragment, as the whole ``reforms`` list, to the named complete
  scenario; ``name: NAME`` names such a fragment for the tests below.
- ``<!-- validate: error -->`` marks a complete scenario that must fail; the
  next block, a ```text block marked ``<!-- output: errors -->``, holds the
  exact lines ``orgsim validate broken.yaml`` prints on standard error.
- ``<!-- output: changes -->`` on a ```text block: every line is a change (as
  ``orgsim apply`` prints it) that the last applied fragment before it made.

Every ```yaml block must be a complete scenario or carry ``validate``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import TypeAdapter

import orgsim.distributions as distributions
import orgsim.scenario.schema as schema
from orgsim.cli import main
from orgsim.model.metrics import structure_metrics
from orgsim.reforms import ReformOutcome, reform_scenario
from orgsim.scenario import parse_scenario
from orgsim.scenario.schema import Scenario

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenario-format.md"
TEXT = DOC.read_text(encoding="utf-8")

FENCE = re.compile(r"^```(\S*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*(.*?)\s*-->$")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
KNOWN_KEYS = {"validate", "apply-to", "name", "example", "output"}


@dataclass
class Block:
    lang: str
    line: int  # line of the opening fence, counting from 1
    text: str
    directive: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{DOC.name}:{self.line}"

    def data(self) -> Any:
        return yaml.safe_load(self.text)

    def is_complete(self) -> bool:
        data = self.data()
        return isinstance(data, dict) and "scenario" in data


def _parse_directive(comment: str) -> dict[str, str]:
    out = {}
    for part in comment.split(";"):
        key, sep, value = part.partition(":")
        out[key.strip()] = value.strip() if sep else ""
    return out


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        directive: dict[str, str] = {}
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (d := DIRECTIVE.match(lines[k].strip())):
            directive = _parse_directive(d.group(1))
        blocks.append(Block(m.group(1), start + 1, "\n".join(body) + "\n", directive))
        i += 1
    return blocks


BLOCKS = _blocks(TEXT)
YAML_BLOCKS = [b for b in BLOCKS if b.lang == "yaml"]
COMPLETE = [b for b in YAML_BLOCKS if b.is_complete() and b.directive.get("validate") != "error"]
FRAGMENTS = [b for b in YAML_BLOCKS if b.directive.get("validate") not in (None, "error")]
APPLIED = [b for b in FRAGMENTS if "apply-to" in b.directive]
ERRORS = [b for b in YAML_BLOCKS if b.directive.get("validate") == "error"]
EXAMPLES = {b.directive["example"]: b for b in COMPLETE if "example" in b.directive}


def _ids(blocks: list[Block]) -> list[str]:
    return [b.where for b in blocks]


def _previous(block: Block, candidates: list[Block]) -> Block:
    before = [c for c in candidates if c.line < block.line]
    assert before, f"{block.where}: no block before it to compare with"
    return before[-1]


def _check_ledger(outcome: ReformOutcome) -> None:
    """The conservation identities of orgsim.model.org.Ledger, stated in the doc."""
    before, after = outcome.before, outcome.after
    ledger = after.ledger
    assert (
        before.zone_headcount() + ledger.total("moved_in") + ledger.total("hired")
        == after.zone_headcount() + ledger.total("moved_out") + ledger.total("released")
    )
    assert (
        before.total_headcount() + ledger.total("hired") + ledger.total("hired_outside")
        == after.total_headcount() + ledger.total("released") + ledger.total("released_outside")
    )


def _apply(block: Block) -> ReformOutcome:
    """Apply a reform fragment to the complete scenario it names."""
    base = EXAMPLES[block.directive["apply-to"]].data()
    reforms = block.data()
    base["reforms"] = reforms if isinstance(reforms, list) else [reforms]
    text = yaml.safe_dump(base, allow_unicode=True, sort_keys=False)
    return reform_scenario(parse_scenario(text, block.where))


def _type(name: str) -> Any:
    for module in (schema, distributions):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"no type {name!r} in orgsim.scenario.schema or orgsim.distributions")


# ---------------------------------------------------------------- the examples


def test_the_document_has_examples_of_every_kind() -> None:
    assert COMPLETE and FRAGMENTS and APPLIED and ERRORS
    assert "example-zone" in EXAMPLES
    # the minimal scenario: nothing but a name and one unit
    assert any(set(b.data()) == {"scenario", "units"} and len(b.data()["units"]) == 1 for b in COMPLETE)


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=_ids(YAML_BLOCKS))
def test_every_yaml_block_is_checked(block: Block) -> None:
    assert block.is_complete() or "validate" in block.directive, (
        f"{block.where}: a YAML example must be a complete scenario or carry <!-- validate: TYPE -->"
    )


def test_directives_name_known_blocks() -> None:
    for b in BLOCKS:
        unknown = set(b.directive) - KNOWN_KEYS
        assert not unknown, f"{b.where}: unknown directive keys {sorted(unknown)}"
        if "apply-to" in b.directive:
            assert b.directive["apply-to"] in EXAMPLES, f"{b.where}: no example {b.directive['apply-to']!r}"
        if "output" in b.directive:
            assert b.lang == "text" and b.directive["output"] in ("changes", "errors"), b.where
    names = [b.directive["example"] for b in BLOCKS if "example" in b.directive]
    assert len(names) == len(set(names)), "two examples share a name"


@pytest.mark.parametrize("block", COMPLETE, ids=_ids(COMPLETE))
def test_complete_scenario_loads_and_its_reforms_apply(block: Block) -> None:
    scenario = parse_scenario(block.text, block.where)
    for package in scenario.packages or [None]:
        outcome = reform_scenario(scenario, package=package)
        assert len(outcome.states) == len(scenario.operators(package))
        _check_ledger(outcome)


@pytest.mark.parametrize("block", FRAGMENTS, ids=_ids(FRAGMENTS))
def test_fragment_validates(block: Block) -> None:
    adapter = TypeAdapter(_type(block.directive["validate"]))
    data = block.data()
    for item in data if isinstance(data, list) else [data]:
        adapter.validate_python(item)


@pytest.mark.parametrize("block", APPLIED, ids=_ids(APPLIED))
def test_reform_fragment_applies_to_its_example(block: Block) -> None:
    assert block.directive["validate"] in ("ReformOp", "ReformItem"), block.where
    outcome = _apply(block)
    assert outcome.changes
    _check_ledger(outcome)


OUTPUT_CHANGES = [b for b in BLOCKS if b.directive.get("output") == "changes"]


@pytest.mark.parametrize("block", OUTPUT_CHANGES, ids=_ids(OUTPUT_CHANGES))
def test_shown_changes_are_what_the_operator_does(block: Block) -> None:
    made = {str(c) for c in _apply(_previous(block, APPLIED)).changes}
    for line in block.text.splitlines():
        if line.strip():
            assert line.strip() in made, f"{block.where}: the operator did not log {line.strip()!r}"


@pytest.mark.parametrize("block", ERRORS, ids=_ids(ERRORS))
def test_error_example_prints_the_documented_lines(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = [b for b in BLOCKS if b.directive.get("output") == "errors" and b.line > block.line]
    assert outputs, f"{block.where}: no <!-- output: errors --> block after it"
    expected = outputs[0]
    assert _previous(expected, ERRORS) is block, f"{expected.where}: belongs to another example"
    monkeypatch.chdir(tmp_path)  # the messages name the file as given: broken.yaml
    Path("broken.yaml").write_text(block.text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "broken.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [x for x in expected.text.splitlines() if x.strip()]


# ---------------------------------------------------------------- the numbers in the prose


def test_numbers_quoted_for_the_example_zone() -> None:
    outcome = reform_scenario(parse_scenario(EXAMPLES["example-zone"].text))
    m = structure_metrics(outcome.before)
    assert (m.units, m.internal_bodies, m.institutions, m.headcount, m.layers) == (10, 7, 2, 103, 3)
    assert m.headcount_by_category == {"leaders": 26, "frontline": 49, "support": 28}
    assert m.power_items_city == 12


def test_numbers_quoted_in_how_staff_are_counted() -> None:
    (package,) = [b for b in APPLIED if b.directive.get("name") == "package"]
    outcome = _apply(package)
    ledger = outcome.after.ledger
    assert (outcome.before.zone_headcount(), outcome.after.zone_headcount()) == (103, 70)
    assert (outcome.before.total_headcount(), outcome.after.total_headcount()) == (134, 118)
    assert ledger.moved_in == {"city_department": 5}
    assert ledger.moved_out == {"sub_district": 17, "company": 10}
    assert (ledger.total("released"), ledger.total("hired")) == (11, 0)
    assert (ledger.total("released_outside"), ledger.total("hired_outside")) == (5, 0)
    destinations = structure_metrics(outcome.after).headcount_by_destination
    shown = "zone 70, sub_districts 17, companies 10, released 11, moved_in 5"
    assert ", ".join(f"{k} {v}" for k, v in destinations.items() if v) == shown
    assert shown in TEXT


# ---------------------------------------------------------------- coverage of the schema


def _allowed_values(node: Any) -> set[str]:
    """Every string a JSON Schema allows by ``enum`` or ``const``."""
    out: set[str] = set()
    if isinstance(node, dict):
        out |= {v for v in node.get("enum", []) if isinstance(v, str)}
        if isinstance(node.get("const"), str):
            out.add(node["const"])
        for value in node.values():
            out |= _allowed_values(value)
    elif isinstance(node, list):
        for value in node:
            out |= _allowed_values(value)
    return out


JSON_SCHEMA = Scenario.model_json_schema()
MODELS: dict[str, list[str]] = {
    name: list(model.get("properties", {}))
    for name, model in {"Scenario": JSON_SCHEMA, **JSON_SCHEMA["$defs"]}.items()
}


def _sections(text: str) -> list[tuple[str, str]]:
    """(own text, scope) of every heading: own text runs to the next heading,
    scope to the next heading of the same or a higher level."""
    lines = text.splitlines()
    heads = [(i, len(m.group(1))) for i, line in enumerate(lines) if (m := HEADING.match(line))]
    out = []
    for k, (i, level) in enumerate(heads):
        own_end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        scope_end = next((j for j, lv in heads[k + 1 :] if lv <= level), len(lines))
        out.append(("\n".join(lines[i:own_end]), "\n".join(lines[i:scope_end])))
    return out


SECTIONS = _sections(TEXT)


def test_every_field_of_every_model_is_documented() -> None:
    missing = sorted({f for fields in MODELS.values() for f in fields if f"`{f}`" not in TEXT})
    assert not missing, f"fields not documented in {DOC.name}: {missing}"


@pytest.mark.parametrize("model", sorted(MODELS))
def test_each_model_has_a_section_listing_its_fields(model: str) -> None:
    scopes = [scope for own, scope in SECTIONS if f"`{model}`" in own]
    assert scopes, f"no section of {DOC.name} introduces `{model}`"
    best = min(scopes, key=lambda scope: sum(f"`{f}`" not in scope for f in MODELS[model]))
    missing = [f for f in MODELS[model] if f"`{f}`" not in best]
    assert not missing, f"the section on `{model}` does not mention {missing}"


def test_every_allowed_value_is_documented() -> None:
    values = _allowed_values(JSON_SCHEMA)
    assert {"merge", "licensing", "committee", "exponential", "weeks"} <= values
    missing = sorted(v for v in values if f"`{v}`" not in TEXT)
    assert not missing, f"allowed values not documented in {DOC.name}: {missing}"


def test_every_power_category_has_its_chinese_name() -> None:
    chinese = {
        "licensing": "行政许可", "penalty": "行政处罚", "coercion": "行政强制", "levy": "行政征收",
        "payment": "行政给付", "inspection": "行政检查", "confirmation": "行政确认",
        "reward": "行政奖励", "adjudication": "行政裁决", "other_power": "其他行政权力",
    }
    assert set(chinese) == set(schema.POWER_CATEGORIES)
    for category, name in chinese.items():
        assert re.search(rf"\| `{category}` \| {name} \|", TEXT), category


def test_every_operator_has_a_section() -> None:
    from orgsim.reforms import OPERATORS

    headings = {m.group(2).strip() for line in TEXT.splitlines() if (m := HEADING.match(line))}
    assert set(OPERATORS) <= headings
    applied = {op["op"] for b in APPLIED for op in _operators(b.data())}
    assert set(OPERATORS) <= applied, f"operators without an applied example: {set(OPERATORS) - applied}"


def _operators(data: Any) -> list[dict]:
    items = data if isinstance(data, list) else [data]
    out: list[dict] = []
    for item in items:
        out += item["reforms"] if "phase" in item else [item]
    return out
