"""What a node is called and where its page is, told by the domain that owns the node.

Lineage never imports the domains above it; each registers one describer per kind it owns, once
at app start (``kiln/tracking/lineage_nodes.py`` for runs):

    register_describer(NodeKind.run, describe_runs)

A describer takes the ids of one kind and answers those that exist, with a label, a page URL and
the project the node belongs to (``None``: not project-owned). The project decides whether the
caller may start a walk at the node; ids missing from the answer do not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kiln.lineage.schemas import NodeKind


@dataclass(frozen=True, slots=True)
class NodeInfo:
    label: str
    url: str | None
    project_id: str | None


Describer = Callable[[Session, Sequence[str]], dict[str, NodeInfo]]

_DESCRIBERS: dict[NodeKind, Describer] = {}


def register_describer(kind: NodeKind, describer: Describer) -> None:
    """Describe nodes of ``kind`` with ``describer`` (registering again replaces the previous one)."""
    _DESCRIBERS[NodeKind(kind)] = describer


def describer_for(kind: NodeKind) -> Describer | None:
    return _DESCRIBERS.get(kind)


def describe(session: Session, kind: NodeKind, ids: Sequence[str]) -> dict[str, NodeInfo]:
    """The known nodes of ``kind`` among ``ids`` (nothing when no domain describes the kind)."""
    describer = _DESCRIBERS.get(kind)
    if describer is None or not ids:
        return {}
    return describer(session, list(ids))
