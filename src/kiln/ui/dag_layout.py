"""Where each node of a DAG is drawn, left to right: a layered layout in pure Python, shared by
the pipeline pages (steps and their ``needs``) and the lineage graphs (nodes and their sources).

A step's layer is the longest chain of steps it waits for (sources in layer 0), so every edge
points right. An edge that spans several layers passes through one waypoint per layer it crosses;
waypoints are ordered with the steps, so a long edge bends around the steps in between instead
of running through them. Within a layer, a few barycentre sweeps (down, then up) order the steps
and waypoints by the mean row of their neighbours; the order with the fewest crossings between
adjacent layers wins. Ties keep the definition order, so the same spec draws the same picture.

The words are a pipeline's (steps, needs); ``ui/lineage/graph_layout.py`` maps a lineage graph's
nodes onto them.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

NODE_WIDTH = 176
NODE_HEIGHT = 44
WAYPOINT_HEIGHT = 14  # the room a long edge takes in a layer it crosses
LAYER_GAP = 56
ROW_GAP = 14
MARGIN = 8
SWEEPS = 4
# A dense DAG of hundreds of layers would need millions of waypoints: past this, long edges are
# drawn as one curve (they may cross steps) rather than making the page slow to compute.
MAX_WAYPOINTS = 5_000


@dataclass(frozen=True, slots=True)
class PlacedNode:
    name: str
    layer: int
    row: int
    x: int  # top-left corner
    y: int
    upstream: tuple[str, ...]
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT


@dataclass(frozen=True, slots=True)
class PlacedEdge:
    source: str
    target: str
    # From the source's right side, through each waypoint's entry and exit, to the target's left side.
    points: tuple[tuple[int, int], ...]

    @property
    def path(self) -> str:
        """SVG path data: curves with horizontal tangents between layers, straight through waypoints."""
        (x, y), *rest = self.points
        parts = [f"M{x},{y}"]
        for index, (nx, ny) in enumerate(rest):
            if index % 2 == 0:  # across the gap between two layers
                bend = (nx - x) / 2
                parts.append(f"C{x + bend:g},{y} {nx - bend:g},{ny} {nx},{ny}")
            else:  # through a waypoint's column
                parts.append(f"L{nx},{ny}")
            x, y = nx, ny
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class DagLayout:
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]
    width: int
    height: int
    crossings: int  # between adjacent layers, of the order drawn


def layers(upstream: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each step's layer: 0 for a step that needs nothing, else one more than its deepest need.

    ``ValueError`` for a need that is not a step or a cycle (the spec's own check rejects both first).
    """
    for name, needs in upstream.items():
        unknown = [need for need in needs if need not in upstream]
        if unknown:
            raise ValueError(f"step {name!r} needs {unknown[0]!r}, which is not a step")
    waiting = {name: len(set(needs)) for name, needs in upstream.items()}
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    for name, needs in upstream.items():
        for need in dict.fromkeys(needs):
            downstream[need].append(name)
    layer = dict.fromkeys(upstream, 0)
    ready = [name for name, count in waiting.items() if count == 0]
    placed = 0
    while ready:
        name = ready.pop()
        placed += 1
        for below in downstream[name]:
            layer[below] = max(layer[below], layer[name] + 1)
            waiting[below] -= 1
            if waiting[below] == 0:
                ready.append(below)
    if placed != len(upstream):
        raise ValueError("the steps' needs form a cycle")
    return layer


class _Graph:
    """Steps and waypoints as numbered vertices, each with its neighbours in the adjacent layers."""

    def __init__(self, upstream: Mapping[str, Sequence[str]], layer_of: dict[str, int]) -> None:
        self.names = list(upstream)
        index = {name: number for number, name in enumerate(self.names)}
        self.layer = [layer_of[name] for name in self.names]
        self.above: list[list[int]] = [[] for _ in self.names]
        self.below: list[list[int]] = [[] for _ in self.names]
        # Each edge as its chain of vertices, source first.
        self.chains: list[tuple[str, str, list[int]]] = []
        pairs = [(need, name) for name, needs in upstream.items() for need in dict.fromkeys(needs)]
        spans = sum(layer_of[target] - layer_of[source] - 1 for source, target in pairs)
        self.routed = spans <= MAX_WAYPOINTS
        for source, target in pairs:
            chain = [index[source]]
            if self.routed:
                for crossed in range(layer_of[source] + 1, layer_of[target]):
                    chain.append(self._add_waypoint(crossed))
            chain.append(index[target])
            for upper, lower in pairwise(chain):
                self.below[upper].append(lower)
                self.above[lower].append(upper)
            self.chains.append((source, target, chain))

    def _add_waypoint(self, layer: int) -> int:
        self.layer.append(layer)
        self.above.append([])
        self.below.append([])
        return len(self.layer) - 1

    def is_step(self, vertex: int) -> bool:
        return vertex < len(self.names)


