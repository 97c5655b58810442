"""The Python definition of a pipeline: ``@step`` functions composed in a ``@pipeline`` function.

    from kiln.pipelines import param, pipeline, step

    @step(retries=2, retry_delay=1.0)
    def load(rows: int) -> pd.DataFrame: ...

    @step
    def train(data: pd.DataFrame, alpha: float) -> dict: ...

    @pipeline
    def training(rows: int = param(500, minimum=10), alpha: float = 0.5) -> None:
        train(load(rows), alpha)

Compiling (``training.spec()``) calls the pipeline function once with placeholders: each step
called inside it is recorded, not run, and what it is handed (a parameter, another step's output,
a literal JSON value) becomes that argument's source. The call graph is the DAG. Outside a
pipeline being compiled, a step is its plain function (call it in a test or a notebook).

A step is named after its function; calling it again in one pipeline adds ``_2``, ``_3``...
(``train.named("train_small")(...)`` names one call yourself). Functions must live in an
importable module (not ``__main__``): the spec names them as ``module:function`` and the worker
imports them from the modules its administrator allows.
"""

from __future__ import annotations

import contextvars
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, overload

from kiln.pipelines.errors import PipelineDefinitionInvalid
from kiln.pipelines.spec import InputSpec, ParameterSpec, ParameterType, PipelineSpec, StepSpec

P = ParamSpec("P")
R = TypeVar("R")

_TYPES: dict[Any, ParameterType] = {
    int: ParameterType.int,
    float: ParameterType.float,
    str: ParameterType.str,
    bool: ParameterType.bool,
}


@dataclass(frozen=True, slots=True)
class StepOutput:
    """What a step call returns while a pipeline is compiled: a reference to its future output."""

    step: str


@dataclass(frozen=True, slots=True)
class ParamRef:
    name: str


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter's default with its bounds: ``rows: int = param(500, minimum=10)``."""

    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[Any] | None = None
    description: str = ""


def param(
    default: Any = None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: list[Any] | None = None,
    description: str = "",
) -> Any:
    """Declare a pipeline parameter's default and bounds (checked when a run is requested)."""
    return Param(default, minimum, maximum, choices, description)


@dataclass
class _Recording:
    steps: list[StepSpec] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def name_for(self, base: str) -> str:
        self.counts[base] = self.counts.get(base, 0) + 1
        return base if self.counts[base] == 1 else f"{base}_{self.counts[base]}"


_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar("kiln_pipeline", default=None)


