"""Four-eyes approval of production: a request with a risk assessment, a decision by someone else.

Asking for production needs ``models:promote_production``; deciding needs ``models:approve`` and,
unless the project allows a single approver (``RegistrySettings``, changed only by a project admin,
on the record), a different person from the one who asked: a key acts as its owner, so nobody
approves their own request with a key either. Approving promotes through ``lifecycle`` (archiving
the production version it replaces) in the same transaction as the decision.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import accessible_project_ids, require_in_project, require_project
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, NotFound
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.notify.email import Mailer
from kiln.registry import lifecycle, notices
from kiln.registry.access import check_in_project
from kiln.registry.events import ApprovalDecided, ApprovalRequested
from kiln.registry.lifecycle import ACTOR_LENGTH, version_label
from kiln.registry.lifecycle_errors import AlreadyDecided, SelfApprovalRefused
from kiln.registry.lifecycle_schemas import (
    ApprovalRead,
    ApprovalRequestCreate,
    RegistrySettingsRead,
    RegistrySettingsUpdate,
)
from kiln.registry.models import Approval, ModelVersion, RegisteredModel, RegistrySettings
from kiln.registry.schemas import ApprovalStatus, Stage


def request_production(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    data: ApprovalRequestCreate,
    *,
    mailer: Mailer,
) -> Approval:
    """Ask for ``version`` to go to production. It must be finished, in staging with its gates passed,
    and have no other pending request. The project's approvers (not the requester) are notified."""
    check_in_project(session, actor, model, Permission.models_promote_production)
    lifecycle.check_finished(model, version)
    lifecycle.check_gates_passed(model, version)
    lifecycle.check_transition(model, version, Stage.production)
    pending = _pending_for(session, version.id)
    if pending is not None:
        raise Conflict(
            f"{version_label(model, version)} already has a pending approval request ({pending.id}); "
            "it is decided first",
            details={"approval_id": pending.id},
        )
    approval = Approval(
        model_id=model.id,
        version_id=version.id,
        status=ApprovalStatus.pending.value,
        risk_level=data.risk_level.value,
        risk_assessment=data.risk_assessment,
        requested_at=utcnow(),
        requested_by=actor.label_within(ACTOR_LENGTH),
        requested_by_user_id=actor.user_id,
    )
    session.add(approval)
    try:
        session.flush()
    except IntegrityError:
        # The partial unique index (one pending request per version): a racing request won.
        raise Conflict(f"{version_label(model, version)} already has a pending approval request") from None
    audit.record(
        session,
        actor,
        "approval.requested",
        "model_version",
        version.id,
        {
            "model": model.name,
            "version": version.number,
            "approval_id": approval.id,
            "risk_level": approval.risk_level,
        },
    )
    events.publish(
        session,
        ApprovalRequested(
            **_event_ids(model, version, actor),
            approval_id=approval.id,
            risk_level=approval.risk_level,
            requested_by_user_id=approval.requested_by_user_id,
        ),
    )
    notices.approval_requested(session, actor, model, version, approval, mailer=mailer)
    return approval


def _pending_for(session: Session, version_id: str) -> Approval | None:
    return session.scalar(
        select(Approval).where(
            Approval.version_id == version_id, Approval.status == ApprovalStatus.pending.value
        )
    )


def get_approval(session: Session, actor: Actor, approval_id: str, permission: Permission) -> Approval:
    """An approval the actor may see (NotFound naming it otherwise), checked for ``permission``."""
    approval = session.get(Approval, approval_id)
    model = session.get(RegisteredModel, approval.model_id) if approval else None
    if approval is None or model is None:
        raise NotFound(f"approval {approval_id!r} not found")
    require_in_project(session, actor, model.project_id, permission, hide_as=f"approval {approval_id!r}")
    return approval


def approve(session: Session, actor: Actor, approval_id: str, *, reason: str, mailer: Mailer) -> Approval:
    """Approve and promote: the version goes to production, the one there is archived. The requester
    and the project's members are notified."""
    return _decide(session, actor, approval_id, ApprovalStatus.approved, reason, mailer)


def reject(session: Session, actor: Actor, approval_id: str, *, reason: str, mailer: Mailer) -> Approval:
    """Refuse the request; the version stays in staging. The requester is notified."""
    return _decide(session, actor, approval_id, ApprovalStatus.rejected, reason, mailer)


def _decide(
    session: Session, actor: Actor, approval_id: str, status: ApprovalStatus, reason: str, mailer: Mailer
) -> Approval:
    approval = get_approval(session, actor, approval_id, Permission.models_approve)
    model = session.get_one(RegisteredModel, approval.model_id)
    version = session.get_one(ModelVersion, approval.version_id)
    if approval.status != ApprovalStatus.pending.value:
        raise AlreadyDecided(
            f"approval {approval.id} is {approval.status} already (by {approval.decided_by}); "
            "nothing to decide",
            details={"status": approval.status},
        )
    _check_four_eyes(session, actor, model, approval)
    now = utcnow()
    statement = (
        update(Approval)
        .where(Approval.id == approval.id, Approval.status == ApprovalStatus.pending.value)
        .values(
            status=status.value,
            decided_at=now,
            decided_by=actor.label_within(ACTOR_LENGTH),
            decided_by_user_id=actor.user_id,
            decision_reason=reason,
        )
    )
    if cast(CursorResult[Any], session.execute(statement)).rowcount != 1:
        raise AlreadyDecided(f"approval {approval.id} was decided meanwhile; read it again")
    session.refresh(approval)
    audit.record(
        session,
        actor,
        f"approval.{status.value}",
        "model_version",
        version.id,
        {"model": model.name, "version": version.number, "approval_id": approval.id, "reason": reason},
    )
    if status is ApprovalStatus.approved:
        lifecycle.promote_to_production(
            session,
            actor,
            model,
            version,
            reason=f"approved: {reason}",
            approval_id=approval.id,
            mailer=mailer,
        )
    events.publish(
        session,
        ApprovalDecided(
            **_event_ids(model, version, actor),
            approval_id=approval.id,
            status=status.value,
            reason=reason,
            requested_by_user_id=approval.requested_by_user_id,
        ),
    )
    notices.approval_decided(session, actor, model, version, approval, mailer=mailer)
    return approval


