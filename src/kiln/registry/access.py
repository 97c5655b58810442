"""Who may see and change which registered models: the model's project decides.

Registered models carry ``project_id``; versions (and their files, params, metrics, aliases, stage
changes, approvals) reach it through their one parent, the model. Non-members get NotFound.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from kiln.auth.projects import require_in_project, scoped
from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.registry.models import RegisteredModel


def check_model_access(
    session: Session, actor: Actor, model: RegisteredModel, permission: Permission
) -> None:
    require_in_project(session, actor, model.project_id, permission, hide_as=f"model {model.name!r}")


def visible_models(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    """Narrow a query that involves ``registered_models`` to the actor's projects."""
    return scoped(session, actor, query, RegisteredModel.project_id)
