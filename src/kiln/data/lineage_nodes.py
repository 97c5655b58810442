"""The data domain's part of lineage: dataset versions as nodes, and the edge from their source.

``register_lineage_nodes`` is called once by ``app.py``; lineage never imports data. A version gets
``source --source_of--> dataset_version``, the source named by how it came, the file and the data's
digest (``upload:telemetry.csv@1a2b3c4d5e6f``); runs that name the version as an input add
``dataset_version --trained_on--> run`` (tracking), so a model version's walk upstream reaches it.
Runs' inputs that name no dataset Kiln holds keep their own ids (``customers@3``); lineage judges
those by their edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.data.models import Dataset, DatasetVersion
from kiln.lineage import service as lineage
from kiln.lineage.describers import NodeInfo, register_describer
from kiln.lineage.schemas import Node, NodeKind

SOURCE_OF = "source_of"
_FILE_NAME_KEPT = 200


def describe_versions(session: Session, ids: Sequence[str]) -> dict[str, NodeInfo]:
    rows = session.execute(
        select(DatasetVersion.id, DatasetVersion.number, Dataset.name, Dataset.project_id)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id.in_(ids))
    )
    return {
        row.id: NodeInfo(label=f"{row.name} v{row.number}", url=None, project_id=row.project_id)
        for row in rows
    }


def register_lineage_nodes() -> None:
    register_describer(NodeKind.dataset_version, describe_versions)


def version_node(version_id: str) -> Node:
    return Node(kind=NodeKind.dataset_version, id=version_id)


def source_node(source: str, filename: str, digest: str) -> Node:
    name = PurePosixPath(filename.replace("\\", "/")).name[:_FILE_NAME_KEPT] or "dataframe"
    return Node(kind=NodeKind.source, id=f"{source}:{name}@{digest[:12]}")


def record_origin(
    session: Session,
    actor: Actor,
    *,
    project_id: str,
    version_id: str,
    source: str,
    filename: str,
    digest: str,
) -> None:
    """The edge from where a new version came from (in its creation's transaction; ``created_by``
    on the edge says who)."""
    attributes = {"source": source, "sha256": digest} | ({"file": filename} if filename else {})
    lineage.record_edge(
        session,
        source=source_node(source, filename, digest),
        target=version_node(version_id),
        relation=SOURCE_OF,
        project_id=project_id,
        actor=actor,
        attributes=attributes,
    )
