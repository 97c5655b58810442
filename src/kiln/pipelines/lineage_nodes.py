"""The pipelines' part of lineage: pipeline runs and step outputs as nodes, and the edges of each output.

``register_lineage_nodes`` is called once by ``app.py``; lineage never imports pipelines. A step
output's node id is ``<pipeline run id>:<step>`` (the output the step's successful attempt stored).
When the run ends, every output of a step that succeeded gets (in one transaction for the whole
run, ``record_run_outputs``, so a step costs no database round trip of its own):

- ``pipeline_run --produced_by--> step_output``: which run and step made it (function, format,
  sha256; ``cached`` when the output was reused from an earlier run);
- ``step_output --derived_from--> step_output`` for every upstream output it read (``argument``);
- ``dataset_version --derived_from--> step_output`` for every argument naming a dataset version the
  project holds (``telemetry@latest``, ``dataset:telemetry@3``: pinned to the version's number);
- ``step_output --registered_from--> model_version`` for each model version the step registered
  (the SDK tags it with the pipeline run and step it ran in), so a version's lineage reaches the
  step, the run and the data it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiln.core.actor import Actor
from kiln.core.errors import Invalid
from kiln.data.refs import parse_ref
from kiln.lineage import service as lineage
from kiln.lineage.describers import NodeInfo, register_describer
from kiln.lineage.schemas import Node, NodeKind
from kiln.pipelines.models import Pipeline, PipelineRun
from kiln.pipelines.spec import StepSpec
from kiln.registry.lineage_nodes import REGISTERED_FROM, version_node, versions_registered_in_run

PRODUCED_BY = "produced_by"
DERIVED_FROM = "derived_from"
# The step's clock (a Dask worker's) and the server's may differ a little; the tags decide anyway.
_CLOCK_MARGIN = timedelta(minutes=10)


def output_id(run_id: str, step: str) -> str:
    return f"{run_id}:{step}"


def output_node(run_id: str, step: str) -> Node:
    return Node(kind=NodeKind.step_output, id=output_id(run_id, step))


def run_node(run_id: str) -> Node:
    return Node(kind=NodeKind.pipeline_run, id=run_id)


def _runs(session: Session, run_ids: Sequence[str]) -> dict[str, Any]:
    rows = session.execute(
        select(PipelineRun.id, PipelineRun.version_number, PipelineRun.project_id, Pipeline.name)
        .join(Pipeline, Pipeline.id == PipelineRun.pipeline_id)
        .where(PipelineRun.id.in_(run_ids))
    )
    return {row.id: row for row in rows}


def describe_runs(session: Session, ids: Sequence[str]) -> dict[str, NodeInfo]:
    return {
        run_id: NodeInfo(
            label=f"{row.name} v{row.version_number} run {run_id[-8:]}",
            url=f"/pipelines/{row.name}/runs/{run_id}",
            project_id=row.project_id,
        )
        for run_id, row in _runs(session, ids).items()
    }


def describe_outputs(session: Session, ids: Sequence[str]) -> dict[str, NodeInfo]:
    split = {ident: ident.rpartition(":") for ident in ids}
    runs = _runs(session, sorted({run_id for run_id, _, _ in split.values() if run_id}))
    infos = {}
    for ident, (run_id, _, step) in split.items():
        row = runs.get(run_id)
        if row is not None:
            infos[ident] = NodeInfo(
                label=f"{step} of {row.name} run {run_id[-8:]}",
                url=f"/pipelines/{row.name}/runs/{run_id}#step-{step}",
                project_id=row.project_id,
            )
    return infos


def register_lineage_nodes() -> None:
    register_describer(NodeKind.pipeline_run, describe_runs)
    register_describer(NodeKind.step_output, describe_outputs)


@dataclass(frozen=True, slots=True)
class SucceededStep:
    step: StepSpec
    output: dict[str, Any]
    cached: bool
    # Each argument's value as the step got it (parameters and literals; upstream outputs by name).
    arguments: dict[str, Any]


def record_run_outputs(
    session: Session,
    actor: Actor,
    *,
    run_id: str,
    project_id: str,
    started_at: datetime | None,
    succeeded: Sequence[SucceededStep],
) -> None:
    """The edges of every succeeded step's output of run ``run_id``."""
    registered = (
        versions_registered_in_run(session, project_id, pipeline_run=run_id, since=started_at - _CLOCK_MARGIN)
        if started_at is not None
        else {}
    )
    edges: list[lineage.EdgeIn] = []
    for done in succeeded:
        step, output = done.step, done.output
        node = output_node(run_id, step.name)
        produced = {
            "step": step.name,
            "function": step.function,
            "format": output.get("format"),
            "sha256": output.get("sha256"),
        }
        if done.cached:
            produced["cached"] = True
        edges.append((run_node(run_id), node, PRODUCED_BY, produced))
        for argument, source in step.inputs.items():
            if source.source == "step":
                edges.append(
                    (output_node(run_id, str(source.step)), node, DERIVED_FROM, {"argument": argument})
                )
                continue
            dataset = _dataset_version(session, project_id, done.arguments.get(argument))
            if dataset is not None:
                version_id, ref = dataset
                source_node = Node(kind=NodeKind.dataset_version, id=version_id)
                edges.append((source_node, node, DERIVED_FROM, {"argument": argument, "ref": ref}))
        for version_id in registered.get(step.name, []):
            edges.append((node, version_node(version_id), REGISTERED_FROM, {"step": step.name}))
    lineage.record_edges(session, edges, project_id=project_id, actor=actor)


def _dataset_version(session: Session, project_id: str, value: Any) -> tuple[str, str] | None:
    """The dataset version an argument names (``telemetry@3``, ``dataset:telemetry@latest``), if any."""
    if not isinstance(value, str) or "@" not in value or len(value) > 300:
        return None
    try:
        ref = parse_ref(value)
    except Invalid:
        return None
    # Imported here: data's versions bring pandas, which a lineage walk does not need.
    from kiln.data import versions as dataset_versions

    found = dataset_versions.find_in_project(session, project_id, ref.name, ref.number)
    if found is None:
        return None
    dataset, version = found
    if version is None:
        return None
    return version.id, f"{dataset.name}@{version.number}"
