"""The drift benchmark's data: 20 features (15 numeric, 5 categorical), a reference and two current
sets of the same size (one with drift injected in known columns, one drawn like the reference), and
1k-row windows of a stable feature for the false-alarm simulation. numpy only: both venvs read it.

Injected drifts sit far from the 0.1 thresholds of Wasserstein (in reference standard deviations)
and Jensen-Shannon, so a disagreement is a difference of method, not a coin flip at the threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NUMERIC = [f"num_{i:02d}" for i in range(15)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
# Column -> what was done to it in the drifted set.
INJECTED = {
    "num_00": "mean +0.5 sd",
    "num_01": "scale x1.6",
    "num_02": "mean +0.25 sd",
    "num_03": "lognormal sigma 0.5 -> 0.8",
    "cat_0": "shares of the two commonest categories swapped",
    "cat_1": "a new category takes 20%",
}
_CATEGORIES = [[f"c{j}" for j in range(k)] for k in (4, 6, 8, 12, 20)]
NULL_WINDOWS = 500
NULL_ROWS = 1_000


def _shares(k: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, k + 1)  # Zipf-like: a few common categories, a tail of rare ones
    shares: np.ndarray = weights / weights.sum()
    return shares


def _numeric(rng: np.random.Generator, rows: int, drifted: bool) -> np.ndarray:
    columns = []
    for index in range(len(NUMERIC)):
        kind = index % 5
        if index == 3:
            sigma = 0.8 if drifted else 0.5
            columns.append(rng.lognormal(1.0, sigma, rows))
        elif kind == 0:
            columns.append(rng.normal(50, 10, rows))
        elif kind == 1:
            columns.append(rng.exponential(3.0, rows))
        elif kind == 2:
            columns.append(rng.uniform(-1, 1, rows))
        elif kind == 3:
            columns.append(rng.gamma(2.0, 2.0, rows))
        else:
            mixture = rng.random(rows) < 0.3
            columns.append(np.where(mixture, rng.normal(-2, 0.5, rows), rng.normal(1, 1, rows)))
    values = np.column_stack(columns)
    if drifted:
        values[:, 0] += 0.5 * 10  # num_00 is normal(50, 10)
        values[:, 1] = values[:, 1] * 1.6
        values[:, 2] += 0.25 * np.sqrt(1 / 3)  # uniform(-1, 1): sd 1/sqrt(3)
    return values


def _categorical(rng: np.random.Generator, rows: int, drifted: bool) -> np.ndarray:
    columns = []
    for index, names in enumerate(_CATEGORIES):
        shares = _shares(len(names))
        if drifted and index == 0:
            shares = shares.copy()
            shares[[0, 1]] = shares[[1, 0]]
        column = rng.choice(np.array(names), p=shares, size=rows)
        if drifted and index == 1:
            column = np.where(rng.random(rows) < 0.2, "new", column)
        columns.append(column)
    return np.column_stack(columns).astype("<U8")


def build(folder: Path, rows: int, seed: int = 2026) -> Path:
    """Write every array the benchmark compares to ``folder/drift-data.npz``; its path."""
    rng = np.random.default_rng(seed)
    # The false-alarm simulation: 1k-row windows of a stable category, each with a 1k-row reference.
    names = np.array(_CATEGORIES[2])
    shares = _shares(len(names))
    arrays = {
        "reference_numeric": _numeric(rng, rows, drifted=False),
        "reference_categorical": _categorical(rng, rows, drifted=False),
        "drifted_numeric": _numeric(rng, rows, drifted=True),
        "drifted_categorical": _categorical(rng, rows, drifted=True),
        "same_numeric": _numeric(rng, rows, drifted=False),
        "same_categorical": _categorical(rng, rows, drifted=False),
        # Each window has a reference of its own: a rate over one fixed reference is that sample's
        # luck (conditional on it), not the test's false-alarm rate.
        "null_references": rng.choice(names, p=shares, size=(NULL_WINDOWS, NULL_ROWS)).astype("<U8"),
        "null_windows": rng.choice(names, p=shares, size=(NULL_WINDOWS, NULL_ROWS)).astype("<U8"),
        "null_numeric_references": rng.normal(size=(NULL_WINDOWS, NULL_ROWS)),
        "null_numeric_windows": rng.normal(size=(NULL_WINDOWS, NULL_ROWS)),
    }
    path = folder / "drift-data.npz"
    np.savez(path, **arrays)
    return path
