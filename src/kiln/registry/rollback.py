"""Rollback: production goes back to the version that was there before, the current one is marked failed.

"Before" comes from the stage history: the latest version, other than the current one, that was
moved to production and is archived now (a version already rolled back, ``failed``, is skipped).
Both moves are conditional updates in one transaction, so a racing promotion makes one of them fail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.notify.email import Mailer
from kiln.registry import notices
from kiln.registry.access import check_in_project
from kiln.registry.events import ModelVersionRolledBack
from kiln.registry.lifecycle import current_production, transition
from kiln.registry.lifecycle_errors import NothingToRollBack
from kiln.registry.models import ModelVersion, RegisteredModel, StageChange
from kiln.registry.schemas import Stage


def previous_production(
    session: Session, model: RegisteredModel, current: ModelVersion
) -> ModelVersion | None:
    """The version production returns to: the latest earlier production version that is archived now."""
    earlier = session.scalars(
        select(ModelVersion)
        .join(StageChange, StageChange.version_id == ModelVersion.id)
        .where(
            StageChange.model_id == model.id,
            StageChange.to_stage == Stage.production.value,
            StageChange.version_id != current.id,
        )
        .order_by(StageChange.changed_at.desc(), StageChange.id.desc())
    )
    return next((version for version in earlier if version.stage == Stage.archived.value), None)


def rollback(
    session: Session, actor: Actor, model: RegisteredModel, *, reason: str, mailer: Mailer
) -> tuple[ModelVersion, ModelVersion]:
    """Return production to the previous production version; answers (restored, failed). The
    project's members are notified."""
    check_in_project(session, actor, model, Permission.models_promote_production)
    current = current_production(session, model)
    if current is None:
        raise NothingToRollBack(
            f"model {model.name!r} has no version in production; there is nothing to roll back"
        )
    restored = previous_production(session, model, current)
    if restored is None:
        raise NothingToRollBack(
            f"model {model.name!r} has no earlier production version to return to (version {current.number} "
            "is the first, or every earlier one failed); archive it instead, or promote another version",
            details={"production": current.number},
        )
    now = utcnow()
    transition(session, actor, model, current, Stage.failed, expected=Stage.production, reason=reason, at=now)
    transition(
        session,
        actor,
        model,
        restored,
        Stage.production,
        expected=Stage.archived,
        reason=f"rollback from version {current.number}: {reason}",
        at=now,
    )
    audit.record(
        session,
        actor,
        "model.rolled_back",
        "registered_model",
        model.id,
        {"model": model.name, "from": current.number, "to": restored.number, "reason": reason},
    )
    events.publish(
        session,
        ModelVersionRolledBack(
            project_id=model.project_id,
            model_id=model.id,
            model_name=model.name,
            version_id=restored.id,
            version_number=restored.number,
            actor=actor.label,
            failed_version_id=current.id,
            reason=reason,
        ),
    )
    notices.rolled_back(session, actor, model, restored, current, reason=reason, mailer=mailer)
    return restored, current
