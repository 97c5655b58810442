"""The quality-check time of a batch: Kiln's judging against the same checks run by pandera alone.

Kiln judges a batch as it came from a CSV (every cell text) in two steps: ``split_rows`` converts
each column to its declared type, runs pandera on nullability, ranges and categories, finds duplicate
keys and evaluates the row rules, and words every problem per row; ``check_quality`` then measures
null rates, violations, duplicates, the row count and the distribution against the previous
batch. The ceiling is pandera by itself on the same frame with the same checks: a
``DataFrameSchema`` that coerces to the declared types, with the same bounds, categories and
nullability, the key as ``unique`` and the row rules as DataFrame checks, validated lazily (every
failure collected). Kiln's overhead is the ratio of the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from kiln.data.quality import check_quality
from kiln.data.quality_schemas import QualityThresholds
from kiln.data.rules import split_rows
from kiln.data.rules_spec import DatasetRules, NotNullRule
from kiln.data.spec import ColumnType, DatasetSchema

_DTYPES = {
    ColumnType.datetime: "datetime64[ns, UTC]",
    ColumnType.category: str,
    ColumnType.string: str,
    ColumnType.integer: "Int64",
    ColumnType.number: float,
}


def pandera_schema(schema: DatasetSchema, rules: DatasetRules) -> pa.DataFrameSchema:
    """The dataset's checks as one pandera schema (the row rules written as pandas expressions)."""
    required = {name for rule in rules.rules if isinstance(rule, NotNullRule) for name in rule.columns}
    columns = {}
    for spec in schema.columns:
        checks = []
        if spec.minimum is not None:
            checks.append(pa.Check.ge(spec.minimum))
        if spec.maximum is not None:
            checks.append(pa.Check.le(spec.maximum))
        if spec.categories is not None:
            checks.append(pa.Check.isin(spec.categories))
        nullable = spec.nullable and spec.name not in required
        columns[spec.name] = pa.Column(_DTYPES[spec.type], checks, nullable=nullable, coerce=True)
    row_rules = [
        pa.Check(lambda frame: frame["jitter_ms"] >= 0, name="no_negative_jitter"),
        pa.Check(
            lambda frame: (frame["utilization_pct"] < 5) | (frame["throughput_mbps"] > 0),
            name="busy_link_has_traffic",
        ),
    ]
    return pa.DataFrameSchema(columns, checks=row_rules, unique=schema.key or None)


def pandera_alone(frame: pd.DataFrame, checker: pa.DataFrameSchema) -> int:
    """Failure cases pandera finds (0 on clean data)."""
    try:
        checker.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return len(errors.failure_cases)
    return 0


def kiln_judging(frame: pd.DataFrame, schema: DatasetSchema, rules: DatasetRules) -> int:
    """Rows Kiln quarantines, after the whole quality report."""
    outcome = split_rows(frame, schema, rules)
    check_quality(frame, schema, outcome, previous=None, thresholds=QualityThresholds())
    return len(outcome.quarantined)


def best_seconds(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs (the least disturbed by the rest of the machine)."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return float(np.min(times)), result
