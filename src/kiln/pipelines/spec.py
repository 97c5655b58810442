"""The pipeline spec: the one JSON form both definitions (the Python DSL and YAML) compile to.

A spec names its parameters (typed, with defaults and bounds) and its steps. A step names its
function by a dotted reference (``package.module:function``, never code), the steps it ``needs``
and where each argument comes from: a parameter, another step's output, or a literal JSON value.
The graph is checked here (unknown dependencies, cycles) with messages naming the step; whether the
functions exist and may be imported is ``pipelines/functions.py``'s business (the server's).

Pure pydantic: the SDK, the CLI and the API read it without SQLAlchemy or a DataFrame library.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiln.pipelines.errors import PipelineDefinitionInvalid, PipelineParametersInvalid

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SPEC_FORMAT = 1


class ParameterType(StrEnum):
    int = "int"
    float = "float"
    str = "str"
    bool = "bool"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Spec):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    type: ParameterType = ParameterType.str
    # No default: the parameter must be given when a run is requested.
    default: int | float | str | bool | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[int | float | str | bool] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"parameter {self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        if (self.minimum is not None or self.maximum is not None) and self.type not in (
            ParameterType.int,
            ParameterType.float,
        ):
            raise ValueError(f"parameter {self.name}: bounds apply to int and float parameters only")
        if self.default is not None:
            problem = self.problem(self.default)
            if problem:
                raise ValueError(f"parameter {self.name}: its default {problem}")
        return self

    def coerce(self, value: Any) -> Any:
        """``value`` as this parameter's type, or ``ValueError`` saying why not."""
        if self.type is ParameterType.bool:
            if isinstance(value, bool):
                return value
            raise ValueError(f"must be true or false, not {value!r}")
        if self.type is ParameterType.int:
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                raise ValueError(f"must be an integer, not {value!r}")
            return int(value)
        if self.type is ParameterType.float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"must be a number, not {value!r}")
            return float(value)
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {value!r}")
        return value

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this parameter (``None``: nothing)."""
        try:
            coerced = self.coerce(value)
        except ValueError as exc:
            return str(exc)
        if self.minimum is not None and coerced < self.minimum:
            return f"must be at least {self.minimum:g}, not {coerced!r}"
        if self.maximum is not None and coerced > self.maximum:
            return f"must be at most {self.maximum:g}, not {coerced!r}"
        if self.choices is not None and coerced not in self.choices:
            return f"must be one of {self.choices}, not {coerced!r}"
        return None


class InputSpec(_Spec):
    """Where one argument of a step comes from: exactly one of ``step``, ``param`` or ``value``."""

    step: str | None = None
    param: str | None = None
    value: Any = None
    source: Literal["step", "param", "value"] = "value"

    @model_validator(mode="before")
    @classmethod
    def _which(cls, data: Any) -> Any:
        if isinstance(data, dict) and "source" not in data:
            given = [key for key in ("step", "param") if data.get(key) is not None]
            if len(given) > 1:
                raise ValueError("an input comes from one step or one parameter, not both")
            data = {**data, "source": given[0] if given else "value"}
        return data


class StepSpec(_Spec):
    name: str = Field(pattern=NAME_PATTERN)
    # "package.module:function"; checked as identifiers, then against the allowed modules.
    function: str = Field(min_length=3, max_length=512)
    needs: list[str] = Field(default_factory=list)
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    retries: int = Field(default=0, ge=0, le=20)
    # Seconds before the first retry; each further retry waits twice as long as the one before.
    retry_delay: float = Field(default=1.0, ge=0, le=3600)
    timeout: float | None = Field(default=None, gt=0, le=7 * 86400)
    cache: bool = False
    # Whether the step gets a child tracking run: None (the default) tracks the steps that return a
    # model; True tracks any step, False none.
    track: bool | None = None

    def tracked(self, output_format: str | None) -> bool:
        return self.track if self.track is not None else output_format == "model"

    @model_validator(mode="after")
    def _reference(self) -> Self:
        function_problem(self.function, step=self.name)
        for argument in self.inputs:
            if not _IDENTIFIER.match(argument):
                raise ValueError(f"step {self.name}: input {argument!r} is not a Python identifier")
        return self

    def upstream(self) -> list[str]:
        """Every step this one waits for: its ``needs`` and the steps whose outputs it takes."""
        named = list(self.needs)
        for source in self.inputs.values():
            if source.step is not None and source.step not in named:
                named.append(source.step)
        return named


def function_problem(reference: str, *, step: str) -> None:
    """Raise ``ValueError`` unless ``reference`` is ``dotted.module:function`` of identifiers."""
    module, sep, attribute = reference.partition(":")
    parts = module.split(".") if module else []
    if (
        not sep
        or not parts
        or not all(_IDENTIFIER.match(part) for part in parts)
        or not all(_IDENTIFIER.match(part) for part in attribute.split("."))
    ):
        raise ValueError(
            f"step {step}: function {reference!r} must be a reference such as 'package.module:function'"
        )


class PipelineSpec(_Spec):
    format: int = SPEC_FORMAT
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    parameters: list[ParameterSpec] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1, max_length=1000)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON (sorted keys): the same definition, the same hash."""
        document = self.model_dump(mode="json")
        for step in document["steps"]:
            # Left out when unset, so a definition written before the option keeps its hash.
            if step.get("track") is None:
                step.pop("track", None)
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def step(self, name: str) -> StepSpec:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def parameter(self, name: str) -> ParameterSpec | None:
        return next((parameter for parameter in self.parameters if parameter.name == name), None)

    def check_graph(self) -> list[str]:
        """The steps in an order that respects every dependency; ``PipelineDefinitionInvalid``
        naming the step for a duplicate name, an unknown dependency or parameter, or a cycle."""
        names = [step.name for step in self.steps]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise _invalid(f"step {name!r} is defined twice; step names are unique", step=name)
            seen.add(name)
        parameters = {parameter.name for parameter in self.parameters}
        if len(parameters) != len(self.parameters):
            raise _invalid("parameter names are unique")
        for step in self.steps:
            for needed in step.upstream():
                if needed not in seen:
                    raise _invalid(
                        f"step {step.name!r} needs {needed!r}, which is not a step", step=step.name
                    )
                if needed == step.name:
                    raise _invalid(f"step {step.name!r} needs itself", step=step.name)
            for argument, source in step.inputs.items():
                if source.source == "param" and source.param not in parameters:
                    raise _invalid(
                        f"step {step.name!r}: input {argument!r} takes parameter {source.param!r}, "
                        "which the pipeline does not declare",
                        step=step.name,
                    )
        return self._topological_order()

    def _topological_order(self) -> list[str]:
        upstream = {step.name: step.upstream() for step in self.steps}
        order: list[str] = []
        state: dict[str, str] = {}
        for start in upstream:
            if start in state:
                continue
            # Iterative depth-first search: "open" on the path, "done" when every upstream is placed.
            stack: list[tuple[str, int]] = [(start, 0)]
            state[start] = "open"
            while stack:
                name, index = stack.pop()
                needs = upstream[name]
                if index < len(needs):
                    stack.append((name, index + 1))
                    needed = needs[index]
                    if state.get(needed) == "open":
                        path = [entry for entry, _ in stack] + [needed]
                        cycle = " -> ".join(path[path.index(needed) :])
                        raise _invalid(f"step {needed!r} is in a cycle: {cycle}", step=needed)
                    if needed not in state:
                        state[needed] = "open"
                        stack.append((needed, 0))
                else:
                    state[name] = "done"
                    order.append(name)
        return order

    def downstream(self, name: str) -> set[str]:
        """Every step that waits, directly or not, on ``name``."""
        below: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for step in self.steps:
                if current in step.upstream() and step.name not in below:
                    below.add(step.name)
                    frontier.append(step.name)
        return below

    def resolve_parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every parameter's value for a run (given, else its default), checked against its type and
        bounds; ``PipelineParametersInvalid`` (422) naming each parameter that is wrong."""
        problems: dict[str, str] = {}
        unknown = sorted(set(given) - {parameter.name for parameter in self.parameters})
        for name in unknown:
            problems[name] = "is not a parameter of this pipeline"
        values: dict[str, Any] = {}
        for parameter in self.parameters:
            if parameter.name in given:
                value = given[parameter.name]
            elif parameter.default is not None:
                value = parameter.default
            else:
                problems[parameter.name] = "is required (it has no default)"
                continue
            problem = parameter.problem(value)
            if problem:
                problems[parameter.name] = problem
            else:
                values[parameter.name] = parameter.coerce(value)
        if problems:
            listed = "; ".join(f"{name} {problem}" for name, problem in problems.items())
            raise PipelineParametersInvalid(
                f"pipeline {self.name!r}: bad parameters: {listed}", details={"parameters": problems}
            )
        return values


def _invalid(message: str, *, step: str | None = None) -> PipelineDefinitionInvalid:
    return PipelineDefinitionInvalid(message, details={"step": step} if step else {})
