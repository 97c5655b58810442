"""``kiln jobs schedule create|list|show|enable|disable|delete``: cron schedules, over the SDK.

Under ``kiln jobs`` because a schedule enqueues jobs of any registered kind (pipelines add their own
``kiln pipelines schedule`` shortcut over the same API). Fire times print in the schedule's own zone.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

import kiln
from kiln.cli import remote
from kiln.cli.output import console, fail, handle_errors, new_table
from kiln.jobs.schedule_schemas import CatchUp, ScheduleRead

schedule_app = typer.Typer(
    help="Cron schedules that enqueue jobs: create, list, show, enable, disable, delete.",
    no_args_is_help=True,
)

ScheduleId = Annotated[str, typer.Argument(help="Schedule id.")]


def fire_time(schedule: ScheduleRead) -> str:
    """The next fire in the schedule's zone: what its cron expression says, in its own words."""
    if schedule.next_fire_at is None:
        return "disabled" if not schedule.enabled else "never"
    local = schedule.next_fire_at.astimezone(ZoneInfo(schedule.time_zone))
    return f"{local:%Y-%m-%d %H:%M} {schedule.time_zone}"


def project_id(client: kiln.Client, ref: str | None) -> str:
    """A project's id from its name or id; without one, the caller's only project, else 'default'."""
    projects = list(client.projects.iter())
    if ref is None and len(projects) == 1:
        return projects[0].id
    wanted = ref or "default"
    for project in projects:
        if wanted in (project.id, project.name):
            return project.id
    raise fail(f"project {wanted!r} not found; name one with --project")


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--payload is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise fail('--payload must be a JSON object, such as \'{"dataset": "telemetry"}\'')
    return value


def _print(schedule: ScheduleRead, verb: str) -> None:
    console.print(
        f"Schedule [bold]{escape(schedule.name)}[/] ({schedule.id}) {verb}: "
        f"{escape(schedule.cron)} in {schedule.time_zone}, next fire {fire_time(schedule)}."
    )


@schedule_app.command("create")
@handle_errors
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique in its project.")],
    cron: Annotated[str, typer.Argument(help="Five fields, such as '0 2 * * *' (daily at 02:00).")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="The job kind to enqueue at each fire.")],
    payload: Annotated[str, typer.Option(help="The JSON object each job is given.")] = "{}",
    time_zone: Annotated[str, typer.Option("--tz", help="IANA time zone the expression is read in.")] = "UTC",
    catch_up: Annotated[
        CatchUp, typer.Option(help="Fires missed while down: skip them, run once, or run all.")
    ] = CatchUp.skip,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled.")] = False,
    project: Annotated[
        str | None, typer.Option(help="Project name or id [default: your only project, else 'default'].")
    ] = None,
) -> None:
    """Create a schedule; it prints when it first fires."""
    with remote.client(ctx) as client:
        schedule = client.schedules.create(
            name,
            cron,
            kind=kind,
            payload=_payload(payload),
            time_zone=time_zone,
            catch_up=catch_up,
            enabled=not disabled,
            project_id=project_id(client, project),
        )
    _print(schedule, "created")


@schedule_app.command("list")
@handle_errors
def list_schedules(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only schedules of this job kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, by name.")] = 100,
) -> None:
    """Schedules of your projects with their next fire time."""
    with remote.client(ctx) as client:
        found = list(client.schedules.list(kind=kind, limit=limit))
    table = new_table("Id", "Name", "Cron", "Kind", "Catch-up", "Next fire", ids=("Id",))
    for schedule in found:
        table.add_row(
            schedule.id,
            escape(schedule.name),
            escape(schedule.cron),
            escape(schedule.kind),
            schedule.catch_up.value,
            fire_time(schedule),
        )
    console.print(table)


@schedule_app.command("show")
@handle_errors
def show(ctx: typer.Context, schedule_id: ScheduleId) -> None:
    """One schedule: its expression, zone, payload, next and last fire."""
    with remote.client(ctx) as client:
        schedule = client.schedules.get(schedule_id)
    _print(schedule, "is enabled" if schedule.enabled else "is disabled")
    console.print(f"  kind          {escape(schedule.kind)}")
    console.print(f"  payload       {escape(json.dumps(schedule.payload))}")
    console.print(f"  catch-up      {schedule.catch_up.value}")
    if schedule.last_fired_at is not None:
        console.print(f"  last fire     {schedule.last_fired_at.isoformat()} (job {schedule.last_job_id})")


@schedule_app.command("enable")
@handle_errors
def enable(ctx: typer.Context, schedule_id: ScheduleId) -> None:
    """Fire again from the next fire time (fires missed while disabled are not run)."""
    with remote.client(ctx) as client:
        _print(client.schedules.enable(schedule_id), "enabled")


@schedule_app.command("disable")
@handle_errors
def disable(ctx: typer.Context, schedule_id: ScheduleId) -> None:
    """Stop firing until enabled again."""
    with remote.client(ctx) as client:
        _print(client.schedules.disable(schedule_id), "disabled")


@schedule_app.command("delete")
@handle_errors
def delete(ctx: typer.Context, schedule_id: ScheduleId) -> None:
    """Delete a schedule; the jobs it enqueued stay."""
    with remote.client(ctx) as client:
        client.schedules.delete(schedule_id)
    console.print(f"Schedule {schedule_id} deleted.")
