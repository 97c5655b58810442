"""Deployments follow the registry: a promotion, rollback or alias move re-resolves them.

Subscribed to the registry's events for the app's lifetime (``app.py``'s lifespan). Each event is
handled after the registry's transaction committed, in a unit of work of its own. A deployment change
saved at the same moment may take the revision this one numbered itself with: the unit of work is
then run again (it reads the next number). Any other failure is logged by the event bus and the
deployment keeps its version (the next move tries again).
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import IntegrityError

from kiln.core import events
from kiln.core.db import Database
from kiln.core.events import Event
from kiln.registry.events import (
    ModelAliasChanged,
    ModelVersionPromoted,
    ModelVersionRolledBack,
    ModelVersionStageChanged,
)
from kiln.serving.deployments import follow_model

log = structlog.get_logger(__name__)

ATTEMPTS = 3
_EVENTS = (ModelVersionPromoted, ModelVersionRolledBack, ModelVersionStageChanged, ModelAliasChanged)


class RegistryFollower:
    def __init__(self, db: Database) -> None:
        self.db = db
        # An app's lifespan may be entered more than once (several test clients): the last exit unsubscribes.
        self._subscriptions = 0

    def __call__(self, event: Event) -> None:
        assert isinstance(event, _EVENTS)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.db.unit_of_work() as session:
                    follow_model(session, event.model_id)
                return
            except IntegrityError:
                if attempt == ATTEMPTS:
                    raise
                log.info("serving.follow_retried", model_id=event.model_id, attempt=attempt)

    def subscribe(self) -> None:
        self._subscriptions += 1
        for event_type in _EVENTS:
            events.subscribe(event_type, self)

    def unsubscribe(self) -> None:
        self._subscriptions = max(0, self._subscriptions - 1)
        if self._subscriptions:
            return
        for event_type in _EVENTS:
            events.unsubscribe(event_type, self)
