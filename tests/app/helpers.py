"""Scenario files edited as a person would, for the app's tests: independent of the app's own levers."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["first_operators", "without_operator"]


def first_operators(path: Path, k: int, out: Path) -> Path:
    """The scenario file with only its first ``k`` operators, written to ``out`` (phases emptied are dropped)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    kept, seen = [], 0
    for item in doc.get("reforms") or []:
        if isinstance(item, dict) and "phase" in item:
            ops = item["reforms"][: max(0, k - seen)]
            seen += len(item["reforms"])
            if ops:
                kept.append({**item, "reforms": ops})
        else:
            if seen < k:
                kept.append(item)
            seen += 1
    doc["reforms"] = kept
    # A re-appointment must name a phase of the file: one for a phase cut off goes with it.
    workforce = doc.get("workforce") or {}
    if workforce.get("reappointments"):
        phases = {str(item["phase"]) for item in kept if isinstance(item, dict) and "phase" in item}
        workforce["reappointments"] = [r for r in workforce["reappointments"] if str(r["phase"]) in phases]
    out.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def without_operator(path: Path, op: str, out: Path) -> Path:
    """The scenario file without its (one) operator ``op``, written to ``out``."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    removed = 0
    for item in doc.get("reforms") or []:
        if isinstance(item, dict) and "phase" in item:
            before = len(item["reforms"])
            item["reforms"] = [o for o in item["reforms"] if o.get("op") != op]
            removed += before - len(item["reforms"])
    doc["reforms"] = [i for i in doc["reforms"] if not (isinstance(i, dict) and i.get("op") == op)]
    assert removed == 1, f"expected one {op} operator in a phase, found {removed}"
    out.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
