"""The registry's read models, each built once: the API, the UI, the CLI (through the SDK) use these.

A version's read carries its model's name, its files, params and metrics, its signature from
the descriptor, the aliases pointing at it and its pending approval request: none of them a column
of ``model_versions``, so each list loads them in one query per child table, not one per version.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.pagination import Page
from kiln.registry.model_format import ModelDescriptor
from kiln.registry.models import (
    Approval,
    ModelAlias,
    ModelVersion,
    ModelVersionFile,
    ModelVersionMetric,
    ModelVersionParam,
    RegisteredModel,
)
from kiln.registry.schemas import ApprovalStatus, ModelRead, ModelVersionRead, Stage, VersionFileRead
from kiln.registry.service import count_versions

_LIVE_STAGES = (Stage.staging.value, Stage.production.value)


def model_reads(session: Session, rows: Sequence[RegisteredModel]) -> list[ModelRead]:
    """Models with their version counts and which numbers are in staging and production."""
    ids = [row.id for row in rows]
    counts = count_versions(session, ids)
    stages: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    live = session.execute(
        select(ModelVersion.model_id, ModelVersion.stage, ModelVersion.number)
        .where(ModelVersion.model_id.in_(ids), ModelVersion.stage.in_(_LIVE_STAGES))
        .order_by(ModelVersion.number)
    )
    for model_id, stage, number in live:
        stages[model_id][stage].append(number)
    return [
        ModelRead.model_validate(row).model_copy(
            update={
                "latest_version": row.last_version,
                "version_count": counts.get(row.id, 0),
                "stages": dict(stages.get(row.id, {})),
            }
        )
        for row in rows
    ]


def model_read(session: Session, row: RegisteredModel) -> ModelRead:
    return model_reads(session, [row])[0]


def model_page(session: Session, page: Page[RegisteredModel]) -> Page[ModelRead]:
    return page.with_items(model_reads(session, page.items))


def version_reads(session: Session, rows: Sequence[ModelVersion]) -> list[ModelVersionRead]:
    ids = [row.id for row in rows]
    models = {
        model.id: model
        for model in session.scalars(
            select(RegisteredModel).where(RegisteredModel.id.in_({row.model_id for row in rows}))
        )
    }
    files: dict[str, list[VersionFileRead]] = defaultdict(list)
    for file in session.scalars(
        select(ModelVersionFile).where(ModelVersionFile.version_id.in_(ids)).order_by(ModelVersionFile.path)
    ):
        files[file.version_id].append(VersionFileRead.model_validate(file))
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for param in session.scalars(
        select(ModelVersionParam).where(ModelVersionParam.version_id.in_(ids)).order_by(ModelVersionParam.key)
    ):
        params[param.version_id][param.key] = param.value
    metrics: dict[str, dict[str, float | None]] = defaultdict(dict)
    for metric in session.scalars(
        select(ModelVersionMetric)
        .where(ModelVersionMetric.version_id.in_(ids))
        .order_by(ModelVersionMetric.key)
    ):
        metrics[metric.version_id][metric.key] = metric.value
    aliases: dict[str, list[str]] = defaultdict(list)
    for version_id, alias in session.execute(
        select(ModelAlias.version_id, ModelAlias.alias)
        .where(ModelAlias.version_id.in_(ids))
        .order_by(ModelAlias.alias)
    ):
        aliases[version_id].append(alias)
    # One pending request per version at most (a partial unique index).
    waiting = select(Approval.version_id, Approval.id).where(
        Approval.version_id.in_(ids), Approval.status == ApprovalStatus.pending.value
    )
    pending: dict[str, str] = {row.version_id: row.id for row in session.execute(waiting)}
    reads = []
    for row in rows:
        model = models[row.model_id]
        descriptor = ModelDescriptor.model_validate(row.descriptor)
        reads.append(
            ModelVersionRead.model_validate(
                {
                    "id": row.id,
                    "model_id": row.model_id,
                    "model_name": model.name,
                    "project_id": model.project_id,
                    "number": row.number,
                    "label": row.label,
                    "description": row.description,
                    "tags": row.tags,
                    "stage": row.stage,
                    "status": row.status,
                    "flavor": row.flavor,
                    "serialization": row.serialization,
                    "estimator_class": descriptor.estimator_class,
                    "source": row.source,
                    "source_run_id": row.source_run_id,
                    "signature": descriptor.signature,
                    "example_input": descriptor.example_input,
                    "params": params.get(row.id, {}),
                    "metrics": metrics.get(row.id, {}),
                    "environment": row.environment,
                    "training_inputs": row.training_inputs,
                    "files": files.get(row.id, []),
                    "size_bytes": row.size_bytes,
                    "gate_results": row.gate_results,
                    "aliases": aliases.get(row.id, []),
                    "pending_approval_id": pending.get(row.id),
                    "created_by": row.created_by,
                    "created_at": row.created_at,
                    "updated_at": row.updated_at,
                }
            )
        )
    return reads


def version_read(session: Session, row: ModelVersion) -> ModelVersionRead:
    return version_reads(session, [row])[0]


def version_page(session: Session, page: Page[ModelVersion]) -> Page[ModelVersionRead]:
    return page.with_items(version_reads(session, page.items))
