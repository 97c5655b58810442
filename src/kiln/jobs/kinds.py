"""The job kinds domains register, each with its handler and retry policy.

One explicit call per kind, made once at start by the domain that owns it:

    register_job_kind("pipelines.run", run_pipeline, max_attempts=3, backoff=Backoff(initial_seconds=5))

Enqueueing a kind nobody registered fails at once (``UnknownJobKind``) rather than leaving a job no
worker will ever claim. Registering the same kind again with the same handler and policy is
harmless (an app built twice in one process); another handler under a taken name is a mistake and
raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kiln.jobs.context import JobContext
from kiln.jobs.errors import UnknownJobKind
from kiln.jobs.schemas import KIND_LENGTH

Handler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential: the retry after attempt ``n`` waits ``initial * factor**(n-1)``, at most ``max``."""

    initial_seconds: float = 10.0
    factor: float = 2.0
    max_seconds: float = 3600.0

    def delay(self, attempt: int) -> timedelta:
        seconds = self.initial_seconds * self.factor ** max(attempt - 1, 0)
        return timedelta(seconds=min(seconds, self.max_seconds))


@dataclass(frozen=True, slots=True)
class JobKind:
    name: str
    handler: Handler
    max_attempts: int = 3
    backoff: Backoff = Backoff()
    # Seconds an attempt may run before the worker gives up on it (None: no limit).
    timeout: float | None = None


_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    name: str,
    handler: Handler,
    *,
    max_attempts: int = 3,
    backoff: Backoff = Backoff(),
    timeout: float | None = None,
) -> JobKind:
    """Make ``name`` enqueueable and runnable by every worker of this process."""
    if not name or len(name) > KIND_LENGTH:
        raise ValueError(f"a job kind's name has 1 to {KIND_LENGTH} characters, not {name!r}")
    if max_attempts < 1:
        raise ValueError(f"job kind {name!r}: max_attempts must be at least 1")
    kind = JobKind(name, handler, max_attempts=max_attempts, backoff=backoff, timeout=timeout)
    taken = _KINDS.get(name)
    if taken is not None and taken != kind:
        raise ValueError(
            f"job kind {name!r} is already registered to {_describe(taken.handler)}; "
            f"choose another name for {_describe(handler)}"
        )
    _KINDS[name] = kind
    return kind


def job_kind(name: str) -> JobKind:
    """The registered kind ``name``, or ``UnknownJobKind`` naming the kinds there are."""
    kind = _KINDS.get(name)
    if kind is None:
        known = ", ".join(sorted(_KINDS)) or "none"
        raise UnknownJobKind(f"unknown job kind {name!r}; registered kinds: {known}")
    return kind


def find_job_kind(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered_kinds() -> list[str]:
    return sorted(_KINDS)


def _describe(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"
