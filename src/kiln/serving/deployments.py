"""Deployments: deploy a model version under a name, stop it, list and read them.

Deploying is a person's change (audited); every change takes the next table-wide ``revision`` so
serving processes notice it with one cheap query (``deployment_models``). A deployment that follows
a stage or an alias is re-resolved when the registry moves it (``follow_model``, wired to the
registry's events in ``deployment_follow.py``); that re-resolution is the consequence of an audited
promotion, so it is logged, not audited again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kiln.audit import service as audit
from kiln.auth.projects import require_in_project, scoped
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from kiln.core.ids import utcnow
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.registry.access import get_model
from kiln.registry.aliases import resolve_version
from kiln.registry.models import ModelVersion, RegisteredModel
from kiln.registry.schemas import VersionStatus
from kiln.serving.deployment_models import ACTOR_LENGTH, Deployment
from kiln.serving.deployment_schemas import (
    FOLLOWED_STAGES,
    DeploymentFilter,
    DeploymentRead,
    DeploymentSpec,
    DeploymentStatus,
    ModelVersionRef,
    check_deployment_name,
)
from kiln.serving.events import DeploymentChanged

log = structlog.get_logger(__name__)


def follows(version_ref: str) -> str | None:
    """The stage or ``@alias`` a reference follows; ``None`` when it pins one version."""
    return version_ref if version_ref.startswith("@") or version_ref in FOLLOWED_STAGES else None


def next_revision(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Deployment.revision), 0))) or 0) + 1


def find_deployment(session: Session, name: str) -> Deployment | None:
    return session.scalar(select(Deployment).where(Deployment.name == name))


def get_deployment(
    session: Session, actor: Actor, name: str, permission: Permission = Permission.deployments_read
) -> Deployment:
    """Deployment ``name``, checked for ``permission`` in its project (NotFound to non-members)."""
    deployment = find_deployment(session, name)
    require_in_project(
        session,
        actor,
        None if deployment is None else deployment.project_id,
        permission,
        hide_as=f"deployment {name!r}",
    )
    assert deployment is not None
    return deployment


def deploy(session: Session, actor: Actor, name: str, spec: DeploymentSpec) -> tuple[Deployment, bool]:
    """Create deployment ``name`` or point it at another version (and start it again if stopped).

    Returns the deployment and whether it was created. The version must be ready (not a draft).
    """
    problem = check_deployment_name(name)
    if problem is not None:
        raise ValidationFailed(problem, details={"field": "name"})
    model = get_model(session, actor, spec.model, Permission.deployments_write, project=spec.project)
    version = resolve_version(session, model, spec.version_ref)
    if version.status != VersionStatus.ready.value:
        raise InvalidState(
            f"model {model.name!r} version {version.number} is a {version.status}; finish it before deploying"
        )
    deployment = find_deployment(session, name)
    if deployment is not None and deployment.project_id != model.project_id:
        # Names are global (they are URLs); which project holds it is not the caller's business.
        raise Conflict(f"deployment name {name!r} is already used by another project; choose another name")
    label = actor.label_within(ACTOR_LENGTH)
    revision = next_revision(session)  # before the new row is added (autoflush would insert it unnumbered)
    created = deployment is None
    before: dict[str, Any] = {}
    if deployment is None:
        deployment = Deployment(
            name=name,
            project_id=model.project_id,
            created_by=label,
            created_by_user_id=actor.user_id,
        )
        session.add(deployment)
    else:
        before = {"version_ref": deployment.version_ref, "version_id": deployment.version_id}
        before |= {"public": deployment.public, "status": deployment.status}
    deployment.model_id = model.id
    deployment.version_ref = spec.version_ref
    deployment.version_id = version.id
    deployment.public = spec.public
    deployment.status = DeploymentStatus.active.value
    deployment.updated_by = label
    deployment.updated_at = utcnow()
    deployment.revision = revision
    _flush_change(session, name)
    audit.record(
        session,
        actor,
        "deployment.created" if created else "deployment.updated",
        "deployment",
        deployment.id,
        {
            "name": name,
            "model": model.name,
            "version": version.number,
            "version_ref": spec.version_ref,
            "public": spec.public,
            "before": before,
        },
    )
    events.publish(session, DeploymentChanged(name, deployment.revision))
    log.info("serving.deployed", deployment=name, model=model.name, version=version.number, created=created)
    return deployment, created


def undeploy(session: Session, actor: Actor, name: str) -> Deployment:
    """Stop deployment ``name``: serving processes stop answering for it within seconds. The row stays."""
    deployment = get_deployment(session, actor, name, Permission.deployments_write)
    if deployment.status == DeploymentStatus.stopped.value:
        return deployment
    deployment.status = DeploymentStatus.stopped.value
    deployment.updated_by = actor.label_within(ACTOR_LENGTH)
    deployment.updated_at = utcnow()
    deployment.revision = next_revision(session)
    _flush_change(session, name)
    audit.record(session, actor, "deployment.stopped", "deployment", deployment.id, {"name": name})
    events.publish(session, DeploymentChanged(name, deployment.revision))
    return deployment


def _flush_change(session: Session, name: str) -> None:
    """Write a deployment change. Two changes at once can take the same revision (any deployments), or
    both change one deployment, or both create one name: one commits, and the other is a 409 (its unit
    of work rolls it back) rather than a 500 or a change no serving process would notice. Sending it
    again takes the next revision."""
    try:
        session.flush()
    except (IntegrityError, StaleDataError) as exc:
        raise Conflict(
            f"deployment {name!r} was not changed: another deployment change was saved at the same "
            "moment; send this request again"
        ) from exc


def list_deployments(
    session: Session, actor: Actor, filters: DeploymentFilter, page: PageParams
) -> Page[Deployment]:
    statement = scoped(session, actor, select(Deployment), Deployment.project_id)
    if filters.status is not None:
        statement = statement.where(Deployment.status == filters.status.value)
    if filters.model is not None:
        statement = statement.join(RegisteredModel, RegisteredModel.id == Deployment.model_id).where(
            RegisteredModel.name == filters.model
        )
    return paginate(session, statement.order_by(Deployment.name, Deployment.id), page)


def describe(session: Session, deployments: Sequence[Deployment]) -> list[DeploymentRead]:
    """Read models of ``deployments``, with their model's name and version number (one query)."""
    version_ids = {deployment.version_id for deployment in deployments}
    found = {
        version_id: (model_name, number)
        for version_id, model_name, number in session.execute(
            select(ModelVersion.id, RegisteredModel.name, ModelVersion.number)
            .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
            .where(ModelVersion.id.in_(version_ids))
        )
    }
    reads = []
    for deployment in deployments:
        model_name, number = found[deployment.version_id]
        reads.append(
            DeploymentRead(
                id=deployment.id,
                name=deployment.name,
                project_id=deployment.project_id,
                model=ModelVersionRef(name=model_name, version=number, version_id=deployment.version_id),
                version_ref=deployment.version_ref,
                follows=follows(deployment.version_ref),
                public=deployment.public,
                status=DeploymentStatus(deployment.status),
                created_by=deployment.created_by,
                updated_by=deployment.updated_by,
                created_at=deployment.created_at,
                updated_at=deployment.updated_at,
                revision=deployment.revision,
            )
        )
    return reads


