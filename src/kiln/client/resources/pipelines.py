"""``client.pipelines``: register pipelines (Python or YAML), read their versions and diffs, run them.

A definition is a ``@pipeline`` function, a ``PipelineSpec``, its JSON as a dict, YAML text, a path
to a ``.yaml`` file, or a ``package.module:attribute`` reference to a ``@pipeline``. Bad
definitions arrive as ``PipelineDefinitionInvalid`` naming the step, bad run parameters as
``PipelineParametersInvalid`` (422, before anything runs).
"""

from __future__ import annotations

import builtins
import importlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiln.client.pages import ResultPage, fetch_page
from kiln.client.resources.base import Resource, segment
from kiln.pipelines.dsl import Pipeline
from kiln.pipelines.errors import PipelineDefinitionInvalid
from kiln.pipelines.schemas import (
    FINISHED_RUN_STATES,
    PipelineDiff,
    PipelineRead,
    PipelineRegistered,
    PipelineRunRead,
    PipelineVersionRead,
    StepLog,
)
from kiln.pipelines.spec import PipelineSpec

Definition = Pipeline | PipelineSpec | Mapping[str, Any] | str | Path


def definition_spec(definition: Definition) -> PipelineSpec:
    """The spec ``definition`` compiles to (checked here first: the server checks it again)."""
    if isinstance(definition, Pipeline):
        return definition.spec()
    if isinstance(definition, PipelineSpec):
        return definition
    if isinstance(definition, Mapping):
        return PipelineSpec.model_validate(dict(definition))
    from kiln.pipelines.yaml_spec import spec_from_yaml  # PyYAML, only when a YAML definition is given

    text = str(definition)
    if isinstance(definition, Path) or text.endswith((".yaml", ".yml")):
        return spec_from_yaml(Path(text).read_text(encoding="utf-8"))
    if "\n" not in text and ":" in text and " " not in text:
        module, _, attribute = text.partition(":")
        target: Any = importlib.import_module(module)
        for part in attribute.split("."):
            target = getattr(target, part)
        if not isinstance(target, Pipeline):
            raise PipelineDefinitionInvalid(f"{text} is not a @pipeline function")
        return target.spec()
    return spec_from_yaml(text)


class PipelinesResource(Resource):
    def register(self, definition: Definition, *, project: str | None = None) -> PipelineRegistered:
        """Store the definition as the pipeline's next version (``created`` False: it was the latest)."""
        spec = definition_spec(definition)
        body = {"spec": spec.model_dump(mode="json"), "project": project}
        return PipelineRegistered.model_validate(self.transport.request("POST", "/pipelines", json_body=body))

    def list(
        self, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[PipelineRead]:
        return fetch_page(
            self.transport, "/pipelines", PipelineRead, {"project": project, "limit": limit, "cursor": cursor}
        )

    def get(self, name: str, *, project: str | None = None) -> PipelineRead:
        return PipelineRead.model_validate(
            self.transport.request("GET", f"/pipelines/{segment(name)}", params={"project": project})
        )

    def versions(
        self, name: str, *, project: str | None = None, limit: int = 100
    ) -> ResultPage[PipelineVersionRead]:
        """The history, newest first."""
        path = f"/pipelines/{segment(name)}/versions"
        return fetch_page(self.transport, path, PipelineVersionRead, {"project": project, "limit": limit})

    def version(self, name: str, number: int, *, project: str | None = None) -> PipelineVersionRead:
        path = f"/pipelines/{segment(name)}/versions/{number}"
        return PipelineVersionRead.model_validate(
            self.transport.request("GET", path, params={"project": project})
        )

    def diff(self, name: str, before: int, after: int, *, project: str | None = None) -> PipelineDiff:
        params = {"from": before, "to": after, "project": project}
        return PipelineDiff.model_validate(
            self.transport.request("GET", f"/pipelines/{segment(name)}/diff", params=params)
        )

    def run(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        version: int | None = None,
        project: str | None = None,
    ) -> PipelineRunRead:
        """Queue a run (of the latest version unless ``version``); it executes on a worker."""
        body = {"parameters": dict(parameters or {}), "version": version, "project": project}
        return PipelineRunRead.model_validate(
            self.transport.request("POST", f"/pipelines/{segment(name)}/runs", json_body=body)
        )

    def runs(
        self, name: str, *, project: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> ResultPage[PipelineRunRead]:
        """The pipeline's runs, newest first (without their steps: ``get_run`` has them)."""
        params = {"project": project, "limit": limit, "cursor": cursor}
        return fetch_page(self.transport, f"/pipelines/{segment(name)}/runs", PipelineRunRead, params)

    def get_run(self, name: str, run_id: str, *, project: str | None = None) -> PipelineRunRead:
        path = f"/pipelines/{segment(name)}/runs/{segment(run_id)}"
        return PipelineRunRead.model_validate(
            self.transport.request("GET", path, params={"project": project})
        )

    def logs(
        self, name: str, run_id: str, *, step: str | None = None, project: str | None = None
    ) -> builtins.list[StepLog]:
        """Each step's timestamped log lines, in dependency order."""
        path = f"/pipelines/{segment(name)}/runs/{segment(run_id)}/logs"
        answer = self.transport.request("GET", path, params={"step": step, "project": project})
        return [StepLog.model_validate(item) for item in answer]

    def wait(
        self,
        name: str,
        run_id: str,
        *,
        timeout: float = 3600.0,
        poll_seconds: float = 0.5,
        project: str | None = None,
    ) -> PipelineRunRead:
        """The run once it has finished (succeeded, failed or cancelled); ``TimeoutError`` after
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(name, run_id, project=project)
            if run.state in FINISHED_RUN_STATES:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"pipeline run {run_id} is still {run.state} after {timeout:g} s")
            time.sleep(poll_seconds)
