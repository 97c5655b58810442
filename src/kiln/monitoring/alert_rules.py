"""Alert rules: a person's rules on a deployment's metrics or drift, and the built-in ones.

Every active deployment gets three built-in rules the first time alerts are evaluated after it
appears (or on ``POST /api/v1/alerts/rules/builtin``), told in the app to the project's members:
``BUILTIN_RULES`` below, documented in docs/monitoring.md. They may be tuned or disabled, not
deleted (they would come back). People's changes to rules are audited; the evaluator's state
changes are not (they are telemetry), its incidents are the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import get_in_project, scoped
from kiln.core.actor import SYSTEM, Actor
from kiln.core.errors import Invalid, InvalidState
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.monitoring.alert_channels import channel_ids, find_channel, flush_unique
from kiln.monitoring.alert_models import AlertChannel, AlertRule
from kiln.monitoring.alert_schemas import (
    WINDOW_SECONDS,
    AlertMetric,
    AlertRuleCreate,
    AlertRuleUpdate,
    ChannelKind,
    Comparison,
    DriftMetric,
    RuleFilter,
    RuleWindow,
    alert_metric,
    format_duration,
)
from kiln.monitoring.schemas import MonitoredMetric
from kiln.serving.deployment_models import Deployment
from kiln.serving.deployment_schemas import DeploymentStatus
from kiln.serving.deployments import get_deployment

log = structlog.get_logger(__name__)

# Windows one evaluation of a rule reads at most (duration / window).
MAX_WINDOWS = 1_500
BUILTIN_CHANNEL = "in-app"


@dataclass(frozen=True, slots=True)
class BuiltinRule:
    key: str
    label: str
    metric: AlertMetric
    comparison: Comparison
    threshold: float
    duration_seconds: int
    window: RuleWindow


BUILTIN_RULES = (
    BuiltinRule(
        "error_rate", "error rate", MonitoredMetric.error_rate, Comparison.gt, 0.05, 600, RuleWindow.minute
    ),
    BuiltinRule(
        "latency_p99",
        "latency p99",
        MonitoredMetric.latency_p99,
        Comparison.gt,
        1000.0,
        600,
        RuleWindow.minute,
    ),
    BuiltinRule("drift", "drift", DriftMetric.drift_share, Comparison.ge, 0.5, 3_600, RuleWindow.hour),
)


def default_window(metric: AlertMetric, duration: int) -> RuleWindow:
    """The widest kept window that divides the duration (drift: an hour)."""
    if metric is DriftMetric.drift_share:
        return RuleWindow.hour
    for window in (RuleWindow.day, RuleWindow.hour, RuleWindow.minute):
        if duration and duration % WINDOW_SECONDS[window] == 0:
            return window
    return RuleWindow.minute


def _check_timing(duration: int, window: RuleWindow, metric: AlertMetric) -> int:
    seconds = WINDOW_SECONDS[window]
    if metric is DriftMetric.drift_share and window is RuleWindow.minute:
        # Drift rules judge stored drift reports, and those are made per hour and per day.
        raise Invalid(
            "drift is reported per hour and per day: give a drift rule the window 1h or 1d",
            details={"field": "window"},
        )
    if duration % seconds:
        raise Invalid(
            f"a duration of {format_duration(duration)} is not a whole number of {window.value} windows; "
            f"use a multiple of {window.value} or another window",
            details={"field": "duration"},
        )
    if duration // seconds > MAX_WINDOWS:
        raise Invalid(
            f"{format_duration(duration)} is more than {MAX_WINDOWS} windows of {window.value}; "
            "use a wider window",
            details={"field": "window"},
        )
    return seconds


def create_rule(session: Session, actor: Actor, data: AlertRuleCreate) -> AlertRule:
    deployment = get_deployment(session, actor, data.deployment, Permission.alerts_write)
    if data.metric is DriftMetric.drift_share and data.version is not None:
        raise Invalid(
            "drift is judged for the version a deployment serves; give no version",
            details={"field": "version"},
        )
    window = data.window or default_window(data.metric, data.duration)
    seconds = _check_timing(data.duration, window, data.metric)
    name = data.name or f"{deployment.name} {data.metric.value}"
    rule = AlertRule(
        project_id=deployment.project_id,
        name=name,
        deployment=deployment.name,
        model_version_number=data.version,
        metric=data.metric.value,
        comparison=data.comparison.value,
        threshold=data.threshold,
        duration_seconds=data.duration,
        window_seconds=seconds,
        channel_ids=channel_ids(session, actor, deployment.project_id, list(data.channels)),
        enabled=data.enabled,
        created_by=actor.label_within(256),
    )
    session.add(rule)
    flush_unique(session, f"alert rule {name!r}")
    audit.record(session, actor, "alert_rule.created", "alert_rule", rule.id, describe_rule(rule))
    return rule


def update_rule(session: Session, actor: Actor, rule_id: str, data: AlertRuleUpdate) -> AlertRule:
    rule = get_rule(session, actor, rule_id, Permission.alerts_write)
    before = describe_rule(rule)
    if data.name is not None:
        rule.name = data.name
    if data.comparison is not None:
        rule.comparison = data.comparison.value
    if data.threshold is not None:
        rule.threshold = data.threshold
    if data.duration is not None or data.window is not None:
        duration = rule.duration_seconds if data.duration is None else data.duration
        window = data.window or default_window(alert_metric(rule.metric), duration)
        rule.window_seconds = _check_timing(duration, window, alert_metric(rule.metric))
        rule.duration_seconds = duration
    if data.channels is not None:
        rule.channel_ids = channel_ids(session, actor, rule.project_id, list(data.channels))
    if data.enabled is not None:
        rule.enabled = data.enabled
    flush_unique(session, f"alert rule {rule.name!r}")
    audit.record(
        session,
        actor,
        "alert_rule.updated",
        "alert_rule",
        rule.id,
        {"before": before, "after": describe_rule(rule)},
    )
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: str) -> None:
    rule = get_rule(session, actor, rule_id, Permission.alerts_write)
    if rule.builtin is not None:
        raise InvalidState(
            f"rule {rule.name!r} is built in and would come back; disable it instead (enabled: false)"
        )
    audit.record(session, actor, "alert_rule.deleted", "alert_rule", rule.id, describe_rule(rule))
    session.delete(rule)
    session.flush()


def get_rule(
    session: Session, actor: Actor, rule_id: str, permission: Permission = Permission.alerts_read
) -> AlertRule:
    return get_in_project(session, actor, AlertRule, rule_id, permission, hide_as=f"alert rule {rule_id!r}")


def list_rules(session: Session, actor: Actor, filters: RuleFilter, page: PageParams) -> Page[AlertRule]:
    statement = scoped(session, actor, select(AlertRule), AlertRule.project_id)
    if filters.deployment is not None:
        statement = statement.where(AlertRule.deployment == filters.deployment)
    if filters.state is not None:
        statement = statement.where(AlertRule.state == filters.state.value)
    return paginate(session, statement.order_by(AlertRule.deployment, AlertRule.name, AlertRule.id), page)


def describe_rule(rule: AlertRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "deployment": rule.deployment,
        "version": rule.model_version_number,
        "condition": (
            f"{rule.metric} {rule.comparison} {rule.threshold} for {format_duration(rule.duration_seconds)}"
        ),
        "window_seconds": rule.window_seconds,
        "channels": list(rule.channel_ids),
        "enabled": rule.enabled,
    }


# -- built-in rules -------------------------------------------------------------------------------


def add_builtin_rules(session: Session, actor: Actor, deployment_name: str) -> list[AlertRule]:
    """The built-in rules of one deployment, created now where missing (on request: audited)."""
    deployment = get_deployment(session, actor, deployment_name, Permission.alerts_write)
    created = _ensure_for(session, deployment)
    for rule in created:
        audit.record(session, actor, "alert_rule.created", "alert_rule", rule.id, describe_rule(rule))
    return list(
        session.scalars(
            select(AlertRule)
            .where(AlertRule.deployment == deployment.name, AlertRule.builtin.is_not(None))
            .order_by(AlertRule.name)
        )
    )


def ensure_builtin_rules(session: Session) -> int:
    """Built-in rules for every active deployment that lacks them (the evaluator's first step)."""
    have = {
        (deployment, key)
        for deployment, key in session.execute(
            select(AlertRule.deployment, AlertRule.builtin).where(AlertRule.builtin.is_not(None))
        )
    }
    active = session.scalars(select(Deployment).where(Deployment.status == DeploymentStatus.active.value))
    created = 0
    for deployment in active:
        if all((deployment.name, spec.key) in have for spec in BUILTIN_RULES):
            continue
        created += len(_ensure_for(session, deployment))
    return created


def _ensure_for(session: Session, deployment: Deployment) -> list[AlertRule]:
    have = set(
        session.scalars(
            select(AlertRule.builtin).where(
                AlertRule.deployment == deployment.name, AlertRule.builtin.is_not(None)
            )
        )
    )
    missing = [spec for spec in BUILTIN_RULES if spec.key not in have]
    if not missing:
        return []
    channel = _builtin_channel(session, deployment.project_id)
    rules = [
        AlertRule(
            project_id=deployment.project_id,
            name=f"{deployment.name}: {spec.label}",
            deployment=deployment.name,
            metric=spec.metric.value,
            comparison=spec.comparison.value,
            threshold=spec.threshold,
            duration_seconds=spec.duration_seconds,
            window_seconds=WINDOW_SECONDS[spec.window],
            channel_ids=[channel.id],
            builtin=spec.key,
            created_by=SYSTEM.label,
        )
        for spec in missing
    ]
    session.add_all(rules)
    session.flush()
    log.info(
        "alerts.builtin_rules_created", deployment=deployment.name, rules=[rule.builtin for rule in rules]
    )
    return rules


def _builtin_channel(session: Session, project_id: str) -> AlertChannel:
    """The project's in-app channel (its members, as each chose), made with the first built-in rule."""
    channel = find_channel(session, project_id, BUILTIN_CHANNEL)
    if channel is None:
        channel = AlertChannel(
            project_id=project_id,
            name=BUILTIN_CHANNEL,
            kind=ChannelKind.in_app.value,
            config={},
            created_by=SYSTEM.label,
        )
        session.add(channel)
        session.flush()
    return channel
