"""The reform step by step as an animation for slides: one frame for the start and one after each operator.

Each frame shows what the web app's "step" shows (:mod:`orgsim.presentation.story`):
the operator's change in words, the headline numbers with their change since
the start, and the org chart as boxes (large zones closed to one box, as the
page opens them). Written with matplotlib's animation support: GIF with
Pillow, MP4 with ffmpeg (when installed), and HTML as a page of its own with
every frame embedded and a small player in it (matplotlib's own HTML player
loads its button icons from a CDN, so it is not used: the file must open with
no network).
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgsim.errors import OrgsimError
from orgsim.i18n import _, ngettext
from orgsim.presentation.names import Names
from orgsim.presentation.orgchart import CHANGED, NEW, ChartUnit, collapsed_by_default
from orgsim.presentation.story import Frame, frame_title, headline_numbers, removed_text, story
from orgsim.reforms import ReformOutcome

if TYPE_CHECKING:
    from matplotlib.animation import FuncAnimation
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from orgsim.scenario.schema import Scenario

__all__ = ["FORMATS", "SIZE_IN", "DPI", "StoryAnimation", "story_animation", "write_animation"]

#: Output formats by file suffix.
FORMATS = {".gif": "gif", ".mp4": "mp4", ".html": "html", ".htm": "html"}
#: A 16:9 slide, in inches, and its resolution: 1280 x 720 pixels.
SIZE_IN = (12.8, 7.2)
DPI = 100
#: Boxes side by side in one row of the chart.
COLUMNS = 5

_NEW_EDGE = "#2e7d32"
_CHANGED_EDGE = "#d9822b"
_EDGE = "#7a8899"


@dataclass
class StoryAnimation:
    """A story's frames, the figure they are drawn on, and matplotlib's animation of it."""

    frames: list[Frame]
    figure: Figure
    names: Names
    lang: str
    #: How the figure speaks (orgsim.plotting's context: language, names, CJK font).
    context: Any

    def draw(self, k: int) -> None:
        """Draw frame ``k`` on the figure (the animation calls this for each frame)."""
        from orgsim.plotting import _style

        with _style(self.context):
            _draw(self.figure, self.frames, k, self.names)

    def animation(self, seconds_per_frame: float = 3.0) -> FuncAnimation:
        """matplotlib's animation of the frames (made when a writer needs it: an animation never saved warns)."""
        from matplotlib.animation import FuncAnimation

        def update(k: int) -> list[Any]:
            self.draw(k)
            return []

        return FuncAnimation(self.figure, update, frames=len(self.frames), interval=seconds_per_frame * 1000,
                             repeat=True, blit=False, cache_frame_data=False)


def _lines(roots: Sequence[ChartUnit], closed: frozenset[str]) -> list[tuple[int, list[ChartUnit]]]:
    """The chart as lines of boxes, each at an indent: a unit with open children gets a line of its own,
    then its children's lines one indent deeper."""
    out: list[tuple[int, list[ChartUnit]]] = []

    def place(units: Sequence[ChartUnit], indent: int) -> None:
        row: list[ChartUnit] = []
        for unit in units:
            if unit.children and unit.id not in closed:
                if row:
                    out.append((indent, row))
                    row = []
                out.append((indent, [unit]))
                place(unit.children, indent + 1)
                continue
            row.append(unit)
            if len(row) == COLUMNS:
                out.append((indent, row))
                row = []
        if row:
            out.append((indent, row))

    place(roots, 0)
    return out


def _chart_lines(frame: Frame) -> tuple[list[tuple[int, list[ChartUnit]]], list[tuple[int, list[ChartUnit]]]]:
    closed = collapsed_by_default(frame.chart)
    inside = [u for u in frame.chart if u.in_zone or any(c.in_zone for c, _d in u.walk())]
    outside = [u for u in frame.chart if u not in inside]
    return _lines(inside, closed), _lines(outside, closed)


def _draw_box(ax: Axes, unit: ChartUnit, x: float, y: float, w: float, h: float, closed: bool, size: float) -> None:
    from matplotlib.patches import FancyBboxPatch

    from orgsim.plotting import _wrap

    edge, face, lw = _EDGE, "white", 1.2
    if unit.change == NEW:
        edge, face, lw = _NEW_EDGE, "#eef8ee", 2.4
    elif unit.change == CHANGED or (closed and unit.changed_below):
        edge, face, lw = _CHANGED_EDGE, "#fff6ea", 2.4
    if unit.kind == "committee" and face == "white":
        face = "#eef2f6"
    ax.add_patch(FancyBboxPatch((x, y - h), w, h, boxstyle="round,pad=0,rounding_size=0.08", fc=face, ec=edge,
                                lw=lw, ls="-" if unit.in_zone else "--"))
    name = _wrap(unit.name, w - 0.15, size)
    lines = name.split("\n")
    if len(lines) > 2:
        name = "\n".join(lines[:2]) + "…"
    count = ngettext("{n} person", "{n} people", unit.headcount).format(n=unit.headcount)
    if unit.headcount_before is not None:
        count = _("{before} → {after}").format(before=unit.headcount_before, after=count)
    if closed:
        count += "  " + ngettext("(+{n} unit below)", "(+{n} units below)", unit.units_below).format(
            n=unit.units_below)
    ax.text(x + 0.08, y - 0.06, name, va="top", ha="left", fontsize=size, fontweight="bold", linespacing=1.05)
    ax.text(x + 0.08, y - h + 0.06, count, va="bottom", ha="left", fontsize=size * 0.85, color="#333333")


