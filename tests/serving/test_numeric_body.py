"""An all-number predict body is read straight into the checked matrix, or left to the general path.

``read_numeric`` must answer exactly the matrix the general path (``parse_payload`` and the
signature's check) answers for a clean body, and decline (None) every other body, so that the
general path words its problem as it always has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from sklearn.linear_model import LinearRegression

from kiln.registry.flavors import save_sklearn_model
from kiln.registry.loaded_model import LoadedModel, load_model_folder
from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.serving.numeric_body import read_numeric
from kiln.serving.predict_payload import parse_payload

SIGNATURE = Signature(
    input_kind="dataframe",
    inputs=[
        FieldSpec(name="latency ms", minimum=0, maximum=10_000),
        FieldSpec(name="retries", type=FieldType.integer, minimum=0),
        FieldSpec(name="load"),
    ],
)
RECORDS = [
    {"latency ms": 12.5, "retries": 2, "load": -0.25},
    {"load": 3, "retries": 0.0, "latency ms": 0},  # keys in another order, integers as floats
]
COLUMNS = {"latency ms": [12.5, 0], "retries": [2, 0.0], "load": [-0.25, 3]}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    folder: Path = tmp_path_factory.mktemp("numeric-body") / "model"
    X = np.array([[10.0, 1.0, 0.5], [20.0, 0.0, 0.1], [30.0, 3.0, 0.9]])
    save_sklearn_model(LinearRegression().fit(X, X.sum(axis=1)), folder, X=X, signature=SIGNATURE)
    return load_model_folder(folder)


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps({"inputs": RECORDS}),
        orjson.dumps({"inputs": RECORDS[:1]}),
        b' {\n "inputs" : [ {"latency ms": 1e2, "retries": 1, "load": -0.0} ] }\n',
        orjson.dumps({"columns": COLUMNS}),
    ],
    ids=["records", "one record", "spaced, exponent", "columns"],
)
def test_a_clean_body_gives_the_general_paths_matrix(loaded: LoadedModel, body: bytes) -> None:
    fast = read_numeric(loaded, body)
    general = loaded.validate(parse_payload(body)[0])
    assert fast is not None
    assert fast.n_rows == general.n_rows
    np.testing.assert_array_equal(fast.matrix(), general.matrix())
    assert fast.matrix().flags.c_contiguous


@pytest.mark.parametrize(
    "body",
    [
        b'{"inputs": [{"latency ms": 10001, "retries": 1, "load": 0}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1.5, "load": 0}]}',
        b'{"inputs": [{"latency ms": 1, "retries": -1, "load": 0}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": null}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": true}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": "high"}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": NaN}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": 1e400}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1}]}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": 0, "lod": 1}]}',
        b'{"inputs": []}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": 0}], "extra": 1}',
        b'{"inputs": [{"latency ms": 1, "retries": 1, "load": 0}',
        b'{"columns": {"latency ms": [1, 2], "retries": [1], "load": [0, 0]}}',
        b'{"columns": {"latency ms": [], "retries": [], "load": []}}',
        b'{"columns": {"latency ms": [1], "retries": [1], "load": [null]}}',
        b'{"columns": {"latency ms": [1], "retries": [1]}}',
    ],
    ids=[
        "above maximum",
        "not whole",
        "below minimum",
        "null",
        "boolean",
        "text",
        "NaN literal",
        "too large",
        "missing",
        "unknown",
        "no records",
        "another top-level key",
        "malformed",
        "columns of different lengths",
        "empty columns",
        "null in a column",
        "a column missing",
    ],
)
def test_any_other_body_is_left_to_the_general_path(loaded: LoadedModel, body: bytes) -> None:
    assert read_numeric(loaded, body) is None
