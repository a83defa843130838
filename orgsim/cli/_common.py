"""What every ``orgsim`` command shares: exit codes, user errors, JSON output, progress.

Imports nothing from the command modules, so each of them can be loaded on
its own (``orgsim.cli`` loads a command's module only when it runs).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from orgsim.errors import OrgsimError
from orgsim.i18n import ENV_VAR, LANGUAGES, resolve_language

__all__ = [
    "USAGE_ERROR", "INTERRUPTED", "PROGRESS_AFTER_SECONDS", "_user_errors", "_echo_json", "_progress",
    "lang_option", "english_option", "language_of", "input_options", "MemorySize",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code for a user's mistake, as click uses for bad arguments.
USAGE_ERROR = 2
#: Exit code after Ctrl-C (or SIGTERM in sweeps), as shells report 128 + SIGINT.
INTERRUPTED = 130
#: Show a progress bar only when a run is expected to take longer than this.
PROGRESS_AFTER_SECONDS = 2.0


def _user_errors(func: F) -> F:
    """Turn OrgsimError into problem lines on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OrgsimError as exc:
            for line in exc.lines():
                click.echo(f"error: {line}", err=True)
            sys.exit(USAGE_ERROR)
        except KeyboardInterrupt:
            # Output files are written whole or not at all, so none is half-written.
            click.echo("\ninterrupted: stopped; no partial output file was left behind", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def lang_option(func: F) -> F:
    """``--lang zh|en`` (also ``$ORGSIM_LANG``); unset, the scenario's ``scenario.language``, else English."""
    return click.option(
        "--lang", type=click.Choice(LANGUAGES, case_sensitive=False), envvar=ENV_VAR, show_envvar=True,
        help="Language of tables, figures and the report: zh (Chinese) or en (English). Default: the "
             "scenario's scenario.language, else en.",
    )(func)


def english_option(func: F) -> F:
    """``--english``: the same as ``--lang en`` (kept for the commands that had it)."""
    return click.option("--english", is_flag=True, help="The same as --lang en.")(func)


def language_of(lang: str | None, scenario: Any = None, english: bool = False) -> str:
    """The language a command speaks: ``--english``, else ``--lang`` / ``$ORGSIM_LANG``, else the scenario's."""
    return "en" if english else resolve_language(lang.lower() if lang else None, scenario)


def _echo_json(data: Any) -> None:
    from orgsim._io import json_text

    click.echo(json_text(data))


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that draws a bar on a terminal once the work takes a while."""
    interactive = sys.stderr.isatty()
    started = time.monotonic()
    bar: Any = None

    def update(done: int, n: int) -> None:
        nonlocal bar
        if not interactive:
            return
        if bar is not None:
            bar.update(done - bar.pos)
            return
        expected = (time.monotonic() - started) / done * n
        if done < n and expected > PROGRESS_AFTER_SECONDS:
            bar = click.progressbar(length=n, label=label, file=sys.stderr, show_eta=True)
            bar.__enter__()
            bar.update(done)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


class MemorySize(click.ParamType):
    """A memory size: ``8G``, ``512M``, ``2.5GiB`` or bytes."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from orgsim.budget import parse_size

        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def input_options(func: F) -> F:
    """``--allow-outside`` and ``--max-memory``: how far a scenario may reach, and what its runs may cost."""
    func = click.option(
        "--max-memory", type=MemorySize(), default=None, metavar="SIZE",
        help="Memory the runs may plan to use, e.g. 16G (default 4G); a scenario expected to need more "
             "is refused before it runs (docs/model.md, Resource budget).")(func)
    func = click.option(
        "--allow-outside", is_flag=True,
        help="Let arrival traces be read from outside the scenario's folder.")(func)
    return func
