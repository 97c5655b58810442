"""How a logged prediction reads in ``kiln deployments logs``: one line each."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from kiln.cli.output import styled_status
from kiln.serving.schemas import PredictionRead

ANSWER_WIDTH = 60


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= ANSWER_WIDTH else text[: ANSWER_WIDTH - 1] + "…"


def answer(prediction: PredictionRead) -> str:
    """The predictions it answered, or why it answered none."""
    if prediction.error:
        return _short(prediction.error)
    outputs = prediction.outputs
    if isinstance(outputs, dict) and "predictions" in outputs:
        return _short(outputs["predictions"])
    return _short(outputs) if outputs is not None else ""


def feedback(prediction: PredictionRead) -> str:
    return "" if prediction.feedback is None else _short(prediction.feedback.actual)


def prediction_line(prediction: PredictionRead) -> str:
    """One line per prediction, like a log (wide tables fold in a narrow terminal or a pipe):
    time, request id, status, version, latency, caller, answer or error, and the actual outcome."""
    when = prediction.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    status = prediction.status.value
    version = "" if prediction.model_version_number is None else f"v{prediction.model_version_number}"
    padding = " " * (len("invalid") - len(status))
    line = (
        f"{when}  {prediction.request_id}  {styled_status(status)}{padding}  {version:<4} "
        f"{prediction.latency_ms:7.1f} ms  {escape(prediction.caller)}  {escape(answer(prediction))}"
    )
    actual = feedback(prediction)
    return f"{line}  actual: {escape(actual)}" if actual else line
