"""Building and updating drift state batch by batch, and merging two windows' states.

Sampling is seeded by the caller (a window's id, a batch's position), so recomputing a window from
the same batches gives the same state, the same sample and so the same drift numbers.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

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
    """``state`` with ``values`` folded in (for many batches, fold into a ``fold`` and take its state
    once: converting the state's lists to arrays and back is most of a small batch's cost)."""
    window = fold(state)
    window.add(values, seed=seed)
    return window.state()


def update_numeric(state: NumericState, present: np.ndarray, *, seed: int, nulls: int = 0) -> NumericState:
    window = NumericFold(state)
    window.add_numbers(present, seed=seed, nulls=nulls)
    return window.state()


def update_categorical(state: CategoricalState, values: Iterable[object]) -> CategoricalState:
    window = CategoricalFold(state)
    window.add(values)
    return window.state()


class NumericFold:
    """A numeric window being folded batch by batch, held in numpy arrays (the state's lists are
    what is stored and sent).

    The sample is the bottom-k by priority of every value seen. Once it is full, a value whose
    priority is not below the largest kept one can never enter it (k smaller ones exist already), so
    each batch only keeps its few candidates aside, and the sample is recomputed when they pile up
    and when the state is taken: the same sample as recomputing per batch, without its cost.
    """

    def __init__(self, state: NumericState) -> None:
        self._edge_list = state.edges
        self.edges = np.asarray(state.edges, dtype="float64")
        self.counts = np.asarray(state.counts, dtype="int64")
        self.count, self.nulls = state.count, state.nulls
        self._sample = np.asarray(state.sample, dtype="float64")
        self._priorities = np.asarray(state.priorities, dtype="float64")
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_count = 0
        self._limit = self._entry_limit()

    def add(self, values: Iterable[object], *, seed: int = 0) -> None:
        present, nulls = _numbers(values)
        self.add_numbers(present, seed=seed, nulls=nulls)

    def add_numbers(self, present: np.ndarray, *, seed: int, nulls: int = 0) -> None:
        # Bin i holds (e[i-1], e[i]]: the number of edges strictly below a value is its bin, found
        # without sorting the batch (O(n log bins)).
        self.counts = self.counts + np.bincount(
            np.searchsorted(self.edges, present, side="left"), minlength=len(self.edges) + 1
        )
        priorities = np.random.default_rng(seed).random(len(present))
        candidates = priorities < self._limit
        if candidates.all():
            self._pending.append((present, priorities))
        elif candidates.any():
            self._pending.append((present[candidates], priorities[candidates]))
        self._pending_count += int(candidates.sum())
        if self._pending_count > SAMPLE_SIZE:
            self._compact()
        self.count += len(present)
        self.nulls += nulls

    def state(self) -> NumericState:
        self._compact()
        # Built without validation: every field is ours and already of its type.
        return NumericState.model_construct(
            kind="numeric",
            count=self.count,
            nulls=self.nulls,
            edges=self._edge_list,
            counts=self.counts.tolist(),
            sample=self._sample.tolist(),
            priorities=self._priorities.tolist(),
        )

    def _compact(self) -> None:
        if not self._pending:
            return
        values = [self._sample, *(batch for batch, _ in self._pending)]
        priorities = [self._priorities, *(batch for _, batch in self._pending)]
        self._sample, self._priorities = _smallest(np.concatenate(values), np.concatenate(priorities))
        self._pending, self._pending_count = [], 0
        self._limit = self._entry_limit()

    def _entry_limit(self) -> float:
        return float(self._priorities.max()) if len(self._priorities) >= SAMPLE_SIZE else np.inf


class CategoricalFold:
    """A categorical window being folded batch by batch: counts per category name."""

    def __init__(self, state: CategoricalState) -> None:
        self.counts = dict(state.counts)
        self.count, self.nulls = state.count, state.nulls

    def add(self, values: Iterable[object], *, seed: int = 0) -> None:
        names, counts, nulls = _category_counts(values)
        for name, count in zip(names, counts, strict=True):
            key = name if name in self.counts or len(self.counts) < MAX_CATEGORIES else OTHER
            self.counts[key] = self.counts.get(key, 0) + count
        self.count += sum(counts)
        self.nulls += nulls

    def state(self) -> CategoricalState:
        return CategoricalState.model_construct(
            kind="categorical", count=self.count, nulls=self.nulls, counts=dict(self.counts)
        )


Fold = NumericFold | CategoricalFold


def fold(state: FeatureState) -> Fold:
    """A window to fold batches into, starting from ``state``."""
    return NumericFold(state) if isinstance(state, NumericState) else CategoricalFold(state)


def _category_counts(values: Iterable[object]) -> tuple[list[str], list[int], int]:
    """Distinct values as text with their counts (numpy's unique, not a Python loop), and the nulls.

    Counted in order of first appearance, so which names take the last free places before the
    ``(other)`` bucket does not depend on how values sort."""
    array = values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object)
    array = array.ravel()
    if array.dtype.kind == "O":
        present = np.fromiter((not _is_null(value) for value in array), dtype=bool, count=len(array))
        text = array[present].astype(str)
    elif array.dtype.kind == "f":
        present = ~np.isnan(array)
        text = array[present].astype(object).astype(str)  # str(1.0) == "1.0", like a logged value
    elif array.dtype.kind == "U":
        present = np.ones(len(array), dtype=bool)
        text = array  # already text: no copy
    else:
        present = np.ones(len(array), dtype=bool)
        text = array.astype(str) if array.dtype.kind != "b" else array.astype(object).astype(str)
    nulls = int(len(array) - present.sum())
    if not len(text):
        return [], [], nulls
    names, first, counts = np.unique(text, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return names[order].tolist(), counts[order].tolist(), nulls


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
        array = np.asarray(values, dtype="float64")  # no copy of a float array
    else:
        array = np.asarray(
            [np.nan if value is None or isinstance(value, str) else value for value in values],
            dtype="float64",
        )
    finite = np.isfinite(array)
    return array[finite], int((~finite).sum())


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)