def _draw(fig: Figure, frames: Sequence[Frame], k: int, names: Names) -> None:
    from orgsim.plotting import _wrap

    frame = frames[k]
    n = len(frames) - 1
    width, height = SIZE_IN
    fig.clear()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    y = height - 0.25
    ax.text(0.3, y, f"{names.title()} · {frame_title(frame, n)}", va="top", ha="left", fontsize=17,
            fontweight="bold", gid="title")
    y -= 0.5
    change = frame.change.text if frame.change is not None else _("The organisation before any reform.")
    gone = removed_text(frame)
    text = _wrap(change, width - 0.6, 13)
    ax.text(0.3, y, text, va="top", ha="left", fontsize=13, gid="change", linespacing=1.2)
    y -= 0.27 * (text.count("\n") + 1) + 0.05
    if gone:
        ax.text(0.3, y, gone, va="top", ha="left", fontsize=11, color="#8a2b2b", gid="removed")
        y -= 0.3
    # The headline numbers: one box each, the value and its change since the start.
    y -= 0.1
    numbers = headline_numbers(frame, frames[0])
    box_w = (width - 0.6 - 0.15 * (len(numbers) - 1)) / len(numbers)
    from matplotlib.patches import FancyBboxPatch

    for i, (key, label, value, start) in enumerate(numbers):
        x = 0.3 + i * (box_w + 0.15)
        ax.add_patch(FancyBboxPatch((x, y - 0.85), box_w, 0.85, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc="#fafafa", ec="#cccccc", lw=1))
        ax.text(x + 0.1, y - 0.07, str(value), va="top", ha="left", fontsize=20, fontweight="bold",
                gid=f"number:{key}")
        if start is not None and value != start:
            ax.text(x + box_w - 0.1, y - 0.12, f"{value - start:+d}", va="top", ha="right", fontsize=12,
                    color="#555555", gid=f"delta:{key}")
        ax.text(x + 0.1, y - 0.78, _wrap(label, box_w - 0.2, 9.5), va="bottom", ha="left", fontsize=9.5,
                color="#444444")
    y -= 1.05
    # The chart: lines of boxes, every frame at the scale of the fullest frame, so that boxes do not jump.
    inside, outside = _chart_lines(frame)
    most = max(len(a) + len(b) + (1 if b else 0) for a, b in (_chart_lines(f) for f in frames))
    row_h = min(0.95, (y - 0.15) / max(most, 1))
    box_h = row_h * 0.88
    size = max(7.0, min(13.0, box_h * 72 / 3.4))
    closed = collapsed_by_default(frame.chart)
    indent_w = 0.35
    for indent, row in inside:
        x0 = 0.3 + indent * indent_w
        w = (width - 0.3 - x0 - 0.15 * (COLUMNS - 1)) / COLUMNS
        for j, unit in enumerate(row):
            _draw_box(ax, unit, x0 + j * (w + 0.15), y, w, box_h, unit.id in closed and bool(unit.children), size)
        y -= row_h
    if outside:
        ax.text(0.3, y - 0.02, _("Outside the zone government"), va="top", ha="left", fontsize=size * 0.9,
                color="#555555", fontweight="bold")
        y -= row_h * 0.45
        for indent, row in outside:
            x0 = 0.3 + indent * indent_w
            w = (width - 0.3 - x0 - 0.15 * (COLUMNS - 1)) / COLUMNS
            for j, unit in enumerate(row):
                _draw_box(ax, unit, x0 + j * (w + 0.15), y, w, box_h, unit.id in closed and bool(unit.children),
                          size)
            y -= row_h


def story_animation(outcome: ReformOutcome, scenario: Scenario, *, lang: str | None = None) -> StoryAnimation:
    """The frames of ``scenario``'s package (its ``outcome``) on one figure, in ``lang`` (default: the
    scenario's), the first one drawn."""
    from matplotlib.figure import Figure

    from orgsim.plotting import _context, _style

    states = [outcome.before, *[org for _label, org in outcome.states]]
    ctx = _context(scenario, states, lang, None)
    with _style(ctx):
        frames = story(outcome, scenario, ctx.names)
    result = StoryAnimation(frames, Figure(figsize=SIZE_IN, dpi=DPI), ctx.names, ctx.lang, ctx)
    result.draw(0)
    return result


