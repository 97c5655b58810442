"""``kiln models promote|approve|reject|approvals|rollback|history``: thin commands over the SDK.

``add_lifecycle_commands(models_app)`` puts them in the ``models`` group (which also holds the
registry's list/show/register/download/search).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table
from kiln.registry.lifecycle_schemas import ApprovalRead

Project = Annotated[
    str | None, typer.Option("--project", help="Project id or name (when the name is not unique).")
]
Reason = Annotated[
    str, typer.Option("--reason", "-r", help="Why: kept in the stage history and the audit trail.")
]


@handle_errors
def promote(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Version number, label, @alias or stage.")],
    stage: Annotated[
        str,
        typer.Option(
            "--stage", "-s", help="staging (runs the gates), production (asks for approval), archived"
        ),
    ] = "staging",
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the history).")] = "",
    risk_level: Annotated[
        str | None, typer.Option("--risk-level", help="production: low|medium|high|critical")
    ] = None,
    risk_assessment: Annotated[
        str | None, typer.Option("--risk-assessment", help="production: the risks")
    ] = None,
    project: Project = None,
) -> None:
    """Move a version to staging (the gates run) or archived; for production, request an approval."""
    with remote.client(ctx) as client:
        if stage == "production":
            if not risk_level or not risk_assessment:
                raise fail("production needs an approval request: give --risk-level and --risk-assessment")
            approval = client.model_lifecycle.request_production(
                name, version, risk_assessment=risk_assessment, risk_level=risk_level, project=project
            )
            console.print(
                f"Approval requested: [bold]{approval.id}[/] ({escape(name)} v{approval.version_number}, "
                f"risk {approval.risk_level}). Another approver: kiln models approve {approval.id} -r ..."
            )
            return
        moved = client.model_lifecycle.set_stage(name, version, stage, reason=reason, project=project)
    console.print(f"{escape(name)} v{moved.number} is now [bold]{moved.stage}[/]")
    for result in moved.gate_results:
        mark = "[green]pass[/]" if result.passed else "[red]fail[/]"
        console.print(f"  {mark} {escape(result.gate)}: {escape(result.detail)}")


@handle_errors
def approve(
    ctx: typer.Context,
    approval_id: Annotated[str, typer.Argument(help="The approval request's id.")],
    reason: Reason,
) -> None:
    """Approve a production request (not your own): the version goes to production."""
    with remote.client(ctx) as client:
        decided = client.model_lifecycle.approve(approval_id, reason=reason)
    console.print(f"Approved: {escape(decided.model_name)} v{decided.version_number} is in production")


@handle_errors
def reject(
    ctx: typer.Context,
    approval_id: Annotated[str, typer.Argument(help="The approval request's id.")],
    reason: Reason,
) -> None:
    """Reject a production request; the version stays in staging."""
    with remote.client(ctx) as client:
        decided = client.model_lifecycle.reject(approval_id, reason=reason)
    console.print(f"Rejected: {escape(decided.model_name)} v{decided.version_number} stays in staging")


@handle_errors
def approvals(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="pending|approved|rejected")] = "pending",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 100,
) -> None:
    """The approvals inbox: requests in your projects (pending by default)."""
    with remote.client(ctx) as client:
        page = client.model_lifecycle.approvals(status=status, limit=limit)
    _print_approvals(page.items)


def _print_approvals(items: list[ApprovalRead]) -> None:
    table = new_table("ID", "Model", "Version", "Risk", "Status", "Requested by", "Requested", ids=("ID",))
    for item in items:
        table.add_row(
            item.id,
            escape(item.model_name),
            str(item.version_number),
            item.risk_level,
            item.status,
            escape(item.requested_by),
            format_time(item.requested_at),
        )
    console.print(table)


@handle_errors
def rollback(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    reason: Reason,
    project: Project = None,
) -> None:
    """Return production to the previous production version; the current one is marked failed."""
    with remote.client(ctx) as client:
        result = client.model_lifecycle.rollback(name, reason=reason, project=project)
    console.print(
        f"{escape(name)}: v{result.restored.number} is in production again; "
        f"v{result.failed.number} is marked failed"
    )


@handle_errors
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Option("--version", "-v", help="Only this version.")] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Say which version was in production then (ISO 8601, e.g. 2024-05-01)"),
    ] = None,
    project: Project = None,
) -> None:
    """Every stage change (time, who, why); with --at, which version was in production at that time."""
    with remote.client(ctx) as client:
        if at is not None:
            try:
                when = datetime.fromisoformat(at)
            except ValueError:
                raise fail(f"--at {at!r} is not a date and time like 2024-05-01T13:30") from None
            found = client.model_lifecycle.production_at(name, when, project=project)
            assert found.version is not None
            console.print(
                f"{escape(name)} v{found.version.number} was in production at {found.at.isoformat()}"
            )
            return
        changes = client.model_lifecycle.history(name, version=version, project=project)
    table = new_table("When", "Version", "From", "To", "By", "Reason", "Approval")
    for change in changes:
        table.add_row(
            format_time(change.changed_at),
            str(change.version_number),
            change.from_stage or "—",
            change.to_stage,
            escape(change.changed_by),
            escape(change.reason),
            change.approval_id or "",
        )
    console.print(table)


def add_lifecycle_commands(models_app: typer.Typer) -> None:
    models_app.command("promote")(promote)
    models_app.command("approve")(approve)
    models_app.command("reject")(reject)
    models_app.command("approvals")(approvals)
    models_app.command("rollback")(rollback)
    models_app.command("history")(history)
