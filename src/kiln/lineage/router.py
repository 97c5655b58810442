"""The lineage API: the graph around one node, as far as the caller's projects reach."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from kiln.core.actor import Actor
from kiln.core.deps import SessionDep, VisibleProjects, require
from kiln.core.http import error_responses
from kiln.core.permissions import Permission
from kiln.lineage import service
from kiln.lineage.schemas import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    NODE_ID_LENGTH,
    Direction,
    LineageGraph,
    Node,
    parse_kind,
)

router = APIRouter(
    prefix="/api/v1/lineage", tags=["lineage"], responses=error_responses(401, 403, 404, 422, 429)
)

LineageRead = Annotated[Actor, Depends(require(Permission.lineage_read))]


@router.get("/{kind}/{node_id:path}", response_model=LineageGraph)
def get_lineage(
    actor: LineageRead,
    session: SessionDep,
    visible: VisibleProjects,
    kind: str,
    node_id: Annotated[str, Path(max_length=NODE_ID_LENGTH)],
    depth: Annotated[
        int, Query(ge=0, le=MAX_DEPTH, description="steps to walk from the node")
    ] = DEFAULT_DEPTH,
    direction: Annotated[
        Direction, Query(description="upstream: where it came from; downstream: what came of it")
    ] = Direction.both,
) -> LineageGraph:
    """The nodes within ``depth`` steps of ``{kind}/{node_id}`` and the edges between them.

    A node in a project the caller is not a member of answers 404, as a missing one does; edges in
    such projects are left out. ``truncated`` says the walk stopped at its node cap.
    """
    node = Node(kind=parse_kind(kind), id=node_id)
    return service.graph(session, node, depth=depth, direction=direction, visible_projects=visible)
