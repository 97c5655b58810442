"""Finding a pipeline by name the way every route does, within the caller's projects.

A pipeline is named by its name, unique within a project: ``?project=`` (id or name) picks the
project; without it, a project key's own project, else the one of the caller's projects that has a
pipeline of that name. A non-member is told the pipeline is not found, exactly as for one that
does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from kiln.auth.projects import find_named_in_projects, scoped
from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.core.permissions import Permission
from kiln.pipelines.models import Pipeline


def visible_pipelines(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    return scoped(session, actor, query, Pipeline.project_id)


def find_pipeline(
    session: Session, actor: Actor, name: str, permission: Permission, *, project: str | None = None
) -> Pipeline | None:
    found: Pipeline | None = find_named_in_projects(
        session, actor, Pipeline, name, permission, project=project, noun="pipeline"
    )
    return found


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
