"""The YAML definition of a pipeline, compiled to the same spec as the Python DSL.

    name: training
    parameters:
      rows: {type: int, default: 500, minimum: 10}
      alpha: {type: float, default: 0.5, minimum: 0, maximum: 1}
    steps:
      load:
        function: examples.pipelines:load
        inputs: {rows: {param: rows}}
        retries: 2
      train:
        function: examples.pipelines:train
        inputs: {data: {step: load}, alpha: {param: alpha}, seed: 7}
      report:
        function: examples.pipelines:report
        needs: [train]

An input is ``{param: NAME}``, ``{step: NAME}`` (that step's output) or any other value (a literal;
``{value: ...}`` for a literal that looks like a reference). Parameters and steps may be written as
mappings (by name) or lists of items with a ``name``. Only the safe YAML loader is used.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from kiln.pipelines.errors import PipelineDefinitionInvalid
from kiln.pipelines.spec import PipelineSpec


def spec_from_yaml(text: str) -> PipelineSpec:
    """The spec a YAML document defines, its graph checked; ``PipelineDefinitionInvalid`` otherwise."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PipelineDefinitionInvalid(f"the pipeline's YAML does not parse: {exc}") from None
    if not isinstance(document, dict):
        raise PipelineDefinitionInvalid("a pipeline's YAML is a mapping with name, parameters and steps")
    spec = spec_from_mapping(document)
    spec.check_graph()
    return spec


def spec_from_mapping(document: dict[str, Any]) -> PipelineSpec:
    body = dict(document)
    body["parameters"] = _named_items(body.get("parameters") or [], "parameter")
    steps = _named_items(body.get("steps") or [], "step")
    for item in steps:
        inputs = item.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise PipelineDefinitionInvalid(f"step {item.get('name')!r}: inputs is a mapping of arguments")
        item["inputs"] = {argument: _input(value) for argument, value in inputs.items()}
    body["steps"] = steps
    try:
        return PipelineSpec.model_validate(body)
    except ValidationError as exc:
        raise PipelineDefinitionInvalid(f"the pipeline definition is not valid: {_first(exc)}") from None


def _named_items(items: Any, what: str) -> list[dict[str, Any]]:
    if isinstance(items, dict):
        named = []
        for name, body in items.items():
            if body is not None and not isinstance(body, dict):
                raise PipelineDefinitionInvalid(f"{what} {name!r} is a mapping of its settings")
            named.append({"name": name, **(body or {})})
        return named
    if isinstance(items, list) and all(isinstance(item, dict) for item in items):
        return [dict(item) for item in items]
    raise PipelineDefinitionInvalid(f"{what}s are a mapping by name or a list of mappings")


def _input(value: Any) -> dict[str, Any]:
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("param", "step", "value"):
        return value
    return {"value": value}


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
