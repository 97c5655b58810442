"""Recording lineage edges and walking the graph around a node.

Any domain records its edges here as things happen (``record_edge``: insert-or-ignore, so a retry
or a second recording of the same fact is harmless) and removes a node's edges when it deletes the
node (``delete_edges_for``). ``graph`` walks level by level, one query per level, bounded in depth
and in nodes, and only over edges in the projects the caller may read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.db import upsert_rows
from kiln.core.errors import Invalid, NotFound, ValidationFailed
from kiln.core.ids import new_id, utcnow
from kiln.lineage.describers import NodeInfo, describe, describer_for
from kiln.lineage.models import ACTOR_LABEL_LENGTH, LineageEdge
from kiln.lineage.schemas import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    Direction,
    LineageEdgeRead,
    LineageGraph,
    LineageNodeRead,
    Node,
    NodeKind,
)

# A graph drawn in a page stays readable, and one answer stays small, whatever hangs off a node
# (a model version may later have millions of predictions downstream).
MAX_NODES = 500
# Edges read per level: a hub node's fan-out is cut here (and the answer says truncated).
MAX_EDGES_PER_LEVEL = 2000
MAX_ATTRIBUTES_BYTES = 4096  # an input's URI (up to 2,048) and digest fit
_RELATION = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EDGE_KEY = ["source_kind", "source_id", "target_kind", "target_id", "relation"]


def record_edge(
    session: Session,
    *,
    source: Node,
    target: Node,
    relation: str,
    project_id: str | None,
    actor: Actor,
    attributes: dict[str, Any] | None = None,
) -> None:
    """Record ``source --relation--> target`` in ``project_id`` (the project both ends belong to).

    Recording the same edge again changes nothing (the first recording's attributes stay). Runs in
    the caller's transaction: an edge of something that rolls back is rolled back with it.
    """
    record_edges(session, [(source, target, relation, attributes)], project_id=project_id, actor=actor)


EdgeIn = tuple[Node, Node, str, dict[str, Any] | None]


def record_edges(session: Session, edges: Iterable[EdgeIn], *, project_id: str | None, actor: Actor) -> None:
    """Many edges ``(source, target, relation, attributes)`` of one project in one statement (a
    pipeline run's outputs), each checked and recorded as ``record_edge`` records one."""
    created_by = actor.label_within(ACTOR_LABEL_LENGTH)
    now = utcnow()
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for source, target, relation, attributes in edges:
        row = _edge_row(source, target, relation, attributes or {})
        rows.setdefault(tuple(row[key] for key in _EDGE_KEY), row)
    for row in rows.values():
        row.update(id=new_id(), project_id=project_id, created_at=now, created_by=created_by)
    upsert_rows(session, LineageEdge.__table__, list(rows.values()), key=_EDGE_KEY, update=[])


def _edge_row(source: Node, target: Node, relation: str, attributes: dict[str, Any]) -> dict[str, Any]:
    if source == target:
        raise Invalid(f"a lineage edge joins two different nodes; both ends are {source}")
    if not _RELATION.match(relation):
        raise Invalid(
            f"relation {relation!r} is not a short name: use lowercase letters, digits and '_' "
            "(at most 64), e.g. 'trained_on'"
        )
    try:
        size = len(json.dumps(attributes, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise Invalid(f"lineage edge attributes must be plain JSON: {exc}") from None
    if size > MAX_ATTRIBUTES_BYTES:
        raise Invalid(f"lineage edge attributes take {size} bytes as JSON; at most {MAX_ATTRIBUTES_BYTES}")
    return {
        "source_kind": source.kind.value,
        "source_id": source.id,
        "target_kind": target.kind.value,
        "target_id": target.id,
        "relation": relation,
        "attributes": attributes,
    }


def delete_edges_for(session: Session, node: Node) -> int:
    """Remove every edge into or out of ``node`` (its domain is deleting it); returns how many."""
    result = session.execute(delete(LineageEdge).where(_touches(node)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def graph(
    session: Session,
    node: Node,
    *,
    depth: int = DEFAULT_DEPTH,
    direction: Direction | str = Direction.both,
    visible_projects: frozenset[str] | None,
) -> LineageGraph:
    """The nodes within ``depth`` steps of ``node`` and the edges between them.

    ``visible_projects`` are the caller's readable projects (``None``: every project, for
    administrators). A start node the caller may not see answers ``NotFound`` naming it, exactly
    as one that does not exist; edges of other projects are left out of the walk.
    """
    if not 0 <= depth <= MAX_DEPTH:
        raise ValidationFailed(f"depth must be between 0 and {MAX_DEPTH}, not {depth}")
    direction = Direction(direction)
    root_info = _require_visible(session, node, visible_projects)
    levels: dict[Node, int] = {node: 0}
    kept: dict[str, LineageEdge] = {}
    upstream = {node} if direction in (Direction.upstream, Direction.both) else set()
    downstream = {node} if direction in (Direction.downstream, Direction.both) else set()
    truncated = False
    for step in range(1, depth + 1):
        if not upstream and not downstream:
            break
        rows = _edges_touching(session, upstream, downstream, visible_projects)
        if len(rows) > MAX_EDGES_PER_LEVEL:
            truncated, rows = True, rows[:MAX_EDGES_PER_LEVEL]
        next_upstream: set[Node] = set()
        next_downstream: set[Node] = set()
        for edge in rows:
            source, target = _source(edge), _target(edge)
            reached = []
            if source in downstream:
                reached.append((target, step, next_downstream))
            if target in upstream:
                reached.append((source, -step, next_upstream))
            for other, level, frontier in reached:
                if other not in levels:
                    if len(levels) >= MAX_NODES:
                        truncated = True
                        continue
                    levels[other] = level
                    frontier.add(other)
                kept[edge.id] = edge
        upstream, downstream = next_upstream, next_downstream
    return LineageGraph(
        root=node,
        direction=direction,
        depth=depth,
        nodes=_node_reads(session, levels, root_info),
        edges=[_edge_read(edge) for edge in kept.values()],
        truncated=truncated,
    )


def _require_visible(session: Session, node: Node, visible: frozenset[str] | None) -> NodeInfo | None:
    """The root's description; NotFound when it does not exist or lies in a project the caller cannot read."""
    if describer_for(node.kind) is not None:
        info = describe(session, node.kind, [node.id]).get(node.id)
        if info is not None:
            if visible is None or info.project_id is None or info.project_id in visible:
                return info
            raise NotFound(f"{node} not found")
    # No domain owns the kind, or its domain does not hold this node (a run's input naming a dataset
    # Kiln does not keep, such as ``customers@3``): the node exists where its visible edges are.
    query = select(LineageEdge.id).where(_touches(node))
    if visible is not None:
        query = query.where(LineageEdge.project_id.in_(visible))
    if session.scalar(query.limit(1)) is None:
        raise NotFound(f"{node} not found")
    return None


def _touches(node: Node) -> Any:
    kind = node.kind.value
    return or_(
        and_(LineageEdge.source_kind == kind, LineageEdge.source_id == node.id),
        and_(LineageEdge.target_kind == kind, LineageEdge.target_id == node.id),
    )


def _pairs(nodes: Iterable[Node]) -> list[tuple[str, str]]:
    return sorted((node.kind.value, node.id) for node in nodes)


def _edges_touching(
    session: Session, upstream: set[Node], downstream: set[Node], visible: frozenset[str] | None
) -> list[LineageEdge]:
    """One level of the walk in one query: edges out of the downstream frontier, into the upstream one."""
    conditions = []
    if downstream:
        conditions.append(tuple_(LineageEdge.source_kind, LineageEdge.source_id).in_(_pairs(downstream)))
    if upstream:
        conditions.append(tuple_(LineageEdge.target_kind, LineageEdge.target_id).in_(_pairs(upstream)))
    query = select(LineageEdge).where(or_(*conditions))
    if visible is not None:
        query = query.where(LineageEdge.project_id.in_(visible))
    # Oldest first, so a cut at the cap is the same on every call.
    query = query.order_by(LineageEdge.created_at, LineageEdge.id).limit(MAX_EDGES_PER_LEVEL + 1)
    return list(session.scalars(query))


def _source(edge: LineageEdge) -> Node:
    return Node(kind=NodeKind(edge.source_kind), id=edge.source_id)


def _target(edge: LineageEdge) -> Node:
    return Node(kind=NodeKind(edge.target_kind), id=edge.target_id)


def _edge_read(edge: LineageEdge) -> LineageEdgeRead:
    return LineageEdgeRead(
        source=_source(edge),
        target=_target(edge),
        relation=edge.relation,
        attributes=edge.attributes or {},
        created_at=edge.created_at,
        created_by=edge.created_by,
    )


def _node_reads(
    session: Session, levels: dict[Node, int], root_info: NodeInfo | None
) -> list[LineageNodeRead]:
    by_kind: dict[NodeKind, list[str]] = {}
    for node, level in levels.items():
        if level != 0 or root_info is None:  # the root was described already
            by_kind.setdefault(node.kind, []).append(node.id)
    # One describer call per kind present, never one per node.
    infos = {kind: describe(session, kind, ids) for kind, ids in by_kind.items()}
    reads = []
    for node, level in levels.items():
        info = root_info if level == 0 and root_info is not None else infos.get(node.kind, {}).get(node.id)
        reads.append(
            LineageNodeRead(
                kind=node.kind,
                id=node.id,
                label=info.label if info else node.id,
                url=info.url if info else None,
                level=level,
            )
        )
    return sorted(reads, key=lambda read: (read.level, read.kind.value, read.label, read.id))
