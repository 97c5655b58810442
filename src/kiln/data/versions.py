"""Making, finding and comparing versions of a dataset.

``create_version`` runs the same steps for every source (upload, SDK, ingestion), cheapest refusals
first, so a refused batch stores nothing:
1. the rules judge every row (``rules.split_rows``): a whole-batch problem is a 422 naming the
   column; refused rows go to the quarantine (``quarantine_store``), counted on the version too;
   an append's version is the parent's rows plus the accepted new ones;
2. the accepted rows get their canonical Parquet form; its sha256 already held by a version of this
   dataset answers that version (``created=False``), and nothing is written;
3. the quality checks run against the parent's baseline; statistics and the change summary against
   the parent are computed;
4. the bytes are stored under a key made of ids (``after_rollback`` deletes them if the transaction
   fails), the number is taken with one atomic increment, and the version is recorded with an
   audit record, a lineage edge from its source, and a ``DatasetVersionCreated`` event; a failed
   quality gate alerts the dataset's owners (``alerts``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiln.audit import service as audit
from kiln.auth.projects import require_in_project
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.db import after_rollback
from kiln.core.errors import Conflict, NotFound
from kiln.core.ids import new_id
from kiln.core.lazy_module import lazy_module
from kiln.core.pagination import Page, PageParams, paginate
from kiln.core.permissions import Permission
from kiln.data import alerts, lineage_nodes
from kiln.data.canonical import canonical_bytes, read_frame
from kiln.data.changes import VersionSide, columns_to_read, summarize_changes
from kiln.data.events import DatasetVersionCreated
from kiln.data.models import Dataset, DatasetVersion
from kiln.data.profile import profile
from kiln.data.quality import check_quality
from kiln.data.quality_schemas import QualityReport, QualityThresholds
from kiln.data.quarantine_store import RowOrigins, store_quarantined
from kiln.data.reading import version_bytes
from kiln.data.repeats import quarantine_repeats
from kiln.data.rules import RuleOutcome, split_rows
from kiln.data.schemas import ChangeSummary, ColumnStatistics, QuarantineSummary, ReasonCount, VersionSource
from kiln.data.service import LABEL_LENGTH, declared_rules, declared_schema
from kiln.data.spec import DatasetSchema
from kiln.notify.email import Mailer
from kiln.storage.store import ArtifactStore
from kiln.storage.uploads import discard

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

QUARANTINE_EXAMPLES = 20
_SOURCE_FILE_LENGTH = 256


@dataclass(frozen=True)
class NewVersion:
    version: DatasetVersion
    created: bool  # False: identical data was already this version


def _json(value: BaseModel | list[BaseModel]) -> Any:
    """Plain JSON (NaN and infinities as strings), storable in PostgreSQL's JSONB too."""
    if isinstance(value, list):
        return [_json(item) for item in value]
    return json.loads(value.model_dump_json())


def find_by_number(session: Session, dataset: Dataset, number: int | None) -> DatasetVersion | None:
    """Version ``number`` of ``dataset``, or its latest for None."""
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)
    if number is None:
        return session.scalar(query.order_by(DatasetVersion.number.desc()).limit(1))
    return session.scalar(query.where(DatasetVersion.number == number))


def get_version(session: Session, dataset: Dataset, number: int | None) -> DatasetVersion:
    version = find_by_number(session, dataset, number)
    if version is None:
        which = "no versions yet" if number is None else f"no version {number}"
        raise NotFound(
            f"dataset {dataset.name!r} has {which}", details={"dataset": dataset.name, "version": number}
        )
    return version


def list_versions(session: Session, dataset: Dataset, page: PageParams) -> Page[DatasetVersion]:
    """A dataset's versions, newest first."""
    query = (
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
        .order_by(DatasetVersion.number.desc())
    )
    return paginate(session, query, page, with_total=True)


