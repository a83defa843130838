"""A click group whose subcommands are imported only when they run.

This is click's documented ``LazyGroup`` pattern ("Lazily Loading
Subcommands"), plus one thing: the group's ``--help`` lists every command's
one-line help without importing its module, by reading the command
function's docstring from the module's source. So ``orgsim --help`` and
``orgsim validate`` never load the simulation, sweep or plotting commands.
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import sys
from gettext import gettext as _
from typing import Any

import click

__all__ = ["LazyGroup"]

_FROZEN = "orgsim.cli: objects frozen"


class LazyGroup(click.Group):
    """A group of commands named ``"package.module:attribute"``, imported on first use."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        finally:
            if ctx.meta.pop(_FROZEN, False):
                gc.unfreeze()

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        resolved = super().resolve_command(ctx, args)
        # The command's module and its libraries are loaded: their objects
        # (hundreds of thousands, none of them garbage) are set aside while
        # the command runs, so that the collector does not walk them all
        # again (about 30 ms in `orgsim validate`). invoke() puts them back.
        # A caller that froze objects of its own is left alone.
        if gc.get_freeze_count() == 0:
            gc.freeze()
            ctx.meta[_FROZEN] = True
        return resolved

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own format_commands, with stand-ins carrying each unloaded
        # command's help in place of the commands themselves.
        found = [(name, self._for_help(ctx, name)) for name in self.list_commands(ctx)]
        commands = [(name, cmd) for name, cmd in found if cmd is not None and not cmd.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        with formatter.section(_("Commands")):  # the heading click writes
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])

    def _load(self, cmd_name: str) -> click.Command:
        module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a mistake in the table
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command

    def _for_help(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, or when its module is not loaded yet, a stand-in with its help text."""
        if cmd_name not in self.lazy_subcommands:
            return self.get_command(ctx, cmd_name)
        module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
        if module_name not in sys.modules:
            doc = _docstring(module_name, attribute)
            if doc is not None:
                return click.Command(cmd_name, help=doc)
        return self._load(cmd_name)


def _docstring(module_name: str, function: str) -> str | None:
    """The docstring of ``function`` in ``module_name``'s source, or None when the source is not at hand."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    try:
        with open(spec.origin, encoding="utf-8") as source:
            tree = ast.parse(source.read(), spec.origin)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return ast.get_docstring(node)
    return None
