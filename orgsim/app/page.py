"""The training-room page, in Shiny for Python: reforms as switches, a run in the background, the reform step
by step.

Every script, style and font is served by the app from the installed
packages (Shiny ships them): the page needs no network. Every text on it comes
from the gettext catalogs through :mod:`orgsim.presentation`, in the language
the app was started with. The page reads and sets the controls of
:mod:`orgsim.app.levers`, runs comparisons through :mod:`orgsim.app.jobs`, and
draws what :mod:`orgsim.presentation.story` and
:mod:`orgsim.presentation.results` give; it computes nothing of its own.
"""

from __future__ import annotations

import asyncio
import sys
import time
from importlib import resources
from typing import Any

from htmltools import Tag, TagList, tags
from shiny import App, Inputs, Outputs, Session, reactive, render, ui

from orgsim.app.jobs import Run, RunRequest, RunSlot
from orgsim.app.levers import MAX_REPLICATIONS, Levers, Settings
from orgsim.errors import OrgsimError
from orgsim.i18n import N_, _, ngettext, pgettext, use_language
from orgsim.presentation.names import Names
from orgsim.presentation.orgchart import CHANGED, NEW, ChartUnit, collapsed_by_default
from orgsim.presentation.story import Frame, frame_title, headline_numbers, removed_text
from orgsim.presentation.story import story as make_story
from orgsim.presentation.tables import Table
from orgsim.reforms import reform_scenario
from orgsim.scenario.schema import Scenario

__all__ = ["make_app", "PLAY_SECONDS"]

#: Seconds each operator stays on screen while playing.
PLAY_SECONDS = 3.0
#: How often the page asks a running simulation how far it is.
POLL_SECONDS = 0.3
#: Colours of unit kinds: the figures' (orgsim.plotting), so that the page and the slides agree.
_OUTSIDE = "outside"

#: Periods of an arrival rate, as a slider's label says them.
_RATE_PERIODS = {"day": N_("per working day"), "week": N_("per working week"), "month": N_("per month"),
                 "year": N_("per year")}


def _css() -> str:
    return resources.files("orgsim.app").joinpath("page.css").read_text(encoding="utf-8")


# ---------------------------------------------------------------- HTML pieces


def table_tag(t: Table, keys: dict[tuple[int, int], str] | None = None) -> TagList:
    """A presentation table as HTML (numbers right-aligned)."""
    rows = []
    for i, row in enumerate(t.rows):
        cells = []
        for j, cell in enumerate(row):
            attrs: dict[str, Any] = {"class": "num"} if cell.numeric else {}
            if keys and (i, j) in keys:
                attrs["data-key"] = keys[(i, j)]
            cells.append(tags.td(cell.text, **attrs))
        rows.append(tags.tr(*cells, class_="group" if i in t.group_starts else None))
    return TagList(tags.table(
        tags.caption(t.title) if t.title else None,
        tags.thead(tags.tr(*[tags.th(h) for h in t.headers])),
        tags.tbody(*rows),
        class_="orgsim-table",
    ), tags.p(t.note, class_="note") if t.note else None)


def _staff(n: int) -> str:
    return ngettext("{n} person", "{n} people", n).format(n=n)


def unit_box(unit: ChartUnit, names: Names, closed: frozenset[str], top: bool = False) -> Tag:
    """One unit's box, and the boxes under it unless it is closed."""
    is_closed = unit.id in closed and bool(unit.children)
    classes = ["unit", f"kind-{unit.kind}"]
    if not unit.in_zone:
        classes.append(_OUTSIDE)
    if unit.change == NEW:
        classes.append("new")
    elif unit.change == CHANGED or (is_closed and unit.changed_below):
        classes.append("changed")
    count = _staff(unit.headcount)
    if unit.headcount_before is not None:
        count = _("{before} → {after}").format(before=unit.headcount_before, after=_staff(unit.headcount))
    lines: list[Any] = [tags.div(unit.name, class_="name"), tags.div(count, class_="count")]
    if unit.change == NEW:
        lines.append(tags.div(_("new unit"), class_="tag"))
    if is_closed:
        below = unit.units_below
        lines.append(tags.div(
            "▸ " + _("{units}, {staff} in all: click to open").format(
                units=ngettext("{n} unit below", "{n} units below", below).format(n=below),
                staff=_staff(unit.staff_below)),
            class_="more"))
    attrs: dict[str, Any] = {"class": " ".join(classes), "data-unit": unit.id, "title": names.kind(unit.kind)}
    if unit.children:
        attrs.update({"role": "button", "tabindex": "0", "aria-expanded": "false" if is_closed else "true",
                      "onclick": "Shiny.setInputValue('unit_click', this.dataset.unit, {priority: 'event'})",
                      "onkeydown": "if (event.key === 'Enter' || event.key === ' ') {event.preventDefault(); "
                                   "this.click();}"})
    box = tags.div(*lines, **attrs)
    if not unit.children or is_closed:
        return tags.div(box, class_="group leaf" + (" top" if top else ""))
    kids = [unit_box(c, names, closed) for c in unit.children]
    return tags.div(box, tags.div(*kids, class_="children"), class_="group open" + (" top" if top else ""))


