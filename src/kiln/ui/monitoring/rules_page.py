"""Alert rules: the list with each rule's state, a form to create one, and enabling or disabling a
rule, all through ``monitoring.alert_rules`` (audited there). A refused form is shown again with the
service's message and the API's status code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import KilnError
from kiln.core.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams
from kiln.core.permissions import Permission
from kiln.monitoring import alert_rules
from kiln.monitoring.alert_schemas import (
    AlertRuleCreate,
    AlertRuleRead,
    AlertRuleUpdate,
    Comparison,
    DriftMetric,
    RuleFilter,
    RuleWindow,
    format_duration,
)
from kiln.monitoring.schemas import MonitoredMetric
from kiln.serving import deployments
from kiln.serving.deployment_schemas import DeploymentFilter, DeploymentStatus
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, notice, redirect_with_notice
from kiln.ui.monitoring.page_params import AlertsForm, AlertsPage
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render, url_with

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 100
METRICS = [*(metric.value for metric in MonitoredMetric), DriftMetric.drift_share.value]
FORM_FIELDS = ("name", "deployment", "metric", "comparison", "threshold", "duration", "window", "channels")


def render_rules(
    request: Request,
    actor: Actor,
    *,
    cursor: str = "",
    deployment: str = "",
    values: dict[str, str] | None = None,
    error: FormError | None = None,
) -> HTMLResponse:
    page = PageParams(limit=PAGE_SIZE, cursor=cursor or None)
    with get_db(request).unit_of_work() as session:
        found = alert_rules.list_rules(session, actor, RuleFilter(deployment=deployment or None), page)
        rules = [AlertRuleRead.model_validate(rule) for rule in found.items]
        names = [
            row.name
            for row in deployments.list_deployments(
                session, actor, DeploymentFilter(status=DeploymentStatus.active), PageParams(limit=MAX_LIMIT)
            ).items
        ]
    return render(
        request,
        "monitoring/rules.html",
        {
            "section": "alerts",
            "rules": rules,
            "durations": {rule.id: format_duration(rule.duration_seconds) for rule in rules},
            "deployment": deployment,
            "deployments": names,
            "metrics": METRICS,
            "comparisons": [item.value for item in Comparison],
            "rule_windows": [item.value for item in RuleWindow],
            "values": values or {"comparison": "<", "duration": "1h"},
            "can_write": actor.may(Permission.alerts_write),
            "notice": notice(request),
            "error": error.message if error else None,
            "paged": page.cursor is not None,
            "first_href": url_with("/alerts/rules", deployment=deployment or None),
            "next_href": url_with("/alerts/rules", deployment=deployment or None, cursor=found.next_cursor)
            if found.next_cursor
            else None,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/alerts/rules", response_class=HTMLResponse)
def rules_page(
    request: Request,
    actor: AlertsPage,
    deployment: Annotated[str, Query(max_length=128)] = "",
    cursor: Annotated[str, Query(max_length=MAX_CURSOR_LENGTH)] = "",
) -> HTMLResponse:
    return render_rules(request, actor, cursor=cursor, deployment=deployment)


def _rule_create(form: FormData) -> AlertRuleCreate:
    channels = [name.strip() for name in field(form, "channels", limit=2000).split(",") if name.strip()]
    return AlertRuleCreate.model_validate(
        {
            "name": field(form, "name", limit=200) or None,
            "deployment": field(form, "deployment", limit=200),
            "metric": field(form, "metric", limit=40),
            "comparison": field(form, "comparison", limit=4),
            "threshold": field(form, "threshold", limit=40),
            "duration": field(form, "duration", limit=40) or "0",
            "window": field(form, "window", limit=4) or None,
            "channels": channels,
        }
    )


@router.post("/alerts/rules")
def create_rule(request: Request, actor: AlertsForm, form: FormDep) -> Response:
    values = {name: field(form, name, limit=2000) for name in FORM_FIELDS}
    try:
        data = _rule_create(form)
        with get_db(request).unit_of_work() as session:
            alert_rules.create_rule(session, actor, data)
    except (KilnError, ValidationError) as exc:
        return render_rules(request, actor, values=values, error=form_error(exc))
    return redirect_with_notice("/alerts/rules", "alert_rule_created")


@router.post("/alerts/rules/{rule_id}/enabled")
def set_enabled(
    request: Request, actor: AlertsForm, form: FormDep, rule_id: Annotated[str, Path(max_length=36)]
) -> Response:
    enabled = field(form, "enabled", limit=1) == "1"
    try:
        with get_db(request).unit_of_work() as session:
            alert_rules.update_rule(session, actor, rule_id, AlertRuleUpdate(enabled=enabled))
    except KilnError as exc:
        return render_rules(request, actor, error=form_error(exc))
    return redirect_with_notice("/alerts/rules", "alert_rule_enabled" if enabled else "alert_rule_disabled")
