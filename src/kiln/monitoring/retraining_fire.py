"""Firing retraining triggers: drift detected, or an alert firing, becomes a pipeline run.

The transaction that stores a drifted report or fires an alert also enqueues a ``monitoring.retrain``
job (``queue_retraining``) when an enabled trigger wants that deployment's cause: durable with the
cause (a crash after the commit loses nothing; a rollback starts nothing), and a slow or refused
pipeline start never touches the report or the evaluation, which only enqueue. The job (``fire``)
starts the run as the system, unless the trigger's last run is still queued or running or its
cooldown has not passed. A start is claimed with a
conditional update of the trigger (``WHERE runs_started = :seen``): a job delivered twice, or two
workers racing, start one run. Every outcome (started, skipped, refused) is kept on the trigger.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import project_recipients
from kiln.core.actor import SYSTEM
from kiln.core.errors import KilnError, NotFound
from kiln.core.ids import ensure_utc
from kiln.core.permissions import Permission
from kiln.jobs.queue import enqueue
from kiln.monitoring.events import AlertFired, DriftDetected
from kiln.monitoring.retraining import run_parameters
from kiln.monitoring.retraining_models import OUTCOME_LENGTH, RetrainingTrigger
from kiln.monitoring.retraining_schemas import RetrainingCause
from kiln.notify.email import Mailer
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import notify
from kiln.notify.settings import SmtpSettings
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.runs import create_run, get_run
from kiln.pipelines.schemas import RunCreate, RunState
from kiln.pipelines.service import get_version, version_spec

log = structlog.get_logger(__name__)

RETRAIN_JOB = "monitoring.retrain"
_UNFINISHED = {RunState.queued.value, RunState.running.value}


def _wanting(
    session: Session, project_id: str, deployment: str, cause: RetrainingCause
) -> RetrainingTrigger | None:
    wants = RetrainingTrigger.on_drift if cause is RetrainingCause.drift else RetrainingTrigger.on_alert
    return session.scalar(
        select(RetrainingTrigger).where(
            RetrainingTrigger.project_id == project_id,
            RetrainingTrigger.deployment == deployment,
            RetrainingTrigger.enabled.is_(True),
            wants.is_(True),
        )
    )


def queue_retraining(session: Session, event: DriftDetected | AlertFired) -> str | None:
    """In the transaction that stores the drift report or fires the alert: the retrain job, when an
    enabled trigger wants that deployment's cause (its id), else nothing. Enqueued with the cause,
    so a crash after the commit cannot lose the retraining, and a rollback never starts one."""
    if isinstance(event, DriftDetected):
        cause = RetrainingCause.drift
        detail: dict[str, Any] = {"report_id": event.report_id, "summary": event.summary}
    else:
        cause = RetrainingCause.alert
        detail = {
            "rule": event.rule_name,
            "incident_id": event.incident_id,
            "metric": event.metric,
            "value": event.value,
        }
    if _wanting(session, event.project_id, event.deployment, cause) is None:
        return None  # nobody retrains this deployment on this: no job at all
    payload = {"deployment": event.deployment, "cause": cause.value, **detail}
    return enqueue(session, RETRAIN_JOB, payload, project_id=event.project_id)


def fire(
    session: Session, project_id: str, payload: dict[str, Any], *, artifact_root_url: str, now: datetime
) -> str | None:
    """Start the deployment's retraining run for the payload's drift or alert; the run's id, or None
    when no trigger wants it or it was skipped or refused (said on the trigger)."""
    deployment = str(payload["deployment"])
    cause = RetrainingCause(str(payload["cause"]))
    trigger = _wanting(session, project_id, deployment, cause)
    if trigger is None:
        return None
    rule = str(payload.get("rule") or "")
    if cause is RetrainingCause.alert and trigger.alert_rules and rule not in trigger.alert_rules:
        return None  # another rule of the deployment: not one this trigger listens to
    triggered_by = f"drift:{deployment}" if cause is RetrainingCause.drift else f"alert:{rule}"
    blocked = _blocked(session, trigger, now)
    if blocked is not None:
        _note(session, trigger, f"skipped {triggered_by}: {blocked}", now)
        log.info("monitoring.retraining_skipped", deployment=deployment, cause=cause.value, reason=blocked)
        return None
    seen = trigger.runs_started
    try:
        with session.begin_nested():
            if not _claim(session, trigger, seen, now):
                return None  # another job started this trigger's run first
            run_id = _start_run(session, trigger, triggered_by, _reason(cause, payload), artifact_root_url)
    except KilnError as exc:  # the pipeline's latest version no longer takes these parameters
        _note(session, trigger, f"refused {triggered_by}: {exc.message}", now)
        log.warning("monitoring.retraining_refused", deployment=deployment, error=exc.message)
        return None
    session.refresh(trigger)
    trigger.last_run_id = run_id
    _note(session, trigger, f"started run {run_id} ({triggered_by})", now)
    audit.record(
        session,
        SYSTEM,
        "monitoring.retraining_triggered",
        "retraining_trigger",
        trigger.id,
        {
            "deployment": deployment,
            "pipeline": trigger.pipeline_name,
            "run_id": run_id,
            "triggered_by": triggered_by,
            **_cause_detail(payload),
        },
    )
    _tell_owners(session, trigger, run_id, _reason(cause, payload))
    log.info(
        "monitoring.retraining_triggered",
        deployment=deployment,
        pipeline=trigger.pipeline_name,
        run_id=run_id,
    )
    return run_id


def _blocked(session: Session, trigger: RetrainingTrigger, now: datetime) -> str | None:
    """Why no run may start now, or None."""
    if trigger.last_run_id is not None:
        try:
            _, run = get_run(
                session, SYSTEM, trigger.pipeline_name, trigger.last_run_id, project=trigger.project_id
            )
        except NotFound:
            run = None
        if run is not None and run.state in _UNFINISHED:
            return f"run {run.id} is still {run.state}"
    if trigger.last_triggered_at is not None:
        until = ensure_utc(trigger.last_triggered_at) + timedelta(seconds=trigger.cooldown_seconds)
        if now < until:
            return f"cooling down until {until.isoformat()}"
    return None


def _claim(session: Session, trigger: RetrainingTrigger, seen: int, now: datetime) -> bool:
    changed = cast(
        CursorResult[Any],
        session.execute(
            update(RetrainingTrigger)
            .where(RetrainingTrigger.id == trigger.id, RetrainingTrigger.runs_started == seen)
            .values(runs_started=seen + 1, last_triggered_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return changed.rowcount == 1


def _start_run(
    session: Session, trigger: RetrainingTrigger, triggered_by: str, reason: str, artifact_root_url: str
) -> str:
    pipeline = get_pipeline(session, SYSTEM, trigger.pipeline_name, project=trigger.project_id)
    spec = version_spec(get_version(session, pipeline))
    parameters = run_parameters(
        spec, dict(trigger.parameters or {}), deployment=trigger.deployment, reason=reason
    )
    run = create_run(
        session,
        SYSTEM,
        pipeline.name,
        RunCreate(parameters=parameters, project=pipeline.project_id),
        artifact_root_url=artifact_root_url,
        triggered_by=triggered_by,
    )
    return run.id


def _note(session: Session, trigger: RetrainingTrigger, outcome: str, now: datetime) -> None:
    trigger.last_outcome = outcome[:OUTCOME_LENGTH]
    trigger.last_outcome_at = now
    session.flush()


def _reason(cause: RetrainingCause, payload: dict[str, Any]) -> str:
    if cause is RetrainingCause.drift:
        return f"drift: {payload.get('summary') or 'the served inputs drifted'}"
    value = payload.get("value")
    shown = "no value" if value is None else f"{value:.4g}"
    return f"alert {payload.get('rule')} fired ({payload.get('metric')} = {shown})"


def _cause_detail(payload: dict[str, Any]) -> dict[str, Any]:
    keys = ("report_id", "rule", "incident_id")
    return {key: payload[key] for key in keys if payload.get(key) is not None}


def _tell_owners(session: Session, trigger: RetrainingTrigger, run_id: str, reason: str) -> None:
    """The project's members who may change its monitoring hear of it in the app (mail if they chose)."""
    notify(
        session,
        project_recipients(session, trigger.project_id, permission=Permission.monitors_write),
        kind=NotificationKind.retraining_triggered,
        title=f"{trigger.deployment}: retraining started ({trigger.pipeline_name})",
        body=reason,
        link=f"/pipelines/{trigger.pipeline_name}/runs/{run_id}",
        project_id=trigger.project_id,
        mailer=Mailer(SmtpSettings()),
    )
