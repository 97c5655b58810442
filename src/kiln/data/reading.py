"""Reading a version's rows: the stored Parquet bytes, verified against their sha256, as a DataFrame.

A version that failed its quality gate is refused (``DatasetQualityFailed``, 409, naming the failed
checks) unless the reader says ``allow_failed``: a pipeline step reading it stops there, clearly.
Altered or damaged bytes are ``ChecksumMismatch``, never silently different data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.core.errors import ChecksumMismatch
from kiln.core.lazy_module import lazy_module
from kiln.data.canonical import read_frame
from kiln.data.errors import DatasetQualityFailed
from kiln.data.models import Dataset, DatasetVersion
from kiln.data.quality_schemas import QualityReport
from kiln.storage.store import ArtifactStore

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_SHOWN_CHECKS = 5


def check_quality_gate(dataset: Dataset, version: DatasetVersion, *, allow_failed: bool) -> None:
    if version.quality_passed or allow_failed:
        return
    report = QualityReport.model_validate(version.quality)
    failed = [check for check in report.failed if check.severity == "error"]
    shown = "; ".join(check.message for check in failed[:_SHOWN_CHECKS])
    more = f" (and {len(failed) - _SHOWN_CHECKS} more)" if len(failed) > _SHOWN_CHECKS else ""
    raise DatasetQualityFailed(
        f"dataset {dataset.name!r} version {version.number} failed its quality gate: {shown}{more}. "
        "Fix the data and upload a new version, or read it anyway with allow_failed "
        "(API: ?allow_failed=true)",
        details={
            "dataset": dataset.name,
            "version": version.number,
            "failed_checks": [check.model_dump(mode="json") for check in failed],
        },
    )


def version_bytes(store: ArtifactStore, dataset: Dataset, version: DatasetVersion) -> bytes:
    """The stored canonical Parquet bytes, verified; ``ChecksumMismatch`` naming the version."""
    try:
        return store.read_verified(version.artifact_key, sha256=version.content_hash, size=version.size_bytes)
    except ChecksumMismatch:
        raise ChecksumMismatch(
            f"the stored data of dataset {dataset.name!r} version {version.number} does not match its "
            f"sha256 {version.content_hash}: it was altered or damaged in the store; nothing was read",
            details={"dataset": dataset.name, "version": version.number, "sha256": version.content_hash},
        ) from None


def load_frame(
    store: ArtifactStore,
    dataset: Dataset,
    version: DatasetVersion,
    *,
    allow_failed: bool = False,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """The version's rows (checked against the quality gate, then against the checksum)."""
    check_quality_gate(dataset, version, allow_failed=allow_failed)
    return read_frame(version_bytes(store, dataset, version), columns)
