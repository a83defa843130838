"""``orgsim animate``: the reform step by step as an animation for slides (GIF, MP4 or HTML).

matplotlib is imported only when the command runs, with the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import click

from orgsim.cli._common import _user_errors, input_options, lang_option, language_of
from orgsim.i18n import _, use_language
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario

__all__ = ["animate"]

_SUFFIXES = (".gif", ".mp4", ".html", ".htm")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .gif, .mp4 (needs ffmpeg) or .html (frames embedded, opens with no network).")
@click.option("--seconds", type=click.FloatRange(0.2, 60), default=3.0, show_default=True,
              help="Seconds each frame stays on screen.")
@lang_option
@input_options
@_user_errors
def animate(file: str, out: Path, seconds: float, lang: str | None, allow_outside: bool,
            max_memory: int | None) -> None:
    """The reforms step by step as an animation for slides: one frame for the start and one after each
    operator, with the change in words, the headline numbers and the org chart.
    """
    if out.suffix.lower() not in _SUFFIXES:
        raise click.BadParameter(f"{out}: the file name must end in .gif, .mp4 or .html", param_hint="-o/--out")
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    outcome = reform_scenario(scenario)
    chosen = language_of(lang, scenario)
    import matplotlib

    matplotlib.use("Agg")
    from orgsim.animation import write_animation

    with use_language(chosen):
        write_animation(out, outcome, scenario, lang=chosen, seconds_per_frame=seconds)
        click.echo(_("wrote {path}").format(path=out), err=True)
