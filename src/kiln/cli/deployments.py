"""``kiln deploy``, ``kiln undeploy`` and ``kiln deployments list|show|logs``: thin commands over the SDK.

``kiln deploy MODEL --version 3`` (or ``--stage production``, ``--alias champion``) deploys under
the model's own name unless ``--name`` says otherwise, then waits until the server's serving side
has loaded it and prints the URL to predict at (or the reason it is not ready, exiting 1).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.output import console, fail, format_time, handle_errors, new_table, styled_status
from kiln.cli.prediction_lines import prediction_line
from kiln.client.api import Client
from kiln.serving.deployment_schemas import DeploymentRead, check_deployment_name
from kiln.serving.schemas import PredictionRead, PredictionStatus

deployments_app = typer.Typer(
    help="List deployments, inspect one, read its predictions.", no_args_is_help=True
)

# ``logs --follow`` looks this far before the newest prediction it saw (see ``_follow``).
FOLLOW_WINDOW = timedelta(minutes=1)

DeploymentName = Annotated[str, typer.Argument(help="Deployment name (its URL).")]


def _one_reference(version: str | None, stage: str | None, alias: str | None) -> None:
    given = [
        flag for flag, value in (("--version", version), ("--stage", stage), ("--alias", alias)) if value
    ]
    if len(given) != 1:
        which = "not " + " and ".join(given) if given else "none was given"
        raise typer.BadParameter(
            f"say which version to deploy with exactly one of --version, --stage or --alias ({which})"
        )


def _serves(deployment: DeploymentRead) -> str:
    follows = f" (follows {escape(deployment.follows)})" if deployment.follows else ""
    return f"{escape(deployment.model.name)} v{deployment.model.version}{follows}"


def _readiness(deployment: DeploymentRead) -> str:
    readiness = deployment.readiness
    if readiness is None or readiness.ready:
        return "[green]ready[/]"
    if readiness.pending:
        return "[cyan]loading[/]"
    return f"[red]not ready[/]: {escape(readiness.reason or '')}"


@handle_errors
def deploy(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Registered model to deploy.")],
    version: Annotated[
        str | None, typer.Option("--version", help="Pin this version: a number (3) or a label (1.0.0).")
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option("--stage", "-s", help="Follow the stage: production, staging or development."),
    ] = None,
    alias: Annotated[str | None, typer.Option("--alias", "-a", help="Follow this alias (champion).")] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Deployment name, its URL (default: the model's name).")
    ] = None,
    public: Annotated[
        bool, typer.Option("--public/--private", help="Answer predictions without a key.")
    ] = False,
    project: Annotated[
        str | None, typer.Option("--project", help="The model's project (when the name is not unique).")
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Seconds to wait until it is ready (0: do not wait).")
    ] = 60.0,
) -> None:
    """Deploy a model version (or make an existing deployment serve another), and wait until it is ready."""
    _one_reference(version, stage, alias)
    target = name or model
    problem = check_deployment_name(target)
    if problem is not None:
        raise fail(problem if name else f"{problem}; choose the deployment's name with --name")
    with remote.client(ctx) as client:
        deployment = client.deployments.deploy(
            target, model, version=version, stage=stage, alias=alias, public=public, project=project
        )
        console.print(f"Deployed [bold]{escape(deployment.name)}[/]: {_serves(deployment)}", soft_wrap=True)
        url = escape(client.deployments.predict_url(target))
        if timeout > 0:
            with console.status(f"Waiting until {escape(target)} is ready..."):
                client.deployments.wait_ready(target, timeout=timeout)
            console.print(f"[green]Ready.[/] Predict at: POST {url}", soft_wrap=True)
        else:
            console.print(
                f"Predict at: POST {url} (not waited for: `kiln deployments show` says when ready)",
                soft_wrap=True,
            )
    if public:
        console.print(
            "It is public: anyone who reaches the server may ask it for predictions, without a key."
        )


@handle_errors
def undeploy(ctx: typer.Context, name: DeploymentName) -> None:
    """Stop a deployment: it answers no more predictions (its record and prediction log stay)."""
    with remote.client(ctx) as client:
        deployment = client.deployments.delete(name)
    console.print(
        f"Stopped [bold]{escape(deployment.name)}[/] ({_serves(deployment)}); "
        f"`kiln deploy {escape(deployment.model.name)} --name {escape(deployment.name)} ...` starts it again."
    )


@deployments_app.command("list")
@handle_errors
def list_deployments(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="active or stopped.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model's deployments.")] = None,
) -> None:
    """The deployments of your projects, with what they serve and whether they are ready."""
    with remote.client(ctx) as client:
        found = list(client.deployments.iter(status=status, model=model))
    if not found:
        console.print("No deployments yet: `kiln deploy MODEL --stage production` makes one.")
        return
    table = new_table("Name", "Serves", "Public", "Status", "Readiness", "Updated", nowrap=("Status",))
    for deployment in found:
        table.add_row(
            f"[bold]{escape(deployment.name)}[/]",
            _serves(deployment),
            "yes" if deployment.public else "no",
            styled_status(deployment.status.value),
            _readiness(deployment) if deployment.status.value == "active" else "",
            format_time(deployment.updated_at),
        )
    console.print(table)


@deployments_app.command("show")
@handle_errors
def show(ctx: typer.Context, name: DeploymentName) -> None:
    """One deployment: what it serves, whether it is ready (and why not), and where to predict."""
    with remote.client(ctx) as client:
        deployment = client.deployments.get(name)
        url = client.deployments.predict_url(name)
    console.print(f"[bold]{escape(deployment.name)}[/] serves {_serves(deployment)}")
    for key, value in [
        ("status", styled_status(deployment.status.value)),
        ("readiness", _readiness(deployment)),
        ("version ref", escape(deployment.version_ref)),
        ("public", "yes (no key needed)" if deployment.public else "no (an API key of its project)"),
        ("predict", f"POST {escape(url)}"),
        ("created", f"{format_time(deployment.created_at)} by {escape(deployment.created_by)}"),
        ("updated", f"{format_time(deployment.updated_at)} by {escape(deployment.updated_by)}"),
        ("id", deployment.id),
    ]:
        console.print(f"  {key:<12} {value}")


def _recent(
    client: Client, name: str, status: str | None, limit: int, since: datetime | None = None
) -> list[PredictionRead]:
    page = client.predictions.list(deployment=name, status=status, limit=limit, from_=since)
    return list(reversed(page))


@deployments_app.command("logs")
@handle_errors
def logs(
    ctx: typer.Context,
    name: DeploymentName,
    status: Annotated[
        PredictionStatus | None, typer.Option("--status", help="ok, invalid (refused input) or error.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many recent ones.")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new ones (Ctrl-C stops).")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="--follow: seconds between looks.")
    ] = 1.0,
) -> None:
    """A deployment's recent predictions, oldest first: time, request id, status, version, latency, answer."""
    value = status.value if status is not None else None
    with remote.client(ctx) as client:
        client.deployments.get(name)  # an unknown deployment is an error, not an empty log
        recent = _recent(client, name, value, limit)
        if not recent and not follow:
            console.print(f"No predictions logged for {escape(name)} yet.")
        for item in recent:
            console.print(prediction_line(item), soft_wrap=True)
        if follow:
            _follow(client, name, value, recent, interval)


def _follow(
    client: Client, name: str, status: str | None, recent: list[PredictionRead], interval: float
) -> None:
    """Print predictions as they are logged, until Ctrl-C.

    Each look asks for those logged since a minute before the newest one seen (a process's queued
    batch may be written a little after a newer one) and prints the ids not printed yet; ``seen``
    keeps only the ids that look could return again.
    """
    seen = {item.request_id for item in recent}
    newest = max((item.created_at for item in recent), default=None)
    try:
        while True:
            time.sleep(interval)
            since = newest - FOLLOW_WINDOW if newest is not None else None
            found = _recent(client, name, status, 1000, since)
            for item in found:
                if item.request_id not in seen:
                    console.print(prediction_line(item), soft_wrap=True)
            seen = {item.request_id for item in found}
            newest = max((item.created_at for item in found), default=newest)
    except KeyboardInterrupt:
        return
