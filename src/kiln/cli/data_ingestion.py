"""``kiln data append|pending|commit`` and ``kiln data quarantine list|download|release|discard``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.datasets import Project
from kiln.cli.output import console, fail, format_time, handle_errors, new_table
from kiln.data.ingestion_schemas import QuarantineDecided

quarantine_app = typer.Typer(
    help="Review the rows the rules refused: list, download, release (fixed) or discard.",
    no_args_is_help=True,
)

DatasetOption = Annotated[str, typer.Option("--dataset", "-d", help="Dataset name.")]
DatasetArgument = Annotated[str, typer.Argument(help="Dataset name.")]
RowIds = Annotated[list[str], typer.Argument(help="Quarantined row ids (from `quarantine list`).")]
Note = Annotated[str, typer.Option("--note", "-n", help="Why: kept with the decision and audited.")]


@handle_errors
def append(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv or .parquet file.", exists=True, dir_okay=False)],
    dataset: DatasetOption,
    project: Project = None,
) -> None:
    """Append a file's rows (whole, or nothing); the dataset's ingestion policy cuts the versions."""
    with remote.client(ctx) as client:
        result = client.datasets.append(dataset, file, project=project)
    console.print(f"Appended {result.rows:,} rows to {escape(dataset)} (batch {result.batch_id})")
    if result.version is not None:
        console.print(
            f"Created {escape(result.version.ref)}: {result.version.rows:,} rows, "
            f"{result.version.quarantine.rows:,} quarantined"
        )
    else:
        console.print(f"{result.pending_rows:,} rows pending the next version")


@handle_errors
def pending(ctx: typer.Context, name: DatasetArgument, project: Project = None) -> None:
    """How many appended rows wait for the next version, and the policy that will make it."""
    with remote.client(ctx) as client:
        waiting = client.datasets.pending(name, project=project)
    policy = waiting.ingestion
    when = (
        "on request (kiln data commit)"
        if policy.on_request
        else ", ".join(
            part
            for part in (
                f"every {policy.every_rows:,} rows" if policy.every_rows else "",
                f"every {policy.every_minutes} minutes" if policy.every_minutes else "",
            )
            if part
        )
    )
    console.print(f"{waiting.pending_rows:,} rows pending in {waiting.batches:,} batches; versions {when}")


@handle_errors
def commit(ctx: typer.Context, name: DatasetArgument, project: Project = None) -> None:
    """Make the pending rows a version now."""
    with remote.client(ctx) as client:
        version = client.datasets.commit(name, project=project)
    console.print(
        f"Created {escape(version.ref)}: {version.rows:,} rows, {version.quarantine.rows:,} quarantined"
        if version.created
        else f"Unchanged: every pending row was refused; the data is still {escape(version.ref)}"
    )


@quarantine_app.command("list")
@handle_errors
def list_rows(
    ctx: typer.Context,
    name: DatasetArgument,
    status: Annotated[str, typer.Option(help="pending, released or discarded.")] = "pending",
    column: Annotated[str | None, typer.Option(help="Only rows with a reason on this column.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only rows a rule of this name refused.")] = None,
    check: Annotated[str | None, typer.Option(help="type, null, range, category, duplicate, ...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    project: Project = None,
) -> None:
    """The quarantined rows with their reasons."""
    with remote.client(ctx) as client:
        page = client.datasets.quarantine(
            name, status=status, column=column, rule=rule, check=check, limit=limit, project=project
        )
    table = new_table("Id", "Version", "Row", "Reasons", "Status", "Since")
    for row in page:
        table.add_row(
            row.id,
            str(row.version_number or ""),
            str(row.row_number),
            escape("; ".join(row.reasons)),
            row.status.value,
            format_time(row.created_at),
        )
    console.print(table)
    if page.total is not None:
        console.print(f"{page.total:,} rows")


@quarantine_app.command("download")
@handle_errors
def download(
    ctx: typer.Context,
    name: DatasetArgument,
    target: Annotated[Path, typer.Argument(help="The CSV file to write.", dir_okay=False)],
    status: Annotated[str, typer.Option(help="pending, released or discarded.")] = "pending",
    project: Project = None,
) -> None:
    """The quarantined rows as CSV: fix them in a spreadsheet, then release them with --fixes."""
    with remote.client(ctx) as client:
        client.datasets.download_quarantine(name, target, status=status, project=project)
    console.print(f"Wrote {escape(str(target))}")


def _fixes(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        fixes = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise fail(f"fixes file {path} is not readable JSON: {exc}") from None
    if not isinstance(fixes, dict):
        raise fail(f'fixes file {path} must map row ids to values: {{"<id>": {{"latency_ms": 12.5}}}}')
    return fixes


def _decided(decided: QuarantineDecided, verb: str) -> None:
    console.print(f"{verb.capitalize()} {decided.rows:,} rows")
    if decided.version is not None:
        console.print(f"Created {escape(decided.version.ref)}: {decided.version.rows:,} rows")


@quarantine_app.command("release")
@handle_errors
def release(
    ctx: typer.Context,
    name: DatasetArgument,
    ids: RowIds,
    fixes: Annotated[
        Path | None,
        typer.Option(help='JSON file: {"<row id>": {"column": value}} replacing the rows\' values.'),
    ] = None,
    note: Note = "",
    project: Project = None,
) -> None:
    """Release rows into the next version (the rules judge them again)."""
    values = _fixes(fixes)
    with remote.client(ctx) as client:
        decided = client.datasets.release(name, ids, fixes=values, note=note, project=project)
    _decided(decided, "released")


@quarantine_app.command("discard")
@handle_errors
def discard(
    ctx: typer.Context, name: DatasetArgument, ids: RowIds, note: Note = "", project: Project = None
) -> None:
    """Discard rows for good (they stay listed, as discarded)."""
    with remote.client(ctx) as client:
        decided = client.datasets.discard(name, ids, note=note, project=project)
    _decided(decided, "discarded")


def add_ingestion_commands(group: typer.Typer) -> None:
    """``append``, ``pending``, ``commit`` and the ``quarantine`` group join ``kiln data``."""
    group.command("append")(append)
    group.command("pending")(pending)
    group.command("commit")(commit)
    group.add_typer(quarantine_app, name="quarantine")
