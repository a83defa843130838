"""Names, not ids: units, functions, project types, queues and scenarios as a person calls them.

In Chinese a node is called by its ``name``; in English by its ``name_en``,
else its ``name``, else its id. ``ascii_only`` (figures drawn without a CJK
font) skips Chinese names: ``name_en``, else the id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from orgsim.i18n import N_, _, current_language, pgettext
from orgsim.model import org as o

__all__ = ["Names", "pick_text", "join_names", "KIND_LABELS", "RESOLUTION_LABELS"]

#: Unit kinds as a reader calls them (English; translate with ``_``).
KIND_LABELS = {
    "committee": N_("committee"), "department": N_("department"), "bureau": N_("bureau"),
    "office": N_("office"), "centre": N_("centre"), "window": N_("window"), "institution": N_("institution"),
    "park": N_("park"), "city_department": N_("city department"), "sub_district": N_("sub-district"),
    "township": N_("township"), "company": N_("company"), "working_group": N_("working group"),
    "district": N_("district government"), "county": N_("county or county-level city"),
}
#: The ways enforcement cases are resolved (the 721 method), as a reader calls them.
RESOLUTION_LABELS = {"service": N_("resolved by service"), "management": N_("resolved by management"),
                     "enforcement": N_("resolved by enforcement")}


def pick_text(text: str | None, text_en: str | None, lang: str | None = None) -> str | None:
    """A scenario's text in a language: ``text_en`` in English, ``text`` (the scenario's own language)
    otherwise, each falling back to the other when it is missing (names, descriptions, reasons, labels).

    >>> pick_text("国土规划建设局", "Land, planning and construction bureau", "en")
    'Land, planning and construction bureau'
    >>> pick_text("国土规划建设局", None, "en")
    '国土规划建设局'
    """
    if (lang or current_language()) == "zh":
        return text or text_en
    return text_en or text


def _has_cjk(text: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in text)


class Names:
    """Display names of a scenario's nodes, across every state of its organisation.

    Parameters
    ----------
    scenario
        The scenario (its project types, and its own name).
    orgs
        Organisation states whose units and functions may be named (before,
        after and every state between: a merged unit exists only before, a
        new one only after).
    lang
        ``zh`` or ``en``; default: the language in force.
    ascii_only
        Never give a name with Chinese characters (no font to draw them).
    mathtext_safe
        Escape ``$`` (for matplotlib, whose math-text parser would read text
        between two dollars as a formula).
    """

    def __init__(self, scenario: Any = None, orgs: Iterable[o.Org] = (), lang: str | None = None,
                 ascii_only: bool = False, mathtext_safe: bool = False) -> None:
        self.lang = lang or current_language()
        self.ascii_only = ascii_only
        self.mathtext_safe = mathtext_safe
        self._nodes: dict[str, tuple[str, str | None]] = {}
        self._parents: dict[str, str | None] = {}
        for org in orgs:
            for node, d in org.graph.nodes(data=True):
                if node not in self._nodes and o.NAME in d:
                    self._nodes[node] = (d[o.NAME], d.get(o.NAME_EN))
                if org.is_unit(node) and node not in self._parents:
                    self._parents[node] = org.parent(node)
        self._types: dict[str, tuple[str, str | None]] = {}
        #: Case types (enforcement cases resolved one way): id -> (the cases' id, the way).
        self._cases: dict[str, tuple[str, str]] = {}
        self._steps: dict[tuple[str, str], str] = {}
        #: Queue key -> (unit, role, functions), from the plans' pools (add_queues).
        self._queues: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self.scenario = scenario
        if scenario is not None:
            for spec in list(scenario.units) + list(scenario.functions):
                self._nodes.setdefault(spec.id, (spec.name, spec.name_en))
            windows: list[tuple[list[str], str, str]] = []  # one_window: (project types, step, intake function)
            for _package, _phase, op in _every_operator(scenario):
                for new in (getattr(op, "into", None), getattr(op, "bureau", None), getattr(op, "company", None),
                            getattr(op, "window", None), getattr(op, "intake", None)):
                    if new is not None and hasattr(new, "name"):
                        self._nodes.setdefault(new.id, (new.name, new.name_en))
                if op.op == "one_window":
                    intake = op.intake if isinstance(op.intake, str) else op.intake.id
                    windows.append((op.project_types, op.step, intake))
            if scenario.workload is not None:
                for t in scenario.workload.project_types:
                    self._types[t.id] = (t.name, t.name_en)
                    for step in t.steps:
                        self._steps[(t.id, step.id)] = step.function
                    for types, step_id, intake in windows:
                        if not types or t.id in types:
                            self._steps.setdefault((t.id, step_id), intake)
                for c in scenario.workload.enforcement_cases:
                    self._types[c.id] = (c.name, c.name_en)
                    for way in RESOLUTION_LABELS:
                        self._cases[f"{c.id}.{way}"] = (c.id, way)

    # ------------------------------------------------------------ picking a name

    def pick(self, ident: str, name: str | None, name_en: str | None) -> str:
        """The name to show for ``ident`` with these names, in this language."""
        if self.ascii_only:
            chosen = name_en or (name if name and not _has_cjk(name) else ident)
        else:
            chosen = pick_text(name, name_en, self.lang) or ident
        return chosen.replace("$", r"\$") if self.mathtext_safe else chosen

    def phase(self, name: str) -> str:
        """A phase by its name in this language (``phase_en`` in English, when the scenario gives one)."""
        english = self.scenario.phase_names_en().get(name) if self.scenario is not None else None
        return self.pick(name, name, english)

    def node(self, ident: str | None) -> str:
        """A unit or function by name (the id when the scenario names no such node)."""
        if ident is None:
            return "–"
        name, name_en = self._nodes.get(ident, (None, None))
        return self.pick(ident, name, name_en)

    function = node

    def unit(self, ident: str | None) -> str:
        """A unit by name; a name several units share (each zone's approval bureau) gets its parent's."""
        name = self.node(ident)
        if ident is None or ident not in self._parents or self._shared.get(name, 0) < 2:
            return name
        parent = self._parents[ident]
        return _("{unit} ({parent})").format(unit=name, parent=self.node(parent)) if parent else name

    @property
    def _shared(self) -> dict[str, int]:
        """How many units show each name (computed on first use)."""
        if not hasattr(self, "_shared_counts"):
            counts: dict[str, int] = {}
            for unit in self._parents:
                shown = self.node(unit)
                counts[shown] = counts.get(shown, 0) + 1
            self._shared_counts = counts
        return self._shared_counts

    @staticmethod
    def kind(kind: str) -> str:
        """A unit kind in words."""
        return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind.replace("_", " ")

    def project_type(self, ident: str) -> str:
        """A project type by name; a case type as its enforcement cases' name and how they are resolved."""
        if ident in self._cases:
            cases, way = self._cases[ident]
            return _("{cases}, {way}").format(cases=self.project_type(cases), way=_(RESOLUTION_LABELS[way]))
        name, name_en = self._types.get(ident, (None, None))
        return self.pick(ident, name, name_en)

    def step(self, project_type: str, step: str) -> str:
        """A step of a project type, by the name of its function."""
        function = self._steps.get((project_type, step))
        return self.node(function) if function else step

    def title(self) -> str:
        """The scenario's name."""
        if self.scenario is None:
            return ""
        meta = self.scenario.scenario
        return self.pick("", meta.name, meta.name_en) or _("scenario")

    def add_queues(self, pools: Iterable[Any]) -> Names:
        """Learn the queues to name: each with ``key``, ``unit``, ``role`` and ``functions`` (a plan's pools).

        A key seen in several plans (before and after the reforms) is named from
        the functions its queue serves in any of them.
        """
        for pool in pools:
            unit, role, functions = self._queues.get(pool.key, (pool.unit, pool.role, ()))
            self._queues[pool.key] = (unit, role, tuple(dict.fromkeys(functions + tuple(pool.functions))))
        return self

    def queue(self, key: str) -> str:
        """A queue as "unit · who": the officers of one function by its name, else the unit's officers, deputy
        leaders or chief.

        Named from the queue's unit, role and functions (:meth:`add_queues`),
        never from its key, whose syntax belongs to the engine; a queue not
        learnt shows its key.
        """
        if key not in self._queues:
            return key
        unit, role, functions = self._queues[key]
        if role == "officers":
            who = self.node(functions[0]) if len(functions) == 1 else pgettext("queue", "officers")
        elif role == "deputies":
            who = pgettext("queue", "deputy leaders")
        elif role == "chief":
            who = pgettext("queue", "chief")
        else:
            who = role
        return f"{self.unit(unit)} · {who}"

    def units(self, idents: Sequence[str], limit: int = 6) -> str:
        """Several units or functions by name, as one list ("A、B、C" / "A, B and C")."""
        return join_names([self.unit(i) if i in self._parents else self.node(i) for i in idents], limit)


def _every_operator(scenario: Any) -> list[tuple[str | None, str | None, Any]]:
    """Every reform operator of the scenario: (package or None, phase or None, operator)."""
    out: list[tuple[str | None, str | None, Any]] = [(None, phase, op) for phase, op in scenario.operators()]
    for package in getattr(scenario, "packages", {}) or {}:
        out += [(package, phase, op) for phase, op in scenario.operators(package)]
    return out


def join_names(names: Sequence[str], limit: int = 6) -> str:
    """Names as a list in the language in force, at most ``limit`` of them then "and N more"."""
    names = list(names)
    zh = current_language() == "zh"
    sep = "、" if zh else ", "
    if len(names) > limit:
        rest = len(names) - (limit - 1)
        return _("{names} and {n} more").format(names=sep.join(names[: limit - 1]), n=rest, total=len(names))
    if zh or len(names) <= 1:
        return sep.join(names)
    return _("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])
