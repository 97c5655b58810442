"""Registered models (name unique per project, description, tags) and reading their versions.

Registering versions is ``registry/registration.py``; search is ``registry/search.py``. A model is
named by its name: within the project given, or, when none is given, among the projects the caller
can read (a name found in two of them asks for the project).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import resolve_project
from kiln.core.actor import Actor
from kiln.core.errors import Conflict, Invalid, InvalidState, NotFound
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.registry import files
from kiln.registry.access import check_model_access, visible_models
from kiln.registry.model_format import ModelDescriptor
from kiln.registry.models import ModelAlias, ModelVersion, RegisteredModel
from kiln.registry.schemas import ModelCreate, ModelUpdate, Stage, VersionUpdate
from kiln.registry.settings import ModelRegistrySettings
from kiln.storage.store import ArtifactStore

LABEL_LENGTH = 256  # created_by columns


# -- models -----------------------------------------------------------------------------------


def find_model(
    session: Session,
    actor: Actor,
    name: str,
    *,
    project: str | None = None,
    permission: Permission = Permission.models_read,
) -> RegisteredModel | None:
    """The model called ``name`` in ``project`` (or in the one readable project that has it)."""
    if project is not None:
        project_row = resolve_project(session, actor, project, permission)
        return session.scalar(
            select(RegisteredModel).where(
                RegisteredModel.project_id == project_row.id, RegisteredModel.name == name
            )
        )
    found = list(
        session.scalars(
            visible_models(session, actor, select(RegisteredModel).where(RegisteredModel.name == name))
        )
    )
    if len(found) > 1:
        raise Invalid(
            f"a model named {name!r} exists in {len(found)} of your projects; say which with project=",
            details={"name": name, "project_ids": sorted(model.project_id for model in found)},
        )
    if not found:
        return None
    model: RegisteredModel = found[0]
    check_model_access(session, actor, model, permission)
    return model


def get_model(
    session: Session,
    actor: Actor,
    name: str,
    *,
    project: str | None = None,
    permission: Permission = Permission.models_read,
) -> RegisteredModel:
    model = find_model(session, actor, name, project=project, permission=permission)
    if model is None:
        raise NotFound(f"model {name!r} not found")
    return model


def create_model(session: Session, actor: Actor, data: ModelCreate) -> RegisteredModel:
    project = resolve_project(session, actor, data.project, Permission.models_write)
    exists = Conflict(
        f"model {data.name!r} exists in project {project.name!r}; register a new version of it instead",
        details={"name": data.name, "project": project.name},
    )
    taken = select(RegisteredModel.id).where(
        RegisteredModel.project_id == project.id, RegisteredModel.name == data.name
    )
    if session.scalar(taken):
        raise exists
    model = RegisteredModel(
        project_id=project.id,
        name=data.name,
        description=data.description,
        tags=dict(data.tags),
        gates={},
        last_version=0,
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(model)
    try:
        session.flush()
    except IntegrityError as exc:  # created by another request since the check; the unit of work rolls back
        raise exists from exc
    audit.record(
        session, actor, "model.created", "model", model.id, {"name": model.name, "project_id": project.id}
    )
    return model


def get_or_create_model(
    session: Session, actor: Actor, name: str, *, project: str | None = None
) -> RegisteredModel:
    """For registering a first version: the model, created (on the record) when it does not exist yet."""
    model = find_model(session, actor, name, project=project, permission=Permission.models_write)
    return model or create_model(session, actor, ModelCreate(name=name, project=project))


def update_model(
    session: Session, actor: Actor, name: str, data: ModelUpdate, *, project: str | None = None
) -> RegisteredModel:
    model = get_model(session, actor, name, project=project, permission=Permission.models_write)
    if data.description is not None:
        model.description = data.description
    if data.tags is not None:
        model.tags = {**model.tags, **data.tags}
    session.flush()
    audit.record(session, actor, "model.updated", "model", model.id, data.model_dump(exclude_none=True))
    return model


def list_models(
    session: Session,
    actor: Actor,
    page: PageParams,
    *,
    project: str | None = None,
    name_like: str | None = None,
) -> Page[RegisteredModel]:
    """Models of the actor's projects (or of one), by name."""
    query = visible_models(session, actor, select(RegisteredModel))
    if project is not None:
        project_row = resolve_project(session, actor, project, Permission.models_read)
        query = query.where(RegisteredModel.project_id == project_row.id)
    if name_like:
        query = query.where(RegisteredModel.name.ilike(f"%{name_like}%"))
    return paginate(session, query.order_by(RegisteredModel.name, RegisteredModel.id), page, with_total=True)