def follow_model(session: Session, model_id: str) -> list[str]:
    """Re-resolve the active deployments of ``model_id`` that follow a stage or an alias.

    Each moved deployment is updated conditionally (only if it still points where it did), so two
    processes reacting to the same event move it once. A reference that resolves to nothing now (the
    stage was emptied, the alias deleted) keeps serving the version it had, with a warning: taking a
    live deployment down is a person's decision (undeploy), not a side effect. Returns the moved names.
    """
    model = session.get(RegisteredModel, model_id)
    if model is None:
        return []
    moved = []
    rows = session.scalars(
        select(Deployment).where(
            Deployment.model_id == model_id, Deployment.status == DeploymentStatus.active.value
        )
    )
    for deployment in list(rows):
        if follows(deployment.version_ref) is None:
            continue
        try:
            version = resolve_version(session, model, deployment.version_ref)
        except NotFound as exc:
            log.warning("serving.follow_unresolved", deployment=deployment.name, reason=exc.message)
            continue
        if version.id == deployment.version_id or version.status != VersionStatus.ready.value:
            continue
        revision = next_revision(session)
        changed = session.execute(
            update(Deployment)
            .where(Deployment.id == deployment.id, Deployment.version_id == deployment.version_id)
            .values(version_id=version.id, revision=revision, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed:
            moved.append(deployment.name)
            events.publish(session, DeploymentChanged(deployment.name, revision))
            log.info(
                "serving.deployment_followed",
                deployment=deployment.name,
                follows=deployment.version_ref,
                version=version.number,
            )
    return moved
