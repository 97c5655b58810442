"""Step functions by reference: ``package.module:function``, only from the modules an admin allows.

A spec carries names, never code. Before importing anything the reference is checked to be dotted
identifiers (``spec.function_problem``) under one of ``KILN_PIPELINE_MODULES``' prefixes (a prefix
matches whole module names: ``examples`` allows ``examples.pipelines``, not ``examples_evil``).
Registration imports each function once, so an unknown one is refused then, naming its step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from kiln.pipelines.errors import PipelineDefinitionInvalid
from kiln.pipelines.spec import PipelineSpec, function_problem


def allowed(module: str, prefixes: Sequence[str]) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


def resolve_function(reference: str, prefixes: Sequence[str], *, step: str) -> Callable[..., Any]:
    """The callable ``reference`` names; ``PipelineDefinitionInvalid`` naming ``step`` otherwise."""
    try:
        function_problem(reference, step=step)
    except ValueError as exc:
        raise PipelineDefinitionInvalid(str(exc), details={"step": step}) from None
    module_name, _, attribute = reference.partition(":")
    if not allowed(module_name, prefixes):
        raise PipelineDefinitionInvalid(
            f"step {step!r}: module {module_name!r} is not one the server allows step functions from "
            f"(KILN_PIPELINE_MODULES: {', '.join(prefixes) or 'none'})",
            details={"step": step, "function": reference},
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise PipelineDefinitionInvalid(
            f"step {step!r}: function {reference!r} cannot be imported: {exc}",
            details={"step": step, "function": reference},
        ) from None
    function = getattr(target, "fn", target)  # a @step wraps its function
    if not callable(function):
        raise PipelineDefinitionInvalid(
            f"step {step!r}: {reference!r} is not a function", details={"step": step, "function": reference}
        )
    return function  # type: ignore[no-any-return]


def check_functions(spec: PipelineSpec, prefixes: Sequence[str]) -> None:
    """Every step's function exists and is allowed (registration's check)."""
    for step in spec.steps:
        resolve_function(step.function, prefixes, step=step.name)
