"""Requests checked against a signature: the message names the field and says what it expects."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kiln.core.errors import ValidationFailed
from kiln.registry.model_format import FieldSpec, FieldType, Signature
from kiln.registry.signature_validation import validate_records

SIGNATURE = Signature(
    inputs=[
        FieldSpec(name="latency_ms", minimum=0, maximum=10000),
        FieldSpec(name="protocol", type=FieldType.category, allowed=["tcp", "udp"]),
        FieldSpec(name="retries", type=FieldType.integer, required=False, default=0),
        FieldSpec(name="encrypted", type=FieldType.boolean, required=False),
        FieldSpec(name="host", type=FieldType.string, required=False, default="unknown"),
    ]
)
GOOD = {"latency_ms": 12.5, "protocol": "tcp", "retries": 1, "encrypted": True, "host": "a"}


def refusal(records: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate_records(SIGNATURE, records)
    assert caught.value.status_code == 422
    return caught.value


def test_a_word_where_a_number_belongs_names_the_field_and_the_range() -> None:
    error = refusal({**GOOD, "latency_ms": "abc"})
    assert error.message == "latency_ms: expected a number between 0 and 10000, got 'abc'"
    assert error.details["problems"] == [
        {
            "field": "latency_ms",
            "row": 0,
            "message": error.message,
            "expected": "a number between 0 and 10000",
            "got": "'abc'",
        }
    ]


def test_out_of_range_and_not_allowed_values_are_refused_with_their_row() -> None:
    error = refusal([GOOD, {**GOOD, "latency_ms": 20000}, {**GOOD, "protocol": "icmp"}])
    messages = [problem["message"] for problem in error.details["problems"]]
    assert messages == [
        "latency_ms: expected a number between 0 and 10000, got 20000 (row 1)",
        "protocol: expected one of 'tcp', 'udp', got 'icmp' (row 2)",
    ]
    assert [problem["row"] for problem in error.details["problems"]] == [1, 2]


def test_missing_required_field_is_named() -> None:
    error = refusal({"protocol": "tcp"})
    assert (
        error.message == "latency_ms: missing; this field is required (expected a number between 0 and 10000)"
    )


def test_null_for_a_required_field_is_refused() -> None:
    assert refusal({**GOOD, "latency_ms": None}).message.startswith(
        "latency_ms: null, but this field is required"
    )


def test_unknown_field_suggests_the_close_one() -> None:
    error = refusal({**GOOD, "latncy": 3})
    assert error.message.startswith("latncy: unknown field; did you mean 'latency_ms'?")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("retries", 1.5, "retries: expected an integer, got 1.5"),
        ("retries", "2", "retries: expected an integer, got '2'"),
        ("encrypted", "yes", "encrypted: expected true or false, got 'yes'"),
        ("host", 7, "host: expected a string, got 7"),
        ("latency_ms", True, "latency_ms: expected a number between 0 and 10000, got true"),
        ("protocol", ["tcp"], "protocol: expected one of 'tcp', 'udp', got ['tcp']"),
    ],
)
def test_wrong_types_are_named(field: str, value: object, expected: str) -> None:
    assert refusal({**GOOD, field: value}).message == expected


def test_every_problem_is_listed_and_counted() -> None:
    error = refusal([{"latency_ms": -1, "protocol": "x", "retries": "many"}] * 3)
    assert error.details["problem_count"] == 9
    assert len(error.details["problems"]) == 9
    assert re.search(r"and 6 more problems$", error.message)


def test_defaults_fill_optional_fields_and_types_are_numpy() -> None:
    checked = validate_records(SIGNATURE, [{"latency_ms": 3, "protocol": "udp"}, {**GOOD, "retries": None}])
    columns = dict(zip(checked.names, checked.columns, strict=True))
    assert checked.n_rows == 2
    assert columns["latency_ms"].dtype == np.float64
    assert columns["retries"].tolist() == [0, 0]
    assert columns["retries"].dtype == np.int64
    assert columns["host"].tolist() == ["unknown", "a"]
    assert columns["encrypted"].tolist() == [None, True]


def test_columns_and_frames_are_checked_the_same_way() -> None:
    columns = {"latency_ms": [1.0, 2.0], "protocol": ["tcp", "udp"]}
    assert validate_records(SIGNATURE, columns).n_rows == 2
    frame = pd.DataFrame({"latency_ms": [1.0, -2.0], "protocol": ["tcp", "udp"]})
    error = refusal(frame)
    assert error.message == "latency_ms: expected a number between 0 and 10000, got -2.0 (row 1)"
    assert validate_records(SIGNATURE, frame.iloc[:1]).frame()["protocol"].tolist() == ["tcp"]


def test_not_records_at_all_says_what_to_send() -> None:
    assert "at least one" in refusal([]).message
    assert refusal("latency_ms=3").message.startswith("expected a list of records")
    assert refusal([GOOD, 5]).message.startswith("row 1: expected a record")
