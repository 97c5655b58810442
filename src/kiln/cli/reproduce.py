"""What it takes to rerun a run, shown to people (rich); the script and requirements come from the server."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiln.cli.output import new_table
from kiln.tracking.reproduce import command_line
from kiln.tracking.schemas import Reproduction


def print_reproduction(console: Console, reproduction: Reproduction) -> None:
    # Every recorded value is escaped: a run name such as '[link=…]' must print as typed.
    git: dict[str, Any] = reproduction.git
    console.print(
        f"[bold]Run[/] {escape(reproduction.run_id)} ([bold]{escape(reproduction.run_name)}[/]) "
        f"in experiment [bold]{escape(reproduction.experiment)}[/]"
    )
    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("Python", escape(reproduction.python or "—"))
    overview.add_row("Platform", escape(reproduction.platform or "—"))
    overview.add_row("Source", escape(reproduction.source or "—"))
    overview.add_row("Command", escape(command_line(reproduction.command) or "—"))
    if git.get("commit"):
        overview.add_row("Git commit", escape(str(git["commit"])))
        overview.add_row("Git branch", escape(str(git.get("branch", "—"))))
        overview.add_row("Git remote", escape(str(git.get("remote", "—"))))
    else:
        overview.add_row("Git", "not recorded (not started inside a git repository)")
    overview.add_row("Packages", f"{len(reproduction.packages)} (write them with --output requirements.txt)")
    console.print(overview)
    if git.get("dirty") is True:
        console.print(
            "[bold yellow]warning:[/] the working tree had uncommitted changes when the run started; "
            "the commit alone does not reproduce it."
        )
    for warning in reproduction.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
    if reproduction.params:
        params = new_table("Param", "Value", title="Params", title_justify="left")
        for key, value in sorted(reproduction.params.items()):
            params.add_row(escape(key), escape(value))
        console.print(params)
    if reproduction.inputs:
        table = new_table("Kind", "Name", "Version", "Digest", "URI", title="Inputs", title_justify="left")
        for item in reproduction.inputs:
            table.add_row(
                *(escape(value) for value in (item.kind, item.name, item.version, item.digest, item.uri))
            )
        console.print(table)