def create_version(
    session: Session,
    actor: Actor,
    dataset: Dataset,
    frame: pd.DataFrame,
    *,
    source: VersionSource,
    store: ArtifactStore,
    source_file: str = "",
    thresholds: QualityThresholds | None = None,
    base: pd.DataFrame | None = None,
    origins: RowOrigins | None = None,
    mailer: Mailer | None = None,
) -> NewVersion:
    """The version holding ``frame``'s accepted rows: new, or the existing one with the same content.

    With ``base`` (appends: the latest version's rows), the version holds ``base`` followed by the
    accepted rows, and a row repeating a key of ``base`` is quarantined too. Refused rows are kept
    in the quarantine (``origins`` says which append each came from); a version that fails its
    quality gate alerts the dataset's owners through ``mailer``.
    """
    require_in_project(
        session, actor, dataset.project_id, Permission.datasets_write, hide_as=f"dataset {dataset.name!r}"
    )
    schema = declared_schema(dataset)
    outcome = split_rows(frame, schema, declared_rules(dataset))
    parent = find_by_number(session, dataset, None)
    if base is not None and parent is not None:
        outcome = quarantine_repeats(outcome, frame, base, schema, parent.number)
        rows = pd.concat([base, outcome.accepted], ignore_index=True)
    else:
        rows = outcome.accepted
    data = canonical_bytes(rows, schema)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.content_hash == digest
        )
    )
    if existing is not None:
        if base is not None:  # appended rows all refused: they are new, and kept for review
            store_quarantined(session, dataset, existing, outcome, source=source.value, origins=origins)
        return NewVersion(existing, created=False)
    previous = QualityReport.model_validate(parent.quality).baseline if parent else None
    report = check_quality(
        frame, schema, outcome, previous=previous, thresholds=thresholds or QualityThresholds()
    )
    statistics = profile(rows, schema)
    version_id = new_id()
    key = f"datasets/{dataset.id}/versions/{version_id}.parquet"
    number = _take_number(session, dataset)
    changes = None
    if parent is not None:
        changes = _changes_from_parent(store, dataset, parent, rows, schema, statistics, report, number)
    store.put_bytes(key, data)
    after_rollback(session, lambda: discard(store, key))
    version = DatasetVersion(
        id=version_id,
        dataset_id=dataset.id,
        number=number,
        parent_id=parent.id if parent else None,
        content_hash=digest,
        size_bytes=len(data),
        row_count=len(rows),
        stored_schema=schema.model_dump(mode="json"),
        statistics=_json(list(statistics)),
        changes=_json(changes) if changes else None,
        quality=_json(report),
        quality_passed=report.passed,
        quarantine=_json(quarantine_summary(outcome)),
        artifact_key=key,
        source=source.value,
        source_file=source_file[:_SOURCE_FILE_LENGTH],
        created_by=actor.label_within(LABEL_LENGTH),
        created_by_user_id=actor.user_id,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError as exc:  # the same data became a version in a request that committed since
        raise Conflict(
            f"the same data was uploaded to dataset {dataset.name!r} at the same time; "
            "upload again to get that version",
            details={"dataset": dataset.name, "sha256": digest},
        ) from exc
    quarantined = store_quarantined(session, dataset, version, outcome, source=source.value, origins=origins)
    _record(session, actor, dataset, version, quarantined)
    if not report.passed and mailer is not None:
        alerts.quality_failed(session, dataset, version, report, quarantined=quarantined, mailer=mailer)
    return NewVersion(version, created=True)


def _take_number(session: Session, dataset: Dataset) -> int:
    number: int = session.execute(
        update(Dataset)
        .where(Dataset.id == dataset.id)
        .values(last_version=Dataset.last_version + 1)
        .returning(Dataset.last_version)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return number


def _changes_from_parent(
    store: ArtifactStore,
    dataset: Dataset,
    parent: DatasetVersion,
    accepted: pd.DataFrame,
    schema: DatasetSchema,
    statistics: list[ColumnStatistics],
    report: QualityReport,
    number: int,
) -> ChangeSummary:
    before = side_of(store, dataset, parent, columns_to_read(stored_schema(parent), schema))
    after = VersionSide(
        number=number, frame=accepted, schema=schema, statistics=statistics, baseline=report.baseline
    )
    return summarize_changes(before, after)


def stored_schema(version: DatasetVersion) -> DatasetSchema:
    return DatasetSchema.model_validate(version.stored_schema)


def side_of(
    store: ArtifactStore, dataset: Dataset, version: DatasetVersion, columns: list[str] | None
) -> VersionSide:
    """One version as a side of a comparison (its rows read, verified, whatever its quality)."""
    return VersionSide(
        number=version.number,
        frame=read_frame(version_bytes(store, dataset, version), columns),
        schema=stored_schema(version),
        statistics=[ColumnStatistics.model_validate(item) for item in version.statistics],
        baseline=QualityReport.model_validate(version.quality).baseline,
    )


def diff_versions(
    store: ArtifactStore, dataset: Dataset, before: DatasetVersion, after: DatasetVersion
) -> ChangeSummary:
    """What changed from ``before`` to ``after`` (any two versions of one dataset)."""
    after_side = side_of(store, dataset, after, None)
    before_side = side_of(store, dataset, before, columns_to_read(stored_schema(before), after_side.schema))
    return summarize_changes(before_side, after_side)


def quarantine_summary(outcome: RuleOutcome) -> QuarantineSummary:
    problems = outcome.violations
    by_reason: list[ReasonCount] = []
    if len(problems):
        grouped = problems.groupby(["check", "column", "rule"], sort=True)["row"].nunique()
        by_reason = [
            ReasonCount(check=str(check), column=str(column), rule=str(rule), rows=int(rows))
            for (check, column, rule), rows in grouped.items()
        ]
    return QuarantineSummary(
        rows=len(outcome.quarantined),
        by_reason=sorted(by_reason, key=lambda item: -item.rows),
        examples=outcome.reasons[:QUARANTINE_EXAMPLES],
    )


def _record(
    session: Session, actor: Actor, dataset: Dataset, version: DatasetVersion, quarantined: int
) -> None:
    audit.record(
        session,
        actor,
        "dataset_version.created",
        "dataset_version",
        version.id,
        {
            "dataset": dataset.name,
            "dataset_id": dataset.id,
            "number": version.number,
            "sha256": version.content_hash,
            "rows": version.row_count,
            "quarantined": quarantined,
            "quality_passed": version.quality_passed,
            "source": version.source,
        },
    )
    lineage_nodes.record_origin(
        session,
        actor,
        project_id=dataset.project_id,
        version_id=version.id,
        source=version.source,
        filename=version.source_file,
        digest=version.content_hash,
    )
    events.publish(
        session,
        DatasetVersionCreated(
            project_id=dataset.project_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            version_id=version.id,
            number=version.number,
            rows=version.row_count,
            quarantined=quarantined,
            quality_passed=version.quality_passed,
            source=version.source,
            actor_user_id=actor.user_id,
        ),
    )


def find_in_project(
    session: Session, project_id: str, name: str, number: int | None
) -> tuple[Dataset, DatasetVersion | None] | None:
    """For runs' inputs: the dataset ``name`` of a project and its version (None when it has no such
    version), or None when the project holds no dataset of that name. The caller checked access."""
    dataset = session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.name == name))
    if dataset is None:
        return None
    return dataset, find_by_number(session, dataset, number)
