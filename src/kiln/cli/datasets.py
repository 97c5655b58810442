"""``kiln data ...``: datasets and versions (list, create, upload, versions, show, diff) over the SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.artifacts import transfer_bars
from kiln.cli.output import console, fail, format_time, format_value, handle_errors, new_table
from kiln.data.schemas import ChangeSummary, DatasetVersionRead

data_app = typer.Typer(
    help="Create datasets, upload versions, inspect and compare them.", no_args_is_help=True
)

Project = Annotated[str | None, typer.Option("--project", "-p", help="Project id or name.")]


def _json_file(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise fail(f"{what} file {path} is not readable JSON: {exc}") from None


def _versions_table(versions: list[DatasetVersionRead]) -> None:
    table = new_table("Ref", "Rows", "Quarantined", "Quality", "Source", "SHA-256", "Created")
    for version in versions:
        table.add_row(
            escape(version.ref),
            f"{version.rows:,}",
            f"{version.quarantine.rows:,}",
            "passed" if version.quality.passed else "[red]failed[/]",
            escape(f"{version.source.value} {version.source_file}".strip()),
            version.content_hash[:12],
            f"{format_time(version.created_at)} by {escape(version.created_by)}",
        )
    console.print(table)


def _changes(changes: ChangeSummary) -> None:
    console.print(
        f"Changes v{changes.from_number} -> v{changes.to_number}: {changes.rows_before:,} -> "
        f"{changes.rows_after:,} rows, +{changes.rows_added:,} -{changes.rows_removed:,} "
        f"(matched by {changes.matched_by})"
    )
    for label, names in (("added", changes.columns_added), ("removed", changes.columns_removed)):
        if names:
            console.print(f"  columns {label}: {escape(', '.join(names))}")
    for retyped in changes.columns_retyped:
        console.print(f"  column {escape(retyped.name)}: {retyped.before} -> {retyped.after}")
    table = new_table("Column", "Mean before", "Mean after", "Std before", "Std after", "KS", "p")
    for shift in changes.shifts:
        table.add_row(
            escape(shift.column),
            *(
                format_value(value) if value is not None else ""
                for value in (
                    shift.mean_before,
                    shift.mean_after,
                    shift.std_before,
                    shift.std_after,
                    shift.ks_statistic,
                    shift.p_value,
                )
            ),
        )
    if changes.shifts:
        console.print(table)


@data_app.command("list")
@handle_errors
def list_datasets(ctx: typer.Context, project: Project = None) -> None:
    """The datasets you can see, with their latest version."""
    with remote.client(ctx) as client:
        datasets = list(client.datasets.list(project=project))
    table = new_table("Name", "Latest", "Columns", "Description")
    for dataset in datasets:
        table.add_row(
            escape(dataset.name),
            str(dataset.latest_version or ""),
            str(len(dataset.data_schema.columns)),
            escape(dataset.description[:60]),
        )
    console.print(table)


@data_app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name (letters, digits, . _ -).")],
    schema: Annotated[Path, typer.Option("--schema", "-s", help="JSON file: columns and optional key.")],
    rules: Annotated[Path | None, typer.Option("--rules", "-r", help='JSON file: {"rules": [...]}.')] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    project: Project = None,
) -> None:
    """Declare a dataset: its schema (columns, types, ranges, categories, key) and filtering rules."""
    declared = _json_file(schema, "schema")
    filters = _json_file(rules, "rules") if rules is not None else None
    with remote.client(ctx) as client:
        dataset = client.datasets.create(
            name, declared, rules=filters, description=description, project=project
        )
    console.print(f"Created dataset {escape(dataset.name)} ({len(dataset.data_schema.columns)} columns)")


@data_app.command("upload")
@handle_errors
def upload(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    file: Annotated[Path, typer.Argument(help="A .csv or .parquet file.", exists=True, dir_okay=False)],
    project: Project = None,
) -> None:
    """Upload a file as the next version (identical data is the version that already holds it)."""
    with remote.client(ctx) as client, transfer_bars() as bars:
        version = client.datasets.upload(name, file, project=project, progress=bars)
    if not version.created:
        console.print(f"Unchanged: the data is already {escape(version.ref)}")
        return
    quality = "passed" if version.quality.passed else "[red]FAILED[/] (reads are refused)"
    console.print(
        f"Created {escape(version.ref)}: {version.rows:,} rows, {version.quarantine.rows:,} quarantined, "
        f"quality {quality}"
    )


@data_app.command("versions")
@handle_errors
def versions(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Dataset name.")], project: Project = None
) -> None:
    """A dataset's versions, newest first."""
    with remote.client(ctx) as client:
        _versions_table(list(client.datasets.versions(name, project=project)))


@data_app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="A version: telemetry@7, dataset:telemetry@latest.")],
    project: Project = None,
) -> None:
    """A version's statistics, quality checks, quarantine and changes against its parent."""
    with remote.client(ctx) as client:
        version = client.datasets.version(ref, project=project)
    console.print(f"[bold]{escape(version.ref)}[/] {version.rows:,} rows, sha256 {version.content_hash}")
    console.print(f"  created {format_time(version.created_at)} by {escape(version.created_by)}")
    stats = new_table("Column", "Type", "Count", "Nulls", "Distinct", "Min", "Max", "Mean", "Std", "Top")
    for column in version.statistics:
        top = ", ".join(f"{item.value} ({item.count})" for item in column.top[:3])
        stats.add_row(
            escape(column.name),
            column.type,
            f"{column.count:,}",
            f"{column.nulls:,}",
            f"{column.distinct:,}",
            *(escape(format_value(v)) if v is not None else "" for v in (column.minimum, column.maximum)),
            *(format_value(v) if v is not None else "" for v in (column.mean, column.std)),
            escape(top),
        )
    console.print(stats)
    verdict = "passed" if version.quality.passed else "[red]FAILED[/]"
    console.print(f"Quality {verdict}")
    for check in version.quality.checks:
        if not check.passed:
            colour = "red" if check.severity == "error" else "yellow"
            console.print(f"  [{colour}]{check.severity}[/] {escape(check.message)}")
    if version.quarantine.rows:
        console.print(f"Quarantined {version.quarantine.rows:,} rows")
        for reason in version.quarantine.by_reason:
            console.print(
                f"  {reason.rows:,} x {escape(reason.rule or reason.check)} ({escape(reason.column)})"
            )
    if version.changes is not None:
        _changes(version.changes)


@data_app.command("diff")
@handle_errors
def diff(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    before: Annotated[str, typer.Argument(help="The earlier version: a number or latest.")],
    after: Annotated[str, typer.Argument(help="The later version: a number or latest.")] = "latest",
    project: Project = None,
) -> None:
    """What changed between two versions: rows added and removed, columns, distribution shifts."""
    with remote.client(ctx) as client:
        _changes(client.datasets.diff(name, before, after, project=project))
