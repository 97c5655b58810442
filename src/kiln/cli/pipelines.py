"""``kiln pipelines register|list|show|diff|run|runs|status|logs``: pipelines as code, over the SDK.

Schedules are generic cron schedules of the job queue (``kiln jobs``), not a command here.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table, styled_status
from kiln.client.api import Client
from kiln.pipelines.schemas import FINISHED_RUN_STATES, PipelineRunRead

pipelines_app = typer.Typer(
    help="Pipelines as code: register definitions, see versions and diffs, run them, read run logs.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Pipeline name.")]
RunId = Annotated[str, typer.Argument(help="Pipeline run id.")]
ProjectOption = Annotated[str | None, typer.Option("--project", help="Project id or name.")]


def _parameter(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise fail(f"parameter {text!r}: write NAME=VALUE (e.g. -p rows=500)", code=2)
    try:
        return name, json.loads(raw)  # numbers and booleans as such
    except json.JSONDecodeError:
        return name, raw  # anything else is a string


@pipelines_app.command("register")
@handle_errors
def register(
    ctx: typer.Context,
    definition: Annotated[
        str, typer.Argument(help="A YAML file, or package.module:attribute naming a @pipeline.")
    ],
    project: ProjectOption = None,
) -> None:
    """Register a definition: a new version when it changed, else the latest version again."""
    with remote.client(ctx) as client:
        registered = client.pipelines.register(definition, project=project)
    what = "registered as" if registered.created else "unchanged: still"
    console.print(f"Pipeline {escape(registered.pipeline)} {what} version {registered.number}.")


@pipelines_app.command("list")
@handle_errors
def list_pipelines(ctx: typer.Context, project: ProjectOption = None) -> None:
    """Pipelines of your projects."""
    with remote.client(ctx) as client:
        found = list(client.pipelines.list(project=project))
    table = new_table("Name", "Latest version", "Description", "Updated")
    for item in found:
        table.add_row(
            escape(item.name),
            str(item.latest_version),
            escape(item.description[:60]),
            format_time(item.updated_at),
        )
    console.print(table)


@pipelines_app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    name: Name,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Default: the latest.")] = None,
    project: ProjectOption = None,
) -> None:
    """One version: parameters and steps with what each needs."""
    with remote.client(ctx) as client:
        pipeline = client.pipelines.get(name, project=project)
        shown = client.pipelines.version(name, version or pipeline.latest_version, project=project)
    head = f"[bold]{escape(name)}[/] version {shown.number} of {pipeline.latest_version}"
    console.print(f"{head}  {shown.content_hash[:12]}")
    for parameter in shown.spec.parameters:
        default = "required" if parameter.default is None else f"default {parameter.default!r}"
        console.print(f"  param {escape(parameter.name)}: {parameter.type.value}, {escape(default)}")
    table = new_table("Step", "Function", "Needs", "Retries", "Timeout")
    for step in shown.spec.steps:
        timeout = f"{step.timeout:g} s" if step.timeout else ""
        table.add_row(
            escape(step.name),
            escape(step.function),
            escape(", ".join(step.upstream())),
            str(step.retries),
            timeout,
        )
    console.print(table)


@pipelines_app.command("diff")
@handle_errors
def diff(
    ctx: typer.Context,
    name: Name,
    before: Annotated[int, typer.Argument(help="From this version.")],
    after: Annotated[int, typer.Argument(help="To this version.")],
    project: ProjectOption = None,
) -> None:
    """What changed between two versions, step by step and parameter by parameter."""
    with remote.client(ctx) as client:
        changes = client.pipelines.diff(name, before, after, project=project)
    lines = [f"+ step {step}" for step in changes.steps_added]
    lines += [f"- step {step}" for step in changes.steps_removed]
    lines += [f"+ parameter {item}" for item in changes.parameters_added]
    lines += [f"- parameter {item}" for item in changes.parameters_removed]
    for kind, changed in (("step", changes.steps_changed), ("parameter", changes.parameters_changed)):
        for item in changed:
            for field, change in item.changes.items():
                lines.append(f"~ {kind} {item.name}.{field}: {change.before!r} -> {change.after!r}")
    if changes.description is not None:
        lines.append("~ description")
    console.print(f"{escape(name)} v{before} -> v{after}")
    for line in lines or ["no changes"]:
        console.print(f"  {escape(line)}", highlight=False)


def _print_run(run: PipelineRunRead) -> None:
    console.print(
        f"[bold]{escape(run.pipeline)}[/] v{run.version} run {run.id} {styled_status(run.state.value)}"
    )
    if run.error:
        console.print(f"  error: {escape(run.error)}")
    table = new_table("Step", "State", "Attempts", "Started", "Wall s", "CPU s", "Peak MiB")
    for step in run.steps:
        peak = f"{step.peak_memory_bytes / 2**20:.1f}" if step.peak_memory_bytes else ""
        table.add_row(
            escape(step.name),
            styled_status(step.state.value),
            f"{step.attempts}/{step.max_attempts}",
            format_time(step.started_at) if step.started_at else "",
            f"{step.wall_seconds:.2f}" if step.wall_seconds is not None else "",
            f"{step.cpu_seconds:.2f}" if step.cpu_seconds is not None else "",
            peak,
        )
    console.print(table)


@pipelines_app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    name: Name,
    parameter: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, repeatable.")
    ] = None,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Default: the latest.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run has finished.")] = False,
    project: ProjectOption = None,
) -> None:
    """Queue a run; bad parameters are refused before anything runs."""
    parameters = dict(_parameter(text) for text in parameter or [])
    with remote.client(ctx) as client:
        started = client.pipelines.run(name, parameters, version=version, project=project)
        console.print(
            f"Run {started.id} of {escape(name)} v{started.version} is {styled_status(started.state.value)}."
        )
        if wait:
            finished = client.pipelines.wait(name, started.id, project=project)
            _print_run(finished)
            if finished.state.value != "succeeded":
                raise typer.Exit(1)


@pipelines_app.command("runs")
@handle_errors
def runs(ctx: typer.Context, name: Name, project: ProjectOption = None) -> None:
    """The pipeline's runs, newest first."""
    with remote.client(ctx) as client:
        found = list(client.pipelines.runs(name, project=project))
    table = new_table("Id", "Version", "State", "Queued", "Triggered by", "Error", ids=("Id",))
    for item in found:
        table.add_row(
            item.id,
            str(item.version),
            styled_status(item.state.value),
            format_time(item.created_at),
            escape(item.triggered_by),
            escape((item.error or "")[:60]),
        )
    console.print(table)


