"""New-data triggers: a new version of a dataset starts the pipelines that asked for it.

One trigger row per pipeline and dataset name (in the pipeline's project). The data domain
announces ``DatasetVersionCreated`` after its transaction commits; the subscriber (``on_new_version``)
only enqueues a ``pipelines.trigger`` job, so a slow or failing pipeline start never touches the
upload that announced it; the job (``fire``) starts one run per enabled trigger, as the system,
with the trigger's parameters (and ``dataset_version``, when the pipeline declares it).
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core.actor import SYSTEM, Actor
from kiln.core.db import Database
from kiln.core.errors import Conflict, KilnError, NotFound
from kiln.core.permissions import Permission
from kiln.data.events import DatasetVersionCreated
from kiln.jobs.queue import enqueue
from kiln.pipelines.access import get_pipeline
from kiln.pipelines.models import Pipeline, PipelineTrigger
from kiln.pipelines.runs import create_run
from kiln.pipelines.schemas import RunCreate, TriggerCreate
from kiln.pipelines.service import LABEL_LENGTH, get_version, version_spec

log = structlog.get_logger(__name__)

TRIGGER_JOB = "pipelines.trigger"
DATASET_VERSION_PARAMETER = "dataset_version"


def create_trigger(
    session: Session, actor: Actor, name: str, data: TriggerCreate, *, project: str | None = None
) -> PipelineTrigger:
    pipeline = get_pipeline(session, actor, name, project=project, permission=Permission.pipelines_write)
    # The parameters must already make a valid run of the latest version (422 now, not at 2 a.m.).
    spec = version_spec(get_version(session, pipeline))
    given = dict(data.parameters)
    if spec.parameter(DATASET_VERSION_PARAMETER) is not None:
        given.setdefault(DATASET_VERSION_PARAMETER, 1)
    spec.resolve_parameters(given)
    trigger = PipelineTrigger(
        pipeline_id=pipeline.id,
        project_id=pipeline.project_id,
        dataset_name=data.dataset,
        parameters=dict(data.parameters),
        enabled=True,
        created_by=actor.label_within(LABEL_LENGTH),
    )
    session.add(trigger)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"pipeline {name!r} already has a trigger on dataset {data.dataset!r}; delete it first",
            details={"pipeline": name, "dataset": data.dataset},
        ) from None
    audit.record(
        session, actor, "pipeline.trigger_created", "pipeline", pipeline.id, {"dataset": data.dataset}
    )
    return trigger


def list_triggers(
    session: Session, actor: Actor, name: str, *, project: str | None = None
) -> list[PipelineTrigger]:
    pipeline = get_pipeline(session, actor, name, project=project)
    return list(
        session.scalars(
            select(PipelineTrigger)
            .where(PipelineTrigger.pipeline_id == pipeline.id)
            .order_by(PipelineTrigger.dataset_name)
        )
    )


def delete_trigger(
    session: Session, actor: Actor, name: str, trigger_id: str, *, project: str | None = None
) -> None:
    pipeline = get_pipeline(session, actor, name, project=project, permission=Permission.pipelines_write)
    trigger = session.get(PipelineTrigger, trigger_id)
    if trigger is None or trigger.pipeline_id != pipeline.id:
        raise NotFound(f"pipeline {name!r} has no trigger {trigger_id!r}", details={"trigger_id": trigger_id})
    session.delete(trigger)
    audit.record(
        session, actor, "pipeline.trigger_deleted", "pipeline", pipeline.id, {"dataset": trigger.dataset_name}
    )


class DatasetTriggers:
    """The subscriber: after a dataset version commits, one job that starts the pipelines."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __call__(self, event: DatasetVersionCreated) -> None:
        with self.db.unit_of_work() as session:
            wanted = session.scalar(
                select(PipelineTrigger.id)
                .where(
                    PipelineTrigger.project_id == event.project_id,
                    PipelineTrigger.dataset_name == event.dataset_name,
                    PipelineTrigger.enabled.is_(True),
                )
                .limit(1)
            )
            if wanted is None:
                return  # nothing listens to this dataset: no job at all
            enqueue(
                session,
                TRIGGER_JOB,
                {
                    "project_id": event.project_id,
                    "dataset": event.dataset_name,
                    "number": event.number,
                    "version_id": event.version_id,
                },
                project_id=event.project_id,
            )


def fire(session: Session, payload: dict[str, Any], *, artifact_root_url: str) -> list[str]:
    """Start a run for each enabled trigger on the payload's dataset; the new runs' ids."""
    dataset, number = str(payload["dataset"]), int(payload["number"])
    rows = session.execute(
        select(PipelineTrigger, Pipeline)
        .join(Pipeline, Pipeline.id == PipelineTrigger.pipeline_id)
        .where(
            PipelineTrigger.project_id == payload["project_id"],
            PipelineTrigger.dataset_name == dataset,
            PipelineTrigger.enabled.is_(True),
        )
    ).all()
    started = []
    for trigger, pipeline in rows:
        spec = version_spec(get_version(session, pipeline))
        parameters = dict(trigger.parameters or {})
        if spec.parameter(DATASET_VERSION_PARAMETER) is not None:
            parameters[DATASET_VERSION_PARAMETER] = number
        try:
            with session.begin_nested():
                run = create_run(
                    session,
                    SYSTEM,
                    pipeline.name,
                    RunCreate(parameters=parameters, project=pipeline.project_id),
                    artifact_root_url=artifact_root_url,
                    triggered_by=f"dataset:{dataset}@{number}",
                )
        except KilnError as exc:  # parameters the latest version no longer takes: the others still start
            log.warning("pipelines.trigger_refused", pipeline=pipeline.name, dataset=dataset, error=str(exc))
            continue
        started.append(run.id)
    log.info("pipelines.triggered", dataset=dataset, number=number, runs=len(started))
    return started
