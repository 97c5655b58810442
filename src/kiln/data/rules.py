"""Splitting a batch into the rows a version may hold and the rows for quarantine, with every reason.

``split_rows`` judges each row against the declared schema (types, nullability, bounds, categories,
the key) and the dataset's rules; a row with any problem is quarantined with all of them, so a
reviewer fixes it once. A problem of the whole batch (a missing or undeclared column, a column with
no value of its type) raises ``FrameRejected`` instead: refusing the append beats quarantining all.

Pure: no database, no files. Positions count from 0 in the batch; both frames keep them as index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.coercion import check_columns, coerce_frame
from kiln.data.conformance import check_values
from kiln.data.row_expression import parse_expression, referenced_columns
from kiln.data.row_expression_eval import false_rows
from kiln.data.rules_spec import DatasetRules, ExpressionRule, UniqueRule
from kiln.data.spec import DatasetSchema
from kiln.data.violations import by_rule, combine, format_value, violations

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


@dataclass(frozen=True)
class RuleOutcome:
    """A judged batch. ``reasons[i]`` are the reasons of ``quarantined.iloc[i]``."""

    # In the declared types and column order (integers Int64, numbers float64, text and categories
    # str, booleans boolean, datetimes UTC).
    accepted: pd.DataFrame
    # As they came in (original values, uncoerced), for review and release.
    quarantined: pd.DataFrame
    reasons: list[list[str]]
    # Every problem, one per row and check: row, check, column, rule, reason (``violations``).
    violations: pd.DataFrame

    @property
    def rows(self) -> int:
        return len(self.accepted) + len(self.quarantined)


def split_rows(frame: pd.DataFrame, schema: DatasetSchema, rules: DatasetRules | None) -> RuleOutcome:
    """Judge every row of ``frame``; raises ``FrameRejected`` for a whole-batch problem and
    ``RulesInvalid`` when the rules do not fit the schema."""
    if rules is not None:
        rules.check_against(schema)
    check_columns(frame, schema)
    original = frame.reset_index(drop=True)
    coerced = coerce_frame(original, schema)
    typed = coerced.frame
    found = [
        coerced.violations,
        check_values(typed, schema, rules, unconverted=coerced.failed),
        _duplicates(typed, schema.key, ""),
    ]
    for rule in rules.rules if rules else []:
        if isinstance(rule, UniqueRule):
            found.append(_duplicates(typed, rule.columns, rule.name))
        elif isinstance(rule, ExpressionRule):
            found.append(_expression(typed, rule))
    problems = _in_column_order(combine(found), schema)
    bad = np.zeros(len(original), dtype=bool)
    bad[problems["row"].to_numpy(dtype="int64")] = True
    grouped = problems.groupby("row", sort=True)["reason"].agg(list)
    return RuleOutcome(
        accepted=typed[~bad],
        quarantined=original[bad],
        reasons=[list(reasons) for reasons in grouped],
        violations=problems,
    )


def _in_column_order(problems: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    """A row's reasons in the order of its columns (a reviewer reads the row left to right); keys and
    expressions come last, in the order of the rules."""
    position = {column.name: index for index, column in enumerate(schema.columns)}
    order = problems["column"].map(position).fillna(len(position)).to_numpy()
    ranked = problems.assign(_order=order).sort_values(["row", "_order"], kind="stable")
    return ranked.drop(columns="_order").reset_index(drop=True)


def _duplicates(typed: pd.DataFrame, key: list[str], rule: str) -> pd.DataFrame:
    """Rows repeating an earlier row's key; a row with a missing key value is nobody's duplicate."""
    names = ", ".join(key)
    if not key:
        return violations([], "duplicate", names, [], rule=rule)
    involved = typed.duplicated(subset=key, keep=False).to_numpy() & typed[key].notna().all(axis=1).to_numpy()
    if not involved.any():
        return violations([], "duplicate", names, [], rule=rule)
    # Only the rows sharing a key are grouped: a batch has few, and grouping all rows is slow.
    positions = np.flatnonzero(involved)
    group = typed.iloc[positions].groupby(key, sort=False).ngroup().to_numpy()
    first = pd.Series(positions).groupby(group).transform("min").to_numpy()
    later = positions != first
    reasons = [by_rule(f"duplicate key ({names}) of row {row}", rule) for row in first[later]]
    return violations(positions[later], "duplicate", names, reasons, rule=rule)


def _expression(typed: pd.DataFrame, rule: ExpressionRule) -> pd.DataFrame:
    expr = parse_expression(rule.expression)
    rows = false_rows(expr, typed)
    columns = referenced_columns(expr)
    text = " ".join(rule.expression.split())
    # The row's values of the expression's columns, so the reason shows why it was false.
    shown = typed[columns].iloc[rows].to_dict("list")
    reasons = [
        f"rule {rule.name}: {text} is false"
        + (
            " (" + ", ".join(f"{name} = {format_value(shown[name][i])}" for name in columns) + ")"
            if columns
            else ""
        )
        for i in range(len(rows))
    ]
    return violations(rows, "expression", ", ".join(columns), reasons, rule=rule.name)
