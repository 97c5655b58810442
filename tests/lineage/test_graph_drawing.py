"""The lineage drawing: every edge points right, also where the service's levels (distance from the
root) put both ends of an edge in one column, and a cycle in stored edges still draws every node."""

from __future__ import annotations

from datetime import UTC, datetime

from kiln.lineage.schemas import Direction, LineageEdgeRead, LineageGraph, LineageNodeRead, Node, NodeKind
from kiln.ui.lineage.graph_layout import draw

NOW = datetime(2026, 12, 7, tzinfo=UTC)


def node(kind: NodeKind, ident: str, level: int) -> LineageNodeRead:
    return LineageNodeRead(kind=kind, id=ident, label=ident, level=level)


def edge(source: LineageNodeRead, target: LineageNodeRead, relation: str = "used") -> LineageEdgeRead:
    return LineageEdgeRead(
        source=Node(kind=source.kind, id=source.id),
        target=Node(kind=target.kind, id=target.id),
        relation=relation,
        created_at=NOW,
        created_by="test",
    )


def graph(nodes: list[LineageNodeRead], edges: list[LineageEdgeRead]) -> LineageGraph:
    root = nodes[0]
    return LineageGraph(
        root=Node(kind=root.kind, id=root.id),
        direction=Direction.both,
        depth=3,
        nodes=nodes,
        edges=edges,
        truncated=False,
    )


def test_an_edge_between_two_nodes_the_levels_put_in_one_column_points_right() -> None:
    # The dataset feeds both the run and, directly, the model version the run produced: seen from
    # the dataset, run and version are both one step away (level 1), yet the run comes first.
    data = node(NodeKind.dataset_version, "customers@3", 0)
    run = node(NodeKind.run, "run-1", 1)
    version = node(NodeKind.model_version, "fraud-v1", 1)
    drawing = draw(
        graph([data, run, version], [edge(data, run), edge(data, version), edge(run, version, "produced")])
    )

    x = {drawn.id: drawn.x for drawn in drawing.nodes}
    assert x["customers@3"] < x["run-1"] < x["fraud-v1"]
    assert len(drawing.edges) == 3
    assert all(drawn.path.startswith("M") for drawn in drawing.edges)


def test_a_cycle_in_stored_edges_still_draws_every_node_and_edge() -> None:
    a = node(NodeKind.run, "a", 0)
    b = node(NodeKind.run, "b", 1)
    drawing = draw(graph([a, b], [edge(a, b), edge(b, a)]))

    assert {drawn.id for drawn in drawing.nodes} == {"a", "b"}
    assert len(drawing.edges) == 2
