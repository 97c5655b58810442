"""``kiln jobs list|show|cancel|retry``: the job queue, over the SDK (``kiln worker`` runs the jobs);
``kiln jobs schedule ...``: the cron schedules that enqueue jobs (``kiln.cli.job_schedules``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from kiln.cli import remote
from kiln.cli.job_schedules import schedule_app
from kiln.cli.output import console, format_time, handle_errors, new_table, styled_status
from kiln.jobs.schemas import JobDetail, JobState

jobs_app = typer.Typer(
    help="The job queue: list jobs, inspect one, cancel or retry it; cron schedules.", no_args_is_help=True
)

jobs_app.add_typer(schedule_app, name="schedule")

JobId = Annotated[str, typer.Argument(help="Job id.")]


@jobs_app.command("list")
@handle_errors
def list_jobs(
    ctx: typer.Context,
    state: Annotated[JobState | None, typer.Option("--state", "-s", help="Only jobs in this state.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """Jobs of your projects, newest first."""
    with remote.client(ctx) as client:
        jobs = list(client.jobs.list(state=state, kind=kind, limit=limit))
    table = new_table("Id", "Kind", "State", "Attempts", "Queued", "Last error", ids=("Id",))
    for job in jobs:
        table.add_row(
            job.id,
            escape(job.kind),
            styled_status(job.state.value),
            f"{job.attempts}/{job.max_attempts}",
            format_time(job.created_at),
            escape((job.last_error or "")[:80]),
        )
    console.print(table)


def _print_job(job: JobDetail) -> None:
    console.print(f"[bold]{escape(job.kind)}[/] {job.id} {styled_status(job.state.value)}")
    for key, value in [
        ("attempts", f"{job.attempts} of {job.max_attempts}"),
        ("queued", format_time(job.created_at)),
        ("due", format_time(job.run_after) if job.state is JobState.queued else ""),
        ("finished", format_time(job.finished_at) if job.finished_at else ""),
        ("worker", escape(job.lease_owner or "")),
        ("cancel asked", format_time(job.cancel_requested_at) if job.cancel_requested_at else ""),
        ("last error", escape(job.last_error or "")),
    ]:
        if value:
            console.print(f"  {key:<13} {value}")
    for attempt in job.attempt_history:
        outcome = attempt.outcome.value if attempt.outcome else "running"
        error = f": {escape(attempt.error)}" if attempt.error else ""
        console.print(f"  attempt {attempt.number} on {escape(attempt.worker_id)}: {outcome}{error}")


@jobs_app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    job_id: JobId,
    traceback: Annotated[bool, typer.Option("--traceback", help="Print the last error's traceback.")] = False,
) -> None:
    """One job: its state, every attempt with its error, and (--traceback) the last traceback."""
    with remote.client(ctx) as client:
        job = client.jobs.get(job_id)
    _print_job(job)
    if traceback and job.last_traceback:
        console.print(escape(job.last_traceback), highlight=False)


@jobs_app.command("cancel")
@handle_errors
def cancel(ctx: typer.Context, job_id: JobId) -> None:
    """Cancel a queued job, or ask a running one to stop at its next heartbeat."""
    with remote.client(ctx) as client:
        job = client.jobs.cancel(job_id)
    asked = " (its worker stops it at the next heartbeat)" if job.state is JobState.running else ""
    console.print(f"Job {job.id} is {styled_status(job.state.value)}{asked}.")


@jobs_app.command("retry")
@handle_errors
def retry(ctx: typer.Context, job_id: JobId) -> None:
    """Queue a failed or cancelled job again, with a fresh budget of attempts."""
    with remote.client(ctx) as client:
        job = client.jobs.retry(job_id)
    left = job.max_attempts - job.attempts
    console.print(f"Job {job.id} is {styled_status(job.state.value)} again ({left} attempts).")
