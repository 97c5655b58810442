"""What the model and version pages show of the lifecycle, read through the registry's services.

The pages hide what the caller may not do (a button per permission and per allowed transition);
the services refuse it anyway, and their refusals come back to the page as an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import NotFound, ValidationFailed
from kiln.core.pagination import PageParams
from kiln.core.permissions import Permission
from kiln.lineage import service as lineage
from kiln.lineage.schemas import Node, parse_kind
from kiln.registry import aliases, approvals, gates, history, lifecycle, rollback
from kiln.registry.lifecycle_schemas import ApprovalRead, GateResult, StageChangeRead, VersionStage, as_utc
from kiln.registry.schemas import ApprovalStatus, RiskLevel, Stage
from kiln.ui.lineage.graph_layout import GraphDrawing, draw

# The metric-gate rows the gates form offers (the API takes up to 100).
GATE_ROWS = 5
GATE_OPS = (">=", ">", "<=", "<", "==")
# Pending approvals of one model shown on its pages (one per version at most).
PENDING_LIMIT = 100
# The registry's ORM rows, as its services return them: pages do not import the ORM models (the
# import-linter's contract), so the rows pass through here untyped and are read as schemas.
Row = Any


@dataclass(frozen=True, slots=True)
class ProductionAnswer:
    """The production-on-date form's answer: ``number`` is None when nothing was in production."""

    at: datetime
    number: int | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ModelLifecycle:
    production: VersionStage | None
    rollback_to: VersionStage | None
    aliases: list[Any]
    timeline: list[StageChangeRead]
    gates: dict[str, Any]
    pending: dict[int, ApprovalRead]
    can_rollback: bool
    can_edit_gates: bool
    gate_rows: int = GATE_ROWS
    gate_ops: tuple[str, ...] = GATE_OPS


@dataclass(frozen=True, slots=True)
class VersionLifecycle:
    stage: Stage
    gate_results: list[GateResult]
    gates_failed: bool
    timeline: list[StageChangeRead]
    pending: ApprovalRead | None
    aliases: list[Any]
    allowed_next: list[str]
    can_stage: bool
    can_request: bool
    can_archive: bool
    can_back_to_development: bool
    can_alias: bool
    risk_levels: list[str] = field(default_factory=lambda: [level.value for level in RiskLevel])


def pending_by_version(session: Session, actor: Actor, model: Row) -> dict[int, ApprovalRead]:
    found = approvals.list_approvals(
        session, actor, PageParams(limit=PENDING_LIMIT), status=ApprovalStatus.pending, model_id=model.id
    )
    return {approval.version_number: approval for approval in found.items}


def model_lifecycle(session: Session, actor: Actor, model: Row) -> ModelLifecycle:
    production = lifecycle.current_production(session, model)
    rollback_to = rollback.previous_production(session, model, production) if production else None
    promote = actor.may(Permission.models_promote_production)
    return ModelLifecycle(
        production=VersionStage.model_validate(production) if production else None,
        rollback_to=VersionStage.model_validate(rollback_to) if rollback_to else None,
        aliases=aliases.list_aliases(session, actor, model),
        # Newest first: the timeline reads from what happened last.
        timeline=list(reversed(history.stage_history(session, actor, model))),
        gates=gates.gates_of(model).model_dump(mode="json"),
        pending=pending_by_version(session, actor, model),
        can_rollback=promote and rollback_to is not None,
        can_edit_gates=promote,
    )


def version_lifecycle(session: Session, actor: Actor, model: Row, version: Row) -> VersionLifecycle:
    stage = Stage(version.stage)
    results = [GateResult.model_validate(item) for item in version.gate_results or []]
    failing = bool(gates.failed(results))
    pending = pending_by_version(session, actor, model).get(version.number)
    allowed = lifecycle.TRANSITIONS[stage]
    leaving = Permission.models_promote_production if stage is Stage.production else None
    move = actor.may(leaving or Permission.models_promote_staging)
    promote = actor.may(Permission.models_promote_production)
    return VersionLifecycle(
        stage=stage,
        gate_results=results,
        gates_failed=failing,
        timeline=list(reversed(history.stage_history(session, actor, model, version=version))),
        pending=pending,
        aliases=list(aliases.list_aliases(session, actor, model)),
        allowed_next=lifecycle.allowed_next(stage),
        can_stage=move and Stage.staging in allowed,
        can_request=promote and Stage.production in allowed and not failing and pending is None,
        can_archive=move and Stage.archived in allowed,
        can_back_to_development=move and Stage.development in allowed,
        can_alias=promote,
    )


def production_answer(session: Session, model: Row, at: str) -> ProductionAnswer | None:
    """Which version was in production at ``at`` (the form's ``datetime-local`` value, read as UTC)."""
    if not at:
        return None
    try:
        when = as_utc(datetime.fromisoformat(at))
    except ValueError:
        raise ValidationFailed(
            f"{at!r} is not a date and time; use YYYY-MM-DDTHH:MM (UTC), e.g. 2024-05-01T12:00"
        ) from None
    found = history.production_at(session, model, when)
    if found is None:
        return ProductionAnswer(at=when)
    return ProductionAnswer(at=when, number=found.number, label=found.label)


def lineage_drawing(
    session: Session, actor: Actor, version_id: str, visible: frozenset[str] | None
) -> GraphDrawing | None:
    """The version's lineage graph, or None when the caller may not read lineage or none is recorded."""
    if not actor.may(Permission.lineage_read):
        return None
    try:
        graph = lineage.graph(
            session, Node(kind=parse_kind("model_version"), id=version_id), visible_projects=visible
        )
    except NotFound:  # no edge recorded for this version yet
        return None
    return draw(graph)
