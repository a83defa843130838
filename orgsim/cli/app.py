"""``orgsim app``: the training-room web page on this computer.

The scenario is loaded and its reforms applied first, so a mistake in the file
gives the same located message and exit code 2 as every other command before
any server starts. The web framework (Shiny for Python, the ``app`` extra) is
imported only then.
"""

from __future__ import annotations

import os
import socket
import sys

import click

from orgsim.cli._common import USAGE_ERROR, _user_errors, input_options, lang_option, language_of
from orgsim.i18n import _, use_language
from orgsim.reforms import reform_scenario
from orgsim.scenario import load_scenario

__all__ = ["app_command", "DEFAULT_PORT", "LOCAL_HOSTS"]

#: The port the page is served on unless told (0: any free port).
DEFAULT_PORT = 8050
#: Hosts that only this computer reaches.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or a usage error saying why not (the port is taken...)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise click.BadParameter(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port",
                                 param_hint="--port/--host") from None
    return sock


@click.command("app")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to serve the page on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default is reachable from this computer only.")
@lang_option
@input_options
@_user_errors
def app_command(file: str, port: int, host: str, lang: str | None, allow_outside: bool,
                max_memory: int | None) -> None:
    """Open a web page for a training room: reforms as switches, sliders, a run, and the reform step by step.

    Serves the page on this computer (no network needed: every script and style
    comes with the app); open the address it prints in a browser. Ctrl-C stops it.
    Needs the app extra: pip install "orgsim[app]".
    """
    scenario = load_scenario(file, allow_outside=allow_outside, max_memory_bytes=max_memory)
    if scenario.packages:
        raise click.BadParameter(
            f"{file}: the scenario compares packages ({', '.join(scenario.packages)}); the app shows one reform list "
            "as switches: copy one package into `reforms` (docs/app.md)", param_hint="FILE")
    reform_scenario(scenario)  # a reform that does not apply is the file's mistake: said now, exit 2
    chosen = language_of(lang, scenario)
    try:
        import shiny  # noqa: F401 - checked here to say how to install it
        import uvicorn
    except ImportError as exc:
        click.echo(f"error: orgsim app needs the app extra ({exc.name} is missing): pip install \"orgsim[app]\"",
                   err=True)
        sys.exit(USAGE_ERROR)
    # Shiny reports to OpenTelemetry only when an exporter is set up; say "none" so that nothing is ever collected.
    os.environ.setdefault("SHINY_OTEL_COLLECT", "none")
    os.environ.setdefault("OTEL_SDK_DISABLED", "true")
    sock = _listen(host, port)
    from orgsim.app.page import make_app

    app = make_app(scenario, chosen, allow_outside=allow_outside, max_memory=max_memory)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    with use_language(chosen):
        click.echo(_("orgsim app: open http://{host}:{port}/ in a browser (Ctrl-C stops it)").format(
            host=shown, port=bound), err=True)
        if host not in LOCAL_HOSTS:
            click.echo(_("warning: the page has no login; anyone who can reach {host}:{port} can use it").format(
                host=shown, port=bound), err=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="auto")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
