"""What the registry announces, after commit, to whoever subscribed (serving, pipelines, notify).

Subscribers import these from here (``events.subscribe(ModelVersionRegistered, handler)``); the
registry never imports them.

Frozen dataclasses carrying ids and names only (never ORM rows: they are delivered after the session
that loaded them is gone). Published with ``kiln.core.events.publish(session, event)``.
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


@dataclass(frozen=True, slots=True)
class ModelVersionEvent(Event):
    project_id: str
    model_id: str
    model_name: str
    version_id: str
    version_number: int
    actor: str


@dataclass(frozen=True, slots=True)
class ModelVersionPromoted(ModelVersionEvent):
    """A version moved to ``staging`` or ``production``; ``previous_version_id``: the one it replaced."""

    from_stage: str
    to_stage: str
    previous_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class ModelVersionRolledBack(ModelVersionEvent):
    """Production went back to this version; ``failed_version_id`` was rolled back out (marked failed)."""

    failed_version_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApprovalRequested(ModelVersionEvent):
    approval_id: str
    risk_level: str
    requested_by_user_id: str | None


@dataclass(frozen=True, slots=True)
class ApprovalDecided(ModelVersionEvent):
    approval_id: str
    status: str  # approved | rejected
    reason: str
    requested_by_user_id: str | None


@dataclass(frozen=True, slots=True)
class ModelAliasMoved(Event):
    """An alias was set, moved or deleted (``version_id`` ``None``): deployments following it re-resolve."""

    project_id: str
    model_id: str
    model_name: str
    alias: str
    version_id: str | None
