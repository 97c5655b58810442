"""Pipelines: define them in Python or YAML, register them as versions, run them as jobs.

``from kiln.pipelines import pipeline, step, param`` is the DSL (light: pydantic only);
``log_metric``/``log_params`` record into a running step's child tracking run (``step_context``).
``kiln.pipelines.register(...)`` and ``kiln.pipelines.run(...)`` are the SDK's one-line forms
over the default client; they load on first use (the SDK sits above this package, so the names are
looked up lazily, as ``kiln``'s own are).
"""

from __future__ import annotations

import importlib
from typing import Any

from kiln.pipelines.dsl import Pipeline, Step, param, pipeline, step
from kiln.pipelines.step_context import log_metric, log_metrics, log_param, log_params

_SHORTCUTS = ("register", "run", "get", "wait")

__all__ = [
    "Pipeline",
    "Step",
    "get",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "param",
    "pipeline",
    "register",
    "run",
    "step",
    "wait",
]


def __getattr__(name: str) -> Any:
    if name in _SHORTCUTS:
        shortcuts = importlib.import_module("kiln.client.pipeline_shortcuts")
        return getattr(shortcuts, name)
    raise AttributeError(f"module 'kiln.pipelines' has no attribute {name!r}")
