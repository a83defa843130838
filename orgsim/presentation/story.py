"""The reform step by step: one frame for the start and one after each operator, with its numbers in words.

What the web app's "step" and "play" buttons and ``orgsim animate`` show: the
organisation after each operator, the operator's change as a sentence
(:mod:`~orgsim.presentation.changes`), and the headline numbers of that state,
which are the structure metrics ``orgsim apply`` reports for the package up to
that operator. Loads only the model (no simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orgsim.i18n import N_, _, ngettext
from orgsim.model import org as o
from orgsim.model.metrics import StructureMetrics, structure_metrics
from orgsim.presentation.changes import ChangeSentence, change_sentences
from orgsim.presentation.names import Names
from orgsim.presentation.orgchart import ChartUnit, chart_units, removed_units, unit_order

__all__ = ["HEADLINE_NUMBERS", "Frame", "story", "headline_numbers", "frame_title"]

#: The numbers shown with every frame: (key, label); the key is a field of
#: :class:`~orgsim.model.metrics.StructureMetrics` (``orgsim apply --json``'s ``after``).
HEADLINE_NUMBERS: tuple[tuple[str, str], ...] = (
    ("headcount", N_("headcount")),
    ("units", N_("units (zone government)")),
    ("internal_bodies", N_("internal bodies")),
    ("leadership_posts", N_("leadership posts")),
    ("layers", N_("hierarchy layers")),
    ("power_items_zone", N_("power items held by the zone")),
)


@dataclass(frozen=True)
class Frame:
    """The organisation at one point of the package: the start (index 0) or after operator ``index``."""

    index: int
    org: o.Org
    metrics: StructureMetrics
    #: The operator just applied, in words (None at the start).
    change: ChangeSentence | None
    #: The chart, with what changed since the previous frame marked.
    chart: tuple[ChartUnit, ...]
    #: Names of the units the operator removed.
    removed: tuple[str, ...]


def story(outcome: Any, scenario: Any, names: Names | None = None) -> list[Frame]:
    """The frames of ``scenario``'s package, from its ``outcome`` (:func:`orgsim.reforms.reform_scenario`)."""
    states = [outcome.before, *[org for _label, org in outcome.states]]
    names = names or Names(scenario, states)
    order = unit_order(states)
    sentences: Sequence[ChangeSentence | None] = [None, *change_sentences(outcome, scenario, names)]
    frames = []
    for k, org in enumerate(states):
        previous = states[k - 1] if k else None
        frames.append(Frame(
            k, org, structure_metrics(org), sentences[k], chart_units(org, names, previous, order),
            tuple(removed_units(previous, org, names)) if previous is not None else (),
        ))
    return frames


def headline_numbers(frame: Frame, first: Frame | None = None) -> list[tuple[str, str, int, int | None]]:
    """(key, label, value, value at ``first``) for each of :data:`HEADLINE_NUMBERS`, labels translated."""
    return [(key, _(label), getattr(frame.metrics, key),
             getattr(first.metrics, key) if first is not None else None)
            for key, label in HEADLINE_NUMBERS]


def frame_title(frame: Frame, n_operators: int) -> str:
    """"Before the reforms" for the start, else "Step 2 of 6 (phase 2020)"."""
    if frame.change is None:
        return _("Before the reforms")
    title = _("Step {k} of {n}").format(k=frame.index, n=n_operators)
    if frame.change.phase:
        title += _(" (phase {phase})").format(phase=frame.change.phase)
    return title


def removed_text(frame: Frame) -> str:
    """The units the operator removed, in words ("" when none)."""
    if not frame.removed:
        return ""
    return ngettext("{n} unit gone: {units}", "{n} units gone: {units}", len(frame.removed)).format(
        n=len(frame.removed), units=_(", ").join(frame.removed))
