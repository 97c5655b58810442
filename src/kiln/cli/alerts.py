"""``kiln alerts list|ack|rules``: the incident log and alert rules, over the SDK."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, format_time, handle_errors, new_table, styled_status
from kiln.monitoring.alert_schemas import IncidentState, RuleState, format_duration

alerts_app = typer.Typer(
    help="Alerts: the incident log, acknowledging incidents, alert rules.", no_args_is_help=True
)


@alerts_app.command("list")
@handle_errors
def list_incidents(
    ctx: typer.Context,
    state: Annotated[IncidentState | None, typer.Option("--state", "-s", help="firing or resolved.")] = None,
    deployment: Annotated[
        str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """Incidents of your projects, newest first."""
    with remote.client(ctx) as client:
        incidents = list(client.alerts.list(state=state, deployment=deployment, limit=limit))
    table = new_table(
        "Id", "Rule", "Deployment", "State", "Value", "Fired", "Resolved", "Acknowledged", ids=("Id",)
    )
    for incident in incidents:
        table.add_row(
            incident.id,
            escape(incident.rule_name),
            escape(incident.deployment),
            styled_status(incident.state.value),
            "—" if incident.value is None else f"{incident.value:g}",
            format_time(incident.fired_at),
            format_time(incident.resolved_at),
            escape(incident.acknowledged_by or ""),
        )
    console.print(table)


@alerts_app.command("ack")
@handle_errors
def ack(
    ctx: typer.Context,
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    note: Annotated[str, typer.Option("--note", "-n", help="What you are doing about it.")] = "",
) -> None:
    """Acknowledge an incident (it resolves when its metric recovers)."""
    with remote.client(ctx) as client:
        incident = client.alerts.ack(incident_id, note)
    console.print(
        f"Incident {incident.id} ({escape(incident.rule_name)}) acknowledged by "
        f"{escape(incident.acknowledged_by or '')}."
    )


@alerts_app.command("rules")
@handle_errors
def rules(
    ctx: typer.Context,
    deployment: Annotated[
        str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")
    ] = None,
    state: Annotated[RuleState | None, typer.Option("--state", "-s", help="ok, pending or firing.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Alert rules of your projects with their state."""
    with remote.client(ctx) as client:
        found = list(client.alerts.rules(deployment=deployment, state=state, limit=limit))
    table = new_table("Id", "Name", "Deployment", "Condition", "State", "Last value", ids=("Id",))
    for rule in found:
        duration = format_duration(rule.duration_seconds)
        condition = f"{rule.metric} {rule.comparison.value} {rule.threshold:g} for {duration}"
        table.add_row(
            rule.id,
            escape(rule.name) + ("" if rule.enabled else " (disabled)"),
            escape(rule.deployment),
            escape(condition),
            styled_status(rule.state.value),
            "—" if rule.last_value is None else f"{rule.last_value:g}",
        )
    console.print(table)
