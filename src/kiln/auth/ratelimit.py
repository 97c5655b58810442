"""Rate limits with the ``limits`` library: per identity on the API, per address on the auth forms.

Per email there are separate counters for login, registration and reset requests, so asking for
reset links can never block anyone's login. Failed logins for one email are slowed down, not
locked out: after ``FREE_LOGIN_FAILURES`` the next attempt waits 1 s, then 2, 4, ... up to
``LOGIN_BACKOFF_CAP`` seconds; a successful login clears the count.

Storage is in memory by default (one process); point ``KILN_RATE_LIMIT_STORAGE`` at
``redis://...`` when several replicas must share counters.

The memory storage is ``limits``' own, less its expiry timer: that one starts a new
``threading.Timer`` whenever the previous one has run out (10 ms), which on a server is a thread
started for nearly every request (measured: 1.5-4.5 ms added to an authenticated request's p50).
Here one thread at a time sweeps expired counters, once a second, and ends when nothing is left to
expire. Counting never depends on the sweep: the storage checks expiry itself on every read.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from kiln.auth.schemas import normalise_email
from kiln.core.errors import RateLimited, Unauthenticated

FREE_LOGIN_FAILURES = 5
LOGIN_BACKOFF_CAP = 60  # seconds: the longest a run of failures makes the next attempt wait
FAILURE_MEMORY = 15 * 60  # seconds after the first failure that the count is kept
SWEEP_SECONDS = 1.0  # how often expired counters are dropped from the memory storage


class SweptMemoryStorage(MemoryStorage):
    """``limits``' memory storage with its expired entries dropped by one thread, once a second."""

    def __init__(self, sweep_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__()
        self.sweep_seconds = sweep_seconds
        self._sweeper: threading.Thread | None = None
        self._sweeper_lock = threading.Lock()

    # ``MemoryStorage`` calls its private ``__schedule_expiry`` on every write; this replaces it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        if self._sweeper is not None:  # the common case: a sweeper is already running, no lock taken
            return
        with self._sweeper_lock:
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=self._sweep, name="kiln-rate-limit-sweep", daemon=True
                )
                self._sweeper.start()

    def _sweep(self) -> None:
        while True:
            time.sleep(self.sweep_seconds)
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
            with self._sweeper_lock:
                if not self.events and not self.expirations:
                    self._sweeper = None  # the next write starts another
                    return


class RateLimits:
    def __init__(self, *, storage_uri: str, api: str, login: str) -> None:
        # A synchronous storage (memory://, redis://): the server's auth routes are synchronous.
        # Counting in memory costs microseconds (fine on an event loop); redis:// is a network call.
        self.in_memory = storage_uri.startswith("memory://")
        self._storage = (
            SweptMemoryStorage() if self.in_memory else cast(Storage, storage_from_string(storage_uri))
        )
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
