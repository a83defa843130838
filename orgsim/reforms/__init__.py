"""Reform operators: pure functions ``(Org, spec) -> (Org, [Change])``.

:func:`apply_reforms` runs a scenario's package in order, checks the
organisation's invariants after every operator and keeps every intermediate
state, so a notebook can show what each lever adds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from dataclasses import dataclass

from orgsim.errors import OrgValidationError, Problem, ReformError
from orgsim.model.build import build_org
from orgsim.model.org import Org
from orgsim.model.validate import org_problem_locations, org_problems
from orgsim.reforms.changelog import Change
from orgsim.reforms.functions import devolve, enforcement_bureau, one_stop, one_window, spin_off, strip
from orgsim.reforms.paths import agency_service, coordinate, merge_steps, parallelize
from orgsim.reforms.structure import cap_headcount, flatten, merge, merge_zones, set_leadership
from orgsim.scenario.schema import Phase, ReformOp, Scenario

__all__ = [
    "OPERATORS", "Change", "ReformOutcome", "apply_reform", "apply_reforms", "reform_scenario", "reform_packages",
    "merge", "merge_zones", "strip", "devolve", "flatten", "one_stop", "parallelize",
    "merge_steps", "agency_service", "spin_off", "cap_headcount", "set_leadership", "coordinate", "one_window",
    "enforcement_bureau",
]

Operator = Callable[..., tuple[Org, list[Change]]]

OPERATORS: dict[str, Operator] = {
    "merge": merge,
    "merge_zones": merge_zones,
    "strip": strip,
    "devolve": devolve,
    "flatten": flatten,
    "one_stop": one_stop,
    "parallelize": parallelize,
    "merge_steps": merge_steps,
    "agency_service": agency_service,
    "spin_off": spin_off,
    "cap_headcount": cap_headcount,
    "set_leadership": set_leadership,
    "coordinate": coordinate,
    "one_window": one_window,
    "enforcement_bureau": enforcement_bureau,
}


def apply_reform(org: Org, spec: ReformOp, phase: str | None = None) -> tuple[Org, list[Change]]:
    """Apply one operator and check the invariants of the result."""
    new, changes = OPERATORS[spec.op](org, spec, phase)
    problems = org_problems(new)
    if problems:
        raise OrgValidationError(
            f"{spec.op} would break the organisation: " + "; ".join(p.message for p in problems),
            problems,
        )
    return new, changes


@dataclass(frozen=True)
class ReformOutcome:
    """The states an organisation passed through, and what changed at each step."""

    before: Org
    after: Org
    #: (label, state) after each operator, in order.
    states: tuple[tuple[str, Org], ...]
    changes: tuple[Change, ...]
    #: The package applied (None: the scenario's ``reforms``).
    package: str | None = None

    def change_rows(self) -> list[dict]:
        return [c.to_dict() for c in self.changes]


def _locations(scenario: Scenario, package: str | None = None) -> list[tuple[tuple, str | None, ReformOp]]:
    out: list[tuple[tuple, str | None, ReformOp]] = []
    top: tuple = ("reforms",) if package is None else ("packages", package)
    for i, item in enumerate(scenario.reforms if package is None else scenario.packages[package]):
        if isinstance(item, Phase):
            out += [(top + (i, "reforms", j), item.phase, op) for j, op in enumerate(item.reforms)]
        else:
            out.append((top + (i,), None, item))
    return out


def apply_reforms(
    org: Org, scenario: Scenario, upto: int | None = None, skip: Sequence[int] = (), package: str | None = None
) -> ReformOutcome:
    """Apply the scenario's reforms in order (the first ``upto``, leaving out ``skip``), or one of its packages.

    A failing operator raises :class:`ReformError` or
    :class:`OrgValidationError` whose problem names the file, the operator's
    place in ``reforms`` (or ``packages``) and its line.
    """
    from orgsim.scenario.loader import format_path

    _check_package(scenario, package)
    states: list[tuple[str, Org]] = []
    changes: list[Change] = []
    current = org
    for k, (loc, phase, spec) in enumerate(_locations(scenario, package)):
        if upto is not None and k >= upto:
            break
        if k in skip:
            continue
        try:
            current, done = apply_reform(current, spec, phase)
        except (ReformError, OrgValidationError) as exc:
            where = format_path(loc)
            line = scenario.line_of(loc)
            problem = Problem(where, str(exc), scenario.source_file, line)
            raise type(exc)(f"{scenario.source_file}: {where}: {exc}", [problem]) from None
        label = spec.label or (f"{phase}: {spec.op}" if phase else spec.op)
        states.append((label, current))
        changes += done
    return ReformOutcome(org, current, tuple(states), tuple(changes), package)


def _check_package(scenario: Scenario, package: str | None) -> None:
    if package is None and scenario.packages:
        raise ReformError(f"{scenario.source_file}: the scenario compares packages "
                          f"{', '.join(scenario.packages)}: name one", [Problem(
                              "packages", f"the scenario has packages {', '.join(scenario.packages)}: choose one "
                              "(--package NAME)", scenario.source_file, scenario.line_of(("packages",)))])
    if package is not None and package not in scenario.packages:
        known = ", ".join(scenario.packages) or "none (the scenario has one reform list)"
        raise ReformError(f"{scenario.source_file}: no package {package!r}", [Problem(
            "packages", f"no package {package!r}; packages: {known}", scenario.source_file,
            scenario.line_of(("packages",)))])


def reform_scenario(
    scenario: Scenario, upto: int | None = None, skip: Sequence[int] = (), package: str | None = None
) -> ReformOutcome:
    """Build the scenario's organisation, check it, and apply its reforms (or the package ``package``)."""
    from orgsim.scenario.loader import format_path

    _check_package(scenario, package)
    org = build_org(scenario)
    found = org_problem_locations(org)
    if found:
        problems = []
        for loc, message in found:
            where = _file_location(scenario, loc)
            problems.append(Problem(format_path(where), message, scenario.source_file, scenario.line_of(where)))
        raise OrgValidationError(f"{scenario.source_file}: {len(problems)} invariant(s) broken", problems)
    return apply_reforms(org, scenario, upto, skip, package)


