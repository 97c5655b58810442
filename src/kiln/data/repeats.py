"""Appended rows that repeat a key the dataset already holds: quarantined like a key repeated within
the batch ("duplicate key (link_id, ts) of version 4"), so an append never makes a key ambiguous."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kiln.core.lazy_module import lazy_module
from kiln.data.rules import RuleOutcome
from kiln.data.spec import DatasetSchema
from kiln.data.violations import combine, violations

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def quarantine_repeats(
    outcome: RuleOutcome, frame: pd.DataFrame, base: pd.DataFrame, schema: DatasetSchema, number: int
) -> RuleOutcome:
    """``outcome`` with its accepted rows whose key ``base`` (version ``number``'s rows) holds moved
    to the quarantine."""
    key = schema.key
    if not key or base.empty or outcome.accepted.empty:
        return outcome
    held = base[key].dropna().drop_duplicates()
    candidates = outcome.accepted[key].dropna()
    matched = candidates.reset_index().merge(held, on=key, how="inner")
    if matched.empty:
        return outcome
    repeated = np.sort(matched["index"].to_numpy(dtype="int64"))
    names = ", ".join(key)
    found = violations(
        repeated, "duplicate", names, [f"duplicate key ({names}) of version {number}"] * len(repeated)
    )
    problems = combine([outcome.violations, found]).sort_values("row", kind="stable").reset_index(drop=True)
    original = frame.reset_index(drop=True)
    bad = np.zeros(len(original), dtype=bool)
    bad[problems["row"].to_numpy(dtype="int64")] = True
    grouped = problems.groupby("row", sort=True)["reason"].agg(list)
    return RuleOutcome(
        accepted=outcome.accepted.drop(index=repeated),
        quarantined=original[bad],
        reasons=[list(reasons) for reasons in grouped],
        violations=problems,
    )
