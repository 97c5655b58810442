"""Credentials from memory: key or token hash → who it is and what it may do.

Every authenticated request asks this cache first: the API's authenticator (``auth.deps``) and
the predict path (``kiln.serving.predict_router.authorize``), so a request with a known credential
spends no SQL on who is calling:

- **hit**: a dict lookup by the credential's sha256 (the credential itself is never kept), then the
  API rate limit (and on the predict path the project role and the permission) in memory;
- **miss**: one lookup in the database (``load``; in the request's own transaction when it has one,
  else in a thread), by auth's own functions (``access.credential_grant``), whose answer fills the
  cache. A refusal is kept too, so a client retrying a revoked key does not turn every request into
  a query, but never for longer than the invalidation window (one poll);
- **invalidation**: every change to who may do what moves the auth revision
  (``credential_changes.py``). In this process its ``CredentialsChanged`` event empties the cache
  as the change commits; other processes see the revision move at their next poll (``refresh``, a
  primary-key read every ``poll_seconds`` on the cache's own thread) and empty theirs. A lookup that
  was under way while the cache was emptied answers its own request but is not kept: it may have read
  the state from before the change. A cache that is not running (an app used without its lifespan)
  hears of neither, so the API's authenticator then reads the database each time.

An entry also ends when its credential does (the key's expiry, the access token's or its login's),
and after ``stale_seconds`` without a successful poll (a process that cannot reach the database
stops trusting what it remembers). Both maps are LRU-bounded. When keys were last used is collected
in memory and written by the poll thread about once a minute, as a lookup's coarse updates.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.orm import Session

from kiln.auth.access import Grant, credential_grant
from kiln.auth.api_keys import record_key_use
from kiln.auth.config import AuthConfig
from kiln.auth.credential_changes import current_revision
from kiln.auth.events import CredentialsChanged
from kiln.auth.projects import check_project_role, member_roles, needs_memberships, role_in_project
from kiln.auth.ratelimit import RateLimits
from kiln.core import events
from kiln.core.actor import Actor
from kiln.core.db import Database
from kiln.core.errors import PermissionDenied, Unauthenticated
from kiln.core.ids import utcnow
from kiln.core.permissions import Permission
from kiln.core.security import token_digest

log = structlog.get_logger(__name__)

BAD_CREDENTIAL = "invalid or expired token"
# How often the last-used times of keys seen on the serving path are written (the generic path's grain).
TOUCH_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class CachedCredential:
    """What one credential was found to be; ``actor`` is ``None`` for a refused one."""

    actor: Actor | None
    valid_until: float  # wall-clock seconds: the credential's own end
    checked_at: float  # monotonic seconds: when the database was read
    # A user's role in each of their projects (only for users whose project role needs them).
    memberships: Mapping[str, str] = field(default_factory=dict)


class CredentialCache:
    def __init__(
        self,
        db: Database,
        config: AuthConfig,
        limits: RateLimits,
        *,
        max_entries: int = 10_000,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.config = config
        self.limits = limits
        self.max_entries = max_entries
        self.poll_seconds = poll_seconds
        self.refusal_seconds = min(1.0, poll_seconds)
        self.stale_seconds = max(30.0, 5 * poll_seconds)
        self._granted: OrderedDict[str, CachedCredential] = OrderedDict()
        self._refused: OrderedDict[str, CachedCredential] = OrderedDict()
        self._lock = threading.Lock()
        # Moved by every invalidation: a lookup started in an older generation is not kept.
        self._generation = 0
        self._revision: int | None = None
        self._polled_at = float("-inf")
        self._used: dict[str, datetime] = {}
        self._touched_at = time.monotonic()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._starts = 0

    # -- the request path ------------------------------------------------------------------------

    def peek(self, token: str) -> CachedCredential | None:
        """The cached answer for ``token``, from memory only; ``None`` on a miss."""
        digest = token_digest(token)
        now = time.monotonic()
        with self._lock:
            entry = self._granted.get(digest)
            if entry is not None:
                fresh = now - max(entry.checked_at, self._polled_at) < self.stale_seconds
                if fresh and time.time() < entry.valid_until:
                    self._granted.move_to_end(digest)
                    return entry
                del self._granted[digest]
            entry = self._refused.get(digest)
            if entry is not None:
                if now - entry.checked_at < self.refusal_seconds:
                    return entry
                del self._refused[digest]
        return None

    @property
    def running(self) -> bool:
        """Whether changes reach the cache (its poll thread and event subscription are on)."""
        return self._thread is not None

    def load(self, token: str, session: Session | None = None) -> CachedCredential:
        """Read ``token`` from the database (a miss) and keep the answer: in ``session``, or in a
        unit of work of its own (then call it from a thread)."""
        generation = self._generation
        checked_at = time.monotonic()
        if session is None:
            with self.db.unit_of_work() as own:
                grant, memberships = self._read(own, token)
        else:
            grant, memberships = self._read(session, token)
        if grant is None:
            entry = CachedCredential(None, valid_until=0.0, checked_at=checked_at)
        else:
            valid_until = grant.valid_until.timestamp()
            entry = CachedCredential(grant.actor, valid_until, checked_at, memberships)
        with self._lock:
            if generation == self._generation:
                kept = self._granted if entry.actor is not None else self._refused
                kept[token_digest(token)] = entry
                while len(kept) > self.max_entries:
                    kept.popitem(last=False)
        return entry

    def _read(self, session: Session, token: str) -> tuple[Grant | None, dict[str, str]]:
        grant = credential_grant(session, token, self.config)
        memberships = (
            member_roles(session, grant.actor.user_id or "")
            if grant is not None and needs_memberships(grant.actor)
            else {}
        )
        return grant, memberships

    def authenticated(self, entry: CachedCredential) -> Actor:
        """The caller an entry names, or 401; then the API rate limit (429). Every path starts here."""
        actor = entry.actor
        if actor is None:
            raise Unauthenticated(BAD_CREDENTIAL)
        self.limits.hit(self.limits.api, actor.user_id or actor.id)
        if actor.kind == "api_key":
            self._used[actor.id] = utcnow()
        return actor

    def admit(
        self, entry: CachedCredential, project_id: str, permission: Permission, *, hide_as: str
    ) -> Actor:
        """The API's checks, in its order, from memory: 401, the API rate limit (429), then the
        project (404 for a non-member, as a missing thing) and the permission (403)."""
        actor = self.authenticated(entry)
        role = role_in_project(actor, project_id, lambda: entry.memberships.get(project_id))
        check_project_role(role, permission, hide_as=hide_as)
        reason = actor.refusal(permission)
        if reason is not None:
            raise PermissionDenied(reason)
        return actor

    # -- keeping it current ----------------------------------------------------------------------

    def invalidate(self, event: CredentialsChanged | None = None) -> None:
        """Forget every credential (something changed who may do what)."""
        with self._lock:
            self._generation += 1
            self._granted.clear()
            self._refused.clear()
            if event is not None:
                self._revision = event.revision  # this process's own change: the next poll need not repeat it

    def refresh(self) -> bool:
        """One poll (what the thread does every ``poll_seconds``): True when it emptied the cache."""
        started = time.monotonic()
        with self.db.unit_of_work() as session:
            revision = current_revision(session)
        self._polled_at = started
        if started - self._touched_at >= TOUCH_SECONDS:
            self.write_last_used()
        if revision == self._revision:
            return False
        self.invalidate()
        self._revision = revision
        return True

    def write_last_used(self) -> None:
        used, self._used = self._used, {}
        self._touched_at = time.monotonic()
        if used:
            with self.db.unit_of_work() as session:
                record_key_use(session, used)

    def start(self) -> None:
        """Start the poll thread; each ``start`` is matched by a ``stop`` (an app's lifespan may be
        entered more than once, as by several test clients): the last ``stop`` ends it."""
        self._starts += 1
        if self._thread is not None:
            return
        events.subscribe(CredentialsChanged, self.invalidate)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="kiln-credential-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._starts = max(0, self._starts - 1)
        if self._starts or self._thread is None:
            return
        events.unsubscribe(CredentialsChanged, self.invalidate)
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self._thread = None
        try:
            self.write_last_used()
        except Exception:  # the database may be gone at shutdown; a last-used time is not worth failing for
            log.exception("auth.last_used_write_failed")
        self.invalidate()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.refresh()
            except Exception:  # a database hiccup must not end the thread; entries go stale meanwhile
                log.exception("auth.credential_poll_failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
