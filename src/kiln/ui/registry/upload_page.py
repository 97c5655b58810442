"""The registration-by-upload form: a model file, its inputs, a description and a label, saved as a draft."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from kiln.core.actor import Actor
from kiln.core.deps import get_db
from kiln.core.errors import Invalid, KilnError
from kiln.core.permissions import Permission
from kiln.registry import registration
from kiln.registry.deps import get_registry_settings
from kiln.registry.model_format import FieldSpec, Signature
from kiln.registry.schemas import VersionStatus, check_label
from kiln.storage.deps import get_store
from kiln.ui.csrf import FormDep, field
from kiln.ui.forms import FormError, form_error, redirect_with_notice
from kiln.ui.page_access import form_require, page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

RegisterPage = Annotated[Actor, Depends(page_require(Permission.models_write))]
RegisterForm = Annotated[Actor, Depends(form_require(Permission.models_write))]
_INPUTS = TypeAdapter(list[FieldSpec])
# How many input rows the form offers (more can be described later on the version's page or the API).
INPUT_ROWS = 8
FIELD_NAMES = ("name", "type", "minimum", "maximum", "default", "required", "description")


def _form_page(
    request: Request, *, error: FormError | None = None, draft: dict[str, Any] | None = None
) -> Response:
    return render(
        request,
        "registry/upload.html",
        {
            "section": "models",
            "error": error.message if error else None,
            "draft": draft or {},
            "rows": INPUT_ROWS,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/models/upload")
def upload_form(request: Request, actor: RegisterPage) -> Response:
    return _form_page(request)


def _inputs(form: Any) -> list[FieldSpec]:
    rows = []
    for index in range(INPUT_ROWS):
        values = {key: field(form, f"inputs-{index}-{key}", limit=2000) for key in FIELD_NAMES}
        if not values["name"]:
            continue
        row: dict[str, Any] = {"name": values["name"], "type": values["type"] or "number"}
        row["required"] = values["required"] == "on"
        row["description"] = values["description"]
        for bound in ("minimum", "maximum"):
            if values[bound]:
                row[bound] = values[bound]
        if values["default"]:
            row["default"] = values["default"]
        rows.append(row)
    try:
        return _INPUTS.validate_python(rows)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise Invalid(f"input {where}: {error['msg']}") from None


@router.post("/models/upload")
def upload_model(request: Request, actor: RegisterForm, form: FormDep) -> Response:
    draft = {key: field(form, key, limit=10_000) for key in ("name", "label", "description")}
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("choose the model file to upload (.skops, .onnx, or a .zip of a model folder)")
        label = check_label(draft["label"] or None)
        inputs = _inputs(form)
        request_data = registration.VersionRequest(
            label=label, description=draft["description"], status=VersionStatus.draft
        )
        number = _register(request, actor, draft["name"], upload, request_data, Signature(inputs=inputs))
    except ValueError as exc:  # a label the schema refuses
        return _form_page(request, error=FormError(str(exc), 400), draft=draft)
    except KilnError as exc:
        return _form_page(request, error=form_error(exc), draft=draft)
    return redirect_with_notice(f"/models/{draft['name']}/versions/{number}", "version_drafted")


def _register(
    request: Request,
    actor: Actor,
    name: str,
    upload: UploadFile,
    data: registration.VersionRequest,
    signature: Signature,
) -> int:
    handle, spooled = tempfile.mkstemp(prefix="kiln-ui-upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(upload.file, out)
        with get_db(request).unit_of_work() as session:
            version = registration.register_upload(
                session,
                actor,
                get_store(request),
                name,
                Path(spooled),
                upload.filename or "model",
                data,
                settings=get_registry_settings(request),
                signature=signature if signature.inputs else None,
            )
            return version.number
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spooled)
