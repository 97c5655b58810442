"""Finding a pipeline by name the way every route does, within the caller's projects.

A pipeline is named by its name, unique within a project: ``?project=`` (id or name) picks the
project; without it, a project key's own project, else the one of the caller's projects that has a
pipeline of that name. A non-member is told the pipeline is not found, exactly as for one that
does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kiln.auth.projects import require_in_project, resolve_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import Invalid, NotFound
from kiln.core.permissions import Permission
from kiln.pipelines.models import Pipeline


def visible_pipelines(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    return scoped(session, actor, query, Pipeline.project_id)


def find_pipeline(
    session: Session, actor: Actor, name: str, permission: Permission, *, project: str | None = None
) -> Pipeline | None:
    if project is not None or actor.project_scoped:
        project_row = resolve_project(session, actor, project or actor.project_id, permission)
        found = session.scalar(
            select(Pipeline).where(Pipeline.project_id == project_row.id, Pipeline.name == name)
        )
        candidates = [found] if found is not None else []
    else:
        candidates = list(
            session.scalars(visible_pipelines(session, actor, select(Pipeline).where(Pipeline.name == name)))
        )
    if len(candidates) > 1:
        raise Invalid(
            f"a pipeline named {name!r} exists in {len(candidates)} of your projects; "
            "say which with ?project=<name or id> (CLI: --project)",
            details={"name": name, "project_ids": sorted(row.project_id for row in candidates)},
        )
    if not candidates:
        return None
    pipeline = candidates[0]
    require_in_project(session, actor, pipeline.project_id, permission, hide_as=f"pipeline {name!r}")
    return pipeline


def get_pipeline(
    session: Session,
    actor: Actor,
    name: str,
    *,
    project: str | None = None,
    permission: Permission = Permission.pipelines_read,
) -> Pipeline:
    pipeline = find_pipeline(session, actor, name, permission, project=project)
    if pipeline is None:
        raise NotFound(f"pipeline {name!r} not found", details={"pipeline": name})
    return pipeline
