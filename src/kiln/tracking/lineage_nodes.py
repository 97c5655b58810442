"""Tracking's part of lineage: runs as nodes, and the edges from the inputs a run read.

``register_lineage_nodes`` is called once by ``app.py``; lineage never imports tracking.
A run's inputs (given at creation, or logged later as ``kiln.input.<name>`` tags) become
``dataset_version --trained_on--> run`` edges. An input naming a dataset version Kiln holds
(``dataset:telemetry@7``, ``@latest``, or name ``telemetry`` with version ``7``) is resolved to that
version: the run records its number, sha256 and reference, and the edge starts at the version's node,
so a model version's lineage reaches the exact rows. Any other input keeps the name and version the
run gave as its node id (``customers@3``); the edge keeps its digest and URI.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import NotFound
from kiln.data.refs import LATEST, DatasetRef, is_dataset_ref, parse_ref, parse_version
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


@dataclass(frozen=True)
class ResolvedInput:
    """A run's input, with the dataset version Kiln holds when it names one."""

    item: RunInputCreate
    dataset_version_id: str | None = None


def _named_ref(item: RunInputCreate) -> tuple[DatasetRef, bool] | None:
    """The dataset reference an input makes, and whether it made it explicitly (``dataset:...``)."""
    text = next((value for value in (item.name, item.uri) if is_dataset_ref(value)), None)
    if text is not None:
        return parse_ref(text), True
    version = item.version.strip()
    if item.kind == "dataset" and (version == LATEST or (version.isdigit() and int(version) >= 1)):
        return DatasetRef(item.name, parse_version(version)), False
    return None


def resolve_input(session: Session, project_id: str, item: RunInputCreate) -> ResolvedInput:
    """``item`` pinned to the dataset version it names (``@latest`` becomes a number), or as given.

    An explicit ``dataset:`` reference must resolve (``Invalid`` for bad text, ``NotFound`` for a
    dataset or version the run's project does not hold); a plain name resolves only when the project
    holds a dataset of that name.
    """
    named = _named_ref(item)
    if named is None:
        return ResolvedInput(item)
    ref, explicit = named
    # Imported here: data's versions bring pandas, which a tracking or serving start does not need.
    from kiln.data import versions as dataset_versions

    found = dataset_versions.find_in_project(session, project_id, ref.name, ref.number)
    if found is None:
        if explicit:
            raise NotFound(
                f"run input {str(ref)!r}: the run's project has no dataset {ref.name!r}",
                details={"input": str(ref)},
            )
        return ResolvedInput(item)
    dataset, version = found
    if version is None:
        which = "no versions yet" if ref.number is None else f"no version {ref.number}"
        raise NotFound(
            f"run input {str(ref)!r}: dataset {dataset.name!r} has {which}", details={"input": str(ref)}
        )
    pinned = RunInputCreate(
        kind="dataset",
        name=dataset.name,
        version=str(version.number),
        digest=version.content_hash,
        uri=str(DatasetRef(dataset.name, version.number)),
    )
    return ResolvedInput(pinned, dataset_version_id=version.id)


def resolve_inputs(
    session: Session, project_id: str, inputs: Iterable[RunInputCreate]
) -> list[ResolvedInput]:
    return [resolve_input(session, project_id, item) for item in inputs]


def input_node(resolved: ResolvedInput) -> Node:
    """The node a run's input stands for: a dataset version, or a source for any other kind of input."""
    if resolved.dataset_version_id is not None:
        return Node(kind=NodeKind.dataset_version, id=resolved.dataset_version_id)
    item = resolved.item
    kind = NodeKind.dataset_version if item.kind == "dataset" else NodeKind.source
    ident = f"{item.name}@{item.version}" if item.version else item.name
    return Node(kind=kind, id=ident[:NODE_ID_LENGTH])


def record_run_inputs(
    session: Session, actor: Actor, *, run_id: str, project_id: str, inputs: Iterable[ResolvedInput]
) -> None:
    run = Node(kind=NodeKind.run, id=run_id)
    for resolved in inputs:
        item = resolved.item
        attributes = {key: value for key, value in (("digest", item.digest), ("uri", item.uri)) if value}
        if item.kind != "dataset":
            attributes["input_kind"] = item.kind
        lineage.record_edge(
            session,
            source=input_node(resolved),
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
        resolved = resolve_inputs(session, project_id, inputs)
        record_run_inputs(session, actor, run_id=run_id, project_id=project_id, inputs=resolved)