@pipelines_app.command("status")
@handle_errors
def status(ctx: typer.Context, name: Name, run_id: RunId, project: ProjectOption = None) -> None:
    """One run: every step's state, attempts, timings and peak memory."""
    with remote.client(ctx) as client:
        _print_run(client.pipelines.get_run(name, run_id, project=project))


def _new_lines(
    client: Client, name: str, run_id: str, step: str | None, project: str | None, seen: dict[str, int]
) -> list[str]:
    fresh = []
    for log in client.pipelines.logs(name, run_id, step=step, project=project):
        for line in log.lines[seen.get(log.step, 0) :]:
            fresh.append(f"{log.step} | {line}")
        seen[log.step] = len(log.lines)
    return fresh


@pipelines_app.command("logs")
@handle_errors
def logs(
    ctx: typer.Context,
    name: Name,
    run_id: RunId,
    step: Annotated[str | None, typer.Option("--step", help="One step's log only.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")] = False,
    project: ProjectOption = None,
) -> None:
    """Each step's timestamped log lines (what it printed and logged), in dependency order."""
    seen: dict[str, int] = {}
    with remote.client(ctx) as client:
        while True:
            for line in _new_lines(client, name, run_id, step, project, seen):
                console.print(escape(line), highlight=False)
            if (
                not follow
                or client.pipelines.get_run(name, run_id, project=project).state in FINISHED_RUN_STATES
            ):
                # One last read: lines written between the previous read and the run's end.
                for line in _new_lines(client, name, run_id, step, project, seen) if follow else []:
                    console.print(escape(line), highlight=False)
                return
            time.sleep(1.0)