def chart_tag(frame: Frame, names: Names, closed: frozenset[str]) -> Tag:
    """The org chart of a frame: the zone's government, then the units outside it."""
    inside = [u for u in frame.chart if u.in_zone or any(c.in_zone for c, _d in u.walk())]
    outside = [u for u in frame.chart if u not in inside]
    parts: list[Any] = [tags.div(*[unit_box(u, names, closed, top=True) for u in inside], class_="zone")]
    if outside:
        parts.append(tags.div(
            tags.div(_("Outside the zone government"), class_="outside-title"),
            tags.div(*[unit_box(u, names, closed, top=True) for u in outside], class_="outside-row"),
            class_="outside-block"))
    return tags.div(*parts, class_="orgchart", id="orgchart")


def numbers_tag(frame: Frame, first: Frame) -> Tag:
    """The headline numbers of a frame, each with its change since the start."""
    items = []
    for key, label, value, start in headline_numbers(frame, first):
        delta = "" if start is None or value == start else f"{value - start:+d}"
        items.append(tags.div(
            tags.div(tags.span(str(value), **{"data-key": key}), tags.span(delta, class_="delta") if delta else None,
                     class_="value"),
            tags.div(label, class_="label"), class_="number"))
    return tags.div(*items, class_="numbers", id="numbers")


# ---------------------------------------------------------------- the page


def _switches(levers: Levers) -> list[Any]:
    out: list[Any] = []
    phase: Any = object()
    for s in levers.switches:
        if s.phase != phase:
            phase = s.phase
            if phase is not None:
                out.append(tags.div(_("Phase {phase}").format(phase=phase), class_="phase"))
        out.append(tags.div(ui.input_switch(f"op_{s.index}", s.title, value=True), title=s.sentence,
                            class_="switch"))
    return out


def _sidebar(levers: Levers) -> Any:
    controls: list[Any] = [tags.h2(_("Reforms"), class_="side-title"), *_switches(levers)]
    for cap in levers.caps:
        controls.append(ui.input_slider(f"cap_{cap.index}", cap.title, min=cap.low, max=cap.high,
                                        value=cap.default, step=1))
    if levers.rates:
        sliders = [ui.input_slider(f"rate_{i}", _("{type} ({period})").format(
            type=r.title, period=_(_RATE_PERIODS.get(r.per, r.per))), min=r.low, max=r.high, value=r.default,
            step=r.step) for i, r in enumerate(levers.rates)]
        controls.append(ui.accordion(ui.accordion_panel(_("Arrival rates"), *sliders), open=False))
    controls += [
        ui.input_slider("replications", _("Replications"), min=1, max=max(MAX_REPLICATIONS, levers.replications),
                        value=levers.replications, step=1),
        ui.input_numeric("seed", _("Seed"), value=levers.seed, min=0, step=1),
        ui.input_action_button("run", _("Run"), class_="btn-primary btn-lg w-100", width="100%"),
        ui.output_ui("status"),
        ui.download_button("download", _("Scenario with these settings (YAML)"), class_="btn-sm w-100"),
    ]
    return ui.sidebar(*controls, width=380, open="always")


def _story_panel() -> Any:
    buttons = tags.div(
        ui.input_action_button("first", "« " + _("Start"), class_="btn-outline-secondary"),
        ui.input_action_button("back", "‹ " + _("Back"), class_="btn-outline-secondary"),
        ui.input_action_button("step", _("Step") + " ›", class_="btn-primary"),
        ui.input_action_button("play", _("Play") + " ▶", class_="btn-success"),
        ui.input_action_button("last", _("End") + " »", class_="btn-outline-secondary"),
        class_="story-buttons")
    return ui.nav_panel(_("The reform step by step"), buttons, ui.output_ui("story"), value="story")


