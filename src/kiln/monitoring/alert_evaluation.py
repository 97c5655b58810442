"""Evaluating alert rules at a moment: pending -> firing -> resolved, idempotently.

A metric rule reads its deployment's closed windows (``MetricWindow``) covering the duration,
newest first: it is *pending* while the newest windows breach but not yet all of them, *firing*
once every window of the duration breaches, and resolves when the newest closed window no longer
does. A window with no value (no traffic, no ground truth) is not a breach. The verdict is a pure
function of the windows and ``now``, so evaluating twice at the same moment changes nothing, and
every state change is a conditional update (``WHERE state = :seen``): two evaluators racing open
one incident, never two.

A drift rule reads the deployment's stored drift reports (``drift_reports``, what the dashboards
show), never the prediction log: it judges the newest report of its window size not judged yet
(its drifted share) once, and fires once consecutive drifted windows span its duration. No report
is no data: the rule stays as it is (neither firing nor resolving) until one is stored, so a report
job still queued behind the evaluation is judged at the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from kiln.core import events
from kiln.core.ids import ensure_utc
from kiln.monitoring.alert_delivery import queue_deliveries
from kiln.monitoring.alert_models import AlertIncident, AlertRule
from kiln.monitoring.alert_rules import ensure_builtin_rules
from kiln.monitoring.alert_schemas import Comparison, DeliveryEvent, DriftMetric, IncidentState, RuleState
from kiln.monitoring.drift_models import StoredDriftReport
from kiln.monitoring.events import AlertFired
from kiln.monitoring.models import MetricWindow
from kiln.monitoring.retraining_fire import queue_retraining
from kiln.monitoring.windows import window_start

log = structlog.get_logger(__name__)

# A drift rule looks this many windows back (or over its duration, if longer) for a report not yet
# judged: a report job queued behind the evaluation is judged at the next one, a stale one never.
DRIFT_LOOKBACK_WINDOWS = 2


@dataclass(frozen=True, slots=True)
class Reading:
    breaching: bool
    full: bool  # the breach holds over the whole duration
    value: float | None
    since: datetime | None  # the start of the breach
    judged_until: datetime
    error: str | None = None


@dataclass(slots=True)
class Evaluation:
    rules: int = 0
    fired: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    builtin_created: int = 0


def evaluate_alerts(session: Session, now: datetime) -> Evaluation:
    """Evaluate every enabled rule at ``now``; returns what fired and resolved."""
    result = Evaluation(builtin_created=ensure_builtin_rules(session))
    rules = list(session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)))
    for rule in rules:
        result.rules += 1
        reading = _read(session, rule, now)
        if reading is None:
            continue
        outcome = _apply(session, rule, reading, now)
        if outcome == "fired":
            result.fired.append(rule.id)
        elif outcome == "resolved":
            result.resolved.append(rule.id)
    if result.fired or result.resolved:
        log.info(
            "alerts.evaluated", rules=result.rules, fired=len(result.fired), resolved=len(result.resolved)
        )
    return result


def _read(session: Session, rule: AlertRule, now: datetime) -> Reading | None:
    if rule.metric == DriftMetric.drift_share.value:
        return _read_drift(session, rule, now)
    return _read_windows(session, rule, now)


def _read_windows(session: Session, rule: AlertRule, now: datetime) -> Reading:
    seconds = rule.window_seconds
    width = timedelta(seconds=seconds)
    count = max(1, rule.duration_seconds // seconds)
    end = window_start(now, seconds)
    start = end - count * width
    version = (
        MetricWindow.model_version_number == rule.model_version_number
        if rule.model_version_number is not None
        else MetricWindow.model_version_id.is_(None)
    )
    values = dict(
        session.execute(
            select(MetricWindow.start, MetricWindow.value).where(
                MetricWindow.project_id == rule.project_id,
                MetricWindow.deployment == rule.deployment,
                MetricWindow.metric == rule.metric,
                MetricWindow.window_seconds == seconds,
                MetricWindow.start >= start,
                MetricWindow.start < end,
                version,
            )
        ).all()
    )
    comparison = Comparison(rule.comparison)
    streak, since, moment = 0, None, end - width
    while moment >= start:
        value = values.get(moment)
        if value is None or not comparison.holds(value, rule.threshold):
            break
        streak, since, moment = streak + 1, moment, moment - width
    return Reading(
        breaching=streak > 0,
        full=streak >= count,
        value=values.get(end - width),
        since=since,
        judged_until=end,
    )


def _read_drift(session: Session, rule: AlertRule, now: datetime) -> Reading | None:
    """The oldest stored drift report of the rule's window size not judged yet, in the lookback;
    None (no data: the rule stays as it is) when there is none. The window still open counts when
    its report was stored (computed on demand, as the dashboards show it): drift found this hour
    alerts this hour, not after it closes."""
    seconds = rule.window_seconds
    width = timedelta(seconds=seconds)
    end = window_start(now, seconds)
    span = timedelta(seconds=max(rule.duration_seconds, seconds))
    judged = None if rule.last_window_end is None else ensure_utc(rule.last_window_end)
    oldest = end - max(span, DRIFT_LOOKBACK_WINDOWS * width)
    if judged is not None:
        oldest = max(oldest, judged)
    report = session.scalars(
        select(StoredDriftReport)
        .where(
            StoredDriftReport.project_id == rule.project_id,
            StoredDriftReport.deployment == rule.deployment,
            StoredDriftReport.window_seconds == seconds,
            StoredDriftReport.end > oldest,
            StoredDriftReport.end <= end + width,
            StoredDriftReport.rows > 0,
        )
        # The oldest not judged yet: each report once and in order (a closed hour before the open one).
        .order_by(StoredDriftReport.start)
        .limit(1)
    ).first()
    if report is None:
        return None
    start, value = ensure_utc(report.start), report.drifted_share
    breaching = Comparison(rule.comparison).holds(value, rule.threshold)
    # A breach continues only from the window just before (a quiet hour between breaks it).
    previous = rule.breaching_since
    since = None
    if breaching:
        continues = judged == start and previous is not None
        since = ensure_utc(previous) if continues and previous is not None else start
    full = since is not None and ensure_utc(report.end) - since >= span
    return Reading(breaching, full, value, since, ensure_utc(report.end))


def _apply(session: Session, rule: AlertRule, reading: Reading, now: datetime) -> str | None:
    target = RuleState.firing if reading.full else RuleState.pending if reading.breaching else RuleState.ok
    seen = RuleState(rule.state)
    since = reading.since
    if seen is RuleState.firing and target is RuleState.firing:
        since = rule.breaching_since or since  # a long incident keeps its start
    values: dict[str, Any] = {
        "state": target.value,
        "breaching_since": since,
        "last_value": reading.value,
        "last_evaluated_at": now,
        "last_window_end": reading.judged_until,
        "last_error": reading.error,
    }
    changed = cast(
        CursorResult[Any],
        session.execute(
            update(AlertRule)
            .where(AlertRule.id == rule.id, AlertRule.state == seen.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if changed.rowcount != 1:
        return None  # another evaluator moved it first
    session.expire(rule)
    if target is RuleState.firing and seen is not RuleState.firing:
        _fire(session, rule, reading, now)
        return "fired"
    if seen is RuleState.firing and target is not RuleState.firing:
        _resolve(session, rule, reading, now)
        return "resolved"
    return None


def _fire(session: Session, rule: AlertRule, reading: Reading, now: datetime) -> None:
    incident = AlertIncident(
        project_id=rule.project_id,
        rule_id=rule.id,
        rule_name=rule.name,
        deployment=rule.deployment,
        metric=rule.metric,
        comparison=rule.comparison,
        threshold=rule.threshold,
        duration_seconds=rule.duration_seconds,
        state=IncidentState.firing.value,
        value=reading.value,
        breaching_since=reading.since or now,
        fired_at=now,
    )
    session.add(incident)
    session.flush()
    queue_deliveries(session, rule, incident, DeliveryEvent.firing)
    fired = fired_event(incident)
    events.publish(session, fired)
    queue_retraining(session, fired)
    log.warning("alerts.fired", rule=rule.name, deployment=rule.deployment, value=reading.value)


def _resolve(session: Session, rule: AlertRule, reading: Reading, now: datetime) -> None:
    open_incidents = list(
        session.scalars(
            select(AlertIncident).where(
                AlertIncident.rule_id == rule.id, AlertIncident.state == IncidentState.firing.value
            )
        )
    )
    for incident in open_incidents:
        incident.state = IncidentState.resolved.value
        incident.resolved_at = now
        incident.resolved_value = reading.value
        session.flush()
        queue_deliveries(session, rule, incident, DeliveryEvent.resolved)
    log.info("alerts.resolved", rule=rule.name, deployment=rule.deployment, value=reading.value)


def fired_event(incident: AlertIncident) -> AlertFired:
    return AlertFired(
        project_id=incident.project_id,
        deployment=incident.deployment,
        rule_id=incident.rule_id,
        rule_name=incident.rule_name,
        incident_id=incident.id,
        metric=incident.metric,
        value=incident.value,
    )
