"""Lineage nodes and edges, recorded through ``kiln.lineage.service``."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.lineage import service
from kiln.lineage.schemas import Node, NodeKind
from tests.builders.tracking import TEST_ACTOR


def node(kind: NodeKind | str, ident: str) -> Node:
    return Node(kind=NodeKind(kind), id=ident)


def make_edge(
    session: Session,
    source: Node,
    target: Node,
    relation: str = "produced",
    *,
    project_id: str | None = "project-a",
    actor: Actor = TEST_ACTOR,
    attributes: dict[str, Any] | None = None,
) -> None:
    service.record_edge(
        session,
        source=source,
        target=target,
        relation=relation,
        project_id=project_id,
        actor=actor,
        attributes=attributes,
    )


def make_chain(session: Session, *nodes: Node, project_id: str | None = "project-a") -> None:
    """Edges from each node to the next: ``make_chain(s, dataset, run, model)``."""
    for source, target in itertools.pairwise(nodes):
        make_edge(session, source, target, project_id=project_id)
