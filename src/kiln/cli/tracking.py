"""``kiln experiments ...`` and ``kiln runs ...``: thin commands over the SDK (HTTP to the server)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kiln.cli import remote
from kiln.cli.output import (
    console,
    fail,
    format_duration,
    format_time,
    format_value,
    handle_errors,
    new_table,
    short_id,
    styled_status,
)
from kiln.cli.reproduce import print_reproduction
from kiln.client.api import Client
from kiln.tracking.schemas import RunRead

experiments_app = typer.Typer(help="Create and list experiments.", no_args_is_help=True)
runs_app = typer.Typer(help="Search, inspect, compare and reproduce runs.", no_args_is_help=True)

MAX_INLINE = 4  # metrics/params shown per row in `runs list`; `runs show` has them all


# -- experiments ------------------------------------------------------------------------------


@experiments_app.command("list")
@handle_errors
def list_experiments(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Most to show.")] = 100,
) -> None:
    """List experiments, newest first."""
    with remote.client(ctx) as client:
        page = client.list_experiments(limit=limit)
    table = new_table(
        "ID", "Name", "Runs", "Created by", "Created", "Description", ids=("ID",), nowrap=("Runs",)
    )
    for experiment in page.items:
        table.add_row(
            experiment.id,
            f"[bold]{escape(experiment.name)}[/]",
            str(experiment.run_count),
            escape(experiment.created_by),
            format_time(experiment.created_at),
            escape(experiment.description),
        )
    console.print(table)


@experiments_app.command("create")
@handle_errors
def create_experiment(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique experiment name.")],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Create an experiment."""
    with remote.client(ctx) as client:
        experiment = client.create_experiment(name, description=description)
    console.print(f"Created experiment [bold]{escape(experiment.name)}[/] ({experiment.id}).")


# -- runs -------------------------------------------------------------------------------------


def _inline(values: dict[str, str] | dict[str, float]) -> str:
    items = [escape(f"{key}={format_value(value)}") for key, value in sorted(values.items())]
    extra = f" (+{len(items) - MAX_INLINE})" if len(items) > MAX_INLINE else ""
    return ", ".join(items[:MAX_INLINE]) + extra


def _experiment_names(client: Client, runs: list[RunRead]) -> dict[str, str]:
    return {eid: client.get_experiment(eid).name for eid in {run.experiment_id for run in runs}}


@runs_app.command("list")
@handle_errors
def list_runs(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None, typer.Option("--experiment", "-e", help="Experiment name (repeatable).")
    ] = None,
    filter: Annotated[
        str | None,
        typer.Option("--filter", "-f", help="e.g. \"metrics.accuracy > 0.9 and params.C = '1.0'\""),
    ] = None,
    order_by: Annotated[
        str | None, typer.Option("--order-by", "-o", help='e.g. "metrics.accuracy DESC"')
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Most to show.")] = 20,
) -> None:
    """Search runs (newest first unless --order-by says otherwise)."""
    with remote.client(ctx) as client, console.status("Searching runs..."):
        page = client.search_runs(
            experiment=experiment or None, filter=filter, order_by=order_by, limit=limit
        )
        names = _experiment_names(client, page.items)
    table = new_table(
        "Run ID",
        "Name",
        "Experiment",
        "Status",
        "Started",
        "Duration",
        "Metrics",
        "Params",
        ids=("Run ID",),
        nowrap=("Status", "Duration"),
        values=("Metrics", "Params"),
    )
    for run in page.items:
        table.add_row(
            run.id,
            escape(run.name),
            escape(names.get(run.experiment_id, run.experiment_id)),
            styled_status(run.status),
            format_time(run.start_time),
            format_duration(run.start_time, run.end_time),
            _inline(run.metrics),
            _inline(run.params),
        )
    console.print(table)
    total = page.total if page.total is not None else len(page.items)
    console.print(f"{len(page.items)} of {total} run(s).", style="dim")


