"""The window sizes the monitoring pages offer (``?window=``), each with the span its charts cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class WindowChoice:
    key: str
    label: str  # on the charts' pages, which cover a range
    short: str  # on the overview, which shows the newest window only
    seconds: int
    span: timedelta


WINDOWS = (
    WindowChoice("1m", "per minute, last 3 hours", "per minute", 60, timedelta(hours=3)),
    WindowChoice("1h", "per hour, last 2 days", "per hour", 3_600, timedelta(days=2)),
    WindowChoice("1d", "per day, last 60 days", "per day", 86_400, timedelta(days=60)),
)
BY_KEY = {window.key: window for window in WINDOWS}
DEFAULT = BY_KEY["1h"]


def window_choice(key: str) -> WindowChoice:
    """The window ``?window=`` names; an unknown or missing one reads as hourly."""
    return BY_KEY.get(key, DEFAULT)
