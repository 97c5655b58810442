"""Registering a version: from a run's model folder, from an upload (draft first), or from the SDK.

Every way runs the same steps, cheapest refusals first, so a refused registration stores nothing:
1. the model (created on first registration) and the label: a label in use is a 409 naming the next
   free one, before a byte is read;
2. the descriptor and the payload: pickle-family payloads need ``KILN_TRUST_PICKLE``; a damaged,
   truncated or unlisted file is a 4xx naming it;
3. the files are copied under the version's own prefix, each hashed and compared with the
   descriptor while it is copied; if the transaction then fails, ``after_rollback`` deletes them;
4. the number is taken from ``registered_models.last_version`` by one atomic increment (UPDATE ...
   RETURNING; the row lock serialises concurrent registrations, so numbers never repeat), and the
   version, its files, params and metrics are inserted with an audit record and an event.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.db import after_rollback
from kiln.core.errors import Conflict, Invalid, InvalidState
from kiln.core.ids import new_id
from kiln.core.permissions import Permission
from kiln.registry import files, lineage_nodes
from kiln.registry.errors import UntrustedPayload
from kiln.registry.events import ModelVersionFinished, ModelVersionRegistered
from kiln.registry.model_format import DESCRIPTOR_FILE, ModelDescriptor, Signature, parse_descriptor
from kiln.registry.models import (
    ModelVersion,
    ModelVersionFile,
    ModelVersionMetric,
    ModelVersionParam,
    RegisteredModel,
)
from kiln.registry.schemas import Stage, VersionFromRun, VersionStatus
from kiln.registry.service import LABEL_LENGTH, get_or_create_model, get_version
from kiln.registry.settings import ModelRegistrySettings
from kiln.registry.signature_check import check_folder_signature
from kiln.registry.uploads import check_payload, unpack_upload
from kiln.storage.store import ArtifactStore
from kiln.tracking import artifacts as run_artifacts
from kiln.tracking import reads as tracking_reads
from kiln.tracking import service as tracking
from kiln.tracking.schemas import RunDetail

MAX_PARAM_LENGTH = 8000  # model_version_params.value


@dataclass
class Provenance:
    """What a version records about where it came from (the run's snapshot, or nothing)."""

    source: str
    source_run_id: str | None = None
    filename: str | None = None  # the uploaded file, for a version without a run
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    training_inputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class VersionRequest:
    """The caller's part of a registration."""

    label: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    status: VersionStatus = VersionStatus.ready


# -- labels -----------------------------------------------------------------------------------

_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


def next_free_label(taken: set[str], label: str) -> str:
    """``1.0.0`` -> ``1.0.1`` (its last number counted up until free); ``beta`` -> ``beta-2``."""
    match = _TRAILING_NUMBER.match(label)
    candidate = label
    counter = 1
    while candidate in taken:
        counter += 1
        if match:
            head, number, tail = match.groups()
            candidate = f"{head}{int(number) + counter - 1}{tail}"
        else:
            candidate = f"{label}-{counter}"
    return candidate


def check_label_free(session: Session, model: RegisteredModel, label: str | None) -> None:
    if label is None:
        return
    taken: set[str] = set(
        session.scalars(
            select(ModelVersion.label).where(
                ModelVersion.model_id == model.id, ModelVersion.label.is_not(None)
            )
        )
    )
    if label in taken:
        raise _label_taken(model, label, next_free_label(taken, label))


def _label_taken(model: RegisteredModel, label: str, suggestion: str) -> Conflict:
    return Conflict(
        f"model {model.name!r} already has a version labelled {label!r}; nothing was stored. "
        f"Use another label, e.g. {suggestion!r}",
        details={"model": model.name, "label": label, "suggested_label": suggestion},
    )


# -- checks before copying --------------------------------------------------------------------


def check_trusted(descriptor: ModelDescriptor, settings: ModelRegistrySettings) -> None:
    """Pickle-family payloads run code while loading: refused unless the server trusts every uploader."""
    if descriptor.serialization.runs_code_on_load and not settings.trust_pickle:
        raise UntrustedPayload(
            f"the payload {descriptor.payload!r} is a {descriptor.serialization} file, and loading one "
            "runs whatever code it holds, so this server refuses it. Save the model with skops "
            "(kiln's save_model does) or as ONNX; an operator who trusts every uploader can set "
            "KILN_TRUST_PICKLE=1",
            details={"serialization": descriptor.serialization.value, "setting": "KILN_TRUST_PICKLE"},
        )


def _checked_params(params: dict[str, str]) -> dict[str, str]:
    for key, value in params.items():
        if len(key) > 250 or len(value) > MAX_PARAM_LENGTH:
            raise Invalid(f"param {key[:50]!r} is longer than the registry keeps (key 250, value 8000)")
    return params


# -- from a run -------------------------------------------------------------------------------


def parse_run_source(source: str) -> tuple[str, str]:
    """``runs:/<run_id>/<folder>`` -> (run_id, folder); the folder defaults to ``model``."""
    rest = source.removeprefix("runs:/")
    run_id, _, folder = rest.partition("/")
    folder = folder.strip("/") or "model"
    if not run_id or ".." in folder.split("/"):
        raise Invalid(f"source {source!r} is not runs:/<run_id>/<folder>, e.g. runs:/0190abc/model")
    return run_id, folder


def run_provenance(run: RunDetail, source: str) -> Provenance:
    """The run's params, latest metrics, environment and inputs, as the version will keep them."""
    return Provenance(
        source=source,
        source_run_id=run.id,
        params=dict(run.params),
        # NaN (a metric that diverged) is kept as NULL, as tracking keeps it.
        metrics={key: None if math.isnan(value) else value for key, value in run.metrics.items()},
        environment=dict(run.environment),
        training_inputs=[item.model_dump() for item in run.inputs],
    )


def register_from_run(
    session: Session,
    actor: Actor,
    store: ArtifactStore,
    name: str,
    data: VersionFromRun,
    *,
    settings: ModelRegistrySettings,
    project: str | None = None,
) -> ModelVersion:
    """Register the model folder a run saved as the next version of ``name`` (created if new)."""
    run_id, folder = parse_run_source(data.source)
    # Read from the tables (not ORM collections a caller's session may hold stale).
    run = tracking_reads.run_detail_by_id(session, actor, run_id)
    model = get_or_create_model(session, actor, name, project=project)
    experiment = tracking.get_experiment(session, actor, run.experiment_id)
    if experiment.project_id != model.project_id:
        raise Invalid(
            f"run {run_id!r} belongs to another project than model {name!r}; register it in its own project"
        )
    check_label_free(session, model, data.label)
    objects = _run_folder(session, actor, run_id, folder)
    descriptor_object = objects.pop(DESCRIPTOR_FILE, None)
    if descriptor_object is None:
        raise Invalid(
            f"run {run_id!r} has no model folder {folder!r} (no {folder}/{DESCRIPTOR_FILE}); save one with "
            "kiln.sklearn.autolog() or kiln's save_model, or register by upload",
            details={"run_id": run_id, "folder": folder},
        )
    raw = store.read_verified(
        descriptor_object.key, sha256=descriptor_object.sha256, size=descriptor_object.size
    )
    descriptor = parse_descriptor(raw)
    check_trusted(descriptor, settings)
    version_id = new_id()
    prefix = files.version_prefix(model.id, version_id)
    stored = files.copy_objects(
        store, list(objects.values()), descriptor, prefix, max_file_bytes=settings.max_model_file_bytes
    )
    after_rollback(session, lambda: files.discard_prefix(store, prefix))
    # After the copy (the run's objects are not on local disk): a refusal here rolls back, and
    # after_rollback deletes what was copied.
    stored_files = files.VersionFiles(prefix, tuple(stored), descriptor.model_dump(mode="json"))
    files.check_stored_signature(store, stored_files, descriptor, trust_pickle=settings.trust_pickle)
    request = VersionRequest(label=data.label, description=data.description, tags=dict(data.tags))
    provenance = run_provenance(run, f"runs:/{run_id}/{folder}")
    return record_version(session, actor, model, version_id, prefix, descriptor, stored, request, provenance)


def _run_folder(session: Session, actor: Actor, run_id: str, folder: str) -> dict[str, files.SourceObject]:
    rows = run_artifacts.list_artifacts(session, actor, run_id, prefix=f"{folder}/")
    found: dict[str, files.SourceObject] = {}
    for row in rows:
        relative = row.path[len(folder) + 1 :]
        if "/" in relative:
            raise Invalid(
                f"run {run_id!r}'s model folder holds a sub-folder ({row.path!r}); a model folder is flat"
            )
        found[relative] = files.SourceObject(relative, row.object_key, row.size, row.sha256)
    return found


# -- from a local folder (uploads and the SDK) ------------------------------------------------


def register_upload(
    session: Session,
    actor: Actor,
    store: ArtifactStore,
    name: str,
    upload: Path,
    filename: str,
    request: VersionRequest,
    *,
    settings: ModelRegistrySettings,
    signature: Signature | None = None,
    project: str | None = None,
    source: str = "upload",
) -> ModelVersion:
    """Register an uploaded model (a zip of a model folder, or one model file with its inputs)."""
    model = get_or_create_model(session, actor, name, project=project)
    check_label_free(session, model, request.label)
    with tempfile.TemporaryDirectory(prefix="kiln-model-upload-") as workdir:
        folder = Path(workdir) / "model"
        descriptor = unpack_upload(
            upload, filename, folder, signature=signature, max_file_bytes=settings.max_model_file_bytes
        )
        check_trusted(descriptor, settings)
        check_payload(folder, descriptor)
        # A draft's signature is still being described: checked when it is edited and finished.
        # A format-1 folder without a signature is left alone.
        if request.status is VersionStatus.ready and descriptor.signature.inputs:
            check_folder_signature(folder, descriptor, trust_pickle=settings.trust_pickle)
        version_id = new_id()
        prefix = files.version_prefix(model.id, version_id)
        stored = files.copy_folder(
            store, folder, descriptor, prefix, max_file_bytes=settings.max_model_file_bytes
        )
    after_rollback(session, lambda: files.discard_prefix(store, prefix))
    provenance = Provenance(source=source, filename=filename)
    return record_version(session, actor, model, version_id, prefix, descriptor, stored, request, provenance)


# -- recording --------------------------------------------------------------------------------


def _take_number(session: Session, model: RegisteredModel) -> int:
    number: int = session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.id == model.id)
        .values(last_version=RegisteredModel.last_version + 1)
        .returning(RegisteredModel.last_version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return number


def record_version(
    session: Session,
    actor: Actor,
    model: RegisteredModel,
    version_id: str,
    prefix: str,
    descriptor: ModelDescriptor,
    stored: list[files.StoredFile],
    request: VersionRequest,
    provenance: Provenance,
) -> ModelVersion:
    """Insert the version whose files are already under ``prefix`` (the caller discards them on rollback)."""
    params = _checked_params({**descriptor.params, **provenance.params})
    metrics = {**descriptor.metrics, **provenance.metrics}
    descriptor = descriptor.model_copy(update={"params": params, "metrics": metrics})
    number = _take_number(session, model)
    version = ModelVersion(
        id=version_id,
        model_id=model.id,
        number=number,
        label=request.label,
        description=request.description,
        tags=dict(request.tags),
        stage=Stage.development.value,
        status=request.status.value,
        flavor=descriptor.flavor.value,
        serialization=descriptor.serialization.value,
        source=provenance.source,
        source_run_id=provenance.source_run_id,
        descriptor=descriptor.model_dump(mode="json"),
        environment=provenance.environment,
        training_inputs=provenance.training_inputs
        or [ref.model_dump(exclude_none=True) for ref in descriptor.training_inputs],
        storage_prefix=prefix,
        size_bytes=sum(item.size for item in stored),
        gate_results=[],
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError as exc:  # the label was taken by a registration that committed since the check
        raise _label_taken(model, request.label or "", f"{request.label}-{number}") from exc
    session.add_all(
        ModelVersionFile(version_id=version_id, path=i.path, size=i.size, sha256=i.sha256) for i in stored
    )
    session.add_all(ModelVersionParam(version_id=version_id, key=k, value=v) for k, v in params.items())
    session.add_all(ModelVersionMetric(version_id=version_id, key=k, value=v) for k, v in metrics.items())
    session.flush()
    audit.record(
        session,
        actor,
        "model_version.registered",
        "model_version",
        version_id,
        {
            "model": model.name,
            "model_id": model.id,
            "number": number,
            "label": request.label,
            "source": provenance.source,
            "status": request.status.value,
            "files": {item.path: item.sha256 for item in stored},
        },
    )
    lineage_nodes.record_origin(
        session,
        actor,
        project_id=model.project_id,
        version_id=version_id,
        source=provenance.source,
        run_id=provenance.source_run_id,
        filename=provenance.filename,
        digest=descriptor.checksums.get(descriptor.payload) if descriptor.payload else None,
    )
    events.publish(
        session,
        ModelVersionRegistered(
            project_id=model.project_id,
            model_id=model.id,
            model_name=model.name,
            version_id=version_id,
            number=number,
            label=request.label,
            source=provenance.source,
            source_run_id=provenance.source_run_id,
            status=request.status.value,
            actor_user_id=actor.user_id,
        ),
    )
    return version


# -- drafts -----------------------------------------------------------------------------------


def finish_version(
    session: Session,
    actor: Actor,
    store: ArtifactStore,
    name: str,
    ref: str,
    *,
    settings: ModelRegistrySettings,
    project: str | None = None,
) -> ModelVersion:
    """A draft becomes ``ready`` once its inputs are described and fit the payload (finished once)."""
    version = get_version(session, actor, name, ref, project=project, permission=Permission.models_write)
    descriptor = ModelDescriptor.model_validate(version.descriptor)
    if descriptor.signature.input_kind == "dataframe" and not descriptor.signature.inputs:
        raise Invalid(
            f"describe the inputs of version {version.number} of {name!r} (PATCH its signature) before "
            "finishing it: serving checks requests against them"
        )
    if version.status == VersionStatus.draft.value:
        files.check_stored_signature(
            store, files.files_of(version), descriptor, trust_pickle=settings.trust_pickle
        )
    finished = session.execute(
        update(ModelVersion)
        .where(ModelVersion.id == version.id, ModelVersion.status == VersionStatus.draft.value)
        .values(status=VersionStatus.ready.value)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if finished != 1:
        raise InvalidState(
            f"version {version.number} of {name!r} is {version.status}, not a draft: nothing to finish",
            details={"status": version.status},
        )
    session.refresh(version)
    model = session.get(RegisteredModel, version.model_id)
    assert model is not None
    audit.record(
        session,
        actor,
        "model_version.finished",
        "model_version",
        version.id,
        {"model": name, "number": version.number},
    )
    events.publish(
        session,
        ModelVersionFinished(
            project_id=model.project_id,
            model_id=model.id,
            model_name=model.name,
            version_id=version.id,
            number=version.number,
            actor_user_id=actor.user_id,
        ),
    )
    return version
