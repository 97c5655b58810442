"""Pipelines: register (a new version when the definition changed), list, read, versions, diff.

Registering checks the graph (cycles, unknown dependencies) and every step's function (a dotted
reference under ``KILN_PIPELINE_MODULES``, importable here) before anything is stored, with a
message naming the step. The same definition as the latest version is that version (200, nothing
written); any other is the next number (201, audited), even one equal to an older version: the
history shows the revert, and "latest" stays what was registered last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import resolve_project
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, NotFound
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.pipelines.access import get_pipeline, visible_pipelines
from kiln.pipelines.functions import check_functions
from kiln.pipelines.models import Pipeline, PipelineVersion
from kiln.pipelines.schemas import FieldChange, PipelineDiff, PipelineRegister, StepChange
from kiln.pipelines.spec import PipelineSpec

LABEL_LENGTH = 256


@dataclass(frozen=True, slots=True)
class Registered:
    pipeline: Pipeline
    version: PipelineVersion
    created: bool


def version_spec(version: PipelineVersion) -> PipelineSpec:
    return PipelineSpec.model_validate(version.spec)


def register_pipeline(
    session: Session, actor: Actor, data: PipelineRegister, *, allowed_modules: Sequence[str]
) -> Registered:
    """Store ``data.spec`` as the pipeline's next version, unless it is the latest one already."""
    spec = data.spec
    spec.check_graph()
    check_functions(spec, allowed_modules)
    project = resolve_project(session, actor, data.project, Permission.pipelines_write)
    pipeline = session.scalar(
        select(Pipeline).where(Pipeline.project_id == project.id, Pipeline.name == spec.name)
    )
    if pipeline is None:
        pipeline = _create_pipeline(session, actor, project.id, spec)
    content_hash = spec.content_hash()
    latest = _find_version(session, pipeline, pipeline.latest_version)
    if latest is not None and latest.content_hash == content_hash:
        return Registered(pipeline, latest, created=False)
    # One atomic increment hands out the number: two registrations never share one.
    number = session.execute(
        update(Pipeline)
        .where(Pipeline.id == pipeline.id)
        .values(latest_version=Pipeline.latest_version + 1, description=spec.description)
        .returning(Pipeline.latest_version)
    ).scalar_one()
    version = PipelineVersion(
        pipeline_id=pipeline.id,
        number=number,
        content_hash=content_hash,
        spec=spec.model_dump(mode="json"),
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(version)
    session.flush()
    session.refresh(pipeline)
    audit.record(
        session,
        actor,
        "pipeline.registered",
        "pipeline",
        pipeline.id,
        {"name": pipeline.name, "version": number, "content_hash": content_hash, "steps": len(spec.steps)},
    )
    return Registered(pipeline, version, created=True)


def _create_pipeline(session: Session, actor: Actor, project_id: str, spec: PipelineSpec) -> Pipeline:
    pipeline = Pipeline(
        project_id=project_id,
        name=spec.name,
        description=spec.description,
        latest_version=0,
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(pipeline)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # registered by another request since the look-up
        raise Conflict(f"pipeline {spec.name!r} was registered meanwhile; register again") from exc
    return pipeline


def _find_version(session: Session, pipeline: Pipeline, number: int) -> PipelineVersion | None:
    return session.scalar(
        select(PipelineVersion).where(
            PipelineVersion.pipeline_id == pipeline.id, PipelineVersion.number == number
        )
    )


def get_version(session: Session, pipeline: Pipeline, number: int | None = None) -> PipelineVersion:
    """Version ``number`` of the pipeline (default: the latest), or ``NotFound``."""
    wanted = number or pipeline.latest_version
    version = _find_version(session, pipeline, wanted)
    if version is None:
        raise NotFound(
            f"pipeline {pipeline.name!r} has no version {wanted} (latest: {pipeline.latest_version})",
            details={"pipeline": pipeline.name, "version": wanted},
        )
    return version


def list_pipelines(
    session: Session, actor: Actor, page: PageParams, *, project: str | None = None
) -> Page[Pipeline]:
    query = visible_pipelines(session, actor, select(Pipeline))
    if project is not None:
        project_row = resolve_project(session, actor, project, Permission.pipelines_read)
        query = query.where(Pipeline.project_id == project_row.id)
    return paginate(session, query.order_by(Pipeline.name, Pipeline.id), page, with_total=True)


def list_versions(session: Session, pipeline: Pipeline, page: PageParams) -> Page[PipelineVersion]:
    """The pipeline's history, newest first."""
    query = (
        select(PipelineVersion)
        .where(PipelineVersion.pipeline_id == pipeline.id)
        .order_by(PipelineVersion.number.desc())
    )
    return paginate(session, query, page, with_total=True)


def diff_versions(
    session: Session, actor: Actor, name: str, before: int, after: int, *, project: str | None = None
) -> PipelineDiff:
    """What changed between two versions: steps and parameters added, removed and changed (by field)."""
    pipeline = get_pipeline(session, actor, name, project=project)
    old = version_spec(get_version(session, pipeline, before))
    new = version_spec(get_version(session, pipeline, after))
    old_steps = {step.name: step.model_dump(mode="json") for step in old.steps}
    new_steps = {step.name: step.model_dump(mode="json") for step in new.steps}
    old_parameters = {item.name: item.model_dump(mode="json") for item in old.parameters}
    new_parameters = {item.name: item.model_dump(mode="json") for item in new.parameters}
    return PipelineDiff(
        pipeline=pipeline.name,
        from_version=before,
        to_version=after,
        steps_added=sorted(set(new_steps) - set(old_steps)),
        steps_removed=sorted(set(old_steps) - set(new_steps)),
        steps_changed=_changed(old_steps, new_steps),
        parameters_added=sorted(set(new_parameters) - set(old_parameters)),
        parameters_removed=sorted(set(old_parameters) - set(new_parameters)),
        parameters_changed=_changed(old_parameters, new_parameters),
        description=None
        if old.description == new.description
        else FieldChange(before=old.description, after=new.description),
    )


def _changed(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[StepChange]:
    changes = []
    for name in sorted(set(old) & set(new)):
        fields = {
            key: FieldChange(before=old[name].get(key), after=new[name].get(key))
            for key in sorted(set(old[name]) | set(new[name]))
            if key != "name" and old[name].get(key) != new[name].get(key)
        }
        if fields:
            changes.append(StepChange(name=name, changes=fields))
    return changes
