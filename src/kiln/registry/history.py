"""A model's stage history, and which version was in production at any moment.

Every stage change is a ``StageChange`` row (``lifecycle.transition`` writes them), so production
at time T is the last change at or before T that moved a version into or out of production: into
means that version, out of (archived, failed) with nothing after means none. Changes made in one
transaction share a time; their ids keep the order they were made in (archive, then promote).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.registry.access import check_in_project
from kiln.registry.lifecycle_schemas import StageChangeRead, as_utc
from kiln.registry.models import ModelVersion, RegisteredModel, StageChange
from kiln.registry.schemas import Stage

MAX_HISTORY = 10_000


def stage_history(
    session: Session, actor: Actor, model: RegisteredModel, *, version: ModelVersion | None = None
) -> list[StageChangeRead]:
    """Every stage change of ``model`` (or of one of its versions), oldest first."""
    check_in_project(session, actor, model, Permission.models_read)
    statement = (
        select(StageChange, ModelVersion.number)
        .join(ModelVersion, ModelVersion.id == StageChange.version_id)
        .where(StageChange.model_id == model.id)
        .order_by(StageChange.changed_at, StageChange.id)
        .limit(MAX_HISTORY)
    )
    if version is not None:
        statement = statement.where(StageChange.version_id == version.id)
    return [_read(change, number) for change, number in session.execute(statement)]


def _read(change: StageChange, number: int) -> StageChangeRead:
    fields = {column.key: getattr(change, column.key) for column in StageChange.__table__.columns}
    return StageChangeRead.model_validate({**fields, "version_number": number})


def production_at(session: Session, model: RegisteredModel, at: datetime) -> ModelVersion | None:
    """The version of ``model`` that was in production at ``at`` (UTC; naive means UTC), or None."""
    touching_production = or_(
        StageChange.to_stage == Stage.production.value, StageChange.from_stage == Stage.production.value
    )
    last = session.scalar(
        select(StageChange)
        .where(StageChange.model_id == model.id, StageChange.changed_at <= as_utc(at), touching_production)
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())
        .limit(1)
    )
    if last is None or last.to_stage != Stage.production.value:
        return None
    return session.get(ModelVersion, last.version_id)