class Step(Generic[P, R]):
    """A step function with its options; a plain call outside a pipeline being compiled."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        retries: int = 0,
        retry_delay: float = 1.0,
        timeout: float | None = None,
        cache: bool = False,
        track: bool | None = None,
        name: str | None = None,
    ) -> None:
        self.fn = fn
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.cache = cache
        self.track = track
        self.name = name
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", "step")
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self.__module__ = getattr(fn, "__module__", "__main__")

    @property
    def reference(self) -> str:
        return f"{self.__module__}:{self.__qualname__}"

    def named(self, name: str) -> Step[P, R]:
        """The same step under another name, for one call of it in a pipeline."""
        named = Step(
            self.fn,
            retries=self.retries,
            retry_delay=self.retry_delay,
            timeout=self.timeout,
            cache=self.cache,
            track=self.track,
            name=name,
        )
        named.__module__, named.__qualname__ = self.__module__, self.__qualname__
        return named

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        recording = _recording.get()
        if recording is None:
            return self.fn(*args, **kwargs)
        return typing.cast(R, self._record(recording, args, kwargs))

    def _record(self, recording: _Recording, args: tuple[Any, ...], kwargs: dict[str, Any]) -> StepOutput:
        if self.__module__ == "__main__" or "<locals>" in self.__qualname__:
            raise PipelineDefinitionInvalid(
                f"step {self.__name__!r} must be defined at the top level of an importable module "
                f"(not {self.__module__}.{self.__qualname__}): the worker imports it by name"
            )
        name = self.name or recording.name_for(self.__name__)
        try:
            bound = inspect.signature(self.fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionInvalid(f"step {name!r}: {exc}", details={"step": name}) from None
        inputs = {argument: _source(name, argument, value) for argument, value in bound.arguments.items()}
        recording.steps.append(
            StepSpec(
                name=name,
                function=self.reference,
                inputs=inputs,
                retries=self.retries,
                retry_delay=self.retry_delay,
                timeout=self.timeout,
                cache=self.cache,
                track=self.track,
            )
        )
        return StepOutput(name)


def _source(step: str, argument: str, value: Any) -> InputSpec:
    if isinstance(value, StepOutput):
        return InputSpec(step=value.step)
    if isinstance(value, ParamRef):
        return InputSpec(param=value.name)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise PipelineDefinitionInvalid(
            f"step {step!r}: argument {argument!r} is a {type(value).__name__}; pass a parameter, "
            "another step's output or a JSON value",
            details={"step": step},
        ) from None
    return InputSpec(value=value)


@overload
def step(fn: Callable[P, R], /) -> Step[P, R]: ...
@overload
def step(
    *,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    cache: bool = False,
    track: bool | None = None,
) -> Callable[[Callable[P, R]], Step[P, R]]: ...


def step(
    fn: Callable[P, R] | None = None,
    /,
    *,
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float | None = None,
    cache: bool = False,
    track: bool | None = None,
) -> Step[P, R] | Callable[[Callable[P, R]], Step[P, R]]:
    """Make a function a pipeline step: ``retries`` more attempts after a failure (the first after
    ``retry_delay`` seconds, each next one twice as long), ``timeout`` seconds per attempt,
    ``cache``: reuse the output of an earlier run of the same function on the same inputs, and
    ``track``: give the step a child tracking run (default: when it returns a model)."""

    def wrap(function: Callable[P, R]) -> Step[P, R]:
        return Step(
            function, retries=retries, retry_delay=retry_delay, timeout=timeout, cache=cache, track=track
        )

    return wrap(fn) if fn is not None else wrap


class Pipeline:
    """A ``@pipeline`` function: ``spec()`` compiles it; calling it outside runs every step in-process."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, description: str = "") -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description or inspect.cleandoc(fn.__doc__ or "")
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def parameters(self) -> list[ParameterSpec]:
        hints = typing.get_type_hints(self.fn)
        declared: list[ParameterSpec] = []
        for name, parameter in inspect.signature(self.fn).parameters.items():
            kind = _TYPES.get(hints.get(name, str))
            if kind is None:
                raise PipelineDefinitionInvalid(
                    f"pipeline {self.name!r}: parameter {name!r} must be annotated int, float, str or bool"
                )
            default = parameter.default
            options = default if isinstance(default, Param) else Param(default=default)
            declared.append(
                ParameterSpec(
                    name=name,
                    type=kind,
                    default=None if options.default is inspect.Parameter.empty else options.default,
                    minimum=options.minimum,
                    maximum=options.maximum,
                    choices=options.choices,
                    description=options.description,
                )
            )
        return declared

    def spec(self) -> PipelineSpec:
        """The pipeline's JSON spec, its graph checked (``PipelineDefinitionInvalid`` otherwise)."""
        parameters = self.parameters()
        recording = _Recording()
        token = _recording.set(recording)
        try:
            self.fn(**{parameter.name: ParamRef(parameter.name) for parameter in parameters})
        finally:
            _recording.reset(token)
        if not recording.steps:
            raise PipelineDefinitionInvalid(f"pipeline {self.name!r} calls no step")
        spec = PipelineSpec(
            name=self.name, description=self.description, parameters=parameters, steps=recording.steps
        )
        spec.check_graph()
        return spec


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(
    *, name: str | None = None, description: str = ""
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None, description: str = ""
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Make a function a pipeline: its typed parameters are the pipeline's, the steps it calls its DAG."""

    def wrap(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name=name, description=description)

    return wrap(fn) if fn is not None else wrap
