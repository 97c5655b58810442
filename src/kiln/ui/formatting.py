"""How values read on a page: times, durations, metric values and sizes (pure functions, Jinja filters)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from kiln.core.ids import ensure_utc, utcnow


def format_time(value: datetime | None) -> str:
    """UTC, to the second: a page is read across time zones, and UTC is what the API returns."""
    if value is None:
        return "—"
    return ensure_utc(value).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start: datetime | None, end: datetime | None, *, now: datetime | None = None) -> str:
    """``1h 02m``, ``3m 07s``, ``4.2s``; a running run (no end) counts up to now."""
    if start is None:
        return "—"
    finish = end if end is not None else (now or utcnow())
    seconds = (ensure_utc(finish) - ensure_utc(start)).total_seconds()
    if seconds < 0:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_metric(value: float | None) -> str:
    """Short enough for a table cell, exact enough to tell runs apart; the cell's title has the full value."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e6:
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


def full_metric(value: float | None) -> str:
    """The value as stored, for tooltips."""
    if value is None:
        return ""
    return repr(value)


def format_size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # unreachable: the loop returns at TiB


def format_json(value: Any, limit: int = 300) -> str:
    """A JSON value on one line for a table cell (a prediction's inputs), cut at ``limit`` characters."""
    if value is None:
        return "—"
    text = json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
