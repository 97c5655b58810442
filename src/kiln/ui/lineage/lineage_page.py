"""Page: the lineage graph around one node (``/lineage/{kind}/{id}``), drawn as an SVG."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import HTMLResponse

from kiln.core.actor import Actor
from kiln.core.deps import get_db, get_project_visibility
from kiln.core.permissions import Permission
from kiln.lineage import service
from kiln.lineage.schemas import DEFAULT_DEPTH, MAX_DEPTH, NODE_ID_LENGTH, Direction, Node, parse_kind
from kiln.ui.lineage.graph_layout import draw
from kiln.ui.page_access import page_require
from kiln.ui.page_route import PageRoute
from kiln.ui.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LineagePage = Annotated[Actor, Depends(page_require(Permission.lineage_read))]


@router.get("/lineage/{kind}/{node_id:path}", response_class=HTMLResponse)
def lineage_page(
    request: Request,
    actor: LineagePage,
    kind: str,
    node_id: Annotated[str, Path(max_length=NODE_ID_LENGTH)],
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = DEFAULT_DEPTH,
    direction: Direction = Direction.both,
) -> HTMLResponse:
    node = Node(kind=parse_kind(kind), id=node_id)
    with get_db(request).unit_of_work() as session:
        visible = get_project_visibility(request)(session, actor)
        graph = service.graph(session, node, depth=depth, direction=direction, visible_projects=visible)
    root = next(read for read in graph.nodes if read.level == 0)
    return render(
        request,
        "lineage/lineage.html",
        {
            "section": "",
            "graph": graph,
            "root": root,
            "drawing": draw(graph),
            "direction": direction,
            "depth": depth,
            "directions": list(Direction),
            "depths": list(range(1, MAX_DEPTH + 1)),
        },
    )
