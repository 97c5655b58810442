"""``client.models``: registered models and their versions (register, upload, download, search)."""

from __future__ import annotations

import builtins
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from kiln.client import model_transfer
from kiln.client.artifacts import Progress
from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.core.errors import Invalid
from kiln.registry.model_format import FieldSpec, Signature
from kiln.registry.schemas import (
    PIPELINE_RUN_TAG,
    PIPELINE_STEP_TAG,
    ModelRead,
    ModelVersionRead,
    VersionComparison,
)

# Set by the pipeline worker while a step runs (``kiln.pipelines.step_context``), read here as plain
# names: the SDK depends on no pipeline code.
_STEP_ENVIRONMENT = {PIPELINE_RUN_TAG: "KILN_PIPELINE_RUN", PIPELINE_STEP_TAG: "KILN_PIPELINE_STEP"}


def _project(project: str | None) -> dict[str, Any]:
    return {"project": project} if project is not None else {}


def _version_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """The caller's tags; inside a pipeline step, with the run and step that registered the version
    (the step's output links to it in lineage). A tag the caller set is kept."""
    step_tags = {tag: os.environ.get(name, "") for tag, name in _STEP_ENVIRONMENT.items()}
    if not all(step_tags.values()):
        return dict(tags or {})
    return {**step_tags, **(tags or {})}


VersionRefs = Sequence[str | int | tuple[str, str | int]]


def _compare_refs(versions: VersionRefs, model: str | None) -> builtins.list[str]:
    """``model:version`` strings from ``"fraud_detector:3"``, ``("fraud_detector", 3)`` or, with
    ``model``, a bare ``3`` / ``"1.0.0"``."""
    refs = []
    for item in versions:
        if isinstance(item, tuple):
            refs.append(f"{item[0]}:{item[1]}")
        elif model is not None and ":" not in str(item):
            refs.append(f"{model}:{item}")
        else:
            refs.append(str(item))
    return refs


