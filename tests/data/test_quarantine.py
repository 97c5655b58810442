"""Splitting a batch: every bad row goes to quarantine with all its reasons, clean rows pass typed."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from kiln.data.rules import split_rows
from kiln.data.rules_errors import FrameRejected, RulesInvalid
from kiln.data.rules_spec import (
    CategoryRule,
    DatasetRules,
    ExpressionRule,
    NotNullRule,
    RangeRule,
    UniqueRule,
)
from tests.builders.telemetry import (
    BAD_KINDS,
    generate_telemetry,
    injected_rows,
    telemetry_rules,
    telemetry_schema,
)


def readings(rows: int = 8, **spoiled: dict[int, Any]) -> pd.DataFrame:
    """Clean telemetry with ``column={row: value}`` spoiled by hand (the column turns to objects
    first, as a CSV's mixed column would be)."""
    frame = generate_telemetry(rows, seed=5)
    for column, values in spoiled.items():
        frame[column] = frame[column].astype(object)
        for row, value in values.items():
            frame.loc[row, column] = value
    return frame


def judged(frame: pd.DataFrame, rules: DatasetRules | None = None) -> dict[int, list[str]]:
    outcome = split_rows(frame, telemetry_schema(), rules)
    assert len(outcome.accepted) + len(outcome.quarantined) == len(frame)
    return dict(zip(outcome.quarantined.index, outcome.reasons, strict=True))


class TestCleanBatches:
    def test_pass_whole_and_typed(self) -> None:
        frame = generate_telemetry(2_000, seed=1)
        outcome = split_rows(frame, telemetry_schema(), telemetry_rules())
        assert len(outcome.accepted) == 2_000
        assert outcome.quarantined.empty
        assert outcome.reasons == []
        assert outcome.violations.empty
        assert str(outcome.accepted["hour"].dtype) == "Int64"
        assert str(outcome.accepted["ts"].dtype).endswith(", UTC]")

    def test_text_from_a_csv_is_typed(self) -> None:
        frame = readings(3).astype(str)
        outcome = split_rows(frame, telemetry_schema(), telemetry_rules())
        assert outcome.quarantined.empty
        pd.testing.assert_frame_equal(
            outcome.accepted, split_rows(readings(3), telemetry_schema(), None).accepted, check_exact=False
        )


class TestSchemaChecks:
    def test_each_problem_is_named_with_its_value(self) -> None:
        frame = readings(
            latency_ms={1: 12_000.0, 2: "slow"},
            utilization_pct={3: -3.0},
            site={4: "xx", 5: None},
            hour={6: 2.5},
            ts={7: "yesterday"},
        )
        assert judged(frame) == {
            1: ["latency_ms: 12000 is above the maximum 10000"],
            2: ["latency_ms: 'slow' is not a number"],
            3: ["utilization_pct: -3 is below the minimum 0"],
            4: ["site: 'xx' is not an allowed category"],
            5: ["site: missing, and the column is not nullable"],
            6: ["hour: 2.5 is not an integer"],
            7: ["ts: 'yesterday' is not an ISO 8601 date or time"],
        }

    def test_a_repeated_key_quarantines_the_later_row(self) -> None:
        frame = readings()
        frame.loc[6, ["link_id", "ts"]] = frame.loc[2, ["link_id", "ts"]].to_numpy()
        assert judged(frame) == {6: ["duplicate key (link_id, ts) of row 2"]}

    def test_a_row_gets_every_reason(self) -> None:
        frame = readings(latency_ms={3: 65_535.0}, site={3: "xx"}, packet_loss_pct={3: "lots"})
        # In the order of the columns, as a reviewer reads the row.
        assert judged(frame)[3] == [
            "site: 'xx' is not an allowed category",
            "latency_ms: 65535 is above the maximum 10000",
            "packet_loss_pct: 'lots' is not a number",
        ]

    def test_quarantined_rows_keep_their_original_values_and_position(self) -> None:
        frame = readings(latency_ms={4: "slow"}).set_index(pd.Index(list("abcdefgh")))
        outcome = split_rows(frame, telemetry_schema(), None)
        assert outcome.quarantined.index.tolist() == [4]
        assert outcome.quarantined.loc[4, "latency_ms"] == "slow"
        assert outcome.accepted.index.tolist() == [0, 1, 2, 3, 5, 6, 7]


class TestRules:
    def test_each_kind_quarantines_exactly_its_rows(self) -> None:
        rules = DatasetRules(
            rules=[
                NotNullRule(name="present", columns=["latency_ms", "jitter_ms"]),
                RangeRule(name="sane_latency", column="latency_ms", minimum=1, maximum=1_000),
                CategoryRule(name="west", column="site", allowed=["ams", "fra", "lon", "par"]),
                UniqueRule(name="one_per_hour", columns=["link_id", "hour"]),
                ExpressionRule(name="no_negative_jitter", expression="jitter_ms >= 0"),
            ]
        )
        frame = readings(8, latency_ms={1: None, 2: 4_000.0}, site={3: "mad"}, jitter_ms={4: -1.5})
        frame.loc[7, ["link_id", "hour"]] = frame.loc[0, ["link_id", "hour"]].to_numpy()
        assert judged(frame, rules) == {
            1: ["latency_ms: missing, and the column is required (rule present)"],
            2: ["latency_ms: 4000 is above the maximum 1000 (rule sane_latency)"],
            3: ["site: 'mad' is not an allowed category (rule west)"],
            4: ["rule no_negative_jitter: jitter_ms >= 0 is false (jitter_ms = -1.5)"],
            7: ["duplicate key (link_id, hour) of row 0 (rule one_per_hour)"],
        }

    @pytest.mark.parametrize(
        ("expression", "failing"),
        [
            ("latency_ms < 1000", []),
            ("hour != 3", [3]),
            ("0 < hour < 6", [0, 6, 7]),
            ("hour in [1, 2, 3]", [0, 4, 5, 6, 7]),
            ("hour not in [1, 2]", [1, 2]),
            ("site == 'ams' and not (hour >= 4)", [4, 5, 6, 7]),
            ("hour < 2 or hour > 5", [2, 3, 4, 5]),
            ("hour * 2 - 1 <= hour", [2, 3, 4, 5, 6, 7]),
            ("jitter_ms < latency_ms", []),
            ("10 / (hour - 3) > 0", [0, 1, 2]),
            ("ts < '2026-01-05T00:04:00Z'", [4, 5, 6, 7]),
        ],
    )
    def test_an_expression_fails_the_rows_where_it_is_false(
        self, expression: str, failing: list[int]
    ) -> None:
        # Eight readings of the same site, one an hour, hours 0..7 (the generator's slots).
        frame = generate_telemetry(8, seed=5)
        frame["site"], frame["link_id"] = "ams", [f"ams-0{row}" for row in range(8)]
        frame["hour"] = range(8)
        frame["ts"] = pd.date_range("2026-01-05", periods=8, freq="min", tz="UTC")
        rules = DatasetRules(rules=[ExpressionRule(name="check", expression=expression)])
        assert sorted(judged(frame, rules)) == failing

    def test_a_missing_value_is_not_an_expression_failure(self) -> None:
        rules = DatasetRules(rules=[ExpressionRule(name="no_negative_jitter", expression="jitter_ms >= 0")])
        assert judged(readings(jitter_ms={2: None}), rules) == {}

    def test_rules_that_do_not_fit_the_schema_refuse_the_batch(self) -> None:
        rules = DatasetRules(rules=[RangeRule(name="cap", column="latency", maximum=5)])
        with pytest.raises(RulesInvalid, match="`latency`"):
            split_rows(readings(), telemetry_schema(), rules)


class TestInjectedBadRows:
    def test_land_in_quarantine_exactly_with_one_reason_each(self) -> None:
        frame = generate_telemetry(1_000, seed=2, bad_fraction=0.1)
        injected = injected_rows(1_000, seed=2, bad_fraction=0.1)
        outcome = split_rows(frame, telemetry_schema(), telemetry_rules())
        assert {kind: len(rows) for kind, rows in injected.items()} == dict.fromkeys(BAD_KINDS, 20)
        assert outcome.quarantined.index.tolist() == sorted(row for rows in injected.values() for row in rows)
        reasons = dict(zip(outcome.quarantined.index, outcome.reasons, strict=True))
        expected = {
            "missing_measure": "missing, and the column is required (rule measures_present)",
            "latency_timeout": "latency_ms: 65535 is above the maximum 10000",
            "unknown_site": "site: 'xx' is not an allowed category",
            "duplicate": "duplicate key (link_id, ts) of row",
            "negative_jitter": "rule no_negative_jitter: jitter_ms >= 0 is false",
        }
        for kind, rows in injected.items():
            assert all(len(reasons[row]) == 1 and expected[kind] in reasons[row][0] for row in rows), kind


class TestWholeBatchRefusals:
    def test_a_missing_column_is_named(self) -> None:
        with pytest.raises(FrameRejected) as caught:
            split_rows(readings().drop(columns=["jitter_ms"]), telemetry_schema(), None)
        assert caught.value.status_code == 422
        assert (
            caught.value.message == "column `jitter_ms` is declared in the schema but missing from the data"
        )
        assert caught.value.details["column"] == "jitter_ms"

    def test_an_undeclared_column_is_named(self) -> None:
        with pytest.raises(FrameRejected, match="column `vendor` is not declared in the schema"):
            split_rows(readings().assign(vendor="acme"), telemetry_schema(), None)

    def test_a_column_with_no_value_of_its_type_is_named(self) -> None:
        frame = readings().assign(latency_ms=["fast", None, "slow", "ok", "fast", "slow", "ok", "fast"])
        with pytest.raises(FrameRejected) as caught:
            split_rows(frame, telemetry_schema(), None)
        assert caught.value.message == (
            "column `latency_ms`: no value is a number (row 0 holds 'fast'); "
            "check the column or its declared type"
        )
        assert caught.value.details == {"column": "latency_ms", "row": 0, "type": "number"}