def _html(anim: StoryAnimation, seconds_per_frame: float) -> str:
    """A page of its own: every frame as an embedded PNG, and buttons to step and play (no network)."""
    from orgsim.presentation.results import language_tag

    images = []
    for k in range(len(anim.frames)):
        anim.draw(k)
        buffer = io.BytesIO()
        anim.figure.savefig(buffer, format="png", dpi=DPI)
        images.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    labels = {"start": "« " + _("Start"), "back": "‹ " + _("Back"), "step": _("Step") + " ›",
              "play": _("Play") + " ▶", "pause": _("Pause") + " ||", "end": _("End") + " »"}
    title = escape(anim.names.title())
    frames_js = ",".join(f'"data:image/png;base64,{img}"' for img in images)
    titles_js = ",".join('"' + escape(frame_title(f, len(anim.frames) - 1)).replace('"', "&quot;") + '"'
                         for f in anim.frames)
    return f"""<!DOCTYPE html>
<html lang="{language_tag()}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:1rem;}}
img{{max-width:100%;border:1px solid #ccc}} button{{font-size:1.1rem;margin:.2rem;padding:.3rem .9rem}}
#where{{font-size:1.1rem;margin-left:.8rem}}</style></head>
<body><div><button id="start">{labels["start"]}</button><button id="back">{labels["back"]}</button>
<button id="step">{labels["step"]}</button><button id="play">{labels["play"]}</button>
<button id="end">{labels["end"]}</button><span id="where"></span></div>
<img id="frame" alt="{title}">
<script>
const frames=[{frames_js}];const titles=[{titles_js}];let k=0,timer=null;
const img=document.getElementById("frame"),where=document.getElementById("where"),play=document.getElementById("play");
function show(i){{k=Math.max(0,Math.min(i,frames.length-1));img.src=frames[k];where.innerHTML=titles[k];
if(k===frames.length-1)stop();}}
function stop(){{if(timer){{clearInterval(timer);timer=null;}}play.textContent={_js(labels["play"])};}}
document.getElementById("start").onclick=()=>{{stop();show(0);}};
document.getElementById("back").onclick=()=>{{stop();show(k-1);}};
document.getElementById("step").onclick=()=>{{stop();show(k+1);}};
document.getElementById("end").onclick=()=>{{stop();show(frames.length-1);}};
play.onclick=()=>{{if(timer){{stop();return;}}if(k===frames.length-1)show(0);
play.textContent={_js(labels["pause"])};timer=setInterval(()=>show(k+1),{int(seconds_per_frame * 1000)});}};
show(0);
</script></body></html>
"""


def _js(text: str) -> str:
    import json

    return json.dumps(text)


def write_animation(out: str | Path, outcome: ReformOutcome, scenario: Scenario, *, lang: str | None = None,
                    seconds_per_frame: float = 3.0) -> Path:
    """Write the animation to ``out`` (.gif, .mp4 or .html), whole or not at all."""
    from orgsim._io import atomic_write, atomic_write_text

    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise OrgsimError(f"{out}: the file name must end in .gif, .mp4 or .html")
    if fmt == "mp4":
        from matplotlib import animation as mpl_animation

        if not mpl_animation.writers.is_available("ffmpeg"):
            raise OrgsimError(f"{out}: writing MP4 needs ffmpeg, which is not installed (Debian: apt-get install "
                              "ffmpeg); .gif and .html need nothing more")
    anim = story_animation(outcome, scenario, lang=lang)
    from orgsim.i18n import use_language

    with use_language(anim.lang):
        if fmt == "html":
            return atomic_write_text(out, _html(anim, seconds_per_frame))
        writer = _writer(fmt, seconds_per_frame)

        def save(tmp: Path) -> None:
            # The writers take the format from the file's suffix: write under the real suffix in a temporary
            # folder beside the output, then move it onto the temporary file that becomes the output.
            with tempfile.TemporaryDirectory(dir=tmp.parent, prefix=".orgsim-animate-") as folder:
                made = Path(folder) / f"animation{out.suffix.lower()}"
                anim.animation(seconds_per_frame).save(str(made), writer=writer, dpi=DPI)
                os.replace(made, tmp)

        return atomic_write(out, save)


def _writer(fmt: str, seconds_per_frame: float) -> Any:
    from matplotlib.animation import FFMpegWriter, PillowWriter

    if fmt == "gif":
        # A frame every few seconds: matplotlib takes any positive fps (its annotation says int).
        return PillowWriter(fps=1 / seconds_per_frame)  # type: ignore[arg-type]
    # Frames at 1/seconds per second, repeated to 25 per second in the file: every player plays that.
    return FFMpegWriter(fps=1 / seconds_per_frame,  # type: ignore[arg-type] # as for GIF
                        codec="h264", extra_args=["-pix_fmt", "yuv420p", "-r", "25"])
