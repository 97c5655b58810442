"""What it takes to rerun a run, rendered for people (rich), for pip (requirements) or for sh."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from kiln.cli.output import new_table
from kiln.client.run import INPUT_TAG_PREFIX
from kiln.tracking.schemas import Reproduction


def dataset_inputs(reproduction: Reproduction, tags: dict[str, str]) -> list[dict[str, str]]:
    """Inputs given at run creation plus those logged later as ``kiln.input.<name>`` tags."""
    inputs = [item.model_dump() for item in reproduction.inputs]
    for key, value in sorted(tags.items()):
        if key.startswith(INPUT_TAG_PREFIX):
            try:
                described = json.loads(value)
            except ValueError:
                described = {"name": key.removeprefix(INPUT_TAG_PREFIX), "uri": value}
            inputs.append(
                {
                    field: str(described.get(field, ""))
                    for field in ("kind", "name", "version", "digest", "uri")
                }
            )
    return inputs


def _describe_input(item: dict[str, str]) -> str:
    parts = [item["name"]]
    if item.get("version"):
        parts.append(f"version {item['version']}")
    if item.get("digest"):
        parts.append(f"digest {item['digest']}")
    if item.get("uri"):
        parts.append(item["uri"])
    return ", ".join(parts)


def requirements(reproduction: Reproduction) -> str:
    lines = [
        f"# Packages of Kiln run {reproduction.run_id} ({reproduction.run_name})",
        f"# Python {reproduction.python or 'unknown'} on {reproduction.platform or 'unknown platform'}",
        *(
            f"{name}=={version}"
            for name, version in sorted(reproduction.packages.items(), key=lambda p: p[0].lower())
        ),
    ]
    return "\n".join(lines) + "\n"


def command_line(reproduction: Reproduction) -> str:
    if not reproduction.command:
        return ""
    first, *rest = reproduction.command
    if first in ("-c", "-m", ""):
        return ""  # an interactive session or `python -c`: there is no script to rerun
    return shlex.join(["python", first, *rest])


def shell_script(reproduction: Reproduction, inputs: list[dict[str, str]]) -> str:
    git: dict[str, Any] = reproduction.git
    lines = [
        "#!/bin/sh",
        f"# Reproduce Kiln run {reproduction.run_id} ({reproduction.run_name}) "
        f"of experiment {reproduction.experiment!r}.",
        f"# Written by `kiln runs reproduce` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"# Original interpreter: Python {reproduction.python or 'unknown'} "
        f"on {reproduction.platform or 'unknown'}.",
        "set -eu",
        "",
    ]
    if git.get("commit"):
        if git.get("dirty"):
            lines.append(
                "# WARNING: the working tree had uncommitted changes; this commit is not exactly what ran."
            )
        if git.get("remote"):
            lines.append(f"git clone {shlex.quote(str(git['remote']))} kiln-reproduce && cd kiln-reproduce")
        lines.append(f"git checkout {shlex.quote(str(git['commit']))}")
        lines.append("")
    else:
        lines += ["# The run was not started inside a git repository: fetch the code yourself.", ""]
    if reproduction.packages:
        lines += [
            "python -m venv .venv-reproduce && . .venv-reproduce/bin/activate",
            "pip install -r /dev/stdin <<'REQUIREMENTS'",
            *requirements(reproduction).splitlines(),
            "REQUIREMENTS",
            "",
        ]
    if inputs:
        lines.append("# Dataset inputs the run read:")
        lines += [f"#   {_describe_input(item)}" for item in inputs]
        lines.append("")
    if reproduction.params:
        lines.append("# Params the run logged:")
        lines += [f"#   {key} = {value}" for key, value in sorted(reproduction.params.items())]
        lines.append("")
    command = command_line(reproduction)
    if command:
        lines.append(command)
    else:
        lines.append(
            f"# No script command was recorded; the run's source was {reproduction.source or 'unknown'}."
        )
    return "\n".join(lines) + "\n"


def print_reproduction(console: Console, reproduction: Reproduction, inputs: list[dict[str, str]]) -> None:
    git: dict[str, Any] = reproduction.git
    console.print(
        f"[bold]Run[/] {reproduction.run_id} ([bold]{reproduction.run_name}[/]) "
        f"in experiment [bold]{reproduction.experiment}[/]"
    )
    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("Python", reproduction.python or "—")
    overview.add_row("Platform", reproduction.platform or "—")
    overview.add_row("Source", reproduction.source or "—")
    overview.add_row("Command", command_line(reproduction) or "—")
    if git.get("commit"):
        overview.add_row("Git commit", str(git["commit"]))
        overview.add_row("Git branch", str(git.get("branch", "—")))
        overview.add_row("Git remote", str(git.get("remote", "—")))
    else:
        overview.add_row("Git", "not recorded (not started inside a git repository)")
    overview.add_row("Packages", f"{len(reproduction.packages)} (write them with --output requirements.txt)")
    console.print(overview)
    if git.get("dirty"):
        console.print(
            "[bold yellow]warning:[/] the working tree had uncommitted changes when the run started; "
            "the commit alone does not reproduce it."
        )
    if reproduction.params:
        params = new_table("Param", "Value", title="Params", title_justify="left")
        for key, value in sorted(reproduction.params.items()):
            params.add_row(key, value)
        console.print(params)
    if inputs:
        table = new_table("Kind", "Name", "Version", "Digest", "URI", title="Inputs", title_justify="left")
        for item in inputs:
            table.add_row(item["kind"], item["name"], item["version"], item["digest"], item["uri"])
        console.print(table)
