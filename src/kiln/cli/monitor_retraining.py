"""``kiln monitor retrain-on|retrain-triggers|retrain-off``: retraining triggers, over the SDK."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table
from kiln.cli.pipelines import _parameter as parameter_pair
from kiln.monitoring.alert_schemas import format_duration
from kiln.monitoring.retraining_schemas import RetrainingCause, RetrainingTriggerRead


def _causes(text: str) -> list[str]:
    causes = [part.strip() for part in text.split(",") if part.strip()]
    known = {cause.value for cause in RetrainingCause}
    if not causes or any(cause not in known for cause in causes):
        raise fail(f"--on {text!r}: write drift, alert or drift,alert", code=2)
    return causes


def retrain_on(
    ctx: typer.Context,
    deployment: Annotated[str, typer.Argument(help="Deployment name.")],
    pipeline: Annotated[str, typer.Option("--pipeline", help="Pipeline in the deployment's project.")],
    parameter: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, repeatable.")
    ] = None,
    on: Annotated[str, typer.Option("--on", help="drift, alert, or drift,alert.")] = "drift,alert",
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Only this alert rule fires it (repeatable).")
    ] = None,
    cooldown: Annotated[str, typer.Option("--cooldown", help="No second run within: 30m, 6h, 2d.")] = "6h",
) -> None:
    """Run a pipeline when the deployment drifts or its alert fires (once per cooldown)."""
    parameters = dict(parameter_pair(text) for text in parameter or [])
    with remote.client(ctx) as client:
        trigger = client.monitoring.retraining.create(
            deployment,
            pipeline,
            parameters=parameters,
            on=_causes(on),
            alert_rules=rule or [],
            cooldown=cooldown,
        )
    console.print(
        f"Retraining trigger {trigger.id}: {escape(trigger.deployment)} runs {escape(trigger.pipeline)} "
        f"on {_on(trigger)} (cooldown {format_duration(trigger.cooldown_seconds)})."
    )


def retrain_triggers(
    ctx: typer.Context,
    deployment: Annotated[
        str | None, typer.Option("--deployment", "-d", help="Only this deployment's.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
) -> None:
    """Retraining triggers of your projects, with what each last did."""
    with remote.client(ctx) as client:
        found = list(client.monitoring.retraining.list(deployment=deployment, limit=limit))
    table = new_table(
        "Id", "Deployment", "Pipeline", "On", "Cooldown", "Runs", "Last", "Outcome", ids=("Id",)
    )
    for trigger in found:
        table.add_row(
            trigger.id,
            escape(trigger.deployment),
            escape(trigger.pipeline),
            _on(trigger) + ("" if trigger.enabled else " (disabled)"),
            format_duration(trigger.cooldown_seconds),
            str(trigger.runs_started),
            format_time(trigger.last_outcome_at),
            escape(trigger.last_outcome or ""),
        )
    console.print(table)


def retrain_off(
    ctx: typer.Context, trigger_id: Annotated[str, typer.Argument(help="Retraining trigger id.")]
) -> None:
    """Delete a retraining trigger."""
    with remote.client(ctx) as client:
        client.monitoring.retraining.delete(trigger_id)
    console.print(f"Retraining trigger {trigger_id} deleted.")


def _on(trigger: RetrainingTriggerRead) -> str:
    causes = [name for name, wanted in (("drift", trigger.on_drift), ("alert", trigger.on_alert)) if wanted]
    rules = f" ({', '.join(trigger.alert_rules)})" if trigger.alert_rules and trigger.on_alert else ""
    return ", ".join(causes) + escape(rules)


def add_retraining_commands(app: typer.Typer) -> None:
    """The three commands on ``kiln monitor`` (one line in cli/main.py)."""
    app.command("retrain-on")(handle_errors(retrain_on))
    app.command("retrain-triggers")(handle_errors(retrain_triggers))
    app.command("retrain-off")(handle_errors(retrain_off))
