"""The registry's part of lineage: model versions as nodes, and the edge to where each came from.

``register_lineage_nodes`` is called once by ``app.py``; lineage never imports the registry.
A version registered from a run gets ``run --registered_from--> model_version`` (the run's own
inputs are already ``dataset_version --trained_on--> run``, so the walk reaches them through it). A
version uploaded or sent by the SDK has no run: it gets ``source --registered_from-->
model_version``, the source named by how it came, the file and the payload's digest
(``upload:fraud.skops@1a2b3c4d5e6f``), so the same bytes uploaded twice share one source node.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.lineage import service as lineage
from kiln.lineage.describers import NodeInfo, register_describer
from kiln.lineage.schemas import Node, NodeKind
from kiln.registry.models import ModelVersion, RegisteredModel
from kiln.registry.schemas import PIPELINE_RUN_TAG, PIPELINE_STEP_TAG

REGISTERED_FROM = "registered_from"
_FILE_NAME_KEPT = 200  # of an uploaded file's name, in the source node's id


def version_label(model_name: str, number: int, label: str | None) -> str:
    """``fraud_detector v3 (1.0.0)``."""
    return f"{model_name} v{number}" + (f" ({label})" if label else "")


def describe_versions(session: Session, ids: Sequence[str]) -> dict[str, NodeInfo]:
    rows = session.execute(
        select(
            ModelVersion.id,
            ModelVersion.number,
            ModelVersion.label,
            RegisteredModel.name,
            RegisteredModel.project_id,
        )
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(ModelVersion.id.in_(ids))
    )
    return {
        row.id: NodeInfo(
            label=version_label(row.name, row.number, row.label),
            url=f"/models/{row.name}/versions/{row.number}",
            project_id=row.project_id,
        )
        for row in rows
    }


def register_lineage_nodes() -> None:
    register_describer(NodeKind.model_version, describe_versions)


def version_node(version_id: str) -> Node:
    return Node(kind=NodeKind.model_version, id=version_id)


def file_name(filename: str | None) -> str:
    """An uploaded file's own name (no client folders), cut to what a node id keeps."""
    return PurePosixPath((filename or "").replace("\\", "/")).name[:_FILE_NAME_KEPT]


def upload_node(source: str, filename: str | None, digest: str | None) -> Node:
    """The source an upload or SDK version came from: how, which file, which bytes."""
    ident = f"{source}:{file_name(filename) or 'model'}" + (f"@{digest[:12]}" if digest else "")
    return Node(kind=NodeKind.source, id=ident)


def record_origin(
    session: Session,
    actor: Actor,
    *,
    project_id: str,
    version_id: str,
    source: str,
    run_id: str | None,
    filename: str | None = None,
    digest: str | None = None,
) -> None:
    """The edge from where a newly registered version came from (in its registration's transaction)."""
    if run_id is not None:
        origin = Node(kind=NodeKind.run, id=run_id)
        attributes = {"source": source}
    else:
        origin = upload_node(source, filename, digest)
        found = (("file", file_name(filename)), ("sha256", digest))
        attributes = {key: value for key, value in found if value}
    lineage.record_edge(
        session,
        source=origin,
        target=version_node(version_id),
        relation=REGISTERED_FROM,
        project_id=project_id,
        actor=actor,
        attributes=attributes,
    )


def versions_registered_in_run(
    session: Session, project_id: str, *, pipeline_run: str, since: datetime
) -> dict[str, list[str]]:
    """Ids of the project's versions registered since ``since`` by pipeline run ``pipeline_run``, by
    step (the SDK tags a version it registers inside a step; pipelines link it in lineage)."""
    rows = session.execute(
        select(ModelVersion.id, ModelVersion.tags)
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(RegisteredModel.project_id == project_id, ModelVersion.created_at >= since)
    )
    by_step: dict[str, list[str]] = {}
    for row in rows:
        tags = row.tags or {}
        step = tags.get(PIPELINE_STEP_TAG)
        if tags.get(PIPELINE_RUN_TAG) == pipeline_run and isinstance(step, str):
            by_step.setdefault(step, []).append(row.id)
    return by_step
