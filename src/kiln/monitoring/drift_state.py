"""Building and updating drift state batch by batch, and merging two windows' states.

Sampling is seeded by the caller (a window's id, a batch's position), so recomputing a window from
the same batches gives the same state, the same sample and so the same drift numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from kiln.data.quality_baseline import binned
from kiln.monitoring.drift_schemas import CategoricalState, FeatureState, NumericState

# Values kept per numeric feature: KS and Wasserstein on a uniform sample of this size are exact
# for windows up to it and differ from the full window's by sampling error (~1/sqrt(n)) beyond.
SAMPLE_SIZE = 5_000
# Distinct categories counted by name; the rest share one bucket so state stays bounded.
MAX_CATEGORIES = 100
OTHER = "(other)"
_DECILES = np.linspace(0.1, 0.9, 9)


def numeric_reference(values: Iterable[object], *, seed: int = 0) -> NumericState:
    """The reference state of a numeric feature: its decile edges fix the bins of every window."""
    present, nulls = _numbers(values)
    edges = np.unique(np.quantile(present, _DECILES, method="inverted_cdf")) if len(present) else np.array([])
    empty = NumericState(edges=edges.tolist(), counts=[0] * (len(edges) + 1))
    return update_numeric(empty, present, seed=seed, nulls=nulls)


def categorical_reference(values: Iterable[object]) -> CategoricalState:
    return update_categorical(CategoricalState(), values)


def empty_like(reference: FeatureState) -> FeatureState:
    """An empty window over the reference's bins."""
    if isinstance(reference, NumericState):
        return NumericState(edges=reference.edges, counts=[0] * len(reference.counts))
    return CategoricalState()


def update(state: FeatureState, values: Iterable[object], *, seed: int) -> FeatureState:
    if isinstance(state, NumericState):
        present, nulls = _numbers(values)
        return update_numeric(state, present, seed=seed, nulls=nulls)
    return update_categorical(state, values)


def update_numeric(state: NumericState, present: np.ndarray, *, seed: int, nulls: int = 0) -> NumericState:
    ordered = np.sort(present)
    counts = np.asarray(state.counts, dtype="int64") + binned(
        ordered, np.asarray(state.edges, dtype="float64")
    )
    priorities = np.random.default_rng(seed).random(len(present))
    sample, kept = _smallest(
        np.concatenate([np.asarray(state.sample, dtype="float64"), present]),
        np.concatenate([np.asarray(state.priorities, dtype="float64"), priorities]),
    )
    return NumericState(
        count=state.count + len(present),
        nulls=state.nulls + nulls,
        edges=state.edges,
        counts=counts.tolist(),
        sample=sample.tolist(),
        priorities=kept.tolist(),
    )


def update_categorical(state: CategoricalState, values: Iterable[object]) -> CategoricalState:
    counts = dict(state.counts)
    count, nulls = state.count, state.nulls
    for value in values:
        if _is_null(value):
            nulls += 1
            continue
        name = str(value)
        if name not in counts and len(counts) >= MAX_CATEGORIES:
            name = OTHER
        counts[name] = counts.get(name, 0) + 1
        count += 1
    return CategoricalState(count=count, nulls=nulls, counts=counts)


def merge(first: FeatureState, second: FeatureState) -> FeatureState:
    """The state of both windows' values together (hour windows into a day, say)."""
    if isinstance(first, NumericState) and isinstance(second, NumericState):
        if first.edges != second.edges:
            raise ValueError("numeric states over different bins cannot be merged")
        sample, kept = _smallest(
            np.asarray(first.sample + second.sample, dtype="float64"),
            np.asarray(first.priorities + second.priorities, dtype="float64"),
        )
        counts = np.asarray(first.counts, dtype="int64") + np.asarray(second.counts, dtype="int64")
        return NumericState(
            count=first.count + second.count,
            nulls=first.nulls + second.nulls,
            edges=first.edges,
            counts=counts.tolist(),
            sample=sample.tolist(),
            priorities=kept.tolist(),
        )
    if isinstance(first, CategoricalState) and isinstance(second, CategoricalState):
        merged = CategoricalState(
            count=first.count, nulls=first.nulls + second.nulls, counts=dict(first.counts)
        )
        for name, count in second.counts.items():
            key = name if name in merged.counts or len(merged.counts) < MAX_CATEGORIES else OTHER
            merged.counts[key] = merged.counts.get(key, 0) + count
            merged.count += count
        return merged
    raise ValueError("a numeric and a categorical state cannot be merged")


def _smallest(values: np.ndarray, priorities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(values) <= SAMPLE_SIZE:
        return values, priorities
    keep = np.argpartition(priorities, SAMPLE_SIZE - 1)[:SAMPLE_SIZE]
    return values[keep], priorities[keep]


def _numbers(values: Iterable[object]) -> tuple[np.ndarray, int]:
    """Finite floats, and how many values were missing (None, NaN). Infinities count as missing."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        array = values.astype("float64")
    else:
        array = np.asarray(
            [np.nan if value is None or isinstance(value, str) else value for value in values],
            dtype="float64",
        )
    finite = np.isfinite(array)
    return array[finite], int((~finite).sum())


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)