class ModelsResource(Resource):
    def create(
        self,
        name: str,
        *,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> ModelRead:
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "tags": dict(tags or {}),
            **_project(project),
        }
        return ModelRead.model_validate(self.transport.request("POST", "/models", json_body=body))

    def get(self, name: str, *, project: str | None = None) -> ModelRead:
        data = self.transport.request("GET", f"/models/{segment(name)}", params=_project(project))
        return ModelRead.model_validate(data)

    def list(
        self,
        *,
        project: str | None = None,
        name: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[ModelRead]:
        params = {"limit": limit, "cursor": cursor, "name": name, **_project(project)}
        return fetch_page(self.transport, "/models", ModelRead, params)

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> ModelRead:
        body = {"description": description, "tags": dict(tags) if tags is not None else None}
        data = self.transport.request(
            "PATCH",
            f"/models/{segment(name)}",
            params=_project(project),
            json_body={k: v for k, v in body.items() if v is not None},
        )
        return ModelRead.model_validate(data)

    # -- versions ---------------------------------------------------------------------------------

    def register_from_run(
        self,
        name: str,
        run_id: str,
        *,
        folder: str = "model",
        label: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        project: str | None = None,
    ) -> ModelVersionRead:
        """Register the model folder run ``run_id`` saved (``runs:/<run_id>/model``) as the next version."""
        body = {
            "source": f"runs:/{run_id}/{folder}",
            "label": label,
            "description": description,
            "tags": _version_tags(tags),
        }
        data = self.transport.request(
            "POST", f"/models/{segment(name)}/versions", params=_project(project), json_body=body
        )
        return ModelVersionRead.model_validate(data)

    def upload(
        self,
        name: str,
        path: str | Path,
        *,
        label: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        inputs: Sequence[FieldSpec | Mapping[str, Any]] | None = None,
        signature: Signature | None = None,
        draft: bool = True,
        project: str | None = None,
        progress: Progress | None = None,
    ) -> ModelVersionRead:
        """Upload a model file (``.skops``, ``.onnx``) or a model folder (zipped on the way) as a version.

        A draft by default: describe its ``inputs`` (names, types, ranges, defaults, descriptions),
        then ``finish`` it. ``draft=False`` registers it ready at once.
        """
        local = Path(path)
        fields: dict[str, str] = {"description": description, "draft": "true" if draft else "false"}
        if label is not None:
            fields["label"] = label
        version_tags = _version_tags(tags)
        if version_tags:
            fields["tags"] = model_transfer.json_field(version_tags)
        if inputs is not None:
            fields["inputs"] = model_transfer.json_field(
                [FieldSpec.model_validate(item).model_dump(mode="json") for item in inputs]
            )
        if signature is not None:
            fields["signature"] = signature.model_dump_json()
        if project is not None:
            fields["project"] = project
        with tempfile.TemporaryDirectory(prefix="kiln-upload-") as workdir:
            upload = _zip_folder(local, Path(workdir)) if local.is_dir() else local
            if not upload.is_file():
                raise Invalid(f"{local} is neither a model file nor a model folder")
            data = model_transfer.multipart_upload(
                self.transport, f"/models/{segment(name)}/versions/upload", upload, fields, progress=progress
            )
        return ModelVersionRead.model_validate(data)

    def finish(self, name: str, version: str | int, *, project: str | None = None) -> ModelVersionRead:
        data = self.transport.request(
            "POST",
            f"/models/{segment(name)}/versions/{segment(str(version))}/finish",
            params=_project(project),
        )
        return ModelVersionRead.model_validate(data)

    def versions(
        self, name: str, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[ModelVersionRead]:
        """One page of the model's versions, newest first."""
        params = {"limit": limit, "cursor": cursor, **_project(project)}
        return fetch_page(self.transport, f"/models/{segment(name)}/versions", ModelVersionRead, params)

    def version(self, name: str, version: str | int, *, project: str | None = None) -> ModelVersionRead:
        """A version by number (3), label (1.0.0), stage (production) or alias (@champion)."""
        data = self.transport.request(
            "GET", f"/models/{segment(name)}/versions/{segment(str(version))}", params=_project(project)
        )
        return ModelVersionRead.model_validate(data)

    def update_version(
        self,
        name: str,
        version: str | int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        signature: Signature | None = None,
        project: str | None = None,
    ) -> ModelVersionRead:
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if tags is not None:
            body["tags"] = dict(tags)
        if signature is not None:
            body["signature"] = signature.model_dump(mode="json")
        data = self.transport.request(
            "PATCH",
            f"/models/{segment(name)}/versions/{segment(str(version))}",
            params=_project(project),
            json_body=body,
        )
        return ModelVersionRead.model_validate(data)

    def download(
        self,
        name: str,
        version: str | int,
        dest: str | Path,
        *,
        project: str | None = None,
        progress: Progress | None = None,
    ) -> Path:
        """Download the whole version (its model folder) into ``dest``, verifying every file's sha256."""
        read = self.version(name, version, project=project)
        path = f"/models/{segment(name)}/versions/{read.number}/download"
        return model_transfer.download_version(
            self.transport, path, read, Path(dest), params=_project(project), progress=progress
        )

    def search(
        self,
        filter: str | None = None,
        *,
        project: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[ModelVersionRead]:
        """Versions matching ``filter``, e.g. ``params.max_depth = 5 and metrics.auc > 0.9``."""
        params = {"filter": filter, "limit": limit, "cursor": cursor, **_project(project)}
        return fetch_page(self.transport, "/models/search", ModelVersionRead, params)

    def compare(
        self, versions: VersionRefs, *, model: str | None = None, project: str | None = None
    ) -> VersionComparison:
        """2 to 20 versions side by side (params, metrics, signature, training data, files).

        ``versions``: ``"fraud_detector:3"`` or ``("fraud_detector", 3)``; with ``model``, bare
        refs (``3``, ``"1.0.0"``, ``"@champion"``) name versions of that model. The first is the baseline.
        """
        params = {"versions": _compare_refs(versions, model), **_project(project)}
        return VersionComparison.model_validate(
            self.transport.request("GET", "/models/compare", params=params)
        )

    def compare_export(
        self,
        versions: VersionRefs,
        *,
        path: str | Path,
        format: Literal["csv", "html"] = "csv",
        model: str | None = None,
        project: str | None = None,
    ) -> Path:
        """Write the comparison to ``path`` as CSV or as a self-contained HTML report; answers ``path``."""
        if format not in ("csv", "html"):
            raise Invalid(f"format {format!r}: choose csv or html")
        params = {"versions": _compare_refs(versions, model), "format": format, **_project(project)}
        target = Path(path)
        with (
            self.transport.stream("GET", "/models/compare", params=params) as response,
            target.open("wb") as out,
        ):
            for chunk in response.iter_bytes():
                out.write(chunk)
        return target

    def all_versions(self, name: str, *, project: str | None = None) -> builtins.list[ModelVersionRead]:
        items: builtins.list[ModelVersionRead] = []
        cursor: str | None = None
        while True:
            page = self.versions(name, project=project, cursor=cursor, limit=1000)
            items.extend(page)
            if not page.next_cursor:
                return items
            cursor = page.next_cursor


def _zip_folder(folder: Path, workdir: Path) -> Path:
    archive = workdir / f"{folder.name or 'model'}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for file in sorted(folder.iterdir()):
            if file.is_file():
                out.write(file, file.name)
    return archive
