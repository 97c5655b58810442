"""A pipeline version's DAG drawing for the pages: the layout of its steps' ``needs`` (and the
steps whose outputs they take), remembered per definition since a run page redraws it every poll."""

from __future__ import annotations

from functools import lru_cache

from kiln.pipelines.spec import PipelineSpec
from kiln.ui.dag_layout import DagLayout, layout

Upstream = tuple[tuple[str, tuple[str, ...]], ...]


@lru_cache(maxsize=128)
def _drawing(upstream: Upstream) -> DagLayout:
    return layout(dict(upstream))


def spec_drawing(spec: PipelineSpec) -> DagLayout:
    return _drawing(tuple((step.name, tuple(step.upstream())) for step in spec.steps))


def function_notes(spec: PipelineSpec) -> dict[str, str]:
    """The second line of each node on the pipeline page: the function it calls, without its module."""
    return {step.name: step.function.rpartition(":")[2] for step in spec.steps}
