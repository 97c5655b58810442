"""Where each node and edge of a lineage graph goes in a left-to-right SVG, computed on the server.

The layout is the pipelines' DAG layout (``ui/dag_layout.py``): a node's column is the longest
chain of sources before it, so every edge points right even where the lineage service's levels
(distance from the root) would put both ends in one column; long edges bend around the nodes they
pass. Lineage is acyclic by nature; should stored edges ever form a cycle, only the edges that go
from a lower level to a higher one are laid out and the rest are drawn as plain curves. The
template ``lineage/graph.html`` only emits what is computed here, so a page needs no script.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.lineage.schemas import LineageEdgeRead, LineageGraph, LineageNodeRead, Node
from kiln.ui import dag_layout
from kiln.ui.dag_layout import DagLayout

LABEL_CHARACTERS = 24


@dataclass(frozen=True, slots=True)
class DrawnNode:
    kind: str
    kind_label: str
    id: str
    label: str
    short_label: str
    url: str | None
    x: int
    y: int
    is_root: bool
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class DrawnEdge:
    path: str
    relation: str
    title: str
    label_x: int
    label_y: int


@dataclass(frozen=True, slots=True)
class GraphDrawing:
    width: int
    height: int
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]
    truncated: bool


def shorten(text: str, length: int = LABEL_CHARACTERS) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _key(kind: str, ident: str) -> str:
    return f"{kind}:{ident}"


def _ends(edge: LineageEdgeRead) -> tuple[str, str]:
    return _key(edge.source.kind, edge.source.id), _key(edge.target.kind, edge.target.id)


def _laid_out(graph: LineageGraph) -> tuple[DagLayout, set[tuple[str, str]]]:
    """The layout, and the edges it routed (all of them unless the stored edges hold a cycle)."""
    level = {_key(node.kind, node.id): node.level for node in graph.nodes}
    pairs = [ends for ends in map(_ends, graph.edges) if ends[0] in level and ends[1] in level]
    rising = {ends for ends in pairs if level[ends[0]] < level[ends[1]]}
    for routed in (set(pairs), rising):
        upstream: dict[str, list[str]] = {key: [] for key in level}  # the service's order: ties stay put
        for source, target in pairs:
            if (source, target) in routed:
                upstream[target].append(source)
        try:
            return dag_layout.layout(upstream), routed
        except ValueError:  # a cycle: lay out only the edges that go up the levels
            continue
    raise AssertionError("edges between strictly increasing levels cannot form a cycle")


def _curve(source: DrawnNode, target: DrawnNode) -> tuple[str, int, int]:
    """A plain curve for an edge the layout did not route, and its label's place."""
    x1, y1 = source.x + source.width, source.y + source.height // 2
    x2, y2 = target.x, target.y + target.height // 2
    bend = max(abs(x2 - x1) // 2, 30)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}", (x1 + x2) // 2, (y1 + y2) // 2 - 4


def draw(graph: LineageGraph) -> GraphDrawing:
    laid_out, routed = _laid_out(graph)
    nodes_by_key: dict[str, LineageNodeRead] = {_key(node.kind, node.id): node for node in graph.nodes}
    placed: dict[str, DrawnNode] = {}
    for spot in laid_out.nodes:
        node = nodes_by_key[spot.name]
        placed[spot.name] = DrawnNode(
            kind=node.kind.value,
            kind_label=node.kind.label,
            id=node.id,
            label=node.label,
            short_label=shorten(node.label),
            url=node.url,
            x=spot.x,
            y=spot.y,
            is_root=Node(kind=node.kind, id=node.id) == graph.root,
            width=spot.width,
            height=spot.height,
        )
    paths = {(edge.source, edge.target): edge for edge in laid_out.edges}
    edges = []
    for edge in graph.edges:
        ends = _ends(edge)
        if ends[0] not in placed or ends[1] not in placed:
            continue  # an end past the graph's node limit
        source, target = placed[ends[0]], placed[ends[1]]
        if ends in routed:
            path_edge = paths[ends]
            (x1, y1), (x2, y2) = path_edge.points[0], path_edge.points[1]
            path, label_x, label_y = path_edge.path, (x1 + x2) // 2, (y1 + y2) // 2 - 4
        else:
            path, label_x, label_y = _curve(source, target)
        edges.append(
            DrawnEdge(
                path=path,
                relation=edge.relation,
                title=f"{source.label} → {target.label} ({edge.relation})",
                label_x=label_x,
                label_y=label_y,
            )
        )
    nodes = sorted(placed.values(), key=lambda node: (node.x, node.y))
    return GraphDrawing(
        width=laid_out.width, height=laid_out.height, nodes=nodes, edges=edges, truncated=graph.truncated
    )
