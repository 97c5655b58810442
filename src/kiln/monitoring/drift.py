"""Drift of a window against the reference, per feature, and the report that says what to do.

Every measure that applies is computed; one decides (``DriftMethod.auto``: a test while the window is
small, a distance once it is large). Tests: two-sample Kolmogorov-Smirnov on the samples for numbers,
chi-squared on the 2 x k contingency table (``scipy.stats.chi2_contingency``) for categories.
Distances: Wasserstein over the reference's standard deviation, Jensen-Shannon (base 2). PSI for both.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

from kiln.data.quality_baseline import psi
from kiln.monitoring.drift_histogram import feature_histogram
from kiln.monitoring.drift_schemas import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    CategoricalState,
    DriftMethod,
    DriftReport,
    DriftThresholds,
    FeatureDrift,
    FeatureState,
    FeatureThresholds,
    NumericState,
)

# The methods whose score is a p-value: drift when it falls BELOW the threshold.
_TESTS = frozenset({DriftMethod.ks, DriftMethod.chi2})
_LABELS = {
    DriftMethod.ks: "KS p-value",
    DriftMethod.chi2: "chi-squared p-value",
    DriftMethod.wasserstein: "Wasserstein distance (reference std)",
    DriftMethod.jensen_shannon: "Jensen-Shannon distance",
    DriftMethod.psi: "PSI",
}


def feature_drift(
    name: str, reference: FeatureState, current: FeatureState, limits: FeatureThresholds, *, small_window: int
) -> FeatureDrift:
    measures = (
        _numeric_measures(reference, current, small_window=small_window)
        if isinstance(reference, NumericState) and isinstance(current, NumericState)
        else _categorical_measures(_categories(reference), _categories(current))
    )
    kind = reference.kind
    base = {
        "feature": name,
        "kind": kind,
        "reference_count": reference.count,
        "current_count": current.count,
        "reference_null_rate": _null_rate(reference),
        "current_null_rate": _null_rate(current),
        **measures,
        "histogram": feature_histogram(reference, current),
    }
    if current.count == 0 or reference.count == 0:
        side = "window" if current.count == 0 else "reference"
        return FeatureDrift(method=None, drifted=False, message=f"{name}: no values in the {side}", **base)
    method = _method(kind, limits.method, current.count, small_window)
    score = _score(method, measures)
    threshold = _threshold(method, limits)
    drifted = score is not None and (score < threshold if method in _TESTS else score > threshold)
    verdict = "drifted" if drifted else "stable"
    side = "below" if method in _TESTS else "above"
    detail = f"{_LABELS[method]} {_format(score)}, drift {side} {threshold:g}"
    return FeatureDrift(
        method=method,
        drifted=drifted,
        score=score,
        threshold=threshold,
        message=f"{name}: {verdict}, {detail}; PSI {_format(measures['psi'])}",
        **base,
    )


def drift_report(
    references: Mapping[str, FeatureState],
    currents: Mapping[str, FeatureState],
    thresholds: DriftThresholds,
    *,
    prediction_feature: str | None = None,
) -> DriftReport:
    """Each referenced feature of the window; ``prediction_feature`` names the model's output."""
    features = []
    for name, reference in references.items():
        if name in thresholds.ignore:
            continue
        current = currents.get(name)
        if current is None:
            raise ValueError(f"the window has no state for feature {name!r}")
        features.append(
            feature_drift(
                name, reference, current, thresholds.for_feature(name), small_window=thresholds.small_window
            )
        )
    inputs = [feature for feature in features if feature.feature != prediction_feature]
    drifted = [feature.feature for feature in inputs if feature.drifted]
    share = len(drifted) / len(inputs) if inputs else 0.0
    dataset_drift = bool(inputs) and share >= thresholds.drifted_share
    outputs = [feature for feature in features if feature.feature == prediction_feature]
    prediction_drift = outputs[0].drifted if outputs else None
    retrain = dataset_drift or bool(prediction_drift)
    return DriftReport(
        features=features,
        drifted_features=drifted,
        drifted_share=share,
        dataset_drift=dataset_drift,
        prediction_drift=prediction_drift,
        retrain_recommended=retrain,
        summary=_summary(features, drifted, len(inputs), thresholds.drifted_share, prediction_drift, retrain),
    )


