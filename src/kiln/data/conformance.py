"""Nullability, ranges and categories, from the schema and the rules, checked by pandera per row.

One ``pandera.pandas.DataFrameSchema`` is built from the declared schema plus the rules' not-null,
range and category rules, and run lazily on the typed frame, so every failing cell of every column is
collected in one pass. Its failure cases (column, check number, failing value, row) are mapped back
to what each check meant and turned into sentences: "latency_ms: 12000 is above the maximum 10000".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.rules_spec import CategoryRule, DatasetRules, NotNullRule, RangeRule
from kiln.data.spec import ColumnSpec, DatasetSchema
from kiln.data.violations import Check, by_rule, combine, format_value, no_violations, violations

if TYPE_CHECKING:
    import pandas as pd
    import pandera.errors as pandera_errors
    import pandera.pandas as pa
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pandera.pandas")
    pandera_errors = lazy_module("pandera.errors")


@dataclass(frozen=True)
class _Meaning:
    """What pandera's check number ``n`` of a column stands for, to word its failures."""

    check: Check
    rule: str
    problem: str  # follows the value: "12000 is above the maximum 10000"


@dataclass(frozen=True)
class _ColumnChecks:
    column: pa.Column
    meanings: list[_Meaning]
    null_rule: str | None  # None: nulls allowed; '': the schema forbids them; else the rule's name


def check_values(
    typed: pd.DataFrame,
    schema: DatasetSchema,
    rules: DatasetRules | None,
    *,
    unconverted: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The violations of nullability, ranges and categories; a cell that did not convert (it is
    missing in ``typed``, its type violation already reported) is not reported missing too."""
    columns = {spec.name: _column_checks(spec, rules) for spec in schema.columns}
    pandera_schema = pa.DataFrameSchema({name: checks.column for name, checks in columns.items()})
    try:
        pandera_schema.validate(typed, lazy=True, inplace=True)
    except pandera_errors.SchemaErrors as errors:
        return _to_violations(errors.failure_cases, columns, unconverted)
    return no_violations()


def _column_checks(spec: ColumnSpec, rules: DatasetRules | None) -> _ColumnChecks:
    checks: list[pa.Check] = []
    meanings: list[_Meaning] = []

    def bound(rule: str, minimum: float | None, maximum: float | None) -> None:
        if minimum is not None:
            checks.append(pa.Check.ge(minimum))
            meanings.append(_Meaning("range", rule, f"is below the minimum {format_value(minimum)}"))
        if maximum is not None:
            checks.append(pa.Check.le(maximum))
            meanings.append(_Meaning("range", rule, f"is above the maximum {format_value(maximum)}"))

    def allow(rule: str, allowed: Sequence[str]) -> None:
        checks.append(pa.Check.isin(list(allowed)))
        meanings.append(_Meaning("category", rule, "is not an allowed category"))

    bound("", spec.minimum, spec.maximum)
    if spec.categories is not None:
        allow("", spec.categories)
    null_rule = None if spec.nullable else ""
    for rule in rules.rules if rules else []:
        if isinstance(rule, RangeRule) and rule.column == spec.name:
            bound(rule.name, rule.minimum, rule.maximum)
        elif isinstance(rule, CategoryRule) and rule.column == spec.name:
            allow(rule.name, rule.allowed)
        elif isinstance(rule, NotNullRule) and spec.name in rule.columns and null_rule is None:
            null_rule = rule.name
    # dtype None: the frame is typed already (``coercion``); pandera judges values, not storage.
    column = pa.Column(None, checks, nullable=null_rule is None, name=spec.name)
    return _ColumnChecks(column, meanings, null_rule)


def _to_violations(
    cases: pd.DataFrame, columns: dict[str, _ColumnChecks], unconverted: dict[str, np.ndarray]
) -> pd.DataFrame:
    if cases["index"].isna().any():
        # A check that failed on the whole column rather than on rows is Kiln's bug, not the data's.
        raise RuntimeError(
            f"pandera failed a whole column: {cases[cases['index'].isna()].to_dict('records')}"
        )
    found: list[pd.DataFrame] = []
    for (name, check, number), group in cases.groupby(["column", "check", "check_number"], dropna=False):
        rows = group["index"].to_numpy(dtype="int64")
        checks = columns[str(name)]
        if check == "not_nullable":
            rows = np.setdiff1d(rows, unconverted.get(str(name), np.empty(0, dtype="int64")))
            rule = checks.null_rule or ""
            reason = by_rule(
                f"{name}: missing, and the column {'is required' if rule else 'is not nullable'}", rule
            )
            found.append(violations(rows, "null", str(name), [reason] * len(rows), rule=rule))
            continue
        meaning = checks.meanings[int(number)]
        reasons = [
            by_rule(f"{name}: {format_value(value)} {meaning.problem}", meaning.rule)
            for value in group["failure_case"]
        ]
        found.append(violations(rows, meaning.check, str(name), reasons, rule=meaning.rule))
    return combine(found)
