"""Drift maths: right answers at small and large windows, incremental state that merges exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kiln.monitoring.drift import drift_report, feature_drift
from kiln.monitoring.drift_schemas import (
    DriftMethod,
    DriftThresholds,
    FeatureState,
    FeatureThresholds,
    NumericState,
)
from kiln.monitoring.drift_state import (
    SAMPLE_SIZE,
    categorical_reference,
    empty_like,
    merge,
    numeric_reference,
    update,
)

AUTO = FeatureThresholds()


def numeric_window(reference: NumericState, values: np.ndarray, *, seed: int = 1) -> NumericState:
    state = update(empty_like(reference), values, seed=seed)
    assert isinstance(state, NumericState)
    return state


class TestNumericDrift:
    def test_false_alarms_stay_near_the_chosen_significance(self) -> None:
        rng = np.random.default_rng(7)
        reference = numeric_reference(rng.normal(size=2_000))
        alarms = sum(
            feature_drift(
                "x", reference, numeric_window(reference, rng.normal(size=200)), AUTO, small_window=1_000
            ).drifted
            for _ in range(200)
        )
        assert alarms / 200 < 0.12  # 5% expected; far more would page someone every hour for nothing

    def test_a_half_sigma_shift_in_a_small_window_is_caught_by_the_ks_test(self) -> None:
        rng = np.random.default_rng(1)
        reference = numeric_reference(rng.normal(size=2_000))
        result = feature_drift(
            "latency_ms",
            reference,
            numeric_window(reference, rng.normal(0.5, 1, size=300)),
            AUTO,
            small_window=1_000,
        )
        assert result.method == DriftMethod.ks
        assert result.drifted
        assert result.score == result.ks_p_value
        assert result.ks_p_value is not None
        assert result.ks_p_value < 0.001
        assert "latency_ms: drifted, KS p-value" in result.message

    def test_a_large_window_is_judged_by_effect_size_not_by_significance(self) -> None:
        rng = np.random.default_rng(2)
        reference = numeric_reference(rng.normal(size=5_000))
        trivial = numeric_window(reference, rng.normal(0.03, 1, size=50_000))
        real = numeric_window(reference, rng.normal(0.6, 1, size=50_000))
        stable = feature_drift("x", reference, trivial, AUTO, small_window=1_000)
        moved = feature_drift("x", reference, real, AUTO, small_window=1_000)
        assert stable.method == moved.method == DriftMethod.wasserstein
        assert not stable.drifted
        assert stable.wasserstein is not None
        assert stable.wasserstein < 0.1
        assert moved.drifted
        assert moved.wasserstein == pytest.approx(0.6, abs=0.08)
        assert moved.psi is not None
        assert moved.psi > 0.2

    def test_ks_on_a_window_within_the_sample_size_equals_scipy_on_the_raw_values(self) -> None:
        rng = np.random.default_rng(3)
        ref_values, cur_values = rng.normal(size=800), rng.normal(0.2, 1, size=600)
        reference = numeric_reference(ref_values)
        result = feature_drift(
            "x", reference, numeric_window(reference, cur_values), AUTO, small_window=1_000
        )
        expected = stats.ks_2samp(ref_values, cur_values)
        assert result.ks_statistic == pytest.approx(expected.statistic)
        assert result.ks_p_value == pytest.approx(expected.pvalue)

    def test_a_constant_reference_drifts_when_the_window_moves_at_all(self) -> None:
        reference = numeric_reference(np.full(100, 5.0))
        moved = feature_drift(
            "x", reference, numeric_window(reference, np.full(2_000, 6.0)), AUTO, small_window=1_000
        )
        assert moved.drifted
        assert moved.wasserstein == float("inf")

    def test_an_empty_window_is_not_drift(self) -> None:
        reference = numeric_reference(np.arange(100.0))
        result = feature_drift("x", reference, empty_like(reference), AUTO, small_window=1_000)
        assert not result.drifted
        assert result.method is None
        assert result.message == "x: no values in the window"


class TestCategoricalDrift:
    def test_chi_squared_is_the_two_sample_test_on_the_contingency_table(self) -> None:
        reference = categorical_reference(["a"] * 300 + ["b"] * 200 + ["c"] * 100)
        current = update(empty_like(reference), ["a"] * 40 + ["b"] * 60 + ["c"] * 20 + ["d"] * 5, seed=0)
        result = feature_drift("site", reference, current, AUTO, small_window=1_000)
        table = np.array([[300, 200, 100, 0], [40, 60, 20, 5]])
        expected = stats.chi2_contingency(table, correction=False)
        assert result.method == DriftMethod.chi2
        assert result.chi2_p_value == pytest.approx(expected.pvalue)
        assert result.drifted

    def test_same_proportions_are_stable_and_large_windows_use_jensen_shannon(self) -> None:
        reference = categorical_reference(["a"] * 600 + ["b"] * 400)
        current = update(empty_like(reference), ["a"] * 6_100 + ["b"] * 3_900, seed=0)
        result = feature_drift("site", reference, current, AUTO, small_window=1_000)
        assert result.method == DriftMethod.jensen_shannon
        assert not result.drifted
        assert result.jensen_shannon is not None
        assert result.jensen_shannon < 0.05

    def test_nulls_are_counted_apart_from_values(self) -> None:
        reference = categorical_reference(["a", "b", None, "a"])
        assert (reference.count, reference.nulls) == (3, 1)
        result = feature_drift(
            "site",
            reference,
            update(empty_like(reference), [None] * 3 + ["a"], seed=0),
            AUTO,
            small_window=10,
        )
        assert result.current_null_rate == 0.75
        assert result.reference_null_rate == 0.25

    def test_a_method_for_the_other_kind_is_refused(self) -> None:
        reference = categorical_reference(["a", "b"])
        with pytest.raises(ValueError, match="ks does not apply to categorical"):
            feature_drift(
                "site", reference, reference, FeatureThresholds(method=DriftMethod.ks), small_window=10
            )


class TestState:
    def test_the_sample_stays_bounded_and_uniform(self) -> None:
        values = np.arange(100_000, dtype="float64")
        reference = numeric_reference(values)
        assert reference.count == 100_000
        assert len(reference.sample) == SAMPLE_SIZE
        assert np.mean(reference.sample) == pytest.approx(values.mean(), rel=0.03)
        assert sum(reference.counts) == 100_000

    def test_merging_two_windows_equals_updating_one_with_both_batches(self) -> None:
        rng = np.random.default_rng(5)
        reference = numeric_reference(rng.normal(size=1_000))
        first, second = rng.normal(size=4_000), rng.normal(size=3_000)
        merged = merge(
            update(empty_like(reference), first, seed=10), update(empty_like(reference), second, seed=11)
        )
        sequential = update(update(empty_like(reference), first, seed=10), second, seed=11)
        assert merged.count == sequential.count == 7_000
        assert isinstance(merged, NumericState)
        assert isinstance(sequential, NumericState)
        assert merged.counts == sequential.counts
        assert sorted(merged.sample) == sorted(sequential.sample)

    def test_recomputing_a_window_from_the_same_batches_gives_the_same_numbers(self) -> None:
        rng = np.random.default_rng(6)
        reference = numeric_reference(rng.normal(size=1_000))
        batch = rng.normal(0.1, 1, size=9_000)
        once = feature_drift(
            "x", reference, numeric_window(reference, batch, seed=42), AUTO, small_window=1_000
        )
        again = feature_drift(
            "x", reference, numeric_window(reference, batch, seed=42), AUTO, small_window=1_000
        )
        assert once == again

    def test_missing_and_infinite_numbers_are_nulls(self) -> None:
        state = numeric_reference([1.0, None, float("nan"), float("inf"), 2.0])
        assert (state.count, state.nulls) == (2, 3)


class TestReport:
    def test_it_names_what_moved_and_recommends_retraining_past_the_share(self) -> None:
        rng = np.random.default_rng(8)
        references = {
            "latency_ms": numeric_reference(rng.normal(50, 5, size=2_000)),
            "jitter_ms": numeric_reference(rng.normal(3, 1, size=2_000)),
            "site": categorical_reference(rng.choice(["ams", "fra"], size=2_000)),
            "prediction": categorical_reference(rng.choice(["ok", "degraded"], p=[0.9, 0.1], size=2_000)),
        }
        window = {
            "latency_ms": update(empty_like(references["latency_ms"]), rng.normal(60, 5, size=500), seed=1),
            "jitter_ms": update(empty_like(references["jitter_ms"]), rng.normal(4.5, 1, size=500), seed=2),
            "site": update(empty_like(references["site"]), rng.choice(["ams", "fra"], size=500), seed=3),
            "prediction": update(
                empty_like(references["prediction"]),
                rng.choice(["ok", "degraded"], p=[0.6, 0.4], size=500),
                seed=4,
            ),
        }
        report = drift_report(references, window, DriftThresholds(), prediction_feature="prediction")
        assert report.drifted_features == ["latency_ms", "jitter_ms"]
        assert report.drifted_share == pytest.approx(2 / 3)
        assert report.dataset_drift
        assert report.prediction_drift
        assert report.retrain_recommended
        assert report.summary.startswith("2 of 3 features drifted (latency_ms, jitter_ms)")
        assert "retraining is recommended" in report.summary

    def test_per_feature_thresholds_override_the_default(self) -> None:
        rng = np.random.default_rng(9)
        reference = {"x": numeric_reference(rng.normal(size=2_000))}
        window = {"x": update(empty_like(reference["x"]), rng.normal(0.3, 1, size=20_000), seed=1)}
        strict = DriftThresholds(features={"x": FeatureThresholds(wasserstein=0.2)})
        loose = DriftThresholds(features={"x": FeatureThresholds(wasserstein=0.5)})
        assert drift_report(reference, window, strict).dataset_drift
        report = drift_report(reference, window, loose)
        assert not report.dataset_drift
        assert report.summary.startswith("No drift: 1 feature stable")

    def test_a_window_missing_a_feature_is_an_error_not_silence(self) -> None:
        reference = {"x": numeric_reference([1.0, 2.0])}
        with pytest.raises(ValueError, match="no state for feature 'x'"):
            drift_report(reference, {}, DriftThresholds())


class TestAtOneThousandRowWindows:
    """The window size the tick sees on a quiet hour: tests decide (auto), at the nominal 5%."""

    WINDOWS = 200
    ROWS = 1_000

    def references(self, rng: np.random.Generator) -> dict[str, FeatureState]:
        return {
            "amount": numeric_reference(rng.lognormal(3, 1, size=5_000)),
            "age": numeric_reference(rng.normal(40, 12, size=5_000)),
            "country": categorical_reference(rng.choice(COUNTRIES, p=SHARES, size=5_000)),
        }

    def windows(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        # Every window drawn at once: WINDOWS x ROWS values per feature, from the reference's law.
        shape = (self.WINDOWS, self.ROWS)
        return {
            "amount": rng.lognormal(3, 1, size=shape),
            "age": rng.normal(40, 12, size=shape),
            "country": rng.choice(COUNTRIES, p=SHARES, size=shape),
        }

    def test_false_alarms_per_feature_stay_at_the_nominal_five_percent(self) -> None:
        rng = np.random.default_rng(2026)
        references, windows = self.references(rng), self.windows(rng)
        alarms = dict.fromkeys(references, 0)
        for index in range(self.WINDOWS):
            current = {
                name: update(empty_like(reference), windows[name][index], seed=index)
                for name, reference in references.items()
            }
            report = drift_report(references, current, DriftThresholds())
            for name in report.drifted_features:
                alarms[name] += 1
        rates = {name: count / self.WINDOWS for name, count in alarms.items()}
        # 5% nominal; 200 windows put a binomial's 95% upper bound near 8%.
        assert all(rate <= 0.08 for rate in rates.values()), rates

    def test_a_shift_in_one_feature_is_found_and_the_others_are_left_alone(self) -> None:
        rng = np.random.default_rng(11)
        references = self.references(rng)
        window = {name: values[0] for name, values in self.windows(rng).items()}
        window["age"] = window["age"] + 6  # half a standard deviation older
        current = {
            name: update(empty_like(reference), window[name], seed=1)
            for name, reference in references.items()
        }
        report = drift_report(references, current, DriftThresholds())
        assert report.drifted_features == ["age"]
        age = next(feature for feature in report.features if feature.feature == "age")
        assert age.method == DriftMethod.ks
        assert age.ks_p_value is not None
        assert age.ks_p_value < 1e-6
        assert report.summary.startswith("1 of 3 features drifted (age)")
        assert not report.retrain_recommended  # a third of the inputs: below the 50% share


COUNTRIES = ["FR", "DE", "NL", "ES", "IT"]
SHARES = [0.4, 0.25, 0.15, 0.12, 0.08]
