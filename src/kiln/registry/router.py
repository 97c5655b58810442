"""Registry REST API: /api/v1/models (models, versions, files, downloads, search)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import FileResponse, Response, StreamingResponse
from pydantic import TypeAdapter, ValidationError
from starlette.background import BackgroundTask

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, require
from kiln.core.errors import Invalid, NotFound
from kiln.core.http import error_responses
from kiln.core.page_query import PageQuery
from kiln.core.permissions import Permission
from kiln.core.schemas import Page
from kiln.registry import compare, compare_export, files, reads, registration, search, service
from kiln.registry.deps import RegistrySettingsDep
from kiln.registry.model_format import DESCRIPTOR_FILE, FieldSpec, ModelDescriptor, Signature
from kiln.registry.schemas import (
    ModelCreate,
    ModelRead,
    ModelUpdate,
    ModelVersionRead,
    VersionComparison,
    VersionFromRun,
    VersionStatus,
    VersionUpdate,
    check_label,
)
from kiln.storage.deps import StoreDep
from kiln.storage.store import CHUNK_SIZE

router = APIRouter(
    prefix="/api/v1", tags=["registry"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429)
)

ModelsRead = Annotated[Actor, Depends(require(Permission.models_read))]
ModelsWrite = Annotated[Actor, Depends(require(Permission.models_write))]
Project = Annotated[str | None, Query(description="project id or name; default: the one holding the model")]


# -- models -----------------------------------------------------------------------------------


@router.post("/models", status_code=status.HTTP_201_CREATED, response_model=ModelRead)
def create_model(data: ModelCreate, session: SessionDep, actor: ModelsWrite) -> ModelRead:
    return reads.model_read(session, service.create_model(session, actor, data))


@router.get("/models", response_model=Page[ModelRead])
def list_models(
    session: SessionDep, actor: ModelsRead, page: PageQuery, project: Project = None, name: str | None = None
) -> Page[ModelRead]:
    return reads.model_page(
        session, service.list_models(session, actor, page, project=project, name_like=name)
    )


@router.get("/models/search", response_model=Page[ModelVersionRead])
def search_versions(
    session: SessionDep,
    actor: ModelsRead,
    page: PageQuery,
    filter: Annotated[
        str | None, Query(description="e.g. params.max_depth = 5 and metrics.auc > 0.9")
    ] = None,
    project: Project = None,
) -> Page[ModelVersionRead]:
    found = search.search_versions(session, actor, page, filter=filter, project=project)
    return reads.version_page(session, found)


# Before /models/{name}, or "compare" would be read as a model's name.
@router.get("/models/compare", response_model=VersionComparison)
def compare_versions(
    session: SessionDep,
    actor: ModelsRead,
    versions: Annotated[
        list[str],
        Query(
            description="2 to 20 of model:version, e.g. "
            "versions=fraud_detector:3&versions=fraud_detector:1.0.0"
        ),
    ],
    format: Annotated[
        Literal["json", "csv", "html"], Query(description="json, csv or a self-contained html report")
    ] = "json",
    project: Project = None,
) -> VersionComparison | Response:
    """Versions side by side (params, metrics, signature, training data, files), or the same as a
    CSV (streamed) or a self-contained HTML report; the first version is the baseline."""
    refs = [compare.parse_ref(text) for text in versions]
    comparison = compare.compare_versions(session, actor, refs, project=project)
    if format == "csv":
        return StreamingResponse(
            compare_export.csv_chunks(comparison),
            media_type=compare_export.CSV_MEDIA_TYPE,
            headers={"content-disposition": _attachment(compare_export.filename(comparison, "csv"))},
        )
    if format == "html":
        return Response(
            compare_export.html_report(comparison),
            media_type=compare_export.HTML_MEDIA_TYPE,
            headers={"content-disposition": _attachment(compare_export.filename(comparison, "html"))},
        )
    return comparison


@router.get("/models/{name}", response_model=ModelRead)
def get_model(name: str, session: SessionDep, actor: ModelsRead, project: Project = None) -> ModelRead:
    return reads.model_read(session, service.get_model(session, actor, name, project=project))


@router.patch("/models/{name}", response_model=ModelRead)
def update_model(
    name: str, data: ModelUpdate, session: SessionDep, actor: ModelsWrite, project: Project = None
) -> ModelRead:
    return reads.model_read(session, service.update_model(session, actor, name, data, project=project))


# -- versions ---------------------------------------------------------------------------------


@router.post("/models/{name}/versions", status_code=status.HTTP_201_CREATED, response_model=ModelVersionRead)
def register_from_run(
    name: str,
    data: VersionFromRun,
    session: SessionDep,
    actor: ModelsWrite,
    store: StoreDep,
    settings: RegistrySettingsDep,
    project: Project = None,
) -> ModelVersionRead:
    """Register the model folder a run saved (``runs:/<run_id>/model``); the model is created if new."""
    version = registration.register_from_run(
        session, actor, store, name, data, settings=settings, project=project
    )
    return reads.version_read(session, version)


def _json_form(raw: str | None, adapter: TypeAdapter[Any], field: str, example: str) -> Any:
    if raw is None or not raw.strip():
        return None
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Invalid(
            f"form field {field!r} is not valid ({where}: {error['msg']}); e.g. {example}"
        ) from None


_INPUTS = TypeAdapter(list[FieldSpec])
_SIGNATURE = TypeAdapter(Signature)
_TAGS = TypeAdapter(dict[str, str])


@router.post(
    "/models/{name}/versions/upload", status_code=status.HTTP_201_CREATED, response_model=ModelVersionRead
)
def upload_version(
    name: str,
    file: Annotated[UploadFile, File(description="a .skops/.onnx model file, or a .zip of a model folder")],
    session: SessionDep,
    actor: ModelsWrite,
    store: StoreDep,
    settings: RegistrySettingsDep,
    label: Annotated[str | None, Form()] = None,
    description: Annotated[str, Form(max_length=10_000)] = "",
    tags: Annotated[str | None, Form(description='JSON object, e.g. {"team": "fraud"}')] = None,
    inputs: Annotated[
        str | None, Form(description='JSON list of inputs: [{"name": "amount", "type": "number", ...}]')
    ] = None,
    signature: Annotated[str | None, Form(description="JSON signature (inputs and outputs)")] = None,
    draft: Annotated[bool, Form(description="save as a draft, finished later")] = True,
    project: Annotated[str | None, Form()] = None,
) -> ModelVersionRead:
    """Register an uploaded model; a draft by default (the admin flow: upload, describe, finish)."""
    try:
        label = check_label(label or None)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    parsed_signature: Signature | None = _json_form(
        signature, _SIGNATURE, "signature", '{"inputs": [{"name": "amount"}]}'
    )
    parsed_inputs = _json_form(
        inputs, _INPUTS, "inputs", '[{"name": "amount", "type": "number", "minimum": 0}]'
    )
    if parsed_inputs is not None:
        parsed_signature = (parsed_signature or Signature()).model_copy(update={"inputs": parsed_inputs})
    request = registration.VersionRequest(
        label=label,
        description=description,
        tags=_json_form(tags, _TAGS, "tags", '{"team": "fraud"}') or {},
        status=VersionStatus.draft if draft else VersionStatus.ready,
    )
    handle, spooled = tempfile.mkstemp(prefix="kiln-model-upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(file.file, out, CHUNK_SIZE)
        version = registration.register_upload(
            session,
            actor,
            store,
            name,
            Path(spooled),
            file.filename or "model",
            request,
            settings=settings,
            signature=parsed_signature,
            project=project,
            source="upload" if draft else "sdk",
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spooled)
    return reads.version_read(session, version)


@router.get("/models/{name}/versions", response_model=Page[ModelVersionRead])
def list_versions(
    name: str, session: SessionDep, actor: ModelsRead, page: PageQuery, project: Project = None
) -> Page[ModelVersionRead]:
    return reads.version_page(session, service.list_versions(session, actor, name, page, project=project))


VersionRef = Annotated[str, "a number (3), a label (1.0.0), a stage (production) or an alias (@champion)"]


@router.get("/models/{name}/versions/{version}", response_model=ModelVersionRead)
def get_version(
    name: str, version: VersionRef, session: SessionDep, actor: ModelsRead, project: Project = None
) -> ModelVersionRead:
    return reads.version_read(session, service.get_version(session, actor, name, version, project=project))


@router.patch("/models/{name}/versions/{version}", response_model=ModelVersionRead)
def update_version(
    name: str,
    version: VersionRef,
    data: VersionUpdate,
    session: SessionDep,
    actor: ModelsWrite,
    store: StoreDep,
    settings: RegistrySettingsDep,
    project: Project = None,
) -> ModelVersionRead:
    updated = service.update_version(
        session, actor, name, version, data, store=store, settings=settings, project=project
    )
    return reads.version_read(session, updated)


@router.post("/models/{name}/versions/{version}/finish", response_model=ModelVersionRead)
def finish_version(
    name: str,
    version: VersionRef,
    session: SessionDep,
    actor: ModelsWrite,
    store: StoreDep,
    settings: RegistrySettingsDep,
    project: Project = None,
) -> ModelVersionRead:
    finished = registration.finish_version(
        session, actor, store, name, version, settings=settings, project=project
    )
    return reads.version_read(session, finished)


def _attachment(filename: str) -> str:
    encoded = quote(filename)
    if encoded != filename:
        return f"attachment; filename*=utf-8''{encoded}"
    return f'attachment; filename="{filename}"'


@router.get("/models/{name}/versions/{version}/files/{path}", response_model=None)
def download_file(
    name: str,
    version: VersionRef,
    path: str,
    session: SessionDep,
    actor: ModelsRead,
    store: StoreDep,
    project: Project = None,
) -> Response:
    """One file of the version, streamed and verified against its sha256 (``kiln-model.json`` too)."""
    row = service.get_version(session, actor, name, version, project=project)
    if path == DESCRIPTOR_FILE:
        body = ModelDescriptor.model_validate(row.descriptor).to_json().encode()
        return Response(
            body, media_type="application/json", headers={"content-disposition": _attachment(path)}
        )
    item = next((f for f in files.version_files(session, row.id) if f.path == path), None)
    if item is None:
        raise NotFound(f"version {row.number} of {name!r} has no file {path!r}")
    chunks = store.iter_verified(f"{row.storage_prefix}/{item.path}", sha256=item.sha256, size=item.size)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={
            "content-length": str(item.size),
            "x-checksum-sha256": item.sha256,
            "content-disposition": _attachment(item.path),
        },
    )


@router.get("/models/{name}/versions/{version}/download", response_class=FileResponse)
def download_version(
    name: str,
    version: VersionRef,
    session: SessionDep,
    actor: ModelsRead,
    store: StoreDep,
    project: Project = None,
) -> FileResponse:
    """The whole version as a zip of its model folder (every file verified before it is zipped)."""
    row = service.get_version(session, actor, name, version, project=project)
    workdir = Path(tempfile.mkdtemp(prefix="kiln-model-download-"))
    try:
        folder = files.materialize_version(store, row, workdir / "model")
        archive = workdir / "model.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for entry in sorted(folder.iterdir()):
                out.write(entry, entry.name)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    filename = f"{name}-{row.label or row.number}.zip"
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=filename,
        background=BackgroundTask(shutil.rmtree, workdir, ignore_errors=True),
    )
