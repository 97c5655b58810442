"""``monitoring.drift_report``: store the drift report of one deployment's window (hour or day).

Queued by the monitoring tick for each such window that closed with traffic, or on request. Safe to
repeat (delivery is at least once): the window's report is replaced, never doubled, and the event
of a drifted window is announced once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.errors import Invalid
from kiln.core.ids import ensure_utc
from kiln.jobs.context import JobContext, PermanentFailure
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.jobs.queue import enqueue
from kiln.monitoring.alert_tasks import job_store
from kiln.monitoring.drift_reports import check_drift_window, compute_drift_report

DRIFT_REPORT = "monitoring.drift_report"


def register_job_kinds() -> None:
    register_job_kind(
        DRIFT_REPORT, run_drift_report, max_attempts=3, backoff=Backoff(initial_seconds=30, max_seconds=600)
    )


def queue_drift_report(
    session: Session, *, project_id: str, deployment: str, seconds: int, start: datetime
) -> str:
    """Queue the report of one window in the caller's transaction; the job's id."""
    check_drift_window(seconds, start)
    payload = {"deployment": deployment, "window_seconds": seconds, "start": start.isoformat()}
    return enqueue(session, DRIFT_REPORT, payload, project_id=project_id)


def run_drift_report(context: JobContext) -> dict[str, Any]:
    try:
        deployment = str(context.payload["deployment"])
        seconds = int(context.payload["window_seconds"])
        start = ensure_utc(datetime.fromisoformat(str(context.payload["start"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(
            f"a drift report job needs deployment, window_seconds and start: {exc}"
        ) from exc
    if context.project_id is None:
        raise PermanentFailure("a drift report job belongs to the deployment's project")
    with context.db.unit_of_work() as session:
        try:
            report = compute_drift_report(
                session,
                job_store(context.db),
                project_id=context.project_id,
                deployment=deployment,
                seconds=seconds,
                start=start,
            )
        except Invalid as exc:
            raise PermanentFailure(str(exc)) from exc
        if report is None:
            return {"report": None, "reason": "no answered traffic, or no reference sample"}
        return {"report": report.id, "retrain_recommended": report.retrain_recommended}
