"""``client.datasets``' ingestion calls: append rows, see and commit what is pending, review the
quarantine (list, download, release with fixes, discard).

An append is one request, accepted whole or refused whole, and never sent twice by the client: a
retried append whose first try reached the server would stage its rows twice. A DataFrame travels as
Parquet (its types kept, its size unbounded by JSON); records as JSON.
"""

from __future__ import annotations

import builtins
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from kiln.client.model_transfer import multipart_upload
from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.core.errors import Invalid
from kiln.data.ingestion_schemas import AppendResult, PendingRead, QuarantineDecided, QuarantinedRowRead
from kiln.data.schemas import DatasetVersionUploaded

if TYPE_CHECKING:
    import pandas as pd

_NO_RETRY: frozenset[int] = frozenset()

Records = Sequence[Mapping[str, Any]]


def _project(project: str | None) -> dict[str, Any]:
    return {"project": project} if project is not None else {}


def _json_cell(value: Any) -> Any:
    """Dates and times travel as ISO 8601 text, as the server reads them."""
    return value.isoformat() if isinstance(value, datetime | date) else value


class DatasetIngestion(Resource):
    def append(
        self,
        name: str,
        data: pd.DataFrame | Records | str | Path,
        *,
        project: str | None = None,
    ) -> AppendResult:
        """Append rows to dataset ``name``: a DataFrame, a list of records (dicts) or a .csv/.parquet
        file. Staged whole or refused whole (``FrameRejected`` naming the column and row); the
        dataset's ingestion policy may make them a version at once (``result.version``)."""
        base = f"/datasets/{segment(name)}/records"
        if isinstance(data, str | Path):
            local = Path(data)
            if not local.is_file():
                raise Invalid(
                    f"{local} is not a file; append a .csv or .parquet file, a DataFrame or records"
                )
            return self._append_file(f"{base}/file", local, project)
        if hasattr(data, "to_parquet"):  # a DataFrame, without importing pandas to ask
            with tempfile.TemporaryDirectory(prefix="kiln-append-") as workdir:
                local = Path(workdir) / f"{name}.parquet"
                data.to_parquet(local, index=False)
                return self._append_file(f"{base}/file", local, project)
        records = [
            {key: _json_cell(value) for key, value in record.items()} for record in cast(Records, data)
        ]
        answer = self.transport.request(
            "POST",
            base,
            params=_project(project),
            json_body={"records": records},
            retry_statuses=_NO_RETRY,
        )
        return AppendResult.model_validate(answer)

    def _append_file(self, path: str, local: Path, project: str | None) -> AppendResult:
        answer = multipart_upload(
            self.transport, path, local, {}, params=_project(project), retry_statuses=_NO_RETRY
        )
        return AppendResult.model_validate(answer)

    def pending(self, name: str, *, project: str | None = None) -> PendingRead:
        """The appended rows waiting for the next version, and the policy that will make it."""
        data = self.transport.request("GET", f"/datasets/{segment(name)}/pending", params=_project(project))
        return PendingRead.model_validate(data)

    def commit(self, name: str, *, project: str | None = None) -> DatasetVersionUploaded:
        """Make the pending rows a version now (``InvalidState`` when nothing is pending)."""
        data = self.transport.request(
            "POST", f"/datasets/{segment(name)}/versions/commit", params=_project(project)
        )
        return DatasetVersionUploaded.model_validate(data)

    def quarantine(
        self,
        name: str,
        *,
        status: str | None = "pending",
        column: str | None = None,
        rule: str | None = None,
        check: str | None = None,
        version: int | None = None,
        project: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> ResultPage[QuarantinedRowRead]:
        """One page of the dataset's quarantined rows with their reasons, filtered."""
        params = {
            "status": status,
            "column": column,
            "rule": rule,
            "check": check,
            "version": version,
            "limit": limit,
            "cursor": cursor,
            **_project(project),
        }
        path = f"/datasets/{segment(name)}/quarantine"
        return fetch_page(self.transport, path, QuarantinedRowRead, params)

    def download_quarantine(
        self, name: str, target: str | Path, *, status: str | None = "pending", project: str | None = None
    ) -> Path:
        """The quarantined rows as a CSV file at ``target`` (review columns, then the row's values)."""
        params = {"status": status, **_project(project)}
        local = Path(target)
        path = f"/datasets/{segment(name)}/quarantine/download"
        with self.transport.stream("GET", path, params=params) as response, local.open("wb") as out:
            for chunk in response.iter_bytes():
                out.write(chunk)
        return local

    def release(
        self,
        name: str,
        ids: builtins.list[str],
        *,
        fixes: Mapping[str, Mapping[str, Any]] | None = None,
        note: str = "",
        project: str | None = None,
    ) -> QuarantineDecided:
        """Release quarantined rows into the next version; ``fixes`` maps a row's id to the values
        that replace its own. The rules judge them again."""
        body = {"ids": ids, "fixes": {key: dict(value) for key, value in (fixes or {}).items()}, "note": note}
        data = self.transport.request(
            "POST",
            f"/datasets/{segment(name)}/quarantine/release",
            params=_project(project),
            json_body=body,
            retry_statuses=_NO_RETRY,
        )
        return QuarantineDecided.model_validate(data)

    def discard(
        self, name: str, ids: builtins.list[str], *, note: str = "", project: str | None = None
    ) -> QuarantineDecided:
        """Discard quarantined rows for good (they stay listed as discarded, with who and why)."""
        data = self.transport.request(
            "POST",
            f"/datasets/{segment(name)}/quarantine/discard",
            params=_project(project),
            json_body={"ids": ids, "note": note},
        )
        return QuarantineDecided.model_validate(data)
