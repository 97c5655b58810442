"""``client.datasets``: datasets and their versions (create, upload, list, load, diff); appends,
pending rows and the quarantine review are ``dataset_ingestion``.

``load`` reads a version by reference (``dataset:telemetry@7``, ``telemetry@latest``) into a pandas
DataFrame after checking the downloaded bytes against the version's sha256; a version that failed
its quality gate raises ``DatasetQualityFailed`` unless ``allow_failed=True``.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from kiln.client.artifacts import CHUNK_SIZE, Progress
from kiln.client.model_transfer import multipart_upload
from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import segment
from kiln.client.resources.dataset_ingestion import DatasetIngestion
from kiln.client.transport import ServerUnreachable
from kiln.core.errors import ChecksumMismatch, Invalid

# Imported so the server's ``dataset_quality_failed`` arrives as this class (``except
# kiln.DatasetQualityFailed``), and a failed read says why.
from kiln.data.errors import DatasetQualityFailed
from kiln.data.refs import LATEST, DatasetRef, parse_ref
from kiln.data.rules_spec import DatasetRules
from kiln.data.schemas import (
    ChangeSummary,
    DatasetRead,
    DatasetVersionRead,
    DatasetVersionUploaded,
    IngestionPolicy,
)
from kiln.data.spec import DatasetSchema

if TYPE_CHECKING:
    import pandas as pd


def _project(project: str | None) -> dict[str, Any]:
    return {"project": project} if project is not None else {}


def _version(number: int | None) -> str:
    return LATEST if number is None else str(number)


class DatasetsResource(DatasetIngestion):
    """Datasets and versions; appends and the quarantine review come from ``DatasetIngestion``."""

    def create(
        self,
        name: str,
        schema: DatasetSchema | Mapping[str, Any],
        *,
        rules: DatasetRules | Mapping[str, Any] | None = None,
        description: str = "",
        ingestion: IngestionPolicy | Mapping[str, Any] | None = None,
        project: str | None = None,
    ) -> DatasetRead:
        """A new dataset with its declared schema (columns, types, ranges, categories, key), rules and
        ingestion policy (when appended rows become a version; default: on request)."""
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "schema": DatasetSchema.model_validate(schema).model_dump(mode="json"),
            "rules": DatasetRules.model_validate(rules or {}).model_dump(mode="json"),
            "ingestion": IngestionPolicy.model_validate(ingestion or {}).model_dump(mode="json"),
            **_project(project),
        }
        return DatasetRead.model_validate(self.transport.request("POST", "/datasets", json_body=body))

    def get(self, name: str, *, project: str | None = None) -> DatasetRead:
        data = self.transport.request("GET", f"/datasets/{segment(name)}", params=_project(project))
        return DatasetRead.model_validate(data)

    def list(
        self, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[DatasetRead]:
        params = {"limit": limit, "cursor": cursor, **_project(project)}
        return fetch_page(self.transport, "/datasets", DatasetRead, params)

    def update(
        self,
        name: str,
        *,
        description: str | None = None,
        schema: DatasetSchema | Mapping[str, Any] | None = None,
        rules: DatasetRules | Mapping[str, Any] | None = None,
        ingestion: IngestionPolicy | Mapping[str, Any] | None = None,
        project: str | None = None,
    ) -> DatasetRead:
        """Change the description, schema, rules or ingestion policy (``every_rows``, ``every_minutes``)."""
        body: dict[str, Any] = {}
        if ingestion is not None:
            body["ingestion"] = IngestionPolicy.model_validate(ingestion).model_dump(mode="json")
        if description is not None:
            body["description"] = description
        if schema is not None:
            body["schema"] = DatasetSchema.model_validate(schema).model_dump(mode="json")
        if rules is not None:
            body["rules"] = DatasetRules.model_validate(rules).model_dump(mode="json")
        data = self.transport.request(
            "PATCH", f"/datasets/{segment(name)}", params=_project(project), json_body=body
        )
        return DatasetRead.model_validate(data)

    def upload(
        self,
        name: str,
        data: pd.DataFrame | str | Path,
        *,
        project: str | None = None,
        progress: Progress | None = None,
    ) -> DatasetVersionUploaded:
        """A new version from a DataFrame or a .csv/.parquet file; identical data answers the version
        that holds it (``created`` False)."""
        fields = {"source": "upload", **_project(project)}
        path = f"/datasets/{segment(name)}/versions"
        if isinstance(data, str | Path):
            local = Path(data)
            if not local.is_file():
                raise Invalid(f"{local} is not a file; upload a .csv or .parquet file or a DataFrame")
            answer = multipart_upload(self.transport, path, local, fields, progress=progress)
            return DatasetVersionUploaded.model_validate(answer)
        with tempfile.TemporaryDirectory(prefix="kiln-dataset-") as workdir:
            local = Path(workdir) / f"{name}.parquet"
            data.to_parquet(local, index=False)
            fields["source"] = "sdk"
            answer = multipart_upload(self.transport, path, local, fields, progress=progress)
        return DatasetVersionUploaded.model_validate(answer)

    def versions(
        self, name: str, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[DatasetVersionRead]:
        """One page of the dataset's versions, newest first."""
        params = {"limit": limit, "cursor": cursor, **_project(project)}
        return fetch_page(self.transport, f"/datasets/{segment(name)}/versions", DatasetVersionRead, params)

    def version(self, ref: str, *, project: str | None = None) -> DatasetVersionRead:
        """A version by reference: ``dataset:telemetry@7``, ``telemetry@latest``."""
        parsed = parse_ref(ref)
        data = self.transport.request(
            "GET",
            f"/datasets/{segment(parsed.name)}/versions/{_version(parsed.number)}",
            params=_project(project),
        )
        return DatasetVersionRead.model_validate(data)

    def diff(
        self, name: str, before: int | str, after: int | str = LATEST, *, project: str | None = None
    ) -> ChangeSummary:
        """What changed from version ``before`` to ``after``: rows, columns, distribution shifts."""
        params = {"from": str(before), "to": str(after), **_project(project)}
        data = self.transport.request("GET", f"/datasets/{segment(name)}/diff", params=params)
        return ChangeSummary.model_validate(data)

    def load(self, ref: str, *, project: str | None = None, allow_failed: bool = False) -> pd.DataFrame:
        """The version's rows as a DataFrame, its bytes checked against the version's sha256."""
        import pandas as pd

        version = self.version(ref, project=project)
        pinned = DatasetRef(version.dataset, version.number)
        data = self._download(pinned, version.content_hash, project=project, allow_failed=allow_failed)
        frame: pd.DataFrame = pd.read_parquet(io.BytesIO(data))
        return frame

    def _download(
        self, ref: DatasetRef, sha256: str, *, project: str | None, allow_failed: bool
    ) -> builtins.bytes:
        params: dict[str, Any] = {"allow_failed": "true" if allow_failed else None, **_project(project)}
        path = f"/datasets/{segment(ref.name)}/versions/{_version(ref.number)}/download"
        digest = hashlib.sha256()
        chunks = []
        with self.transport.stream("GET", path, params=params) as response:
            try:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    digest.update(chunk)
                    chunks.append(chunk)
            except httpx.TransportError as exc:
                raise ServerUnreachable(f"download of {ref} was interrupted: {exc}") from exc
        if digest.hexdigest() != sha256:
            raise ChecksumMismatch(
                f"{ref} arrived with sha256 {digest.hexdigest()}, expected {sha256}; nothing was loaded",
                details={"ref": str(ref), "expected": sha256, "actual": digest.hexdigest()},
            )
        return b"".join(chunks)


__all__ = ["DatasetQualityFailed", "DatasetsResource"]