def reform_packages(scenario: Scenario) -> dict[str, ReformOutcome]:
    """Every reformed state of the scenario by name: ``{"after": ...}``, or one per package (same ``before``)."""
    if not scenario.packages:
        return {"after": reform_scenario(scenario)}
    first = reform_scenario(scenario, package=next(iter(scenario.packages)))
    out = {next(iter(scenario.packages)): first}
    for name in list(scenario.packages)[1:]:
        out[name] = apply_reforms(first.before, scenario, package=name)
    return out


def _file_location(scenario: Scenario, loc: tuple[str, ...]) -> tuple[str | int, ...]:
    """An organisation check's location (``units``, id, field) as the file's path (``units``, index, field)."""
    project_types = scenario.workload.project_types if scenario.workload is not None else []
    lists: dict[str, Sequence[Any]] = {"units": scenario.units, "functions": scenario.functions,
                                       "workload": project_types}
    if len(loc) >= 2 and loc[0] in lists:
        index = next((i for i, item in enumerate(lists[loc[0]]) if item.id == loc[1]), None)
        if index is not None:
            head: tuple[str | int, ...] = (
                ("workload", "project_types", index) if loc[0] == "workload" else (loc[0], index))
            rest: tuple[str | int, ...] = loc[2:]
            if loc[0] == "workload" and len(rest) >= 2 and rest[0] == "steps":
                steps = project_types[index].steps
                step = next((k for k, st in enumerate(steps) if st.id == rest[1]), None)
                rest = ("steps", step, *rest[2:]) if step is not None else ("steps",)
            return head + rest
    return loc