def _numeric_measures(
    reference: NumericState, current: NumericState, *, small_window: int
) -> dict[str, float | None]:
    measures: dict[str, float | None] = {
        "ks_statistic": None,
        "ks_p_value": None,
        "wasserstein": None,
        "psi": None,
    }
    if not reference.sample or not current.sample:
        return measures
    ref, cur = np.sort(np.asarray(reference.sample)), np.sort(np.asarray(current.sample))
    statistic, distance = _cdf_gaps(ref, cur)
    if current.count <= small_window:
        # Where the test decides, scipy's (exact when it can be) p-value.
        test = stats.ks_2samp(ref, cur)
        statistic, p_value = float(test.statistic), float(test.pvalue)
    else:
        # A large window: a distance decides and the p-value is told only; the asymptotic one is
        # as good at these sizes and costs nothing next to an exact one on 5,000 x 5,000 points.
        effective = len(ref) * len(cur) / (len(ref) + len(cur))
        p_value = float(np.clip(special.kolmogorov(np.sqrt(effective) * statistic), 0.0, 1.0))
    spread = float(ref.std())
    measures["ks_statistic"], measures["ks_p_value"] = statistic, p_value
    # A constant reference: any movement at all is infinitely many standard deviations.
    measures["wasserstein"] = distance / spread if spread > 0 else (0.0 if distance == 0 else float("inf"))
    measures["psi"] = psi(
        np.asarray(reference.counts, dtype="float64"), np.asarray(current.counts, dtype="float64")
    )
    return measures


def _cdf_gaps(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """KS statistic (the largest gap between the two empirical CDFs) and Wasserstein-1 distance (the
    area between them) of two sorted samples, from one pass over their merged values."""
    merged = np.sort(np.concatenate([ref, cur]))
    gaps = np.abs(
        np.searchsorted(ref, merged, side="right") / len(ref)
        - np.searchsorted(cur, merged, side="right") / len(cur)
    )
    return float(gaps.max()), float(np.sum(gaps[:-1] * np.diff(merged)))


def _categorical_measures(reference: dict[str, int], current: dict[str, int]) -> dict[str, float | None]:
    measures: dict[str, float | None] = {
        "chi2_statistic": None,
        "chi2_p_value": None,
        "jensen_shannon": None,
        "psi": None,
    }
    names = sorted(set(reference) | set(current))
    if not reference or not current:
        return measures
    table = np.array(
        [[reference.get(n, 0) for n in names], [current.get(n, 0) for n in names]], dtype="float64"
    )
    if len(names) < 2:  # one category on both sides: identical distributions
        measures.update(chi2_statistic=0.0, chi2_p_value=1.0, jensen_shannon=0.0, psi=0.0)
        return measures
    test = stats.chi2_contingency(table, correction=False)
    measures["chi2_statistic"], measures["chi2_p_value"] = float(test.statistic), float(test.pvalue)
    measures["jensen_shannon"] = float(jensenshannon(table[0], table[1], base=2))
    measures["psi"] = psi(table[0], table[1])
    return measures


def _method(kind: str, chosen: DriftMethod, count: int, small_window: int) -> DriftMethod:
    allowed = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
    if chosen != DriftMethod.auto:
        if chosen not in allowed:
            raise ValueError(f"{chosen.value} does not apply to {kind} features")
        return chosen
    small = count <= small_window
    if kind == "numeric":
        return DriftMethod.ks if small else DriftMethod.wasserstein
    return DriftMethod.chi2 if small else DriftMethod.jensen_shannon


def _score(method: DriftMethod, measures: Mapping[str, float | None]) -> float | None:
    key = {
        DriftMethod.ks: "ks_p_value",
        DriftMethod.chi2: "chi2_p_value",
        DriftMethod.wasserstein: "wasserstein",
        DriftMethod.jensen_shannon: "jensen_shannon",
        DriftMethod.psi: "psi",
    }[method]
    return measures.get(key)


def _threshold(method: DriftMethod, limits: FeatureThresholds) -> float:
    if method in _TESTS:
        return limits.p_value
    return {
        DriftMethod.wasserstein: limits.wasserstein,
        DriftMethod.jensen_shannon: limits.jensen_shannon,
        DriftMethod.psi: limits.psi,
    }[method]


def _categories(state: FeatureState) -> dict[str, int]:
    return state.counts if isinstance(state, CategoricalState) else {}


def _null_rate(state: FeatureState) -> float:
    total = state.count + state.nulls
    return state.nulls / total if total else 0.0


def _format(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if abs(value) < 0.01 else f"{value:.3f}".rstrip("0").rstrip(".")


def _summary(
    features: list[FeatureDrift],
    drifted: list[str],
    inputs: int,
    share_threshold: float,
    prediction_drift: bool | None,
    retrain: bool,
) -> str:
    if not drifted and not prediction_drift:
        noun = "feature" if inputs == 1 else "features"
        return f"No drift: {inputs} {noun} stable against the reference."
    moved = sorted((f for f in features if f.drifted), key=lambda f: -(f.psi or 0.0))
    parts = [
        f"{len(drifted)} of {inputs} features drifted ({', '.join(drifted)})"
        if drifted
        else "no input drifted"
    ]
    if prediction_drift:
        parts.append("the model's predictions drifted")
    advice = (
        "retraining is recommended"
        if retrain
        else f"below the {share_threshold:.0%} share that calls for retraining; watch {moved[0].feature}"
    )
    return f"{'; '.join(parts)}: {advice}. " + " ".join(f.message + "." for f in moved)
