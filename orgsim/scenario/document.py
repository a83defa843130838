"""A scenario file as plain data, and plain data back to scenario text: for tools that write scenarios.

``orgsim import`` and ``orgsim calibrate`` write scenario files built from
another one: :func:`read_document` gives a (validated) scenario file's data
as the loader reads it (YAML 1.2 core types), :func:`document_text` writes
data as YAML a person can read, and :func:`check_document` parses that text
as ``orgsim validate`` would, reforms included, so that a tool writes only a
scenario that loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orgsim.scenario.loader import _read_yaml, load_scenario, parse_scenario
from orgsim.scenario.schema import Scenario

__all__ = ["read_document", "document_text", "check_document"]


def read_document(path: str | Path, *, allow_outside: bool = False,
                  max_memory_bytes: float | None = None) -> tuple[Scenario, dict[str, Any]]:
    """The scenario in ``path`` (validated, as :func:`load_scenario`) and its data, as the loader read it."""
    scenario = load_scenario(path, allow_outside=allow_outside, max_memory_bytes=max_memory_bytes)
    text = Path(path).read_bytes().decode("utf-8-sig")
    data = _read_yaml(text, str(path))[2]
    return scenario, data


class _Dumper(yaml.SafeDumper):
    """Block style, but flow style for small mappings of scalars (a distribution, leaders)."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    small = (len(data) <= 6 and all(not isinstance(v, (dict, list)) for v in data.values())
             and sum(len(str(k)) + len(str(v)) for k, v in data.items()) < 70)
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=small)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    small = len(data) <= 8 and all(not isinstance(v, (dict, list)) for v in data) and len(str(data)) < 70
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=small)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def document_text(doc: dict[str, Any], header: str = "") -> str:
    """``doc`` as scenario YAML, after ``header`` (comment lines)."""
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)
    return comment + body


def check_document(text: str, file: str, base_dir: Path | None = None, *, allow_outside: bool = False,
                   max_memory_bytes: float | None = None) -> Scenario:
    """``text`` parsed and its reforms applied, as ``orgsim validate`` does; ScenarioError/ReformError if not."""
    from orgsim.reforms import reform_scenario

    scenario = parse_scenario(text, file, base_dir, allow_outside=allow_outside, max_memory_bytes=max_memory_bytes)
    reform_scenario(scenario)
    return scenario
