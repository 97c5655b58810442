"""Defining rules: expressions outside the rule language are refused, rules must fit the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kiln.data.rules_errors import RulesInvalid
from kiln.data.rules_spec import (
    CategoryRule,
    DatasetRules,
    ExpressionRule,
    NotNullRule,
    RangeRule,
    UniqueRule,
)
from tests.builders.telemetry import telemetry_schema


class TestUnsafeExpressions:
    @pytest.mark.parametrize(
        ("expression", "named"),
        [
            ("__import__('os').system('id')", "function calls"),
            ("open('/etc/passwd').read() == ''", "function calls"),
            ("latency_ms.__class__ == 1", "attribute access"),
            ("(lambda: latency_ms)", "lambda"),
            ("latency_ms[0] > 1", "indexing"),
            ("[x for x in latency_ms]", "comprehensions"),
            ("f'{latency_ms}' == 'x'", "f-strings"),
            ("(x := 1) > 0", "assignment"),
            ("latency_ms if jitter_ms else 0", "conditional expressions"),
            ("latency_ms ** 2 > 1", "the operator Pow"),
            ("latency_ms is None", "`is`"),
            ("latency_ms > None", "None"),
            ("latency_ms > 0; import os", "not a valid expression"),
            ("site in ('par', hour)", "literals only"),
        ],
    )
    def test_is_refused_when_the_rule_is_defined(self, expression: str, named: str) -> None:
        with pytest.raises(ValidationError) as caught:
            ExpressionRule(name="sneaky", expression=expression)
        message = str(caught.value)
        assert named in message
        assert repr(expression) in message

    def test_is_never_run(self, tmp_path: Path) -> None:
        marker = tmp_path / "ran"
        with pytest.raises(ValidationError):
            ExpressionRule(name="sneaky", expression=f"__import__('pathlib').Path({str(marker)!r}).touch()")
        assert not marker.exists()

    def test_a_very_long_expression_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="at most 1000 are allowed"):
            ExpressionRule(name="long", expression=" and ".join(["latency_ms > 0"] * 100))

    def test_the_language_itself_is_accepted(self) -> None:
        rule = ExpressionRule(
            name="fine",
            expression="0 <= jitter_ms < latency_ms * 2 + 1 and site not in ['xx'] or not (hour == -1)",
        )
        DatasetRules(rules=[rule]).check_against(telemetry_schema())


class TestRulesAgainstTheSchema:
    def test_an_unknown_column_in_an_expression_names_the_expression_and_the_column(self) -> None:
        rules = DatasetRules(rules=[ExpressionRule(name="no_negative_jitter", expression="jiter_ms >= 0")])
        with pytest.raises(RulesInvalid) as caught:
            rules.check_against(telemetry_schema())
        assert caught.value.status_code == 422
        assert caught.value.message == (
            "rule no_negative_jitter: expression 'jiter_ms >= 0' uses the column `jiter_ms`, "
            "which the schema does not declare"
        )
        assert caught.value.details == {
            "rule": "no_negative_jitter",
            "expression": "jiter_ms >= 0",
            "column": "jiter_ms",
        }

    @pytest.mark.parametrize(
        ("rule", "problem"),
        [
            (RangeRule(name="r", column="latency", maximum=10), "uses the column `latency`"),
            (NotNullRule(name="r", columns=["ts", "speed"]), "uses the column `speed`"),
            (UniqueRule(name="r", columns=["link"]), "uses the column `link`"),
            (RangeRule(name="r", column="site", maximum=10), "bounds `site`, whose type is category"),
            (CategoryRule(name="r", column="hour", allowed=["1"]), "`hour`, whose type is integer"),
            (CategoryRule(name="r", column="site", allowed=["par", "nyc"]), "allows 'nyc'"),
            (ExpressionRule(name="r", expression="site + 1 > 2"), "arithmetic on the column `site`"),
            (ExpressionRule(name="r", expression="latency_ms == 'fast'"), "compares a number with 'fast'"),
            (ExpressionRule(name="r", expression="latency_ms + jitter_ms"), "is not a condition"),
            (ExpressionRule(name="r", expression="ts > 'last tuesday'"), "not an ISO 8601"),
            (ExpressionRule(name="r", expression="latency_ms and jitter_ms"), "and/or/not on the column"),
        ],
    )
    def test_a_rule_that_does_not_fit_is_refused(self, rule: object, problem: str) -> None:
        with pytest.raises(RulesInvalid, match=problem):
            DatasetRules.model_validate({"rules": [rule]}).check_against(telemetry_schema())

    def test_rule_names_are_unique(self) -> None:
        with pytest.raises(ValidationError, match="'twice' is used more than once"):
            DatasetRules(
                rules=[
                    NotNullRule(name="twice", columns=["latency_ms"]),
                    RangeRule(name="twice", column="latency_ms", maximum=1),
                ]
            )

    def test_a_rule_name_is_an_identifier(self) -> None:
        with pytest.raises(ValidationError, match="name"):
            NotNullRule(name="drop table", columns=["latency_ms"])

    def test_rules_travel_as_json_with_their_kind(self) -> None:
        rules = DatasetRules(
            rules=[
                NotNullRule(name="present", columns=["latency_ms"]),
                ExpressionRule(name="jitter", expression="jitter_ms >= 0"),
                CategoryRule(name="west", column="site", allowed=["lon", "par"]),
            ]
        )
        again = DatasetRules.model_validate_json(rules.model_dump_json())
        assert again == rules
        assert [rule.kind for rule in again.rules] == ["not_null", "expression", "category"]