def _check_four_eyes(session: Session, actor: Actor, model: RegisteredModel, approval: Approval) -> None:
    same_person = (
        actor.user_id == approval.requested_by_user_id
        if approval.requested_by_user_id is not None
        else actor.label_within(ACTOR_LENGTH) == approval.requested_by
    )
    if not same_person or single_approver_allowed(session, model.project_id):
        return
    raise SelfApprovalRefused(
        "you requested this promotion, so someone else must decide it (four-eyes); a project admin may "
        "allow single approvers for this project (PUT /api/v1/projects/{id}/registry-settings)",
        details={"approval_id": approval.id, "requested_by": approval.requested_by},
    )


def _event_ids(model: RegisteredModel, version: ModelVersion, actor: Actor) -> dict[str, Any]:
    return {
        "project_id": model.project_id,
        "model_id": model.id,
        "model_name": model.name,
        "version_id": version.id,
        "version_number": version.number,
        "actor": actor.label,
    }


# -- the inbox ---------------------------------------------------------------------------------


def _approval_rows() -> Select[Approval, str, str, int]:
    return (
        select(Approval, RegisteredModel.name, RegisteredModel.project_id, ModelVersion.number)
        .join(RegisteredModel, RegisteredModel.id == Approval.model_id)
        .join(ModelVersion, ModelVersion.id == Approval.version_id)
    )


def approval_read(approval: Approval, model_name: str, project_id: str, number: int) -> ApprovalRead:
    fields = {column.key: getattr(approval, column.key) for column in Approval.__table__.columns}
    return ApprovalRead.model_validate(
        {**fields, "model_name": model_name, "project_id": project_id, "version_number": number}
    )


def read_approval(session: Session, approval: Approval) -> ApprovalRead:
    found, model_name, project_id, number = session.execute(
        _approval_rows().where(Approval.id == approval.id)
    ).one()
    return approval_read(found, model_name, project_id, number)


def list_approvals(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    status: ApprovalStatus | None = None,
    model_id: str | None = None,
) -> Page[ApprovalRead]:
    """Approvals in the caller's projects, newest request first (the inbox: ``status=pending``)."""
    statement = _approval_rows()
    project_ids = accessible_project_ids(session, actor)  # ``scoped``, for a select of several columns
    if project_ids is not None:
        statement = statement.where(RegisteredModel.project_id.in_(project_ids))
    if status is not None:
        statement = statement.where(Approval.status == status.value)
    if model_id is not None:
        statement = statement.where(Approval.model_id == model_id)
    statement = statement.order_by(Approval.requested_at.desc(), Approval.id.desc())
    # ``paginate`` reads one column; each approval is then read with its model and version.
    ids = paginate(session, statement.with_only_columns(Approval.id), page)
    rows = session.execute(_approval_rows().where(Approval.id.in_(ids.items)))
    reads = {
        found.id: approval_read(found, name, project_id, number) for found, name, project_id, number in rows
    }
    return ids.with_items([reads[ident] for ident in ids.items])


# -- the project's policy ----------------------------------------------------------------------


def single_approver_allowed(session: Session, project_id: str) -> bool:
    found = session.get(RegistrySettings, project_id)
    return bool(found and found.allow_single_approver)


def get_settings(session: Session, actor: Actor, project_id: str) -> RegistrySettingsRead:
    require_project(session, actor, project_id, Permission.models_read)
    found = session.get(RegistrySettings, project_id)
    if found is None:
        return RegistrySettingsRead(project_id=project_id, allow_single_approver=False)
    return RegistrySettingsRead.model_validate(found)


def set_settings(
    session: Session, actor: Actor, project_id: str, data: RegistrySettingsUpdate
) -> RegistrySettingsRead:
    """Change the project's registry policy: a project admin's action, always on the record."""
    require_project(session, actor, project_id, Permission.projects_admin)
    found = session.get(RegistrySettings, project_id)
    before = bool(found and found.allow_single_approver)
    if found is None:
        found = RegistrySettings(project_id=project_id)
        session.add(found)
    found.allow_single_approver = data.allow_single_approver
    found.updated_at = utcnow()
    found.updated_by = actor.label_within(ACTOR_LENGTH)
    session.flush()
    audit.record(
        session,
        actor,
        "registry.settings_changed",
        "project",
        project_id,
        {"allow_single_approver": {"before": before, "after": data.allow_single_approver}},
    )
    return RegistrySettingsRead.model_validate(found)
