"""``kiln worker``: a process that runs queued jobs (it works on the database directly).

It runs the job kinds every domain registers (``kiln.app.register_job_kinds``), with the same
``KILN_*`` settings as ``kiln server``. SIGTERM or Ctrl-C stops it gracefully: it claims nothing
more, lets running jobs finish for ``KILN_WORKER_GRACE_SECONDS`` and gives the rest back to the queue.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from kiln.cli.output import console


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Jobs run at once [default: KILN_WORKER_CONCURRENCY or 4]"),
    ] = None,
) -> None:
    """Run queued jobs (pipeline runs and more) until stopped. Run as many as the work needs."""
    from kiln.app import KilnSettings, artifact_store, register_job_kinds, start_recurring_jobs
    from kiln.core.db import Database
    from kiln.core.logging import configure_logging
    from kiln.jobs.worker import worker_from_settings
    from kiln.pipelines.tasks import stop_step_processes

    settings = KilnSettings()
    settings.ensure_home()
    configure_logging(settings.log_level, json=None if settings.log_json == "auto" else settings.log_json)
    register_job_kinds(artifact_store(settings), settings)
    worker_settings = settings.worker
    if concurrency is not None:
        worker_settings = worker_settings.model_copy(update={"concurrency": concurrency})
    db = Database(settings.resolved_database_url)
    running = worker_from_settings(db, worker_settings)
    start_recurring_jobs(db)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running.start()
    schedules = (
        f" and fires cron schedules every {running.schedule_seconds:g} s" if running.schedule_seconds else ""
    )
    console.print(
        f"Worker [bold]{running.worker_id}[/] runs {', '.join(running.kinds) or 'no job kinds yet'}"
        f"{schedules}."
    )
    try:
        stop.wait()
    finally:
        console.print("Stopping: running jobs finish or go back to the queue...")
        running.stop()
        stop_step_processes()
        db.dispose()
