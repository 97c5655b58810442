"""Where each node and edge of a lineage graph goes in a left-to-right SVG, computed on the server.

Columns are the nodes' levels (upstream to the left of the root, downstream to the right); within
a column, nodes are ordered by the mean row of their neighbours in the column before (one
barycentre sweep: fewer crossings, and cheap). The template ``lineage/graph.html`` only emits what
is computed here, so a page needs no script to show the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.lineage.schemas import LineageGraph, LineageNodeRead, Node

NODE_WIDTH = 180
NODE_HEIGHT = 46
COLUMN_GAP = 70
ROW_GAP = 18
MARGIN = 12
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
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT


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


def _key(kind: str, ident: str) -> tuple[str, str]:
    return (kind, ident)


def _ordered_columns(graph: LineageGraph) -> list[list[LineageNodeRead]]:
    columns: dict[int, list[LineageNodeRead]] = {}
    for node in graph.nodes:
        columns.setdefault(node.level, []).append(node)
    neighbours: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge in graph.edges:
        source, target = _key(edge.source.kind, edge.source.id), _key(edge.target.kind, edge.target.id)
        neighbours.setdefault(source, []).append(target)
        neighbours.setdefault(target, []).append(source)
    ordered: list[list[LineageNodeRead]] = []
    rows: dict[tuple[str, str], float] = {}
    for level in sorted(columns):
        column = columns[level]  # already by kind and label (the service sorts them)

        def barycentre(node: LineageNodeRead, position: int) -> tuple[float, int]:
            placed = [rows[other] for other in neighbours.get(_key(node.kind, node.id), []) if other in rows]
            return (sum(placed) / len(placed) if placed else float(position), position)

        column = [
            node
            for _, node in sorted(((barycentre(n, i), n) for i, n in enumerate(column)), key=lambda p: p[0])
        ]
        for row, node in enumerate(column):
            rows[_key(node.kind, node.id)] = float(row)
        ordered.append(column)
    return ordered


def draw(graph: LineageGraph) -> GraphDrawing:
    columns = _ordered_columns(graph)
    tallest = max((len(column) for column in columns), default=1)
    height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP
    width = MARGIN * 2 + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * COLUMN_GAP
    root = graph.root
    placed: dict[tuple[str, str], DrawnNode] = {}
    for index, column in enumerate(columns):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        column_height = len(column) * NODE_HEIGHT + (len(column) - 1) * ROW_GAP
        top = (height - column_height) // 2  # columns centred on each other
        for row, node in enumerate(column):
            placed[_key(node.kind, node.id)] = DrawnNode(
                kind=node.kind.value,
                kind_label=node.kind.label,
                id=node.id,
                label=node.label,
                short_label=shorten(node.label),
                url=node.url,
                x=x,
                y=top + row * (NODE_HEIGHT + ROW_GAP),
                is_root=Node(kind=node.kind, id=node.id) == root,
            )
    edges = []
    for edge in graph.edges:
        source = placed.get(_key(edge.source.kind, edge.source.id))
        target = placed.get(_key(edge.target.kind, edge.target.id))
        if source is None or target is None:
            continue
        x1, y1 = source.x + source.width, source.y + source.height // 2
        x2, y2 = target.x, target.y + target.height // 2
        if x2 <= x1:  # an edge within one column (or backwards): leave right, come back in on the left
            x1, x2 = source.x + source.width, target.x + target.width
            bend = COLUMN_GAP
            path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 + bend},{y2} {x2},{y2}"
        else:
            bend = max((x2 - x1) // 2, 30)
            path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
        edges.append(
            DrawnEdge(
                path=path,
                relation=edge.relation,
                title=f"{source.label} → {target.label} ({edge.relation})",
                label_x=(x1 + x2) // 2,
                label_y=(y1 + y2) // 2 - 4,
            )
        )
    nodes = sorted(placed.values(), key=lambda node: (node.x, node.y))
    return GraphDrawing(width=width, height=height, nodes=nodes, edges=edges, truncated=graph.truncated)
