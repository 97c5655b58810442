"""Quality checks of a batch against the previous one: each failure says what moved, and by how much."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from kiln.data.quality import check_quality
from kiln.data.quality_schemas import CheckKind, QualityBaseline, QualityReport, QualityThresholds, Severity
from kiln.data.rules import split_rows
from tests.builders.telemetry import generate_telemetry, telemetry_rules, telemetry_schema


def report(frame: pd.DataFrame, previous: QualityBaseline | None = None, **limits: object) -> QualityReport:
    schema = telemetry_schema()
    outcome = split_rows(frame, schema, telemetry_rules())
    thresholds = QualityThresholds.model_validate(limits)
    return check_quality(frame, schema, outcome, previous=previous, thresholds=thresholds)


@cache
def baseline(rows: int) -> QualityBaseline:
    return report(generate_telemetry(rows, seed=1)).baseline


def failed(result: QualityReport, kind: CheckKind) -> dict[str | None, str]:
    return {check.column: check.message for check in result.checks if check.kind is kind and not check.passed}


class TestCleanBatches:
    def test_a_fresh_batch_of_the_same_network_passes_every_check(self) -> None:
        result = report(generate_telemetry(1_000, seed=2), baseline(1_000))
        assert result.passed
        assert result.failed == []
        assert result.rows == 1_000
        assert result.quarantined == 0

    def test_the_first_batch_has_no_shift_or_row_count_to_judge(self) -> None:
        result = report(generate_telemetry(500, seed=2))
        assert result.passed
        assert not [check for check in result.checks if check.kind.value.endswith("_shift")]
        (row_count,) = [check for check in result.checks if check.kind is CheckKind.row_count]
        assert row_count.message == "500 rows; not judged: 0 earlier batches, 5 needed"


class TestNullRates:
    def test_a_jump_fails_with_what_moved(self) -> None:
        frame = generate_telemetry(1_000, seed=2)
        frame.loc[frame.index[:120], "latency_ms"] = np.nan
        result = report(frame, baseline(1_000))
        assert not result.passed
        assert failed(result, CheckKind.null_rate) == {
            "latency_ms": "column `latency_ms`: 12% nulls, up from 0%; 120 rows quarantined"
        }
        (check,) = [check for check in result.failed if check.kind is CheckKind.null_rate]
        assert (check.value, check.threshold, check.previous, check.severity) == (0.12, 0.05, 0.0, "error")

    def test_a_small_rise_passes(self) -> None:
        frame = generate_telemetry(1_000, seed=2)
        frame.loc[frame.index[:30], "jitter_ms"] = np.nan
        assert failed(report(frame, baseline(1_000)), CheckKind.null_rate) == {}

    def test_without_a_previous_batch_the_absolute_limit_applies(self) -> None:
        frame = generate_telemetry(200, seed=2)
        frame.loc[frame.index[:130], "packet_loss_pct"] = np.nan
        assert failed(report(frame), CheckKind.null_rate) == {
            "packet_loss_pct": "column `packet_loss_pct`: 65% nulls; 130 rows quarantined"
        }


class TestShift:
    # Thresholds are effect sizes (PSI) guarded by significance, so they hold at both ends.
    @pytest.mark.parametrize("rows", [200, 50_000])
    def test_drift_fails_and_a_fresh_seed_passes(self, rows: int) -> None:
        fresh = report(generate_telemetry(rows, seed=2), baseline(rows))
        assert failed(fresh, CheckKind.numeric_shift) == {}
        assert failed(fresh, CheckKind.category_shift) == {}
        drifted = report(generate_telemetry(rows, seed=3, drift=1.0), baseline(rows))
        shifted = failed(drifted, CheckKind.numeric_shift)
        assert set(shifted) == {"latency_ms", "throughput_mbps"}
        assert shifted["latency_ms"].startswith("column `latency_ms`: distribution shifted (PSI ")
        assert not drifted.passed

    def test_the_message_gives_the_means(self) -> None:
        drifted = report(generate_telemetry(1_000, seed=3, drift=1.0), baseline(1_000))
        before = baseline(1_000).numeric["latency_ms"].mean
        message = failed(drifted, CheckKind.numeric_shift)["latency_ms"]
        assert message.endswith(f", was {before:.4g}")

    def test_a_changed_category_mix_fails(self) -> None:
        frame = generate_telemetry(1_000, seed=2)
        frame.loc[frame.index[:400], "site"] = "par"
        message = failed(report(frame, baseline(1_000)), CheckKind.category_shift)["site"]
        assert message.startswith("column `site`: category mix shifted (PSI ")
        assert message.endswith("'par' is 50%, was 16%")


class TestRowCount:
    def history(self, *counts: int) -> QualityBaseline:
        return baseline(200).model_copy(update={"row_counts": list(counts)})

    def test_a_collapsed_batch_is_flagged_as_a_warning(self) -> None:
        previous = self.history(205, 198, 200, 202, 196, 201)
        result = report(generate_telemetry(40, seed=2), previous)
        (check,) = [check for check in result.checks if check.kind is CheckKind.row_count]
        assert not check.passed
        assert check.severity is Severity.warning
        assert check.message == "40 rows, typically 200 (robust z -8.0 over the last 6 batches; at most ±3.5)"
        assert failed(result, CheckKind.row_count)
        assert all(check.severity is not Severity.error for check in result.failed)

    def test_a_usual_batch_passes(self) -> None:
        result = report(generate_telemetry(190, seed=2), self.history(205, 198, 200, 202, 196, 201))
        assert failed(result, CheckKind.row_count) == {}

    def test_the_history_rolls_forward(self) -> None:
        previous = self.history(*range(100, 120))
        assert report(generate_telemetry(50, seed=2), previous).baseline.row_counts == [*range(101, 120), 50]


class TestViolations:
    def test_a_dirty_batch_fails_conformance_and_warns_per_column(self) -> None:
        frame = generate_telemetry(1_000, seed=2, bad_fraction=0.2)
        result = report(frame, baseline(1_000))
        assert not result.passed
        assert result.quarantined == 200
        assert failed(result, CheckKind.schema_conformance) == {
            None: "120 of 1,000 rows (12%) break the schema; at most 5% may"
        }
        assert failed(result, CheckKind.range_violations) == {
            # 40 timeouts, and 8 of the 40 rows missing one of the 5 measures miss their latency.
            "latency_ms": "column `latency_ms`: 40 values (4%) out of range; 48 rows quarantined"
        }
        assert failed(result, CheckKind.category_violations) == {
            "site": "column `site`: 40 values (4%) not allowed categories; 40 rows quarantined"
        }
        assert failed(result, CheckKind.duplicates) == {None: "40 rows (4%) repeat an earlier row's key"}

    def test_severities_can_be_changed(self) -> None:
        frame = generate_telemetry(1_000, seed=2, bad_fraction=0.2)
        result = report(frame, baseline(1_000), severities={"schema_conformance": "warning"})
        assert result.passed


class TestBaseline:
    def test_is_small_whatever_the_batch_size_and_travels_as_json(self) -> None:
        summary = baseline(50_000)
        assert len(summary.model_dump_json()) < 200_000
        assert QualityBaseline.model_validate_json(summary.model_dump_json()) == summary
        assert summary.rows == 50_000
        assert sorted(summary.categories["site"]) == ["ams", "fra", "lon", "mad", "mil", "par"]
        assert sum(summary.categories["site"].values()) == 50_000
