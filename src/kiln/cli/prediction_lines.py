"""How a logged prediction reads in ``kiln deployments logs``: a table row, or one line when following."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from kiln.cli.output import new_table, styled_status
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


def prediction_table() -> Table:
    return new_table(
        "Time",
        "Request id",
        "Status",
        "Version",
        "Latency",
        "Caller",
        "Answer",
        "Feedback",
        ids=("Request id",),
        nowrap=("Status", "Version", "Latency"),
    )


def prediction_row(prediction: PredictionRead) -> tuple[str, ...]:
    version = "" if prediction.model_version_number is None else f"v{prediction.model_version_number}"
    return (
        prediction.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        prediction.request_id,
        styled_status(prediction.status.value),
        version,
        f"{prediction.latency_ms:.1f} ms",
        escape(prediction.caller),
        escape(answer(prediction)),
        escape(feedback(prediction)),
    )


def prediction_line(prediction: PredictionRead) -> str:
    """The same fields on one line (``--follow`` prints them as they come)."""
    time, request_id, status, version, latency, caller, said, actual = prediction_row(prediction)
    line = f"{time}  {request_id}  {status}  {version}  {latency}  {caller}  {said}"
    return f"{line}  actual: {actual}" if actual else line