def _crossings(graph: _Graph, order: list[list[int]]) -> int:
    """Pairs of edges that cross between adjacent layers (inversions of their lower ends)."""
    row = {vertex: position for column in order for position, vertex in enumerate(column)}
    total = 0
    for column in order:
        ends = sorted(
            (row[vertex], row[lower])
            for vertex in column
            for lower in graph.below[vertex]
            if graph.layer[lower] == graph.layer[vertex] + 1
        )
        seen: list[int] = []
        for _, lower_row in ends:
            total += len(seen) - bisect_right(seen, lower_row)
            insort(seen, lower_row)
    return total


def _sweep(graph: _Graph, order: list[list[int]], *, downwards: bool) -> None:
    """Reorder each layer by the mean row of its neighbours in the layer already placed."""
    row = {vertex: position for column in order for position, vertex in enumerate(column)}
    indices = range(1, len(order)) if downwards else range(len(order) - 2, -1, -1)
    for index in indices:
        column = order[index]

        def barycentre(vertex: int) -> tuple[float, int]:
            neighbours = graph.above[vertex] if downwards else graph.below[vertex]
            if not neighbours:
                return (float(row[vertex]), row[vertex])
            return (sum(row[other] for other in neighbours) / len(neighbours), row[vertex])

        column.sort(key=barycentre)
        for position, vertex in enumerate(column):
            row[vertex] = position


def _ordered_layers(graph: _Graph) -> tuple[list[list[int]], int]:
    depth = max(graph.layer, default=-1) + 1
    order: list[list[int]] = [[] for _ in range(depth)]
    for vertex, layer in enumerate(graph.layer):
        order[layer].append(vertex)
    best, fewest = [list(column) for column in order], _crossings(graph, order)
    for sweep in range(SWEEPS * 2):
        if fewest == 0:
            break
        _sweep(graph, order, downwards=sweep % 2 == 0)
        crossings = _crossings(graph, order)
        if crossings < fewest:
            best, fewest = [list(column) for column in order], crossings
    return best, fewest


def layout(upstream: Mapping[str, Sequence[str]]) -> DagLayout:
    """Positions of every step (``{name: the steps it needs}``, in definition order) and edge."""
    graph = _Graph(upstream, layers(upstream))
    order, crossings = _ordered_layers(graph)

    def slot(vertex: int) -> int:
        return NODE_HEIGHT if graph.is_step(vertex) else WAYPOINT_HEIGHT

    heights = [sum(slot(vertex) for vertex in column) + ROW_GAP * max(len(column) - 1, 0) for column in order]
    tallest = max(heights, default=0)
    centre: dict[int, tuple[int, int]] = {}  # vertex -> (left x, middle y)
    nodes: list[PlacedNode] = []
    for index, column in enumerate(order):
        x = MARGIN + index * (NODE_WIDTH + LAYER_GAP)
        y = MARGIN + (tallest - heights[index]) // 2  # layers centred on each other
        for position, vertex in enumerate(column):
            centre[vertex] = (x, y + slot(vertex) // 2)
            if graph.is_step(vertex):
                name = graph.names[vertex]
                needs = tuple(dict.fromkeys(upstream[name]))
                nodes.append(PlacedNode(name, index, position, x, y, needs))
            y += slot(vertex) + ROW_GAP
    edges = []
    for source, target, chain in graph.chains:
        sx, sy = centre[chain[0]]
        points = [(sx + NODE_WIDTH, sy)]
        for waypoint in chain[1:-1]:
            wx, wy = centre[waypoint]
            points += [(wx, wy), (wx + NODE_WIDTH, wy)]
        points.append(centre[chain[-1]])
        edges.append(PlacedEdge(source, target, tuple(points)))
    depth = len(order)
    width = MARGIN * 2 + depth * NODE_WIDTH + max(depth - 1, 0) * LAYER_GAP
    nodes.sort(key=lambda node: (node.layer, node.row))
    return DagLayout(tuple(nodes), tuple(edges), width, MARGIN * 2 + tallest, crossings)
