"""Datasets: create, read, list and update (description, schema, rules); every change audited.

Versions are ``data/versions.py``; reading a version's rows is ``data/reading.py``. A schema or
rules change applies to the versions made after it; each version keeps the schema it was judged with.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import resolve_project
from kiln.core.actor import Actor
from kiln.core.errors import Conflict
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.data.access import get_dataset, visible_datasets
from kiln.data.ingestion_timer import schedule_commit
from kiln.data.models import Dataset
from kiln.data.rules_spec import DatasetRules
from kiln.data.schemas import DatasetCreate, DatasetUpdate, IngestionPolicy
from kiln.data.spec import DatasetSchema

LABEL_LENGTH = 256  # created_by columns


def declared_schema(dataset: Dataset) -> DatasetSchema:
    return DatasetSchema.model_validate(dataset.declared_schema)


def declared_rules(dataset: Dataset) -> DatasetRules:
    return DatasetRules.model_validate(dataset.rules or {})


def ingestion_policy(dataset: Dataset) -> IngestionPolicy:
    return IngestionPolicy.model_validate(dataset.ingestion or {})


def create_dataset(session: Session, actor: Actor, data: DatasetCreate) -> Dataset:
    """A new dataset; its rules must fit its schema (``RulesInvalid`` naming the rule and column)."""
    project = resolve_project(session, actor, data.project, Permission.datasets_write)
    data.rules.check_against(data.data_schema)
    exists = Conflict(
        f"dataset {data.name!r} exists in project {project.name!r}; upload a new version of it instead",
        details={"name": data.name, "project": project.name},
    )
    taken = select(Dataset.id).where(Dataset.project_id == project.id, Dataset.name == data.name)
    if session.scalar(taken):
        raise exists
    dataset = Dataset(
        project_id=project.id,
        name=data.name,
        description=data.description,
        declared_schema=data.data_schema.model_dump(mode="json"),
        rules=data.rules.model_dump(mode="json"),
        ingestion=data.ingestion.model_dump(mode="json", exclude_none=True),
        last_version=0,
        pending_rows=0,
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(dataset)
    try:
        session.flush()
    except IntegrityError as exc:  # created by another request since the check
        raise exists from exc
    audit.record(
        session,
        actor,
        "dataset.created",
        "dataset",
        dataset.id,
        {"name": dataset.name, "project_id": project.id, "columns": len(data.data_schema.columns)},
    )
    return dataset


def update_dataset(
    session: Session, actor: Actor, name: str, data: DatasetUpdate, *, project: str | None = None
) -> Dataset:
    dataset = get_dataset(session, actor, name, project=project, permission=Permission.datasets_write)
    schema = data.data_schema or declared_schema(dataset)
    rules = data.rules or declared_rules(dataset)
    if data.data_schema is not None or data.rules is not None:
        rules.check_against(schema)
    if data.description is not None:
        dataset.description = data.description
    if data.data_schema is not None:
        dataset.declared_schema = data.data_schema.model_dump(mode="json")
    if data.rules is not None:
        dataset.rules = data.rules.model_dump(mode="json")
    if data.ingestion is not None:
        dataset.ingestion = data.ingestion.model_dump(mode="json", exclude_none=True)
    session.flush()
    if data.ingestion is not None:
        # Rows already pending wait for the new timer (a timer that fires early re-queues itself).
        minutes = ingestion_policy(dataset).every_minutes
        if minutes is not None and dataset.pending_rows:
            schedule_commit(session, dataset, minutes=minutes)
    audit.record(
        session,
        actor,
        "dataset.updated",
        "dataset",
        dataset.id,
        {"name": dataset.name, "fields": sorted(data.model_dump(exclude_none=True))},
    )
    return dataset


def list_datasets(
    session: Session, actor: Actor, page: PageParams, *, project: str | None = None
) -> Page[Dataset]:
    """Datasets of the actor's projects (or of one), by name."""
    query = visible_datasets(session, actor, select(Dataset))
    if project is not None:
        project_row = resolve_project(session, actor, project, Permission.datasets_read)
        query = query.where(Dataset.project_id == project_row.id)
    return paginate(session, query.order_by(Dataset.name, Dataset.id), page, with_total=True)
