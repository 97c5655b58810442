"""Reading served inputs back from the prediction log: records, columns or JSON text of either."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def logged_rows(inputs: Any) -> Iterator[dict[str, Any]]:
    """The rows of one logged request, as records; nothing for a payload that holds no records
    (tensors of the inference protocol, a refused request's unreadable body)."""
    if isinstance(inputs, str | bytes):
        try:
            inputs = json.loads(inputs)
        except ValueError:
            return
    if isinstance(inputs, dict) and len(inputs.keys() & {"inputs", "columns"}) == 1:
        inputs = inputs.get("inputs", inputs.get("columns"))
    if isinstance(inputs, list):
        yield from (row for row in inputs if isinstance(row, dict))
    elif isinstance(inputs, dict) and inputs and all(isinstance(v, list) for v in inputs.values()):
        names = list(inputs)
        for values in zip(*(inputs[name] for name in names), strict=False):
            yield dict(zip(names, values, strict=True))


def logged_predictions(outputs: Any) -> list[Any]:
    predictions = outputs.get("predictions") if isinstance(outputs, dict) else None
    return predictions if isinstance(predictions, list) else []
