"""In-process domain events, delivered only after the transaction that raised them commits.

A lower domain announces what happened (a model version was promoted, a dataset version arrived)
without importing the domains that care; those subscribe at start-up::

    @dataclass(frozen=True)
    class VersionPromoted(Event):
        model: str
        version: int

    events.subscribe(VersionPromoted, refresh_routes)     # in the subscriber's wiring
    events.publish(session, VersionPromoted("fraud", 3))  # in the service, inside the transaction

Handlers run in the committing thread, after commit; a failing handler is logged and the others
still run. Events are not durable: a reaction that must survive a crash is a job enqueued in the
same transaction, not a subscriber.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from sqlalchemy.orm import Session

from kiln.core.db import after_commit

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of every domain event: a frozen dataclass named in the past tense."""


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Idempotent: wiring that runs once per app (several apps in one process) subscribes once."""
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].remove(handler)

    def publish(self, session: Session, event: Event) -> None:
        """Deliver ``event`` to its subscribers once ``session`` commits; never if it rolls back."""
        after_commit(session, lambda: self.deliver(event))

    def deliver(self, event: Event) -> None:
        for event_type in type(event).__mro__:
            for handler in list(self._handlers.get(event_type, ())):
                try:
                    handler(event)
                except Exception:
                    log.exception("events.handler_failed", event=type(event).__name__, handler=repr(handler))


bus = EventBus()
subscribe = bus.subscribe
unsubscribe = bus.unsubscribe
publish = bus.publish
