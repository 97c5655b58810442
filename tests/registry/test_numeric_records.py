"""All-number requests take a one-pass check; it answers what the field-by-field check answers.

A model whose inputs are all numbers is checked through ``LoadedModel.validate``: a clean request
must give the very columns the field-by-field check gives, and every unclean one its very error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from kiln.core.errors import ValidationFailed
from kiln.registry.flavors import save_sklearn_model
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.registry.signature_validation import RecordValidator

SIGNATURE = Signature(
    input_kind="tensor",
    inputs=[
        FieldSpec(name="latency_ms", minimum=0, maximum=10_000),
        FieldSpec(name="retries", type=FieldType.integer, minimum=0),
        FieldSpec(name="load"),
    ],
)
CLEAN = {"latency_ms": 12.5, "retries": 2, "load": -0.25}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    folder: Path = tmp_path_factory.mktemp("numeric") / "model"
    X = np.array([[10.0, 1.0, 0.5], [20.0, 0.0, 0.1], [30.0, 3.0, 0.9]])
    save_sklearn_model(LinearRegression().fit(X, X.sum(axis=1)), folder, X=X, signature=SIGNATURE)
    return load_model_folder(folder)


def checked_by_fields(data: Any) -> Any:
    return RecordValidator(SIGNATURE).validate(data)


@pytest.mark.parametrize(
    "data",
    [CLEAN, [CLEAN, {**CLEAN, "retries": 0, "load": 3}], [{"load": 1, "retries": 1.0, "latency_ms": 0}]],
    ids=["one record", "two records", "keys in another order, integers as floats"],
)
def test_clean_requests_give_the_same_columns(loaded: LoadedModel, data: Any) -> None:
    fast, by_fields = loaded.validate(data), checked_by_fields(data)
    assert fast.n_rows == by_fields.n_rows
    for mine, theirs in zip(fast.columns, by_fields.columns, strict=True):
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs)
    assert loaded.predict(data).predictions == loaded.model.predict(fast.matrix()).tolist()


@pytest.mark.parametrize(
    "record",
    [
        {**CLEAN, "latency_ms": 10_001},
        {**CLEAN, "retries": -1},
        {**CLEAN, "retries": 1.5},
        {**CLEAN, "load": "high"},
        {**CLEAN, "load": True},
        {**CLEAN, "load": None},
        {**CLEAN, "load": float("nan")},
        {"latency_ms": 1.0, "retries": 1},
        {**CLEAN, "lod": 1.0},
        {"latency_ms": 1.0, "retries": 1, "lod": 1.0},
    ],
    ids=[
        "above maximum",
        "below minimum",
        "not whole",
        "text",
        "boolean",
        "null",
        "NaN",
        "missing",
        "unknown",
        "misspelt",
    ],
)
def test_every_other_request_gets_the_field_by_field_answer(loaded: LoadedModel, record: Any) -> None:
    assert outcome(loaded.validate, [record, CLEAN]) == outcome(checked_by_fields, [record, CLEAN])


def outcome(check: Any, data: Any) -> Any:
    """The error's message and details, or the columns as lists."""
    try:
        return [column.tolist() for column in check(data).columns]
    except ValidationFailed as refused:
        return refused.message, refused.details


ARRAYS = {
    "latency_ms": np.array([12.5, 0.0]),
    "retries": np.array([2, 0], dtype=np.int64),
    "load": np.array([-0.25, 3.0], dtype=np.float32),
}


def test_numeric_array_columns_give_the_same_columns(loaded: LoadedModel) -> None:
    """The OIP route's tensors (a dict of numpy columns): the same columns, dtypes included."""
    fast, by_fields = loaded.validate(ARRAYS), checked_by_fields(ARRAYS)
    assert [column.dtype for column in fast.columns] == [column.dtype for column in by_fields.columns]
    assert outcome(loaded.validate, ARRAYS) == outcome(checked_by_fields, ARRAYS)
    np.testing.assert_array_equal(fast.matrix(), by_fields.matrix())


@pytest.mark.parametrize(
    "change",
    [
        {"latency_ms": np.array([12.5, 10_001.0])},
        {"retries": np.array([2.0, 1.5])},
        {"load": np.array([np.nan, 1.0])},
        {"load": np.array([np.inf, 1.0])},
        {"load": np.array(["high", "low"])},
        {"load": np.array([1.0])},
        {"lod": np.array([1.0, 2.0])},
    ],
    ids=["above maximum", "not whole", "NaN", "infinity", "text", "shorter", "unknown"],
)
def test_other_array_columns_get_the_field_by_field_answer(loaded: LoadedModel, change: Any) -> None:
    data = {**ARRAYS, **change}
    assert outcome(loaded.validate, data) == outcome(checked_by_fields, data)
