"""The ``kiln`` console script: the process commands start without loading the rest of the CLI.

``kiln serve`` (one per serving replica, again on every scale-up or crash), ``kiln worker`` and
``kiln server`` only need their own command. The whole CLI (``kiln.cli.main``: every command group,
the SDK, rich tables) costs such a start about 0.3 CPU seconds and 10 MB that it never uses, so
``kiln serve ...`` (and ``server``, ``worker``) gets a Typer app holding that one command, with the
same options and help; every other command line (``kiln --url X serve`` too) goes to the whole CLI.

It also keeps the script light where Python re-runs it: a process pool started by a ``kiln``
process (the local pipeline executor's fork server) imports the parent's ``__main__`` script again,
which then loads this module and nothing more.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from kiln.cli.as_module import present_as_module
from kiln.cli.server import serve, server
from kiln.cli.worker import worker

PROCESS_COMMANDS: dict[str, Callable[..., Any]] = {"serve": serve, "server": server, "worker": worker}


def process_command_app(name: str) -> typer.Typer:
    """A ``kiln`` holding only the process command ``name`` (help and options as in the whole CLI)."""
    app = typer.Typer(
        name="kiln",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def main() -> None:
        """Kiln: track experiments, register models, run pipelines, serve and monitor."""

    app.command(name)(PROCESS_COMMANDS[name])
    return app


def main() -> None:
    present_as_module()  # before any step process starts (kiln.cli.as_module says why)
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name in PROCESS_COMMANDS:
        process_command_app(name)()
        return
    from kiln.cli.main import app

    app()


if __name__ == "__main__":
    main()
