"""What the registry announces (after commit, never for a change that rolled back).

Subscribers import these from here (``events.subscribe(ModelVersionRegistered, handler)``); the
registry never imports them. Lifecycle's events (promoted, rolled back, approval requested) belong
here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.events import Event


@dataclass(frozen=True, slots=True)
class ModelVersionRegistered(Event):
    """``model_version.registered``: a version exists (``status`` ``draft`` until it is finished)."""

    project_id: str
    model_id: str
    model_name: str
    version_id: str
    number: int
    label: str | None
    source: str
    source_run_id: str | None
    status: str
    actor_user_id: str | None


@dataclass(frozen=True, slots=True)
class ModelVersionFinished(Event):
    """A draft version was finished: it is ``ready`` and may be promoted."""

    project_id: str
    model_id: str
    model_name: str
    version_id: str
    number: int
    actor_user_id: str | None
