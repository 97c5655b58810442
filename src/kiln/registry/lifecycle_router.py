"""REST API of the model lifecycle: stages, approvals, rollback, history, aliases, gates, policy.

Under ``/api/v1/models/{name}/...`` (``?project=`` picks the project when the name is not unique
among the caller's), ``/api/v1/approvals`` (the inbox) and ``/api/v1/projects/{id}/registry-settings``.
A ``{version}`` is any reference ``aliases.resolve_version`` reads: ``3``, ``1.0.0``, ``@champion``,
``production``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import JSONResponse

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.errors import KilnError, NotFound
from kiln.core.http import error_response, error_responses
from kiln.core.ids import utcnow
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.notify.deps import MailerDep
from kiln.registry import aliases, approvals, gates, history, lifecycle, rollback
from kiln.registry.access import get_model
from kiln.registry.deps import RegistrySettingsDep
from kiln.registry.lifecycle_schemas import (
    AliasRead,
    AliasSet,
    ApprovalDecision,
    ApprovalRead,
    ApprovalRequestCreate,
    GatesConfig,
    ProductionAt,
    RegistrySettingsRead,
    RegistrySettingsUpdate,
    RollbackRequest,
    RollbackResult,
    StageChangeRead,
    StageChangeRequest,
    VersionStage,
    as_utc,
)
from kiln.registry.schemas import ApprovalStatus
from kiln.storage.deps import StoreDep

router = APIRouter(
    prefix="/api/v1",
    tags=["registry lifecycle"],
    responses=error_responses(400, 401, 403, 404, 409, 422, 429),
)

ModelsRead = Annotated[Actor, Depends(require(Permission.models_read))]
PromoteStaging = Annotated[Actor, Depends(require(Permission.models_promote_staging))]
PromoteProduction = Annotated[Actor, Depends(require(Permission.models_promote_production))]
Approve = Annotated[Actor, Depends(require(Permission.models_approve))]
ProjectsRead = Annotated[Actor, Depends(require(Permission.projects_read))]
ProjectsAdmin = Annotated[Actor, Depends(require(Permission.projects_admin))]
Project = Annotated[
    str | None, Query(max_length=256, description="project id or name (when the model name is not unique)")
]
VersionRef = Annotated[str, "a version number, label, @alias or stage"]


def _error(exc: KilnError) -> JSONResponse:
    return error_response(exc.status_code, exc.code, exc.message, exc.details)


@router.post("/models/{name}/versions/{version}/stage", response_model=VersionStage)
def change_stage(
    name: str,
    version: VersionRef,
    data: StageChangeRequest,
    session: SessionDep,
    actor: PromoteStaging,
    store: StoreDep,
    mailer: MailerDep,
    settings: RegistrySettingsDep,
    project: Project = None,
) -> VersionStage | JSONResponse:
    """Move a version: ``staging`` runs the gates (409 ``gates_failed`` saying which failed and why,
    also recorded on the version); ``production`` is reached only through an approval request."""
    model, found = aliases.model_and_version(session, actor, name, version, project=project)
    outcome = lifecycle.change_stage(
        session,
        actor,
        model,
        found,
        data.stage,
        reason=data.reason,
        store=store,
        mailer=mailer,
        trust_pickle=settings.trust_pickle,
    )
    if outcome.blocked is not None:
        # Returned, not raised: the gate results must be committed with the request.
        return _error(outcome.blocked)
    return VersionStage.model_validate(outcome.version)


@router.post(
    "/models/{name}/versions/{version}/approval-requests",
    response_model=ApprovalRead,
    status_code=status.HTTP_201_CREATED,
)
def request_production(
    name: str,
    version: VersionRef,
    data: ApprovalRequestCreate,
    session: SessionDep,
    actor: PromoteProduction,
    mailer: MailerDep,
    project: Project = None,
) -> ApprovalRead:
    """Ask for production (the version must be finished, in staging, gates passed); approvers are notified."""
    model, found = aliases.model_and_version(session, actor, name, version, project=project)
    asked = approvals.request_production(session, actor, model, found, data, mailer=mailer)
    return approvals.read_approval(session, asked)


@router.get("/approvals", response_model=Page[ApprovalRead])
def list_approvals(
    session: SessionDep,
    actor: ModelsRead,
    page: PageQuery,
    status: ApprovalStatus | None = None,
) -> Page[ApprovalRead]:
    """Approval requests in your projects, newest first; ``?status=pending`` is the inbox."""
    return approvals.list_approvals(session, actor, page, status=status)


@router.get("/approvals/{approval_id}", response_model=ApprovalRead)
def get_approval(approval_id: str, session: SessionDep, actor: ModelsRead) -> ApprovalRead:
    return approvals.read_approval(
        session, approvals.get_approval(session, actor, approval_id, Permission.models_read)
    )


@router.post("/approvals/{approval_id}/approve", response_model=ApprovalRead)
def approve(
    approval_id: str, data: ApprovalDecision, session: SessionDep, actor: Approve, mailer: MailerDep
) -> ApprovalRead:
    """Approve: the version goes to production and the one there is archived. Not your own request."""
    decided = approvals.approve(session, actor, approval_id, reason=data.reason, mailer=mailer)
    return approvals.read_approval(session, decided)


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalRead)
def reject(
    approval_id: str, data: ApprovalDecision, session: SessionDep, actor: Approve, mailer: MailerDep
) -> ApprovalRead:
    decided = approvals.reject(session, actor, approval_id, reason=data.reason, mailer=mailer)
    return approvals.read_approval(session, decided)


@router.post("/models/{name}/rollback", response_model=RollbackResult)
def roll_back(
    name: str,
    data: RollbackRequest,
    session: SessionDep,
    actor: PromoteProduction,
    mailer: MailerDep,
    project: Project = None,
) -> RollbackResult:
    """Production returns to the previous production version; the current one is marked failed."""
    model = get_model(session, actor, name, Permission.models_read, project=project)
    restored, failed = rollback.rollback(session, actor, model, reason=data.reason, mailer=mailer)
    return RollbackResult(
        restored=VersionStage.model_validate(restored), failed=VersionStage.model_validate(failed)
    )


@router.get("/models/{name}/history", response_model=list[StageChangeRead])
def stage_history(
    name: str,
    session: SessionDep,
    actor: ModelsRead,
    project: Project = None,
    version: Annotated[str | None, Query(max_length=128, description="only this version's changes")] = None,
) -> list[StageChangeRead]:
    """Every stage change, oldest first: time, actor, reason, approval."""
    model = get_model(session, actor, name, Permission.models_read, project=project)
    found = aliases.resolve_version(session, model, version) if version else None
    return history.stage_history(session, actor, model, version=found)


@router.get("/models/{name}/production", response_model=ProductionAt)
def production_at(
    name: str,
    session: SessionDep,
    actor: ModelsRead,
    project: Project = None,
    at: Annotated[
        datetime | None, Query(description="ISO 8601; UTC when it has no zone; default now")
    ] = None,
) -> ProductionAt:
    """Which version was in production at ``at`` (404 when none was)."""
    model = get_model(session, actor, name, Permission.models_read, project=project)
    when = as_utc(at) if at is not None else utcnow()
    found = history.production_at(session, model, when)
    if found is None:
        raise NotFound(f"model {name!r} had no version in production at {when.isoformat()}")
    return ProductionAt(model=model.name, at=when, version=VersionStage.model_validate(found))


@router.get("/models/{name}/aliases", response_model=list[AliasRead])
def list_aliases(
    name: str, session: SessionDep, actor: ModelsRead, project: Project = None
) -> list[AliasRead]:
    return aliases.list_aliases(
        session, actor, get_model(session, actor, name, Permission.models_read, project=project)
    )


@router.put("/models/{name}/aliases/{alias}", response_model=AliasRead)
def set_alias(
    name: str,
    alias: str,
    data: AliasSet,
    session: SessionDep,
    actor: PromoteProduction,
    project: Project = None,
) -> AliasRead:
    """Create or move an alias in one atomic write."""
    return aliases.set_alias(
        session,
        actor,
        get_model(session, actor, name, Permission.models_read, project=project),
        alias,
        data.version,
    )


@router.delete("/models/{name}/aliases/{alias}", status_code=status.HTTP_204_NO_CONTENT)
def delete_alias(
    name: str, alias: str, session: SessionDep, actor: PromoteProduction, project: Project = None
) -> Response:
    aliases.delete_alias(
        session, actor, get_model(session, actor, name, Permission.models_read, project=project), alias
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/models/{name}/gates", response_model=GatesConfig)
def get_gates(name: str, session: SessionDep, actor: ModelsRead, project: Project = None) -> GatesConfig:
    return gates.gates_of(get_model(session, actor, name, Permission.models_read, project=project))


@router.put("/models/{name}/gates", response_model=GatesConfig)
def set_gates(
    name: str, data: GatesConfig, session: SessionDep, actor: PromoteProduction, project: Project = None
) -> GatesConfig:
    """Replace the model's metric gates (artifact and smoke always run)."""
    return gates.set_gates(
        session, actor, get_model(session, actor, name, Permission.models_read, project=project), data
    )


@router.get("/projects/{project_id}/registry-settings", response_model=RegistrySettingsRead)
def get_registry_settings(project_id: str, session: SessionDep, actor: ProjectsRead) -> RegistrySettingsRead:
    return approvals.get_settings(session, actor, project_id)


@router.put("/projects/{project_id}/registry-settings", response_model=RegistrySettingsRead)
def set_registry_settings(
    project_id: str, data: RegistrySettingsUpdate, session: SessionDep, actor: ProjectsAdmin
) -> RegistrySettingsRead:
    """A project admin's choice, on the record: may a requester approve their own promotion?"""
    return approvals.set_settings(session, actor, project_id, data)
