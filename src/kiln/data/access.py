"""Which project a dataset belongs to, and finding one by name the way every route does.

A dataset carries ``project_id``; its versions reach it through ``dataset_id``. A dataset is named
by its name, unique within a project: ``?project=`` (id or name) picks the project; without it, a
project key's own project, else the one of the caller's projects that has a dataset of that name.
A non-member is told the dataset is not found, exactly as for one that does not exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from kiln.auth.projects import find_named_in_projects, scoped
from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.core.permissions import Permission
from kiln.data.models import Dataset


def visible_datasets(session: Session, actor: Actor, query: Select[Any]) -> Select[Any]:
    """Narrow a query that involves ``datasets`` to the actor's projects."""
    return scoped(session, actor, query, Dataset.project_id)


def find_dataset(
    session: Session, actor: Actor, name: str, permission: Permission, *, project: str | None = None
) -> Dataset | None:
    """The dataset ``name`` in ``project`` (or in the one readable project that has it), checked for
    ``permission`` there; None when there is none the actor may see."""
    found: Dataset | None = find_named_in_projects(
        session, actor, Dataset, name, permission, project=project, noun="dataset"
    )
    return found


def get_dataset(
    session: Session,
    actor: Actor,
    name: str,
    *,
    project: str | None = None,
    permission: Permission = Permission.datasets_read,
) -> Dataset:
    dataset = find_dataset(session, actor, name, permission, project=project)
    if dataset is None:
        raise NotFound(f"dataset {name!r} not found", details={"dataset": name})
    return dataset
