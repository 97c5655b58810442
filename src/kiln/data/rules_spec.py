"""A dataset's filtering rules: declarative, named, versioned with the dataset. Pydantic only.

Rows that break a rule go to quarantine with the rule's name in their reasons. The schema already
refuses wrong types, missing values in non-nullable columns, values out of its bounds and unknown
categories; rules add what the schema does not say: columns required for training although nullable
in storage, narrower ranges, a subset of categories, uniqueness by other keys, and row expressions.

An expression is text in the small language of ``row_expression`` (never Python run as code); its
syntax is checked when the rules are built, its columns and types against the schema by
``check_against`` when the rules are attached to a dataset, so a typo is a 422 at definition time,
not a quarantine of every row later.
"""

from __future__ import annotations

from typing import Annotated, Literal, NoReturn

from pydantic import Field, field_validator, model_validator

from kiln.core.schemas import InputSchema
from kiln.data.row_expression import ExpressionError, check_expression, parse_expression, referenced_columns
from kiln.data.rules_errors import RulesInvalid
from kiln.data.spec import NUMERIC_TYPES, ColumnType, DatasetSchema

_TEXT_TYPES = frozenset({ColumnType.string, ColumnType.category})


class _Rule(InputSchema):
    name: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$",
            description="1-64 letters, digits, '_', '.' or '-'; shown in every reason the rule gives",
        ),
    ]
    description: Annotated[str, Field(max_length=2_000)] = ""

    def columns_used(self) -> list[str]:
        raise NotImplementedError


class _OnColumns(_Rule):
    columns: Annotated[list[str], Field(min_length=1, max_length=1_000)]

    def columns_used(self) -> list[str]:
        return list(self.columns)


class _OnColumn(_Rule):
    column: str

    def columns_used(self) -> list[str]:
        return [self.column]


class NotNullRule(_OnColumns):
    """These columns must hold a value (whatever the schema's nullability)."""

    kind: Literal["not_null"] = "not_null"


class UniqueRule(_OnColumns):
    """No two rows may share the values of ``columns`` (the first is kept, later ones quarantined)."""

    kind: Literal["unique"] = "unique"


class RangeRule(_OnColumn):
    """A numeric column's values must lie within ``[minimum, maximum]`` (either bound may be open)."""

    kind: Literal["range"] = "range"
    minimum: float | None = None
    maximum: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RangeRule:
        if self.minimum is None and self.maximum is None:
            raise ValueError(f"rule {self.name}: give a minimum, a maximum or both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"rule {self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        return self


class CategoryRule(_OnColumn):
    """A text or category column's values must be among ``allowed``."""

    kind: Literal["category"] = "category"
    allowed: Annotated[list[str], Field(min_length=1, max_length=10_000)]


class ExpressionRule(_Rule):
    """A condition each row must meet; a row where it cannot be judged (a value is missing) passes."""

    kind: Literal["expression"] = "expression"
    expression: Annotated[
        str, Field(min_length=1, examples=["jitter_ms >= 0 and latency_ms < 10 * jitter_ms"])
    ]

    @field_validator("expression")
    @classmethod
    def _in_the_language(cls, value: str) -> str:
        try:
            parse_expression(value)
        except ExpressionError as error:
            raise ValueError(f"expression {value!r} {error}") from None
        return value

    def columns_used(self) -> list[str]:
        return referenced_columns(parse_expression(self.expression))


Rule = Annotated[
    NotNullRule | RangeRule | CategoryRule | UniqueRule | ExpressionRule, Field(discriminator="kind")
]


class DatasetRules(InputSchema):
    """The rules of one dataset, applied in order after the schema's own checks."""

    rules: Annotated[list[Rule], Field(max_length=1_000)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> DatasetRules:
        names = [rule.name for rule in self.rules]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"rule name {repeated[0]!r} is used more than once")
        return self

    def check_against(self, schema: DatasetSchema) -> None:
        """``RulesInvalid`` naming the rule (and its expression) and the column that does not fit."""
        types = {column.name: column.type for column in schema.columns}
        for rule in self.rules:
            unknown = next((name for name in rule.columns_used() if name not in types), None)
            if unknown is not None:
                _refuse(rule, unknown, f"uses the column `{unknown}`, which the schema does not declare")
            if isinstance(rule, RangeRule) and types[rule.column] not in NUMERIC_TYPES:
                _refuse(
                    rule,
                    rule.column,
                    f"bounds `{rule.column}`, whose type is {types[rule.column]}; "
                    "ranges apply to integer and number columns",
                )
            if isinstance(rule, CategoryRule):
                _check_categories(rule, schema)
            if isinstance(rule, ExpressionRule):
                try:
                    check_expression(parse_expression(rule.expression), types)
                except ExpressionError as error:
                    _refuse(rule, None, str(error))


def _check_categories(rule: CategoryRule, schema: DatasetSchema) -> None:
    column = schema.column(rule.column)
    assert column is not None  # checked by the caller
    if column.type not in _TEXT_TYPES:
        _refuse(
            rule,
            rule.column,
            f"lists categories for `{rule.column}`, whose type is {column.type}; "
            "categories apply to string and category columns",
        )
    outside = [value for value in rule.allowed if column.categories and value not in column.categories]
    if outside:
        _refuse(rule, rule.column, f"allows {outside[0]!r}, which is not a category of `{rule.column}`")


def _refuse(rule: _Rule, column: str | None, problem: str) -> NoReturn:
    subject = f"rule {rule.name}"
    details: dict[str, str] = {"rule": rule.name}
    if isinstance(rule, ExpressionRule):
        subject += f": expression {rule.expression!r}"
        details["expression"] = rule.expression
    if column is not None:
        details["column"] = column
    raise RulesInvalid(f"{subject} {problem}", details=details)
