"""Lineage I/O schemas: node kinds, node references, and the graph the API answers.

A node is ``(kind, id)``; the id is the owning domain's own (a run's id, a dataset's
``name@version``). Kinds are fixed here so every domain and the SDK spell them the same; a new
kind of edge needs no schema change, only a relation name.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from kiln.core.errors import ValidationFailed
from kiln.core.schemas import ReadSchema

NODE_ID_LENGTH = 512
RELATION_LENGTH = 64
MAX_DEPTH = 10
DEFAULT_DEPTH = 3


class NodeKind(StrEnum):
    source = "source"  # an upload or an ingestion endpoint
    dataset_version = "dataset_version"
    run = "run"
    model_version = "model_version"
    deployment = "deployment"
    prediction = "prediction"
    pipeline_run = "pipeline_run"
    step_output = "step_output"

    @property
    def label(self) -> str:
        """How a message names the kind: ``dataset version``."""
        return self.value.replace("_", " ")


class Direction(StrEnum):
    upstream = "upstream"  # what the node came from
    downstream = "downstream"  # what came from the node
    both = "both"


def parse_kind(value: str) -> NodeKind:
    """The kind a caller typed, or a 422 listing the kinds there are."""
    try:
        return NodeKind(value)
    except ValueError:
        kinds = ", ".join(kind.value for kind in NodeKind)
        raise ValidationFailed(
            f"unknown node kind {value!r}; use one of: {kinds}",
            details={"kinds": [k.value for k in NodeKind]},
        ) from None


class Node(ReadSchema):
    """A reference to one node; hashable, so a walk can keep sets of them."""

    model_config = ConfigDict(frozen=True)

    kind: NodeKind
    id: Annotated[str, Field(min_length=1, max_length=NODE_ID_LENGTH)]

    def __str__(self) -> str:
        return f"{self.kind.label} {self.id!r}"


class LineageNodeRead(ReadSchema):
    kind: NodeKind
    id: str
    # What the owning domain calls it and where its page is (the id and None when nobody describes it).
    label: str
    url: str | None = None
    # Steps from the graph's root: negative upstream, positive downstream, 0 for the root.
    level: int


class LineageEdgeRead(ReadSchema):
    source: Node
    target: Node
    relation: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    created_by: str


class LineageGraph(ReadSchema):
    """The nodes within ``depth`` steps of ``root`` and the edges between them that the caller may see.

    ``truncated`` is true when the walk stopped at the node cap before reaching ``depth``.
    """

    root: Node
    direction: Direction
    depth: int
    nodes: list[LineageNodeRead]
    edges: list[LineageEdgeRead]
    truncated: bool = False
