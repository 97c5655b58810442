"""Stage transitions of model versions: a state machine changed only by conditional updates.

    development -> staging (runs the gates) -> production (only through an approval) -> archived
    production -> failed (rolled back)

Every change is ``UPDATE model_versions SET stage = :to WHERE id = :id AND stage = :expected`` with
its row count checked, never read-then-write, so two requests racing on one version cannot both
win. Each writes a ``StageChange`` row (the history), an audit record, and (for promotions) an event
after commit. One production version per model: promoting archives the previous one in the same
transaction, and a partial unique index (migration 0012) refuses a second one whatever races.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.notify.email import Mailer
from kiln.registry import gates, notices
from kiln.registry.access import check_in_project
from kiln.registry.events import ModelVersionPromoted, ModelVersionStageChanged
from kiln.registry.lifecycle_errors import GatesFailed, StageChanged, StageTransitionDenied
from kiln.registry.lifecycle_schemas import GateResult
from kiln.registry.models import ModelVersion, RegisteredModel, StageChange
from kiln.registry.schemas import Stage, VersionStatus
from kiln.storage.store import ArtifactStore

# Where a version may go next, and how (the hint a refusal gives).
TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    Stage.development: (Stage.staging, Stage.archived),
    Stage.staging: (Stage.production, Stage.development, Stage.archived),
    Stage.production: (Stage.archived, Stage.failed),
    Stage.archived: (Stage.staging, Stage.development),
    Stage.failed: (Stage.development, Stage.archived),
}
HOW = {
    Stage.staging: "staging (runs the gates)",
    Stage.production: "production (request an approval)",
    Stage.failed: "failed (only by a rollback)",
}
ACTOR_LENGTH = 256  # changed_by, requested_by, decided_by


@dataclass(frozen=True, slots=True)
class StagingOutcome:
    """What a promotion to staging did. ``blocked`` is returned, not raised: the failed gates'
    results must be committed with the request (the router answers 409 from it)."""

    version: ModelVersion
    blocked: GatesFailed | None = None


def allowed_next(stage: str) -> list[str]:
    """The stages ``stage`` may move to, each with how (``production (request an approval)``)."""
    return [HOW.get(target, target.value) for target in TRANSITIONS[Stage(stage)]]


def version_label(model: RegisteredModel, version: ModelVersion) -> str:
    label = f" ({version.label})" if version.label else ""
    return f"version {version.number}{label} of model {model.name!r}"


def check_transition(model: RegisteredModel, version: ModelVersion, to_stage: Stage) -> None:
    """StageTransitionDenied unless ``version`` may go to ``to_stage``, listing what it may do instead."""
    current = Stage(version.stage)
    if to_stage in TRANSITIONS[current]:
        return
    allowed = allowed_next(current)
    same = " already" if current is to_stage else ""
    raise StageTransitionDenied(
        f"{version_label(model, version)} is{same} {current.value}; it cannot go to {to_stage.value}. "
        f"Allowed next: {', '.join(allowed)}",
        details={
            "stage": current.value,
            "requested": to_stage.value,
            "allowed": [s.value for s in TRANSITIONS[current]],
        },
    )


def check_finished(model: RegisteredModel, version: ModelVersion) -> None:
    """A draft (an upload whose inputs are not described yet) is finished before it is promoted."""
    if version.status == VersionStatus.draft.value:
        raise StageTransitionDenied(
            f"{version_label(model, version)} is a draft: finish it first (describe its inputs, then "
            f"POST /api/v1/models/{model.name}/versions/{version.number}/finish), then promote it",
            details={"stage": version.stage, "status": version.status, "allowed": ["finish"]},
        )


def check_gates_passed(model: RegisteredModel, version: ModelVersion) -> None:
    """A version whose last gate run failed cannot move on; the refusal says which gates and why."""
    results = [GateResult.model_validate(item) for item in version.gate_results or []]
    failing = gates.failed(results)
    if failing:
        raise _gates_failed(model, version, failing, results)


def _gates_failed(
    model: RegisteredModel, version: ModelVersion, failing: list[GateResult], results: list[GateResult]
) -> GatesFailed:
    what = "; ".join(f"{result.gate}: {result.detail}" for result in failing)
    return GatesFailed(
        f"{version_label(model, version)} failed its staging gates ({what}). "
        "Fix the version (or the model's gates) and promote it to staging again",
        details={
            "failed": [result.model_dump() for result in failing],
            "gate_results": [result.model_dump() for result in results],
        },
    )


def transition(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    to_stage: Stage,
    *,
    expected: Stage,
    reason: str = "",
    approval_id: str | None = None,
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> StageChange:
    """Move ``version`` from ``expected`` to ``to_stage`` in one conditional update, on the record.

    ``extra`` columns are set in the same statement (the gate results of a staging promotion).
    Raises StageChanged when the version is no longer in ``expected`` (someone else moved it).
    """
    now = at or utcnow()
    statement = (
        update(ModelVersion)
        .where(ModelVersion.id == version.id, ModelVersion.stage == expected.value)
        .values(stage=to_stage.value, updated_at=now, **(extra or {}))
    )
    try:
        result = cast(CursorResult[Any], session.execute(statement))
    except IntegrityError:
        # The partial unique index: another version reached production in a racing transaction.
        raise StageChanged(
            f"model {model.name!r} got another production version meanwhile; read its history and try again"
        ) from None
    if result.rowcount != 1:
        session.refresh(version)
        raise StageChanged(
            f"{version_label(model, version)} is now {version.stage}, not {expected.value}: it changed "
            "meanwhile; read it again and retry"
        )
    session.refresh(version)
    change = StageChange(
        model_id=model.id,
        version_id=version.id,
        from_stage=expected.value,
        to_stage=to_stage.value,
        reason=reason,
        changed_at=now,
        changed_by=actor.label_within(ACTOR_LENGTH),
        changed_by_user_id=actor.user_id,
        approval_id=approval_id,
    )
    session.add(change)
    session.flush()
    audit.record(
        session,
        actor,
        "model_version.stage_changed",
        "model_version",
        version.id,
        {
            "model": model.name,
            "version": version.number,
            "from": expected.value,
            "to": to_stage.value,
            "reason": reason,
            "approval_id": approval_id,
        },
    )
    return change


def change_stage(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    to_stage: Stage,
    *,
    reason: str,
    store: ArtifactStore,
    mailer: Mailer,
    trust_pickle: bool = False,
) -> StagingOutcome:
    """What ``POST .../versions/{v}/stage`` asks: staging runs the gates; production is refused with
    how to ask for it (an approval); failed is only reached by a rollback."""
    leaving_production = version.stage == Stage.production.value
    needed = Permission.models_promote_production if leaving_production else Permission.models_promote_staging
    check_in_project(session, actor, model, needed)
    if to_stage in (Stage.staging, Stage.production):
        check_finished(model, version)
    if to_stage is Stage.production:
        check_gates_passed(model, version)
        check_transition(model, version, to_stage)
        raise StageTransitionDenied(
            f"{version_label(model, version)} goes to production only through an approval: request one "
            f"(POST /api/v1/models/{model.name}/versions/{version.number}/approval-requests, "
            f"CLI: kiln models promote {model.name} {version.number} --stage production)",
            details={"stage": version.stage, "requested": to_stage.value, "allowed": ["approval-request"]},
        )
    if to_stage is Stage.failed:
        raise StageTransitionDenied(
            f"{version_label(model, version)} is marked failed only by a rollback "
            f"(POST /api/v1/models/{model.name}/rollback)",
            details={"stage": version.stage, "requested": to_stage.value, "allowed": ["rollback"]},
        )
    check_transition(model, version, to_stage)
    if to_stage is Stage.staging:
        return promote_to_staging(
            session,
            actor,
            model,
            version,
            reason=reason,
            store=store,
            mailer=mailer,
            trust_pickle=trust_pickle,
        )
    from_stage = Stage(version.stage)
    transition(session, actor, model, version, to_stage, expected=from_stage, reason=reason)
    events.publish(
        session,
        ModelVersionStageChanged(
            **_event_ids(actor, model, version), from_stage=from_stage.value, to_stage=to_stage.value
        ),
    )
    return StagingOutcome(version=version)


def promote_to_staging(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    *,
    reason: str,
    store: ArtifactStore,
    mailer: Mailer,
    trust_pickle: bool = False,
) -> StagingOutcome:
    """Run the gates; all pass: the version is in staging. One fails: the results are recorded on
    the version (and audited) and the outcome carries the 409 to answer."""
    check_finished(model, version)
    expected = Stage(version.stage)
    results = gates.run_gates(session, store, model, version, trust_pickle=trust_pickle)
    recorded = [result.model_dump() for result in results]
    failing = gates.failed(results)
    if failing:
        statement = (
            update(ModelVersion)
            .where(ModelVersion.id == version.id, ModelVersion.stage == expected.value)
            .values(gate_results=recorded)
        )
        if cast(CursorResult[Any], session.execute(statement)).rowcount != 1:
            raise StageChanged(f"{version_label(model, version)} changed stage while its gates ran; retry")
        session.refresh(version)
        audit.record(
            session,
            actor,
            "model_version.gates_failed",
            "model_version",
            version.id,
            {"model": model.name, "version": version.number, "failed": [r.model_dump() for r in failing]},
        )
        return StagingOutcome(version=version, blocked=_gates_failed(model, version, failing, results))
    transition(
        session,
        actor,
        model,
        version,
        Stage.staging,
        expected=expected,
        reason=reason,
        extra={"gate_results": recorded},
    )
    _announce(session, actor, model, version, expected, Stage.staging, mailer=mailer)
    return StagingOutcome(version=version)


def current_production(session: Session, model: RegisteredModel) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.stage == Stage.production.value
        )
    )


def promote_to_production(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    *,
    reason: str,
    approval_id: str,
    mailer: Mailer,
) -> ModelVersion | None:
    """Put an approved version in production, archiving the one there (returned; it stays viewable).

    Only ``approvals.approve`` calls this: the approval is the permission.
    """
    check_transition(model, version, Stage.production)
    check_gates_passed(model, version)
    now = utcnow()
    previous = current_production(session, model)
    if previous is not None:
        transition(
            session,
            actor,
            model,
            previous,
            Stage.archived,
            expected=Stage.production,
            reason=f"replaced by version {version.number}",
            approval_id=approval_id,
            at=now,
        )
    transition(
        session,
        actor,
        model,
        version,
        Stage.production,
        expected=Stage.staging,
        reason=reason,
        approval_id=approval_id,
        at=now,
    )
    _announce(
        session, actor, model, version, Stage.staging, Stage.production, previous=previous, mailer=mailer
    )
    return previous


def _announce(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version: ModelVersion,
    from_stage: Stage,
    to_stage: Stage,
    *,
    previous: ModelVersion | None = None,
    mailer: Mailer,
) -> None:
    """The event (after commit) and the members' notifications (in this transaction)."""
    events.publish(
        session,
        ModelVersionPromoted(
            **_event_ids(actor, model, version),
            from_stage=from_stage.value,
            to_stage=to_stage.value,
            previous_version_id=previous.id if previous else None,
        ),
    )
    notices.promoted(
        session, actor, model, version, to_stage=to_stage.value, previous=previous, mailer=mailer
    )


def _event_ids(actor: Actor, model: RegisteredModel, version: ModelVersion) -> dict[str, Any]:
    return {
        "project_id": model.project_id,
        "model_id": model.id,
        "model_name": model.name,
        "version_id": version.id,
        "version_number": version.number,
        "actor": actor.label,
    }
