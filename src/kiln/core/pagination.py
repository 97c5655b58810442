"""One way to page a list, for every domain: ``PageParams`` in, ``Page[T]`` out, one cursor codec.

Cursors are opaque to clients (base64url JSON). Two kinds share the codec:
- an *offset* cursor (``{"o": 200}``), for orderings a keyset cannot follow cheaply (runs ordered by
  a metric, where NULLs and ties would have to ride along in the cursor);
- a *keyset* cursor (``{"k": 153}``), for lists ordered by one unique, monotonic key (the audit
  trail's ``seq``): later pages stay put while new rows arrive at the head.

No FastAPI here: services take ``PageParams``; routes read it from the query string with
``kiln.core.page_query.PageQuery``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kiln.core.errors import Invalid
from kiln.core.schemas import Page

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR_LENGTH = 512
# Offsets past 2**62 and keys past 2**63 - 1 overflow the databases' 64-bit integers.
MAX_OFFSET = 2**62
MAX_KEY = 2**63 - 1
_BAD_CURSOR = "cursor is not valid; pass the next_cursor of a previous page unchanged"

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "PageParams", "decode_cursor", "encode_cursor", "paginate"]


@dataclass(frozen=True, slots=True)
class PageParams:
    """Which page a caller asks for: at most ``limit`` items, after ``cursor`` (``None``: the first)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def __post_init__(self) -> None:
        # Routes bound the limit in the query string (422); this catches callers that build one.
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(f"limit must be between 1 and {MAX_LIMIT}")


def _pack(payload: dict[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _unpack(cursor: str, field: str, low: int, high: int) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded))[field]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Invalid(_BAD_CURSOR) from exc
    # bool is an int in Python.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(_BAD_CURSOR)
    return value


def encode_cursor(offset: int) -> str:
    """An offset cursor: the page starts after ``offset`` items."""
    return _pack({"o": offset})


def decode_cursor(cursor: str | None) -> int:
    """The offset an offset cursor holds (0 for the first page)."""
    return _unpack(cursor, "o", 0, MAX_OFFSET) if cursor else 0


def encode_keyset(key: int) -> str:
    """A keyset cursor: the page continues past the row whose key is ``key``."""
    return _pack({"k": key})


def decode_keyset(cursor: str | None) -> int | None:
    """The key a keyset cursor holds (``None`` for the first page)."""
    return _unpack(cursor, "k", 1, MAX_KEY) if cursor else None


def paginate(
    session: Session, statement: Select[Any], params: PageParams, *, with_total: bool = False
) -> Page[Any]:
    """One page of an ordered select (of ORM entities), by offset; ``total`` counts every match when
    asked (one ``count(*)`` over the same filter). The statement must have a total order, or pages
    could repeat or skip rows."""
    offset = decode_cursor(params.cursor)
    rows = list(session.scalars(statement.offset(offset).limit(params.limit + 1)))
    total = None
    if with_total:
        counted = statement.order_by(None).subquery()
        total = session.scalar(select(func.count()).select_from(counted)) or 0
    more = len(rows) > params.limit
    return Page(
        items=rows[: params.limit],
        next_cursor=encode_cursor(offset + params.limit) if more else None,
        total=total,
    )
