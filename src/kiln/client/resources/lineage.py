"""``client.lineage``: the graph of where a thing came from and what came of it."""

from __future__ import annotations

from kiln.client.resources.base import Resource, segment
from kiln.lineage.schemas import DEFAULT_DEPTH, Direction, LineageGraph, NodeKind


class LineageResource(Resource):
    def get(
        self,
        kind: NodeKind | str,
        node_id: str,
        *,
        depth: int = DEFAULT_DEPTH,
        direction: Direction | str = Direction.both,
    ) -> LineageGraph:
        """The nodes within ``depth`` steps (at most 10) of one node and the edges between them.

        ``kind`` is a ``NodeKind`` (``"run"``, ``"dataset_version"``, ``"model_version"``, ...);
        ``direction`` is ``"upstream"`` (what it came from), ``"downstream"`` (what came of it) or
        ``"both"``. Only edges in the caller's projects are returned; ``truncated`` says the walk
        stopped at the server's node cap. Raises ``kiln.NotFound`` for a node the caller cannot see.
        """
        data = self.transport.request(
            "GET",
            f"/lineage/{segment(str(kind))}/{segment(node_id)}",
            params={"depth": depth, "direction": str(direction)},
        )
        return LineageGraph.model_validate(data)