def _results_panel() -> Any:
    return ui.nav_panel(_("Lead times before and after"), ui.output_ui("results"),
                        ui.output_plot("leadtimes", height="520px"), ui.output_ui("tables"), value="results")


def make_app(scenario: Scenario, lang: str, *, allow_outside: bool = False, max_memory: float | None = None) -> App:
    """The app for ``scenario``, speaking ``lang``: a Shiny :class:`~shiny.App` to serve with uvicorn.

    ``allow_outside`` and ``max_memory`` hold for every setting of the levers, as for the file.
    """
    with use_language(lang):
        outcome = reform_scenario(scenario)
        names = Names(scenario, [outcome.before, *[org for _label, org in outcome.states]])
        levers = Levers(scenario, names, allow_outside=allow_outside, max_memory=max_memory)
        title = names.title()
        page = ui.page_sidebar(
            _sidebar(levers),
            ui.navset_card_tab(_story_panel(), _results_panel(), id="tabs"),
            ui.tags.style(_css()),
            title=tags.span(title, class_="app-title"),
            window_title=title,
            lang="zh-Hans" if lang == "zh" else "en",
            fillable=False,
        )

    def server(input: Inputs, output: Outputs, session: Session) -> None:  # noqa: A002 - Shiny's name
        slot = RunSlot()
        step = reactive.value(0)
        playing = reactive.value(False)
        toggled: reactive.Value[frozenset[str]] = reactive.value(frozenset())

        @reactive.calc
        def settings() -> Settings:
            off = frozenset(s.index for s in levers.switches if not input[f"op_{s.index}"]())
            caps = {c.path: int(input[f"cap_{c.index}"]()) for c in levers.caps}
            rates = {r.path: float(input[f"rate_{i}"]()) for i, r in enumerate(levers.rates)}
            seed = input.seed()
            return Settings(off, caps, rates, int(input.replications()),
                            None if seed is None else int(seed))

        @reactive.calc
        def point() -> tuple[Scenario | None, str]:
            """The scenario the page is set to, or the message saying why the settings do not make one."""
            s = settings()
            try:
                return levers.scenario_for(Settings(s.off, s.caps, s.rates)), ""
            except OrgsimError as exc:
                return None, "\n".join(exc.lines())

        @reactive.calc
        def frames() -> tuple[list[Frame], Names, str]:
            chosen, problem = point()
            if chosen is None:
                return [], names, problem
            try:
                out = levers.reform(chosen, settings())
            except OrgsimError as exc:
                return [], names, "\n".join(exc.lines())
            with use_language(lang):
                here = Names(chosen, [out.before, *[org for _label, org in out.states]])
                return make_story(out, chosen, here), here, ""

        @reactive.effect
        def _clamp() -> None:
            n = len(frames()[0])
            with reactive.isolate():
                if n and step() > n - 1:
                    step.set(n - 1)

        def move(to: int) -> None:
            n = len(frames()[0])
            step.set(max(0, min(to, n - 1)))

        @reactive.effect
        @reactive.event(input.first)
        def _first() -> None:
            playing.set(False)
            move(0)

        @reactive.effect
        @reactive.event(input.back)
        def _back() -> None:
            playing.set(False)
            move(step() - 1)

        @reactive.effect
        @reactive.event(input.step)
        def _step() -> None:
            playing.set(False)
            move(step() + 1)

        @reactive.effect
        @reactive.event(input.last)
        def _last() -> None:
            playing.set(False)
            move(len(frames()[0]) - 1)

        clock = {"moved": 0.0}

        @reactive.effect
        @reactive.event(input.play)
        def _play() -> None:
            if playing():
                playing.set(False)
                return
            if step() >= len(frames()[0]) - 1:
                step.set(0)
            clock["moved"] = time.monotonic()
            playing.set(True)

        @reactive.effect
        def _advance() -> None:
            # Runs when play starts, then every PLAY_SECONDS: each operator stays on screen that long.
            if not playing():
                return
            with reactive.isolate():
                if time.monotonic() - clock["moved"] >= 0.9 * PLAY_SECONDS:
                    clock["moved"] = time.monotonic()
                    move(step() + 1)
                if step() >= len(frames()[0]) - 1:
                    playing.set(False)
                    return
            reactive.invalidate_later(PLAY_SECONDS)

        @reactive.effect
        def _play_label() -> None:
            with use_language(lang):
                label = (_("Pause") + " ||") if playing() else (_("Play") + " ▶")
            ui.update_action_button("play", label=label)

        @reactive.effect
        @reactive.event(input.unit_click)
        def _toggle() -> None:
            unit = str(input.unit_click())
            toggled.set(toggled() ^ {unit})

        @render.ui
        def story() -> Any:
            shown, here, problem = frames()
            with use_language(lang):
                if problem:
                    return tags.div(tags.p(_("These settings do not make an organisation: change them back, or "
                                             "switch on the reform that the one named below needs.")),
                                    tags.pre(problem), class_="alert alert-danger", id="story-error")
                frame = shown[min(step(), len(shown) - 1)]
                closed = collapsed_by_default(frame.chart) ^ toggled()
                n = len(shown) - 1
                change = frame.change.text if frame.change is not None else _(
                    "The organisation as it is before any reform. Press “Step” or “Play” to apply the reforms one "
                    "by one.")
                gone = removed_text(frame)
                return TagList(
                    tags.div(
                        tags.div(frame_title(frame, n), class_="frame-title", id="frame-title"),
                        tags.div(change, class_="change", id="change"),
                        tags.div(gone, class_="gone") if gone else None,
                        class_="frame-head"),
                    numbers_tag(frame, shown[0]),
                    chart_tag(frame, here, frozenset(closed)),
                )

        # ------------------------------------------------------------ running

        @reactive.extended_task
        async def simulate(run: Run) -> Run:
            await asyncio.to_thread(run.execute)
            return run

        @reactive.effect
        @reactive.event(input.run)
        def _run() -> None:
            if slot.running:
                slot.cancel()
                return
            chosen, _problem = point()
            problem = frames()[2]
            if chosen is None or problem:
                ui.notification_show(problem, type="error", duration=10)
                return
            s = settings()
            run = slot.start(RunRequest(chosen, levers.replications_of(s), levers.seed_of(s), s))
            simulate.invoke(run)

        @reactive.effect
        def _run_label() -> None:
            running = simulate.status() == "running"
            with use_language(lang):
                ui.update_action_button("run", label=_("Cancel run") if running else _("Run"))

        @render.ui
        def status() -> Any:
            state = simulate.status()
            with use_language(lang):
                if state == "running":
                    reactive.invalidate_later(POLL_SECONDS)
                    run = slot.current
                    done, total = (run.done, run.total) if run is not None else (0, 1)
                    share = done / total if total else 0.0
                    return tags.div(
                        tags.div(tags.div(class_="progress-bar", role="progressbar",
                                          style=f"width: {share:.0%}", **{"aria-valuenow": f"{share * 100:.0f}",
                                                                          "aria-valuemin": "0",
                                                                          "aria-valuemax": "100"}),
                                 class_="progress"),
                        tags.div(_("simulating: {done} of {total} runs").format(done=done, total=total),
                                 class_="status-text"),
                        id="run-status", **{"data-state": "running"})
                if state == "success":
                    run = simulate.result()
                    if run.cancelled:
                        return tags.div(_("Run cancelled."), id="run-status", **{"data-state": "cancelled"})
                    if run.error is not None:
                        return tags.div(tags.pre(_error_text(run.error)), class_="alert alert-danger",
                                        id="run-status", **{"data-state": "error"})
                    text = _("Done: {n} replications, seed {seed}.").format(n=run.request.replications,
                                                                           seed=run.request.seed)
                    if run.request.settings != settings():
                        text += " " + _("The settings have changed since: press “Run” again.")
                    return tags.div(text, id="run-status", **{"data-state": "done"})
                if state == "error":
                    return tags.div(_("The run failed."), id="run-status", **{"data-state": "error"})
                return tags.div(_("Set the reforms, then press “Run” to simulate lead times before and after."),
                                id="run-status", **{"data-state": "idle"})

        def finished() -> Run | None:
            if simulate.status() != "success":
                return None
            run = simulate.result()
            return run if run.result is not None else None

        @render.ui
        def results() -> Any:
            run = finished()
            with use_language(lang):
                if run is None:
                    return tags.p(_("No results yet: press “Run”."), class_="empty")
                from orgsim.presentation import results as r

                c = run.result
                assert c is not None
                d = c.to_dict()
                here = r.names_for(c)
                return TagList(
                    tags.ul(*[tags.li(s) for s in r.headline(c, d, here)], class_="headline"),
                    key_numbers_tag(d, here),
                    tags.p(r.bottleneck_text(d, here), class_="bottleneck"),
                )

        @render.plot(alt=" ")
        def leadtimes() -> Any:
            run = finished()
            if run is None:
                return None
            from orgsim import plotting

            assert run.result is not None
            with use_language(lang):
                return plotting.plot_lead_times(run.result, lang=lang)

        @render.ui
        def tables() -> Any:
            run = finished()
            if run is None:
                return None
            from orgsim.presentation import results as r

            with use_language(lang):
                c = run.result
                assert c is not None
                d = c.to_dict()
                here = r.names_for(c)
                shown = [r.structure_table(c.before.structure, c.after.structure), r.project_type_table(d, here),
                         r.time_split_table(d, here), r.queue_table(c.after, here)]
                return tags.details(tags.summary(_("All tables")), *[table_tag(t) for t in shown])

        @render.download(filename=lambda: _download_name(scenario))
        def download() -> Any:
            s = settings()
            yield levers.scenario_text(s)

    return App(page, server)


