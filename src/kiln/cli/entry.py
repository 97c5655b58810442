"""The ``kiln`` console script: ``kiln serve`` starts without loading the rest of the CLI.

A serving process is started often (one per replica, again on every scale-up or crash) and only
needs its own command. The whole CLI (``kiln.cli.main``: every command group, the SDK, rich output)
costs a serving start about 0.4 CPU seconds and 11 MB that it never uses, so ``kiln serve ...`` gets
a Typer app holding that one command, with the same options and help; every other command line
(``kiln --url X serve`` too) goes to the whole CLI.
"""

from __future__ import annotations

import sys

import typer

from kiln.cli.server import serve


def serve_only_app() -> typer.Typer:
    app = typer.Typer(
        name="kiln",
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def main() -> None:
        """Kiln: track experiments, register models, run pipelines, serve and monitor."""

    app.command("serve")(serve)
    return app


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve_only_app()()
        return
    from kiln.cli.main import app

    app()


if __name__ == "__main__":
    main()
