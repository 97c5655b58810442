"""Tracking's part of lineage: runs as nodes, and the edges from the inputs a run read.

``register_lineage_nodes`` is called once by ``app.py``; lineage never imports tracking.
A run's inputs (given at creation, or logged later as ``kiln.input.<name>`` tags) become
``dataset_version --trained_on--> run`` edges. Until the data domain owns dataset versions, an
input's node id is the name and version the run gave (``customers@3``); the edge keeps its digest
and URI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.lineage import service as lineage
from kiln.lineage.describers import NodeInfo, register_describer
from kiln.lineage.schemas import NODE_ID_LENGTH, Node, NodeKind
from kiln.tracking.models import Experiment, Run
from kiln.tracking.schemas import INPUT_FIELDS, INPUT_TAG_PREFIX, RunInputCreate

TRAINED_ON = "trained_on"


def describe_runs(session: Session, ids: Sequence[str]) -> dict[str, NodeInfo]:
    rows = session.execute(
        select(Run.id, Run.name, Experiment.project_id)
        .join(Experiment, Experiment.id == Run.experiment_id)
        .where(Run.id.in_(ids))
    )
    return {
        row.id: NodeInfo(label=row.name, url=f"/runs/{row.id}", project_id=row.project_id) for row in rows
    }


def register_lineage_nodes() -> None:
    register_describer(NodeKind.run, describe_runs)


def input_node(item: RunInputCreate) -> Node:
    """The node a run's input stands for: a dataset version, or a source for any other kind of input."""
    kind = NodeKind.dataset_version if item.kind == "dataset" else NodeKind.source
    ident = f"{item.name}@{item.version}" if item.version else item.name
    return Node(kind=kind, id=ident[:NODE_ID_LENGTH])


def record_run_inputs(
    session: Session, actor: Actor, *, run_id: str, project_id: str, inputs: Iterable[RunInputCreate]
) -> None:
    run = Node(kind=NodeKind.run, id=run_id)
    for item in inputs:
        attributes = {key: value for key, value in (("digest", item.digest), ("uri", item.uri)) if value}
        if item.kind != "dataset":
            attributes["input_kind"] = item.kind
        lineage.record_edge(
            session,
            source=input_node(item),
            target=run,
            relation=TRAINED_ON,
            project_id=project_id,
            actor=actor,
            attributes=attributes,
        )


def input_from_tag(key: str, value: str) -> RunInputCreate | None:
    """The input a ``kiln.input.<name>`` tag describes (as ``kiln runs reproduce`` reads it), or None."""
    name = key.removeprefix(INPUT_TAG_PREFIX)
    try:
        described: Any = json.loads(value)
    except ValueError:
        described = None
    if not isinstance(described, dict):
        described = {"name": name, "uri": value}
    fields = {field: str(described.get(field, "")) for field in INPUT_FIELDS}
    fields["kind"] = fields["kind"] or "dataset"
    fields["name"] = fields["name"] or name
    try:
        return RunInputCreate.model_validate(fields)
    except ValidationError:
        return None  # a hand-written tag that describes no usable input: it stays a tag only


def inputs_from_tags(tags: Iterable[tuple[str, str]]) -> list[RunInputCreate]:
    found = (input_from_tag(key, value) for key, value in tags if key.startswith(INPUT_TAG_PREFIX))
    return [item for item in found if item is not None]


def record_input_tags(session: Session, actor: Actor, run_id: str, tags: Iterable[tuple[str, str]]) -> None:
    """Edges for inputs logged as tags after the run started (the caller checked access to the run)."""
    inputs = inputs_from_tags(tags)
    if not inputs:
        return
    project_id = session.scalar(
        select(Experiment.project_id).join(Run, Run.experiment_id == Experiment.id).where(Run.id == run_id)
    )
    if project_id is not None:
        record_run_inputs(session, actor, run_id=run_id, project_id=project_id, inputs=inputs)
