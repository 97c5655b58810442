"""A clock a test moves by hand: what is due and what has expired depends on it, never on waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiln.core.ids import utcnow


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