# -- versions ---------------------------------------------------------------------------------


def find_version(session: Session, model: RegisteredModel, ref: str) -> ModelVersion | None:
    """A version of ``model`` by number (``3``), label (``1.0.0``), stage or alias (``@champion``).

    A stage (``production``) names the newest version in it (production holds one at a time).
    """
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if ref.isdigit():
        return session.scalar(query.where(ModelVersion.number == int(ref)))
    if ref.startswith("@"):
        alias = select(ModelAlias.version_id).where(
            ModelAlias.model_id == model.id, ModelAlias.alias == ref[1:]
        )
        return session.scalar(query.where(ModelVersion.id.in_(alias)))
    if ref.lower() in {stage.value for stage in Stage}:
        return session.scalar(
            query.where(ModelVersion.stage == ref.lower()).order_by(ModelVersion.number.desc()).limit(1)
        )
    return session.scalar(query.where(ModelVersion.label == ref))


def get_version(
    session: Session,
    actor: Actor,
    name: str,
    ref: str,
    *,
    project: str | None = None,
    permission: Permission = Permission.models_read,
) -> ModelVersion:
    model = get_model(session, actor, name, project=project, permission=permission)
    version = find_version(session, model, ref)
    if version is None:
        raise NotFound(f"model {name!r} has no version {ref!r}", details={"model": name, "version": ref})
    return version


def list_versions(
    session: Session, actor: Actor, name: str, page: PageParams, *, project: str | None = None
) -> Page[ModelVersion]:
    """A model's versions, newest number first."""
    model = get_model(session, actor, name, project=project)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id).order_by(ModelVersion.number.desc())
    return paginate(session, query, page, with_total=True)


def count_versions(session: Session, model_ids: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(ModelVersion.model_id, func.count())
        .where(ModelVersion.model_id.in_(model_ids))
        .group_by(ModelVersion.model_id)
    )
    return {row[0]: row[1] for row in rows}


def update_version(
    session: Session,
    actor: Actor,
    name: str,
    ref: str,
    data: VersionUpdate,
    *,
    store: ArtifactStore,
    settings: ModelRegistrySettings,
    project: str | None = None,
) -> ModelVersion:
    """Description and tags any time; the signature only while the version is in development, and
    only one that fits the payload (``ValidationFailed`` naming the mismatch; nothing changes)."""
    version = get_version(session, actor, name, ref, project=project, permission=Permission.models_write)
    if data.signature is not None:
        descriptor = ModelDescriptor.model_validate(
            {**version.descriptor, "signature": data.signature.model_dump(mode="json")}
        )
        if version.stage == Stage.development.value:  # otherwise refused below, whatever it says
            files.check_stored_signature(
                store, files.files_of(version), descriptor, trust_pickle=settings.trust_pickle
            )
        # Conditional: a promotion that commits first wins, and the edit is refused.
        changed = session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == version.id, ModelVersion.stage == Stage.development.value)
            .values(descriptor=descriptor.model_dump(mode="json"))
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            session.refresh(version)
            raise InvalidState(
                f"version {version.number} of {name!r} is in {version.stage}: its signature can only "
                "change in development; register a new version with the new signature",
                details={"stage": version.stage},
            )
        session.refresh(version)
    if data.description is not None:
        version.description = data.description
    if data.tags is not None:
        version.tags = {**version.tags, **data.tags}
    session.flush()
    audit.record(
        session,
        actor,
        "model_version.updated",
        "model_version",
        version.id,
        {
            "model": name,
            "number": version.number,
            "fields": sorted(data.model_dump(exclude_none=True)),
        },
    )
    return version
