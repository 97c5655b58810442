"""The lineage table: one row per edge between two typed nodes.

Nodes have no table of their own: they are the owning domains' rows (runs, model versions, ...),
named by ``(kind, id)``. An edge is unique on its ends and relation, so recording it twice is
harmless; the two indexes serve walks downstream (by source) and upstream (by target).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiln.core.db import Base, IdMixin, JSONType
from kiln.core.ids import utcnow
from kiln.lineage.schemas import NODE_ID_LENGTH, RELATION_LENGTH

KIND_LENGTH = 32
ACTOR_LABEL_LENGTH = 256


class LineageEdge(IdMixin, Base):
    __tablename__ = "lineage_edges"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id", "target_kind", "target_id", "relation"),
        Index("ix_lineage_edges_source", "source_kind", "source_id"),
        Index("ix_lineage_edges_target", "target_kind", "target_id"),
    )

    # The project both ends belong to (NULL: not project-owned; then only administrators see it).
    # A plain string, not a foreign key: lineage sits below auth and never joins its tables.
    project_id: Mapped[str | None] = mapped_column(String(36), index=True)
    source_kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    source_id: Mapped[str] = mapped_column(String(NODE_ID_LENGTH))
    target_kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    target_id: Mapped[str] = mapped_column(String(NODE_ID_LENGTH))
    relation: Mapped[str] = mapped_column(String(RELATION_LENGTH))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LABEL_LENGTH), default="")
