"""The change log as sentences: one per reform operator, with names, in the language in force.

"规划局、国土局、建设局 合并为 国土规划建设局；领导职数 9 → 4；精简 8 人" rather than
32 rows of codes. Each sentence is read from the operator's specification and
from the organisation just before and just after it (which units and
functions it moved, created or removed, and its staff ledger), so it says
what the operator did, not what it was asked to do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from orgsim.i18n import N_, _, ngettext
from orgsim.model import org as o
from orgsim.presentation.names import Names, join_names, pick_text

__all__ = ["ChangeSentence", "change_sentences"]


@dataclass(frozen=True)
class ChangeSentence:
    """What one operator did, in words."""

    #: 1-based position of the operator in the package.
    number: int
    #: The operator's phase by name, in the language in force (``phase_en`` in English), if any.
    phase: str | None
    op: str
    #: The operator's free-text label in the scenario (``label`` or ``label_en``, by language), if any.
    label: str | None
    text: str
    #: The operator's own clause (what kind of change, on what), without what followed from it.
    head: str = ""


def _posts(org: o.Org, units: Any) -> int:
    g = org.graph
    return sum(g.nodes[u][o.CHIEF] + g.nodes[u][o.DEPUTIES] for u in units if org.is_unit(u))


def _zone_posts(org: o.Org) -> int:
    return _posts(org, org.zone_units())


def _moves(pre: o.Org, post: o.Org) -> dict[tuple[str, str], list[str]]:
    """Functions whose owner changed, grouped by (old owner, new owner), in the scenario's order."""
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in post.functions():
        if pre.is_function(f) and pre.owner(f) != post.owner(f):
            out[(pre.owner(f), post.owner(f))].append(f)
    return out


def _steps_of(names: Names, spec: Any) -> str:
    types = spec.project_types or sorted(names._types)  # noqa: SLF001 - the same package
    first = types[0] if types else ""
    return join_names([names.step(first, s) for s in spec.steps])


def _types_of(names: Names, spec: Any) -> str:
    types = spec.project_types or list(names._types)  # noqa: SLF001
    if not spec.project_types:
        return _("every project type")
    return join_names([names.project_type(t) for t in types])


#: Jurisdictions, as a reader calls them (coordination between them).
JURISDICTION_LABELS = {"zone": N_("the zone"), "city": N_("the city"), "district": N_("districts"),
                       "county": N_("counties"), "province": N_("the province"), "company": N_("companies")}


def _side(names: Names, side: Any) -> str:
    """One side of a coordination: its units (with those below them) and jurisdictions."""
    return join_names([names.unit(u) for u in side.units] + [_(JURISDICTION_LABELS[j]) for j in side.jurisdictions])


def _new_id(spec: Any) -> str:
    return spec if isinstance(spec, str) else spec.id


def _head(op: str, spec: Any, pre: o.Org, post: o.Org, names: Names) -> str:
    """The operator's own clause: what kind of change, on what."""
    moves = _moves(pre, post)
    moved = [f for fs in moves.values() for f in fs]
    if op in ("merge", "merge_zones"):
        return _("{units} merged into {into}").format(units=names.units(spec.units), into=names.unit(spec.into.id))
    if op == "strip":
        return _("{functions} stripped to {to}").format(functions=names.units(moved), to=names.unit(spec.to))
    if op == "devolve":
        sources = list(dict.fromkeys(src for (src, _dst) in moves))
        return _("{functions} devolved from {source} to {to}").format(
            functions=names.units(moved), source=names.units(sources), to=names.unit(spec.to))
    if op == "one_stop":
        bureau = spec.bureau if isinstance(spec.bureau, str) else spec.bureau.id
        return _("{functions} moved into the one-stop approval bureau {bureau}").format(
            functions=names.units(moved), bureau=names.unit(bureau))
    if op == "spin_off":
        company = spec.company if isinstance(spec.company, str) else spec.company.id
        return _("{functions} spun off to the company {company}").format(
            functions=names.units(moved), company=names.unit(company))
    if op == "flatten":
        return _("layer {units} removed; its functions and units move up").format(units=names.units(spec.units))
    if op == "parallelize":
        return _("{types}: {steps} run in parallel").format(types=_types_of(names, spec), steps=_steps_of(names, spec))
    if op == "merge_steps":
        return _("{types}: {steps} merged into one step").format(types=_types_of(names, spec),
                                                                  steps=_steps_of(names, spec))
    if op == "agency_service":
        return _("{types}: agency service; returned files ×{rework:g}, resubmission time ×{delay:g}").format(
            types=_types_of(names, spec), rework=spec.rework_factor, delay=spec.delay_factor)
    if op == "cap_headcount":
        within = spec.within if isinstance(spec.within, list) else [spec.within]
        return _("headcount of {within} capped at {cap}").format(within=names.units(within), cap=spec.cap)
    if op == "set_leadership":
        targets = names.units(spec.units) if spec.units else join_names(spec.kinds)
        return _("leadership of {units} set to {chief} chief and {deputies} deputies").format(
            units=targets, chief=spec.chief, deputies=spec.deputies)
    if op == "coordinate":
        a, b = (_side(names, side) for side in spec.between)
        pair = (_("hand-offs between {a} and {b}") if spec.both_ways else _("hand-offs from {a} to {b}")).format(
            a=a, b=b)
        if spec.factor is not None:
            return _("{pair} take ×{factor:g} the time").format(pair=pair, factor=spec.factor)
        return _("{pair} take a new time").format(pair=pair)
    if op == "one_window":
        return _("one window {window}: {types} start at its intake; approvals stay with their units").format(
            window=names.unit(_new_id(spec.window)), types=_types_of(names, spec))
    if op == "enforcement_bureau":
        head = _("{functions} gathered in the comprehensive enforcement bureau {bureau}").format(
            functions=names.units(moved), bureau=names.unit(_new_id(spec.bureau)))
        if spec.resolution is not None:
            r = spec.resolution
            head += _("; enforcement cases resolved {service:.0%} by service, {management:.0%} by management, "
                      "{enforcement:.0%} by enforcement").format(
                service=r.service, management=r.management, enforcement=r.enforcement)
        return head
    return op


