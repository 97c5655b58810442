"""``kiln audit``: verify the hash chain and export records, straight from the database (operators)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from kiln.core.settings import get_settings

if TYPE_CHECKING:
    from kiln.core.db import Database

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
console = Console()


def _database() -> Database:
    # Imported here: `kiln --help` and remote commands should not pay for SQLAlchemy.
    from kiln.core.db import Database

    return Database(get_settings().resolved_database_url)


@audit_app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            metavar="SEQ:HASH",
            help="a head printed by an earlier verify: fail unless the trail still holds it",
        ),
    ] = None,
) -> None:
    """Walk the keyed hash chain; print its head (SEQ:HASH) to keep elsewhere, or the first broken
    link (exit code 1)."""
    from kiln.audit import chain

    try:
        expected = chain.parse_head(expect_head) if expect_head else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expect-head") from None
    db = _database()
    try:
        with db.unit_of_work() as session:
            result = chain.verify_chain(session, expect_head=expected)
    finally:
        db.dispose()
    if result.ok:
        console.print(f"[green]audit trail intact[/green]: {result.checked} records verified")
        console.print(f"head {result.head_seq}:{result.head_hash}", soft_wrap=True)
        return
    console.print(
        f"[red]audit trail broken[/red] at record {result.broken_seq}: {result.reason} "
        f"({result.checked} records verified before it)"
    )
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    actor: Annotated[str | None, typer.Option(help="only this actor id")] = None,
    user: Annotated[
        str | None, typer.Option(help="only this user id's actions, also those made with their API keys")
    ] = None,
    action: Annotated[str | None, typer.Option(help="only this action, e.g. user.login")] = None,
) -> None:
    """Export records, oldest first, as JSON lines or CSV."""
    from pydantic import ValidationError

    from kiln.audit import service
    from kiln.audit.schemas import AuditFilter

    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("use --format jsonl or --format csv")
    try:
        filters = AuditFilter(actor_id=actor, user_id=user, action=action)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc.errors()[0]["msg"])) from None
    db = _database()
    count = 0
    try:
        with db.unit_of_work() as session, output.open("w", encoding="utf-8", newline="") as handle:
            for line in service.export_records(session, filters, fmt=fmt):
                handle.write(line)
                count += 1
    finally:
        db.dispose()
    console.print(f"wrote {count - (1 if fmt == 'csv' else 0)} records to {output}")
