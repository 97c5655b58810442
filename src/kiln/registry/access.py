"""Which project a registry row belongs to, and finding a model by name the way every route does.

A registered model carries ``project_id``; its versions, aliases, stage changes and approvals reach
it through ``model_id`` (docs/architecture.md, "Project scoping"). A model is named in a URL by its
name, unique within a project: ``?project=`` (id or name) picks the project; without it, a project
key's own project, else the one of the caller's projects that has a model of that name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kiln.auth.models import Project
from kiln.auth.projects import accessible_project_ids, require_in_project, resolve_project, scoped
from kiln.core.actor import Actor
from kiln.core.errors import Invalid, NotFound
from kiln.core.permissions import Permission
from kiln.registry.models import ModelVersion, RegisteredModel


def check_model_access(
    session: Session, actor: Actor, model: RegisteredModel, permission: Permission
) -> None:
    require_in_project(session, actor, model.project_id, permission, hide_as=f"model {model.name!r}")


def visible_models(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    """Narrow a query that involves ``registered_models`` to the actor's projects."""
    return scoped(session, actor, query, RegisteredModel.project_id)


def get_model(
    session: Session, actor: Actor, name: str, permission: Permission, *, project: str | None = None
) -> RegisteredModel:
    """The model ``name`` as ``actor`` may see it, checked for ``permission`` in its project.

    Raises NotFound naming the model (also for a model in a project the caller is not a member of),
    Invalid when several of the caller's projects have a model of that name and none was chosen.
    """
    hide_as = f"model {name!r}"
    if project is not None or actor.project_scoped:
        found = resolve_project(session, actor, project or actor.project_id, Permission.models_read)
        model = session.scalar(
            select(RegisteredModel).where(
                RegisteredModel.project_id == found.id, RegisteredModel.name == name
            )
        )
    else:
        model = _only_model_named(session, actor, name)
    require_in_project(
        session, actor, None if model is None else model.project_id, permission, hide_as=hide_as
    )
    assert model is not None
    return model


def _only_model_named(session: Session, actor: Actor, name: str) -> RegisteredModel | None:
    statement = select(RegisteredModel).where(RegisteredModel.name == name)
    project_ids = accessible_project_ids(session, actor)
    if project_ids is not None:
        statement = statement.where(RegisteredModel.project_id.in_(project_ids))
    models = list(session.scalars(statement.limit(10)))
    if len(models) > 1:
        names = sorted(
            session.scalars(select(Project.name).where(Project.id.in_([m.project_id for m in models])))
        )
        raise Invalid(
            f"several of your projects have a model named {name!r} ({', '.join(names)}); "
            "say which with ?project=<name or id> (CLI: --project)",
            details={"projects": names},
        )
    return models[0] if models else None


def get_version(session: Session, model: RegisteredModel, number: int) -> ModelVersion:
    """Version ``number`` of ``model``, or NotFound naming both."""
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.number == number)
    )
    if version is None:
        raise NotFound(f"model {model.name!r} has no version {number}")
    return version


def check_in_project(session: Session, actor: Actor, model: RegisteredModel, permission: Permission) -> None:
    """``actor`` may use ``permission`` on ``model`` (found by something other than its name)."""
    require_in_project(session, actor, model.project_id, permission, hide_as=f"model {model.name!r}")
