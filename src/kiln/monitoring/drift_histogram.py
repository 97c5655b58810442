"""Reference against current over the same bins: what a drift chart draws for one feature.

Numeric features reuse the state's own bins (the reference's deciles), so a chart costs nothing
more than the counts drift already keeps. Categories are capped at the most frequent few, the rest
summed, so a report stays small whatever the cardinality.
"""

from __future__ import annotations

from itertools import pairwise

from kiln.monitoring.drift_schemas import CategoricalState, FeatureHistogram, FeatureState, NumericState

# Bars a categorical chart shows by name; the others share one bar.
MAX_BARS = 20
OTHER = "(other)"


def feature_histogram(reference: FeatureState, current: FeatureState) -> FeatureHistogram | None:
    if isinstance(reference, NumericState) and isinstance(current, NumericState):
        return _numeric(reference, current)
    if isinstance(reference, CategoricalState) and isinstance(current, CategoricalState):
        return _categorical(reference.counts, current.counts)
    return None


def _numeric(reference: NumericState, current: NumericState) -> FeatureHistogram | None:
    if reference.edges != current.edges or not reference.counts:
        return None
    edges = reference.edges
    labels = [f"≤ {_short(edges[0])}"] if edges else ["all"]
    labels += [f"{_short(low)} to {_short(high)}" for low, high in pairwise(edges)]
    if edges:
        labels.append(f"> {_short(edges[-1])}")
    return FeatureHistogram(bins=labels, edges=edges, reference=reference.counts, current=current.counts)


def _categorical(reference: dict[str, int], current: dict[str, int]) -> FeatureHistogram:
    names = sorted(set(reference) | set(current), key=lambda n: (-reference.get(n, 0), -current.get(n, 0), n))
    shown, rest = names[:MAX_BARS], names[MAX_BARS:]
    bins = list(shown)
    ref = [reference.get(name, 0) for name in shown]
    cur = [current.get(name, 0) for name in shown]
    if rest:
        bins.append(OTHER if OTHER not in shown else f"{OTHER} +")
        ref.append(sum(reference.get(name, 0) for name in rest))
        cur.append(sum(current.get(name, 0) for name in rest))
    return FeatureHistogram(bins=bins, reference=ref, current=cur)


def _short(value: float) -> str:
    return f"{value:.4g}"
