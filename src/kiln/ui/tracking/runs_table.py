"""The runs table of an experiment page: columns, sort links and paging, for one page of runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.core.errors import Invalid
from kiln.core.pagination import decode_cursor, encode_cursor
from kiln.tracking.compare import lower_is_better
from kiln.tracking.schemas import RunRead
from kiln.tracking.search_filter import OrderBy, parse_order_by
from kiln.ui.templating import url_with

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# order_by is split on whitespace, so a key with a space in it cannot be sorted on.
_SORTABLE_KEY = re.compile(r"^\S+$")


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    group: str  # "run", "param" or "metric"
    key: str
    # The order_by field, or None when the column cannot be sorted on.
    field: str | None
    # Direction of the first click: best first for metrics (lowest for a loss), newest first for
    # the start time, A to Z otherwise.
    descending_first: bool = False


@dataclass(frozen=True, slots=True)
class HeaderCell:
    column: Column
    href: str | None
    # "ascending" / "descending" / "none", as aria-sort expects.
    sort: str


@dataclass(frozen=True, slots=True)
class TableQuery:
    filter: str
    order_by: str
    limit: int
    cursor: str


RUN_COLUMNS = (
    Column("Name", "run", "name", "name"),
    Column("Status", "run", "status", "status"),
    Column("Started", "run", "start_time", "start_time", descending_first=True),
    Column("Duration", "run", "duration", None),
    Column("User", "run", "user", "user"),
)


def param_columns(runs: list[RunRead]) -> list[Column]:
    keys = sorted({key for run in runs for key in run.params})
    return [Column(key, "param", key, f"params.{key}" if _SORTABLE_KEY.match(key) else None) for key in keys]


def metric_columns(runs: list[RunRead]) -> list[Column]:
    keys = sorted({key for run in runs for key in run.metrics})
    return [
        Column(
            key,
            "metric",
            key,
            f"metrics.{key}" if _SORTABLE_KEY.match(key) else None,
            descending_first=not lower_is_better(key),
        )
        for key in keys
    ]


def _current_order(order_by: str) -> OrderBy | None:
    try:
        return parse_order_by(order_by)
    except Invalid:  # the search reports an invalid order_by itself; here nothing is marked sorted
        return None


def _same_field(column: Column, order: OrderBy) -> bool:
    if column.field is None:
        return False
    entity = {"run": "attribute", "param": "param", "metric": "metric"}[column.group]
    return order.entity == entity and order.key == column.key


def header_cells(path: str, columns: list[Column], query: TableQuery) -> list[HeaderCell]:
    """Each header links to the same page sorted by its column (clicking again flips the direction)."""
    order = _current_order(query.order_by)
    cells = []
    for column in columns:
        if column.field is None:
            cells.append(HeaderCell(column, None, "none"))
            continue
        current = order is not None and _same_field(column, order)
        if current and order is not None:
            sort = "descending" if order.descending else "ascending"
            descending = not order.descending
        else:
            sort = "none"
            descending = column.descending_first
        order_by = f"{column.field} {'DESC' if descending else 'ASC'}"
        href = url_with(path, filter=query.filter, order_by=order_by, limit=_limit_param(query.limit))
        cells.append(HeaderCell(column, href, sort))
    return cells


def _limit_param(limit: int) -> int | None:
    return None if limit == DEFAULT_PAGE_SIZE else limit


@dataclass(frozen=True, slots=True)
class Pager:
    first: int  # 1-based index of the first run shown
    last: int
    total: int
    previous_href: str | None
    next_href: str | None


def pager(path: str, query: TableQuery, *, shown: int, total: int, next_cursor: str | None) -> Pager:
    offset = decode_cursor(query.cursor or None)
    keep = {"filter": query.filter, "order_by": query.order_by, "limit": _limit_param(query.limit)}
    previous_href = None
    if offset > 0:
        previous = max(0, offset - query.limit)
        previous_href = url_with(path, **keep, cursor=encode_cursor(previous) if previous else None)
    next_href = url_with(path, **keep, cursor=next_cursor) if next_cursor else None
    return Pager(
        first=offset + 1 if shown else 0,
        last=offset + shown,
        total=total,
        previous_href=previous_href,
        next_href=next_href,
    )
