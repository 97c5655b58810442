"""Monitoring's jobs: a tick each minute computes the windows that closed and those late feedback hit.

The tick is a job on the queue that enqueues its successor (due at the next minute) in its own
transaction, so exactly one chain runs however many workers there are, and a crash between ticks
loses nothing: the next tick starts from the previous one's time. Recomputing is idempotent, so a
tick delivered twice changes nothing. Monitoring failing never touches serving: it only reads the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.db import Database
from kiln.core.ids import ensure_utc, utcnow
from kiln.jobs.context import JobContext
from kiln.jobs.kinds import Backoff, register_job_kind
from kiln.jobs.queue import enqueue, waiting_jobs
from kiln.monitoring.alert_tasks import EVALUATE
from kiln.monitoring.alert_tasks import register_job_kinds as register_alert_job_kinds
from kiln.monitoring.drift_schemas import DRIFT_WINDOW_SECONDS
from kiln.monitoring.drift_tasks import queue_drift_report
from kiln.monitoring.drift_tasks import register_job_kinds as register_drift_job_kinds
from kiln.monitoring.retraining_tasks import register_job_kinds as register_retraining_job_kinds
from kiln.monitoring.windows import WINDOW_SIZES, compute_window, window_start
from kiln.serving.models import Prediction, PredictionFeedback

log = structlog.get_logger(__name__)

TICK = "monitoring.tick"
TICK_SECONDS = 60
# After an outage the first tick catches up this far back, no further (older: recompute on request).
MAX_CATCH_UP = timedelta(days=1)
# A window counts as closed this long after its end: the prediction log writes in batches, a bit late.
SETTLE = timedelta(seconds=5)


def register_job_kinds() -> None:
    register_job_kind(TICK, run_tick, max_attempts=5, backoff=Backoff(initial_seconds=5, max_seconds=120))
    register_alert_job_kinds()
    register_drift_job_kinds()
    register_retraining_job_kinds()


def ensure_ticking(db: Database) -> None:
    """Start the chain of ticks unless one is queued or running (the server calls it at start)."""
    with db.unit_of_work() as session:
        if not waiting_jobs(session, TICK):
            enqueue(session, TICK, {"since": utcnow().isoformat()})


def run_tick(context: JobContext) -> dict[str, Any]:
    now = utcnow() - SETTLE
    since = max(_since(context.payload, now), now - MAX_CATCH_UP)
    with context.db.unit_of_work() as session:
        # Feedback is judged on real time (it needs no settling): what arrived since the last tick ran.
        windows = due_windows(session, since, now, feedback_after=since + SETTLE, feedback_until=now + SETTLE)
        for project_id, deployment, seconds, start in sorted(windows):
            compute_window(
                session, project_id=project_id, deployment=deployment, seconds=seconds, start=start
            )
        # Drift of each hour and day that closed, one job per window: heavier than metrics, and retried alone.
        drift = closed_windows(session, since, now, DRIFT_WINDOW_SECONDS.values())
        for project_id, deployment, seconds, start in sorted(drift):
            queue_drift_report(
                session, project_id=project_id, deployment=deployment, seconds=seconds, start=start
            )
        # Rules judge the windows just computed, in a job of their own: a failing rule never stops ticks.
        enqueue(session, EVALUATE, {"at": now.isoformat()})
        following = window_start(now, TICK_SECONDS) + timedelta(seconds=TICK_SECONDS) + SETTLE
        enqueue(session, TICK, {"since": now.isoformat()}, run_after=following)
    log.info("monitoring.tick", windows=len(windows), drift_reports=len(drift), since=since.isoformat())
    return {"windows": len(windows), "drift_reports": len(drift)}


def due_windows(
    session: Session, since: datetime, now: datetime, *, feedback_after: datetime, feedback_until: datetime
) -> set[tuple[str, str, int, datetime]]:
    """(project, deployment, size, start) of every window that closed in ``(since, now]`` and had
    traffic, and of every window holding a prediction whose feedback arrived in ``(feedback_after,
    feedback_until]``."""
    due = closed_windows(session, since, now, WINDOW_SIZES.values())
    late = session.execute(
        select(Prediction.project_id, Prediction.deployment, Prediction.created_at)
        .join(PredictionFeedback, PredictionFeedback.request_id == Prediction.request_id)
        .where(
            PredictionFeedback.received_at > feedback_after, PredictionFeedback.received_at <= feedback_until
        )
    )
    for project_id, deployment, created_at in late:
        for seconds in WINDOW_SIZES.values():
            due.add((project_id, deployment, seconds, window_start(ensure_utc(created_at), seconds)))
    return due


def closed_windows(
    session: Session, since: datetime, now: datetime, sizes: Iterable[int]
) -> set[tuple[str, str, int, datetime]]:
    """(project, deployment, size, start) of every window of ``sizes`` that closed in ``(since, now]``
    while its deployment had traffic."""
    due: set[tuple[str, str, int, datetime]] = set()
    for seconds in sizes:
        # The windows that closed in (since, now]: a contiguous run, one window in a normal tick.
        first = window_start(since, seconds)
        stop = window_start(now, seconds)
        if first >= stop:
            continue
        for project_id, deployment in _with_traffic(session, first, stop):
            moment = first
            while moment < stop:
                due.add((project_id, deployment, seconds, moment))
                moment += timedelta(seconds=seconds)
    return due


def _with_traffic(session: Session, start: datetime, end: datetime) -> list[tuple[str, str]]:
    """The deployments with predictions logged in ``[start, end)`` (on the log's time index)."""
    rows = session.execute(
        select(Prediction.project_id, Prediction.deployment)
        .where(Prediction.created_at >= start, Prediction.created_at < end)
        .distinct()
    )
    return [(project_id, deployment) for project_id, deployment in rows]


def _since(payload: dict[str, Any], now: datetime) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(str(payload["since"])))
    except (KeyError, ValueError):
        return now - timedelta(seconds=TICK_SECONDS)
