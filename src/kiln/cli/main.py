"""The ``kiln`` command. Each domain contributes a command group; this file only assembles them."""

from __future__ import annotations

from typing import Annotated

import typer

from kiln import __version__
from kiln.audit.cli import audit_app
from kiln.auth.cli import admin_app
from kiln.cli.account import keys_app, login, logout, projects_app
from kiln.cli.alerts import alerts_app
from kiln.cli.artifacts import artifacts_app
from kiln.cli.data_ingestion import add_ingestion_commands
from kiln.cli.datasets import data_app
from kiln.cli.deployments import deploy, deployments_app, undeploy
from kiln.cli.jobs import jobs_app
from kiln.cli.model_lifecycle import add_lifecycle_commands
from kiln.cli.monitor import monitor_app
from kiln.cli.monitor_retraining import add_retraining_commands
from kiln.cli.monitor_thresholds import add_threshold_commands
from kiln.cli.pipelines import pipelines_app
from kiln.cli.predict import predict
from kiln.cli.registry import models_app
from kiln.cli.remote import Remote
from kiln.cli.server import db_app, serve, server
from kiln.cli.tracking import experiments_app, runs_app
from kiln.cli.worker import worker

app = typer.Typer(
    name="kiln",
    help="Kiln: a self-hostable MLOps platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"kiln {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="KILN_URL",
            help="Kiln server for remote commands [default: http://127.0.0.1:8000]",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Kiln: track experiments, register models, run pipelines, serve and monitor."""
    # Remote commands find the server on the context (cli/remote.py), fresh for every invocation.
    ctx.obj = Remote(url)


app.command("server")(server)
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(db_app, name="db")
app.add_typer(experiments_app, name="experiments")
app.add_typer(runs_app, name="runs")
app.add_typer(artifacts_app, name="artifacts")
# Appends, commits and the quarantine review join the data group.
add_ingestion_commands(data_app)
app.add_typer(data_app, name="data")
# The lifecycle commands (promote, approve, reject, approvals, rollback, history) join the registry group.
add_lifecycle_commands(models_app)
app.add_typer(models_app, name="models")
app.command("deploy")(deploy)
app.command("undeploy")(undeploy)
app.add_typer(deployments_app, name="deployments")
app.command("predict")(predict)
app.command("login")(login)
app.command("logout")(logout)
app.add_typer(projects_app, name="projects")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(pipelines_app, name="pipelines")
app.add_typer(alerts_app, name="alerts")
add_retraining_commands(monitor_app)
add_threshold_commands(monitor_app)
app.add_typer(monitor_app, name="monitor")
app.add_typer(audit_app, name="audit")
app.add_typer(admin_app, name="admin")


if __name__ == "__main__":
    app()
