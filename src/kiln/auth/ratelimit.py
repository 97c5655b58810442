"""Rate limits with the ``limits`` library: per identity on the API, per address and email on login.

Storage is in memory by default (one process); point ``KILN_RATE_LIMIT_STORAGE`` at
``redis://...`` when several replicas must share counters.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kiln.core.errors import RateLimited


class RateLimits:
    def __init__(self, *, storage_uri: str, api: str, login: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.api = parse(api)
        self.login = parse(login)

    def hit(self, item: RateLimitItem, *identifiers: str) -> None:
        if self._limiter.hit(item, *identifiers):
            return
        reset_at, _remaining = self._limiter.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise RateLimited(
            f"too many requests; retry after {retry_after} s", details={"retry_after": retry_after}
        )

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._limiter.clear(item, *identifiers)
