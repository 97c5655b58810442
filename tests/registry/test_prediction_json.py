"""A prediction result written straight from the model's arrays is the JSON its lists would make.

Serving encodes a result once (``PredictionResult.to_json``), from numpy arrays where orjson writes
them as their Python lists would be written, and puts those bytes in the answer and the prediction
log. Whatever the arrays hold, the text must parse to ``to_dict()``: NaN and infinity as null, whole
numbers as integers, booleans as booleans, float32 as the doubles its lists hold, text as text.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kiln.registry.flavors.base import PredictionResult, json_list, json_ready

ARRAYS = {
    "classes": np.array([0, 1, 1]),
    "unsigned": np.array([3, 2**63], dtype=np.uint64),
    "booleans": np.array([True, False]),
    "probabilities": np.array([[0.1, 0.9], [np.nan, np.inf], [1 / 3, -np.inf]]),
    "float32": np.array([0.1, 2.5], dtype=np.float32),
    "text": np.array(["cat", "dög"]),
    "objects": np.array(["a", 1, None], dtype=object),
    "Fortran order": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3) / 7),
}


@pytest.mark.parametrize("values", ARRAYS.values(), ids=ARRAYS.keys())
def test_an_array_is_written_as_its_lists(values: np.ndarray) -> None:
    result = PredictionResult(json_ready(values), probabilities=json_ready(np.atleast_2d(values)))
    expected = {"predictions": json_list(values), "probabilities": json_list(np.atleast_2d(values))}
    assert result.to_dict() == expected
    assert json.loads(result.to_json()) == expected


def test_the_keys_come_in_the_answers_order() -> None:
    probabilities = np.array([[0.2, 0.8], [0.6, 0.4]])
    result = PredictionResult(np.array([1, 0]), classes=[0, 1], probabilities=probabilities)
    assert list(json.loads(result.to_json())) == ["predictions", "classes", "probabilities"]
    assert result.to_json() == json.dumps(result.to_dict(), separators=(",", ":")).encode()


def test_an_integer_past_64_bits_is_still_written() -> None:
    result = PredictionResult([2**70, 1], classes=[2**70, 1])
    assert json.loads(result.to_json()) == {"predictions": [2**70, 1], "classes": [2**70, 1]}
