"""A dataset's declared schema: its columns (type, nullability, range or categories) and optional key.

Pydantic only: the SDK, the rules engine, the quality checks and the API all read this one contract.
A column's ``type`` is one of the logical types below, independent of how pandas or Parquet store it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from kiln.core.schemas import InputSchema

COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class ColumnType(StrEnum):
    integer = "integer"
    number = "number"
    string = "string"
    boolean = "boolean"
    category = "category"
    datetime = "datetime"


NUMERIC_TYPES = frozenset({ColumnType.integer, ColumnType.number})


class ColumnSpec(InputSchema):
    """One declared column; ``minimum``/``maximum`` only for numbers, ``categories`` only for categories."""

    name: Annotated[str, Field(description="letters, digits and '_', not starting with a digit")]
    type: ColumnType
    nullable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    categories: Annotated[list[str] | None, Field(max_length=10_000)] = None
    description: Annotated[str, Field(max_length=2_000)] = ""

    @field_validator("name")
    @classmethod
    def _usable_name(cls, value: str) -> str:
        if not COLUMN_NAME.fullmatch(value):
            raise ValueError(
                f"column name {value!r} is not usable: use 1-128 letters, digits or '_', "
                "not starting with a digit"
            )
        return value

    @model_validator(mode="after")
    def _bounds_fit_the_type(self) -> ColumnSpec:
        bounded = self.minimum is not None or self.maximum is not None
        if bounded and self.type not in NUMERIC_TYPES:
            raise ValueError(f"{self.name}: minimum and maximum apply to integer or number columns only")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{self.name}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.categories is not None:
            if self.type is not ColumnType.category:
                raise ValueError(f"{self.name}: categories apply to category columns only")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError(f"{self.name}: categories are listed more than once")
        return self


class DatasetSchema(InputSchema):
    """The columns in order, and the key (columns that identify a row; duplicates by key are refused)."""

    columns: Annotated[list[ColumnSpec], Field(min_length=1, max_length=1_000)]
    key: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSchema:
        names = [column.name for column in self.columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"column {repeated[0]!r} is declared more than once")
        missing = [name for name in self.key if name not in names]
        if missing:
            raise ValueError(f"key column {missing[0]!r} is not a declared column")
        return self

    def column(self, name: str) -> ColumnSpec | None:
        return next((column for column in self.columns if column.name == name), None)