def _download_name(scenario: Scenario) -> str:
    from pathlib import Path

    stem = Path(scenario.source_file).stem if scenario.source_file else "scenario"
    return f"{stem}-app.yaml"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OrgsimError):
        return "\n".join(exc.lines())
    print(f"orgsim app: the run failed: {exc!r}", file=sys.stderr)
    return f"{type(exc).__name__}: {exc}"


def key_numbers_tag(d: dict[str, Any], names: Names) -> Tag:
    """Per project type: mean and 90th-percentile lead time before and after, its limit and the share over it.

    Each number carries ``data-key``, its place in the ``compare --json`` document.
    """
    rows = []
    for type_id, a in d["after"]["by_project_type"].items():
        b = d["before"]["by_project_type"].get(type_id)
        limit = a["statutory_limit_days"]
        cells: list[Any] = [tags.th(names.project_type(type_id), scope="row")]
        for state, t in (("before", b), ("after", a)):
            for stat in ("mean", "p90"):
                value = None if t is None else t["lead_time_working_days"][stat]
                key = f"{state}.by_project_type.{type_id}.lead_time_working_days.{stat}"
                cells.append(tags.td("–" if value is None else f"{value:.1f}", class_="num", **{"data-key": key}))
        cells.append(tags.td("–" if limit is None else f"{limit:g}", class_="num"))
        share = a["share_over_statutory_limit"]
        cells.append(tags.td("–" if share is None else f"{share:.1%}", class_="num",
                             **{"data-key": f"after.by_project_type.{type_id}.share_over_statutory_limit"}))
        rows.append(tags.tr(*cells))
    headers = [_("project type"), _("mean before"), _("p90 before"), _("mean after"), _("p90 after"),
               _("statutory limit"), _("share over the limit after")]
    headcount = [tags.tr(tags.th(_("headcount"), scope="row"),
                         tags.td(str(d["before"]["structure"]["headcount"]), class_="num",
                                 **{"data-key": "before.structure.headcount"}),
                         tags.td(str(d["after"]["structure"]["headcount"]), class_="num",
                                 **{"data-key": "after.structure.headcount"}))]
    bodies = [tags.tr(tags.th(_("internal bodies"), scope="row"),
                      tags.td(str(d["before"]["structure"]["internal_bodies"]), class_="num"),
                      tags.td(str(d["after"]["structure"]["internal_bodies"]), class_="num"))]
    return tags.div(
        tags.table(tags.caption(_("lead times in working days")),
                   tags.thead(tags.tr(*[tags.th(h) for h in headers])), tags.tbody(*rows),
                   class_="orgsim-table key-numbers", id="key-numbers"),
        tags.table(tags.thead(tags.tr(tags.th(""), tags.th(pgettext("state", "before")),
                                      tags.th(pgettext("state", "after")))),
                   tags.tbody(*headcount, *bodies), class_="orgsim-table key-structure"),
        class_="key-block")
