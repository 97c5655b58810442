"""Rate limits with the ``limits`` library: per identity on the API, per address on the auth forms.

Per email there are separate counters for login, registration and reset requests, so asking for
reset links can never block anyone's login. Failed logins for one email are slowed down, not
locked out: after ``FREE_LOGIN_FAILURES`` the next attempt waits 1 s, then 2, 4, ... up to
``LOGIN_BACKOFF_CAP`` seconds; a successful login clears the count.

Storage is in memory by default (one process); point ``KILN_RATE_LIMIT_STORAGE`` at
``redis://...`` when several replicas must share counters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kiln.auth.schemas import normalise_email
from kiln.core.errors import RateLimited, Unauthenticated

FREE_LOGIN_FAILURES = 5
LOGIN_BACKOFF_CAP = 60  # seconds: the longest a run of failures makes the next attempt wait
FAILURE_MEMORY = 15 * 60  # seconds after the first failure that the count is kept


class RateLimits:
    def __init__(self, *, storage_uri: str, api: str, login: str) -> None:
        # A synchronous storage (memory://, redis://): the server's auth routes are synchronous.
        self._storage = cast(Storage, storage_from_string(storage_uri))
        # Counting in memory costs microseconds (fine on an event loop); redis:// is a network call.
        self.in_memory = storage_uri.startswith("memory://")
        self._limiter = MovingWindowRateLimiter(self._storage)
        self.api = parse(api)
        self.login = parse(login)

    def throttle_form(self, ip: str, purpose: str, email: str | None = None) -> None:
        """The auth forms' limit: per address, and per email for this ``purpose`` (register, reset)."""
        self.hit(self.login, "ip", ip)
        if email is not None:
            self.hit(self.login, f"{purpose}-email", normalise_email(email))

    @contextmanager
    def login_attempt(self, ip: str, email: str) -> Iterator[None]:
        """Wrap one login: limited per address, slowed down per email after repeated failures."""
        self.hit(self.login, "ip", ip)
        email = normalise_email(email)
        waiting = f"kiln/login-wait/{email}"
        if self._storage.get(waiting) > 0:
            raise _retry_after(self._storage.get_expiry(waiting) - time.time())
        try:
            yield
        except Unauthenticated:
            failures = self._storage.incr(f"kiln/login-failures/{email}", FAILURE_MEMORY)
            if failures >= FREE_LOGIN_FAILURES:
                self._storage.clear(waiting)
                self._storage.incr(waiting, min(2 ** (failures - FREE_LOGIN_FAILURES), LOGIN_BACKOFF_CAP))
            raise
        self._storage.clear(f"kiln/login-failures/{email}")

    def hit(self, item: RateLimitItem, *identifiers: str) -> None:
        if self._limiter.hit(item, *identifiers):
            return
        reset_at, _remaining = self._limiter.get_window_stats(item, *identifiers)
        raise _retry_after(reset_at - time.time())

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._limiter.clear(item, *identifiers)


def _retry_after(seconds: float) -> RateLimited:
    retry_after = max(1, math.ceil(seconds))
    return RateLimited(
        f"too many requests; retry after {retry_after} s", details={"retry_after": retry_after}
    )
