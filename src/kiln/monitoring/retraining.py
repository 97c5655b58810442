"""Retraining triggers: made, listed and deleted by people (``retraining_fire`` fires them).

A trigger ties a deployment to a pipeline in its project: its parameters must already make a valid
run of the pipeline's latest version when the trigger is made (a 422 now, not a refused run when
the model drifts at night). Making one needs monitors:write on the deployment and the right to run
the pipeline (the system runs it later on the maker's behalf).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import get_in_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import Conflict
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.monitoring.retraining_models import RetrainingTrigger
from kiln.monitoring.retraining_schemas import (
    RetrainingCause,
    RetrainingTriggerCreate,
    RetrainingTriggerFilter,
)
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.service import get_version, version_spec
from kiln.pipelines.spec import PipelineSpec
from kiln.serving.deployments import get_deployment

# Parameters a retraining run is given when its pipeline declares them and the trigger does not set them.
DEPLOYMENT_PARAMETER = "deployment"
REASON_PARAMETER = "retrain_reason"


def run_parameters(
    spec: PipelineSpec, given: dict[str, Any], *, deployment: str, reason: str
) -> dict[str, Any]:
    """The trigger's parameters, plus the deployment and the reason where the pipeline takes them."""
    parameters = dict(given)
    if spec.parameter(DEPLOYMENT_PARAMETER) is not None:
        parameters.setdefault(DEPLOYMENT_PARAMETER, deployment)
    if spec.parameter(REASON_PARAMETER) is not None:
        parameters.setdefault(REASON_PARAMETER, reason)
    return parameters


def create_retraining_trigger(
    session: Session, actor: Actor, data: RetrainingTriggerCreate
) -> RetrainingTrigger:
    deployment = get_deployment(session, actor, data.deployment, Permission.monitors_write)
    pipeline = get_pipeline(
        session, actor, data.pipeline, project=deployment.project_id, permission=Permission.pipelines_run
    )
    spec = version_spec(get_version(session, pipeline))
    spec.resolve_parameters(run_parameters(spec, data.parameters, deployment=deployment.name, reason="drift"))
    trigger = RetrainingTrigger(
        project_id=deployment.project_id,
        deployment=deployment.name,
        pipeline_id=pipeline.id,
        pipeline_name=pipeline.name,
        parameters=dict(data.parameters),
        on_drift=RetrainingCause.drift in data.on,
        on_alert=RetrainingCause.alert in data.on,
        alert_rules=sorted(set(data.alert_rules)),
        enabled=data.enabled,
        cooldown_seconds=data.cooldown,
        created_by=actor.label_within(256),
        created_by_user_id=actor.user_id,
        runs_started=0,
    )
    try:
        with session.begin_nested():  # the savepoint first: adding before would flush outside it
            session.add(trigger)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"deployment {deployment.name!r} already has a retraining trigger; delete it first",
            details={"deployment": deployment.name},
        ) from None
    audit.record(
        session,
        actor,
        "monitoring.retraining_trigger_created",
        "retraining_trigger",
        trigger.id,
        {
            "deployment": trigger.deployment,
            "pipeline": trigger.pipeline_name,
            "on": [cause.value for cause in data.on],
            "cooldown_seconds": trigger.cooldown_seconds,
        },
    )
    return trigger


def list_retraining_triggers(
    session: Session, actor: Actor, filters: RetrainingTriggerFilter, page: PageParams
) -> Page[RetrainingTrigger]:
    """Triggers of the caller's projects, by deployment."""
    statement = scoped(session, actor, select(RetrainingTrigger), RetrainingTrigger.project_id)
    if filters.deployment is not None:
        statement = statement.where(RetrainingTrigger.deployment == filters.deployment)
    ordered = statement.order_by(RetrainingTrigger.deployment, RetrainingTrigger.id)
    return paginate(session, ordered, page)


def get_retraining_trigger(
    session: Session, actor: Actor, trigger_id: str, permission: Permission = Permission.monitors_read
) -> RetrainingTrigger:
    return get_in_project(
        session,
        actor,
        RetrainingTrigger,
        trigger_id,
        permission,
        hide_as=f"retraining trigger {trigger_id!r}",
    )


def delete_retraining_trigger(session: Session, actor: Actor, trigger_id: str) -> None:
    trigger = get_retraining_trigger(session, actor, trigger_id, Permission.monitors_write)
    session.delete(trigger)
    audit.record(
        session,
        actor,
        "monitoring.retraining_trigger_deleted",
        "retraining_trigger",
        trigger.id,
        {"deployment": trigger.deployment, "pipeline": trigger.pipeline_name},
    )
