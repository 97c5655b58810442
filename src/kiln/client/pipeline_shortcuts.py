"""``kiln.pipelines``: the one-line forms over the default client (``kiln.set_tracking_uri``/``KILN_URL``).

kiln.pipelines.register(training)                 # a @pipeline, a YAML file, "module:attribute"
run = kiln.pipelines.run("training", {"rows": 500})
run = kiln.pipelines.wait("training", run.id)     # until it has finished
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.client.api import Client, default_client
from kiln.client.resources.pipelines import Definition
from kiln.pipelines.schemas import PipelineRegistered, PipelineRunRead


def register(
    definition: Definition, *, project: str | None = None, client: Client | None = None
) -> PipelineRegistered:
    """Register ``definition`` as the pipeline's next version (unchanged: the latest version)."""
    return (client or default_client()).pipelines.register(definition, project=project)


def run(
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    project: str | None = None,
    client: Client | None = None,
) -> PipelineRunRead:
    """Queue a run of pipeline ``name``; bad parameters raise ``PipelineParametersInvalid`` at once."""
    return (client or default_client()).pipelines.run(name, parameters, version=version, project=project)


def get(
    name: str, run_id: str, *, project: str | None = None, client: Client | None = None
) -> PipelineRunRead:
    """One run with its steps' states, timings and errors."""
    return (client or default_client()).pipelines.get_run(name, run_id, project=project)


def wait(
    name: str,
    run_id: str,
    *,
    timeout: float = 3600.0,
    project: str | None = None,
    client: Client | None = None,
) -> PipelineRunRead:
    """The run once it has finished."""
    return (client or default_client()).pipelines.wait(name, run_id, timeout=timeout, project=project)
