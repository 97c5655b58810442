"""Pydantic building blocks shared by every domain's I/O schemas."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
U = TypeVar("U")


class InputSchema(BaseModel):
    """Requests: unknown fields are mistakes, not extras to ignore."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadSchema(BaseModel):
    """Responses: built from ORM rows; NaN and infinities travel as the strings "NaN", "Infinity"."""

    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class Page(ReadSchema, Generic[T]):
    """Every list, from the service to the wire: one page of items, the cursor to the next page
    (``None`` on the last) and, where counting is cheap, how many match in all."""

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None

    def with_items(self, items: list[U]) -> Page[U]:
        """The same page with its items replaced (rows turned into read models)."""
        return Page(items=items, next_cursor=self.next_cursor, total=self.total)


class ErrorInfo(BaseModel):
    code: str = Field(description="stable, machine-readable; the SDK maps it back to its error class")
    message: str = Field(description="what went wrong and what to do about it")
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """Every error answer of the API: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorInfo
