"""Who hears about a lifecycle change, and what they read: the registry's calls to ``notify``.

Each function runs in the transaction of the change it announces, so a change that rolls back
notifies no one (the in-app rows roll back with it; mail leaves only after commit, from the
mailer's thread pool). The audience is resolved through auth (active members of the model's
project); the actor is never told of their own change.

- promoted to staging or production, rolled back: the project's members;
- approval requested: the members whose project role may approve (``models:approve``), not the requester;
- approval decided: the requester.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kiln.auth.projects import project_recipients
from kiln.core.actor import Actor
from kiln.core.permissions import Permission
from kiln.notify.email import Mailer
from kiln.notify.schemas import NotificationKind
from kiln.notify.service import notify
from kiln.registry.models import Approval, ModelVersion, RegisteredModel


def version_link(model: RegisteredModel, version: ModelVersion) -> str:
    """The version's page (a relative URL: the mailer makes it absolute)."""
    return f"/models/{model.name}/versions/{version.number}"


def approval_link(approval: Approval) -> str:
    return f"/approvals/{approval.id}"


def version_title(model: RegisteredModel, version: ModelVersion) -> str:
    """``fraud_detector v3 (1.0.0)``: how people name a version."""
    label = f" ({version.label})" if version.label else ""
    return f"{model.name} v{version.number}{label}"


def promoted(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    *,
    to_stage: str,
    previous: ModelVersion | None = None,
    mailer: Mailer,
) -> None:
    replaced = f" It replaces v{previous.number}, now archived." if previous is not None else ""
    notify(
        session,
        project_recipients(session, model.project_id),
        kind=NotificationKind.model_version_promoted,
        title=f"{version_title(model, version)} is in {to_stage}",
        body=f"Promoted to {to_stage} by {actor.label}.{replaced}",
        link=version_link(model, version),
        project_id=model.project_id,
        exclude_user_id=actor.user_id,
        mailer=mailer,
    )


def rolled_back(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    restored: ModelVersion,
    failed: ModelVersion,
    *,
    reason: str,
    mailer: Mailer,
) -> None:
    notify(
        session,
        project_recipients(session, model.project_id),
        kind=NotificationKind.model_version_rolled_back,
        title=f"{model.name} production rolled back to v{restored.number}",
        body=(
            f"{actor.label} rolled production back from {version_title(model, failed)} (now failed) "
            f"to {version_title(model, restored)}. Reason: {reason or '(none given)'}"
        ),
        link=version_link(model, restored),
        project_id=model.project_id,
        exclude_user_id=actor.user_id,
        mailer=mailer,
    )


def approval_requested(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    approval: Approval,
    *,
    mailer: Mailer,
) -> None:
    notify(
        session,
        project_recipients(session, model.project_id, permission=Permission.models_approve),
        kind=NotificationKind.approval_requested,
        title=f"{version_title(model, version)} waits for your approval for production",
        body=(
            f"{actor.label} asks to promote it to production (risk: {approval.risk_level}).\n\n"
            f"{approval.risk_assessment}"
        ),
        link=approval_link(approval),
        project_id=model.project_id,
        # Four-eyes: the requester is not an approver of their own request.
        exclude_user_id=approval.requested_by_user_id,
        mailer=mailer,
    )


def approval_decided(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    approval: Approval,
    *,
    mailer: Mailer,
) -> None:
    if approval.requested_by_user_id is None:
        return  # asked by the system (a builder, a migration): nobody to tell
    # Still an active member (they may have left the project since asking), or told nothing.
    requester = [
        person
        for person in project_recipients(session, model.project_id)
        if person.user_id == approval.requested_by_user_id
    ]
    outcome = "approved: it is in production" if approval.status == "approved" else approval.status
    notify(
        session,
        requester,
        kind=NotificationKind.approval_decided,
        title=f"Your request for {version_title(model, version)} was {outcome}",
        body=f"Decided by {actor.label}. Reason: {approval.decision_reason or '(none given)'}",
        link=approval_link(approval),
        project_id=model.project_id,
        exclude_user_id=actor.user_id,
        mailer=mailer,
    )