def _clauses(op: str, spec: Any, pre: o.Org, post: o.Org, names: Names) -> list[str]:
    """What followed from it: leadership posts, staff released, moved, hired, units removed or created."""
    out: list[str] = []
    if op in ("merge", "merge_zones"):
        before, after = _posts(pre, spec.units), _posts(post, [spec.into.id])
        if before != after:
            out.append(_("leadership posts {before} → {after}").format(before=before, after=after))
    else:
        before, after = _zone_posts(pre), _zone_posts(post)
        if before != after:
            out.append(_("zone leadership posts {before} → {after}").format(before=before, after=after))
    gone = [u for u in pre.units() if not post.is_unit(u)]
    if op not in ("merge", "merge_zones", "flatten") and gone:
        out.append(_("{units} dissolved").format(units=names.units(gone)))
    new = [u for u in post.units() if not pre.is_unit(u)]
    if op not in ("merge", "merge_zones", "one_stop", "spin_off") and new:
        out.append(_("{units} created").format(units=names.units(new)))
    ledger = {k: post.ledger.total(k) - pre.ledger.total(k) for k in ("released", "moved_out", "hired", "moved_in")}
    if ledger["released"]:
        out.append(ngettext("{n} post cut", "{n} posts cut", ledger["released"]).format(n=ledger["released"]))
    if ledger["moved_out"]:
        out.append(ngettext("{n} person moved out of the zone government",
                            "{n} people moved out of the zone government",
                            ledger["moved_out"]).format(n=ledger["moved_out"]))
    if ledger["hired"]:
        out.append(ngettext("{n} person hired", "{n} people hired", ledger["hired"]).format(n=ledger["hired"]))
    if ledger["moved_in"]:
        out.append(ngettext("{n} person moved in", "{n} people moved in", ledger["moved_in"]).format(
            n=ledger["moved_in"]))
    return out


def change_sentences(outcome: Any, scenario: Any, names: Names | None = None,
                     package: str | None = None) -> list[ChangeSentence]:
    """One sentence per operator of ``scenario``'s reforms (or of its package ``package``), from its ``outcome``,
    in the language in force."""
    names = names or Names(scenario, [outcome.before, *[org for _label, org in outcome.states]])
    sep = _("; ")
    out = []
    pre = outcome.before
    operators = scenario.operators(package if package is not None else getattr(outcome, "package", None))
    for i, ((phase, spec), (_label, post)) in enumerate(zip(operators, outcome.states, strict=True), 1):
        head = _head(spec.op, spec, pre, post, names)
        parts = [head, *_clauses(spec.op, spec, pre, post, names)]
        structural = spec.op not in ("parallelize", "merge_steps", "agency_service", "coordinate")
        if len(parts) == 1 and structural and not _moves(pre, post) and pre.units() == post.units():
            parts.append(_("no change"))
        label = pick_text(spec.label, spec.label_en, names.lang)
        out.append(ChangeSentence(i, None if phase is None else names.phase(phase), spec.op, label, sep.join(parts),
                                  head))
        pre = post
    return out