@runs_app.command("show")
@handle_errors
def show_run(ctx: typer.Context, run_id: Annotated[str, typer.Argument(help="Run id.")]) -> None:
    """Everything recorded about one run."""
    with remote.client(ctx) as client:
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.experiment_id)
        artifacts = client.list_artifacts(run_id)
    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_column(style="bold")
    overview.add_column()
    rows: list[tuple[str, str]] = [
        ("Run", f"{run.id} ({escape(run.name)})"),
        ("Experiment", f"{escape(experiment.name)} ({experiment.id})"),
        ("Status", styled_status(run.status)),
        ("User", escape(run.user)),
        ("Started", format_time(run.start_time)),
        ("Ended", format_time(run.end_time)),
        ("Duration", format_duration(run.start_time, run.end_time)),
        ("Parent run", run.parent_run_id or "—"),
        ("Source", escape(run.source or "—")),
        ("Artifacts", escape(run.artifact_uri)),
    ]
    for label, value in rows:
        overview.add_row(label, value)
    console.print(overview)
    sections: list[tuple[str, Mapping[str, object]]] = [
        ("Params", run.params),
        ("Metrics (latest)", run.metrics),
        ("Tags", run.tags),
    ]
    for title, values in sections:
        if values:
            table = new_table("Key", "Value", title=title, title_justify="left", values=("Value",))
            for key, item in sorted(values.items()):
                table.add_row(escape(key), escape(format_value(item)))
            console.print(table)
    if artifacts:
        table = new_table("Path", "Size", "SHA-256", title="Artifacts", title_justify="left")
        for artifact in artifacts:
            table.add_row(escape(artifact.path), f"{artifact.size:,}", artifact.sha256[:16])
        console.print(table)


@runs_app.command("compare")
@handle_errors
def compare_runs(
    ctx: typer.Context, run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")]
) -> None:
    """Params and metrics side by side; differing params and the best metric values are highlighted."""
    with remote.client(ctx) as client, console.status("Comparing runs..."):
        comparison = client.compare_runs(run_ids)
    table = new_table("", *(f"{escape(run.name)}\n[dim]{short_id(run.id)}[/]" for run in comparison.runs))
    differing = set(comparison.differing_params)
    for key in comparison.param_keys:
        label = f"[bold yellow]params.{escape(key)}[/]" if key in differing else f"params.{escape(key)}"
        table.add_row(label, *(escape(run.params.get(key, "—")) for run in comparison.runs))
    if comparison.param_keys and comparison.metric_keys:
        table.add_section()
    for key in comparison.metric_keys:
        best = comparison.best_by_metric.get(key)
        cells = []
        for run in comparison.runs:
            value = run.metrics.get(key)
            text = "—" if value is None else format_value(value)
            cells.append(f"[bold green]{text}[/]" if run.id == best and len(comparison.runs) > 1 else text)
        table.add_row(f"metrics.{escape(key)}", *cells)
    console.print(table)
    if differing:
        console.print(f"Differing params: {escape(', '.join(sorted(differing)))}", style="yellow")


@runs_app.command("reproduce")
@handle_errors
def reproduce_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write a shell script (.sh) or a requirements file (.txt) instead of printing.",
        ),
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", help="script or requirements [default: from the file name]")
    ] = None,
) -> None:
    """What is needed to rerun a run: code version, interpreter, packages, command, params, data."""
    with remote.client(ctx) as client:
        reproduction = client.reproduce_run(run_id)
    if output is None:
        print_reproduction(console, reproduction)
        return
    kind = output_format or ("requirements" if output.suffix == ".txt" else "script")
    if kind not in ("script", "requirements"):
        raise fail(f"unknown --format {kind!r}; use 'script' or 'requirements'")
    # Written by the server, the same text the run page shows.
    text = reproduction.requirements if kind == "requirements" else reproduction.script
    if not text:
        raise fail("the server sent no script; upgrade the Kiln server")
    output.write_text(text)
    # Not executable: the run's creator chose what is in it, so it is read before it is run.
    output.chmod(0o644)
    console.print(f"Wrote {kind} for run {escape(run_id)} to [bold]{escape(str(output))}[/].")
    if kind == "script":
        console.print(f"Review it, then run it with: sh {escape(shlex.quote(str(output)))}")
    if reproduction.git.get("dirty") is True:
        console.print("[bold yellow]warning:[/] the run's working tree had uncommitted changes.")
