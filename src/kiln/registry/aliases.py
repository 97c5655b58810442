"""Aliases (``champion``, ``challenger``) and resolving any version reference a user may write.

An alias is one row per (model, alias), written with a single upsert: moving it is atomic, so a
reader sees the old version or the new one, never none and never two. ``resolve_version`` is the one
reading of a version reference, for the API, the SDK's ``models:/`` URIs, the CLI and the UI.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import NotFound, ValidationFailed
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.registry.access import check_in_project, get_model
from kiln.registry.events import ModelAliasMoved
from kiln.registry.lifecycle import ACTOR_LENGTH
from kiln.registry.lifecycle_schemas import AliasRead, check_alias_name
from kiln.registry.models import ModelAlias, ModelVersion, RegisteredModel
from kiln.registry.schemas import Stage

LATEST = "latest"


def resolve_version(session: Session, model: RegisteredModel, ref: str | int) -> ModelVersion:
    """The version ``ref`` names: a number (``3``), ``@alias``, a stage (``production``, ``staging``,
    ...: the newest version in it), ``latest``, or a label (``1.0.0``). NotFound names what was asked.

    The caller has checked that the actor may read ``model``.
    """
    text = str(ref).strip()
    statement = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if text.isdigit():
        version = session.scalar(statement.where(ModelVersion.number == int(text)))
        what = f"version {text}"
    elif text.startswith("@"):
        version = session.scalar(
            statement.join(ModelAlias, ModelAlias.version_id == ModelVersion.id).where(
                ModelAlias.model_id == model.id, ModelAlias.alias == text[1:]
            )
        )
        what = f"alias {text}"
    elif text in Stage.__members__ or text == LATEST:
        if text != LATEST:
            statement = statement.where(ModelVersion.stage == text)
        version = session.scalar(statement.order_by(ModelVersion.number.desc()).limit(1))
        what = "version yet" if text == LATEST else f"version in {text}"
    else:
        version = session.scalar(statement.where(ModelVersion.label == text))
        what = f"version labelled {text!r}"
    if version is None:
        raise NotFound(f"model {model.name!r} has no {what}")
    return version


def _check_name(alias: str) -> None:
    problem = check_alias_name(alias)
    if problem is not None:
        raise ValidationFailed(problem)


def set_alias(
    session: Session, actor: Actor, model: RegisteredModel, alias: str, ref: str | int
) -> AliasRead:
    """Point ``alias`` at the version ``ref`` names (a number or label), creating or moving it."""
    check_in_project(session, actor, model, Permission.models_promote_production)
    _check_name(alias)
    version = resolve_version(session, model, ref)
    before = session.scalar(
        select(ModelAlias.version_id).where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
    )
    row = {
        "model_id": model.id,
        "alias": alias,
        "version_id": version.id,
        "updated_at": utcnow(),
        "updated_by": actor.label_within(ACTOR_LENGTH),
    }
    upsert_rows(
        session,
        ModelAlias.__table__,
        [row],
        key=["model_id", "alias"],
        update=["version_id", "updated_at", "updated_by"],
    )
    audit.record(
        session,
        actor,
        "model.alias_set",
        "registered_model",
        model.id,
        {"model": model.name, "alias": alias, "version": version.number, "before_version_id": before},
    )
    events.publish(session, ModelAliasMoved(model.project_id, model.id, model.name, alias, version.id))
    return AliasRead.model_validate({**row, "version_number": version.number})


def delete_alias(session: Session, actor: Actor, model: RegisteredModel, alias: str) -> None:
    check_in_project(session, actor, model, Permission.models_promote_production)
    removed = session.execute(
        delete(ModelAlias)
        .where(ModelAlias.model_id == model.id, ModelAlias.alias == alias)
        .returning(ModelAlias.version_id)
    ).first()
    if removed is None:
        raise NotFound(f"model {model.name!r} has no alias {alias!r}")
    audit.record(
        session,
        actor,
        "model.alias_deleted",
        "registered_model",
        model.id,
        {"model": model.name, "alias": alias, "version_id": removed.version_id},
    )
    events.publish(session, ModelAliasMoved(model.project_id, model.id, model.name, alias, None))


def list_aliases(session: Session, actor: Actor, model: RegisteredModel) -> list[AliasRead]:
    check_in_project(session, actor, model, Permission.models_read)
    rows = session.execute(
        select(ModelAlias, ModelVersion.number)
        .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
        .where(ModelAlias.model_id == model.id)
        .order_by(ModelAlias.alias)
    )
    return [
        AliasRead(
            model_id=alias.model_id,
            alias=alias.alias,
            version_id=alias.version_id,
            version_number=number,
            updated_at=alias.updated_at,
            updated_by=alias.updated_by,
        )
        for alias, number in rows
    ]


def model_and_version(
    session: Session, actor: Actor, name: str, ref: str | int, *, project: str | None = None
) -> tuple[RegisteredModel, ModelVersion]:
    """Model ``name`` (readable by ``actor``) and the version ``ref`` names (every version route)."""
    model = get_model(session, actor, name, Permission.models_read, project=project)
    return model, resolve_version(session, model, ref)
