"""Violations: one record per problem found in a row, kept as a DataFrame (a batch may have many).

Columns: ``row`` (the row's position in the batch, from 0), ``check`` (``type``, ``null``, ``range``,
``category``, ``duplicate``, ``expression``), ``column`` (the column concerned, or the key's columns
joined by ', ', or the expression's columns), ``rule`` (the rule's name, '' for the schema's own checks)
and ``reason`` (the sentence a reviewer reads).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from kiln.core.lazy_module import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

Check: TypeAlias = Literal["type", "null", "range", "category", "duplicate", "expression"]
COLUMNS = ("row", "check", "column", "rule", "reason")
# A value quoted in a reason is cut to this many characters (a reason is read, not a copy of the row).
MAX_VALUE_CHARS = 60


def violations(
    rows: Iterable[int] | np.ndarray,
    check: Check,
    column: str,
    reasons: Iterable[str],
    *,
    rule: str = "",
) -> pd.DataFrame:
    positions = np.asarray(list(rows) if not isinstance(rows, np.ndarray) else rows, dtype="int64")
    return pd.DataFrame(
        {
            "row": positions,
            "check": check,
            "column": column,
            "rule": rule,
            "reason": list(reasons),
        },
        columns=list(COLUMNS),
    )


def no_violations() -> pd.DataFrame:
    return violations(np.empty(0, dtype="int64"), "type", "", [])


def combine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """All parts, by row, keeping each row's problems in the order they were found."""
    found = [part for part in parts if len(part)]
    if not found:
        return no_violations()
    return pd.concat(found, ignore_index=True).sort_values("row", kind="stable", ignore_index=True)


def by_rule(text: str, rule: str) -> str:
    """A reason from a rule names it, so a reviewer knows which rule to revisit."""
    return f"{text} (rule {rule})" if rule else text


def format_value(value: Any) -> str:
    """A cell as a reason quotes it: numbers plainly (12000, not 12000.0), text quoted and cut short."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isfinite(number) and number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    text = repr(str(value))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 4] + "...'"
