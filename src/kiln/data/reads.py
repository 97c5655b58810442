"""Datasets and versions as their read schemas (what the API, the SDK and the CLI show)."""

from __future__ import annotations

from kiln.core.pagination import Page
from kiln.data.ingestion import Staged
from kiln.data.ingestion_schemas import AppendResult, QuarantineDecided, QuarantinedRowRead, QuarantineStatus
from kiln.data.models import Dataset, DatasetVersion, QuarantinedRow
from kiln.data.quality_schemas import QualityReport
from kiln.data.quarantine import Decided
from kiln.data.refs import DatasetRef
from kiln.data.schemas import (
    ChangeSummary,
    ColumnStatistics,
    DatasetRead,
    DatasetVersionRead,
    DatasetVersionUploaded,
    QualitySummary,
    QuarantineSummary,
    VersionSource,
)
from kiln.data.service import declared_rules, declared_schema, ingestion_policy
from kiln.data.spec import DatasetSchema


def dataset_read(dataset: Dataset) -> DatasetRead:
    return DatasetRead(
        id=dataset.id,
        project_id=dataset.project_id,
        name=dataset.name,
        description=dataset.description,
        data_schema=declared_schema(dataset),
        rules=declared_rules(dataset),
        latest_version=dataset.last_version or None,
        ingestion=ingestion_policy(dataset),
        pending_rows=dataset.pending_rows or 0,
        created_by=dataset.created_by,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
    )


def dataset_page(page: Page[Dataset]) -> Page[DatasetRead]:
    return page.with_items([dataset_read(dataset) for dataset in page.items])


def version_read(dataset: Dataset, version: DatasetVersion) -> DatasetVersionRead:
    report = QualityReport.model_validate(version.quality)
    changes = ChangeSummary.model_validate(version.changes) if version.changes else None
    return DatasetVersionRead(
        id=version.id,
        dataset_id=dataset.id,
        dataset=dataset.name,
        project_id=dataset.project_id,
        number=version.number,
        ref=str(DatasetRef(dataset.name, version.number)),
        parent_number=changes.from_number if changes else None,
        content_hash=version.content_hash,
        size_bytes=version.size_bytes,
        rows=version.row_count,
        data_schema=DatasetSchema.model_validate(version.stored_schema),
        statistics=[ColumnStatistics.model_validate(item) for item in version.statistics],
        changes=changes,
        quality=QualitySummary(
            passed=report.passed, rows=report.rows, quarantined=report.quarantined, checks=report.checks
        ),
        quarantine=QuarantineSummary.model_validate(version.quarantine or {}),
        source=VersionSource(version.source),
        source_file=version.source_file,
        created_by=version.created_by,
        created_at=version.created_at,
    )


def version_page(dataset: Dataset, page: Page[DatasetVersion]) -> Page[DatasetVersionRead]:
    return page.with_items([version_read(dataset, version) for version in page.items])


def uploaded_read(dataset: Dataset, version: DatasetVersion, *, created: bool) -> DatasetVersionUploaded:
    read = version_read(dataset, version)
    return DatasetVersionUploaded(**dict(read), created=created)


def appended_read(dataset: Dataset, staged: Staged) -> AppendResult:
    made = staged.made
    return AppendResult(
        batch_id=staged.batch.id,
        rows=staged.batch.row_count,
        pending_rows=staged.pending_rows,
        version=version_read(dataset, made.version) if made is not None and made.created else None,
    )


def quarantined_read(dataset: Dataset, row: QuarantinedRow) -> QuarantinedRowRead:
    return QuarantinedRowRead.model_validate(
        {
            **{key: getattr(row, key) for key in QuarantinedRowRead.model_fields if key != "dataset"},
            "dataset": dataset.name,
        }
    )


def quarantined_page(dataset: Dataset, page: Page[QuarantinedRow]) -> Page[QuarantinedRowRead]:
    return page.with_items([quarantined_read(dataset, row) for row in page.items])


def decided_read(dataset: Dataset, decided: Decided, status: QuarantineStatus) -> QuarantineDecided:
    staged = decided.staged
    return QuarantineDecided(
        status=status,
        rows=len(decided.rows),
        ids=[row.id for row in decided.rows],
        batch_id=staged.batch.id if staged is not None else None,
        version=appended_read(dataset, staged).version if staged is not None else None,
    )
