"""The demo's telemetry: reproducible, plausible, and its congestion label is learnable."""

from __future__ import annotations

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tests.builders.telemetry import MEASURES, generate_telemetry

FEATURES = ["hour", *MEASURES]


class TestGenerator:
    def test_a_seed_gives_the_same_rows(self) -> None:
        pd.testing.assert_frame_equal(generate_telemetry(300, seed=4), generate_telemetry(300, seed=4))
        assert not generate_telemetry(300, seed=4).equals(generate_telemetry(300, seed=5))

    def test_readings_are_plausible(self) -> None:
        frame = generate_telemetry(5_000, seed=1)
        assert frame["hour"].nunique() == 24
        assert frame["latency_ms"].between(1, 500).all()
        assert frame["packet_loss_pct"].between(0, 100).all()
        busy, quiet = frame[frame["hour"].between(18, 20)], frame[frame["hour"].between(3, 5)]
        assert busy["utilization_pct"].mean() > quiet["utilization_pct"].mean() + 20
        assert busy["congestion"].mean() > quiet["congestion"].mean()

    def test_drift_moves_latency_and_throughput(self) -> None:
        calm, drifted = generate_telemetry(2_000, seed=1), generate_telemetry(2_000, seed=1, drift=1.0)
        assert drifted["latency_ms"].mean() > 1.5 * calm["latency_ms"].mean()
        assert drifted["throughput_mbps"].mean() < 0.75 * calm["throughput_mbps"].mean()
        pd.testing.assert_series_equal(drifted["congestion"], calm["congestion"])


class TestCongestionLabel:
    def test_a_classifier_learns_it_well_beyond_the_majority(self) -> None:
        frame = generate_telemetry(4_000, seed=3)
        share = frame["congestion"].mean()
        assert 0.15 < share < 0.5
        x_train, x_test, y_train, y_test = train_test_split(
            frame[FEATURES], frame["congestion"], test_size=0.3, random_state=0
        )
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000)).fit(x_train, y_train)
        majority = max(y_test.mean(), 1 - y_test.mean())
        assert model.score(x_test, y_test) > majority + 0.1
        # Noisy, not a formula: it cannot be learnt perfectly.
        assert model.score(x_test, y_test) < 0.98
