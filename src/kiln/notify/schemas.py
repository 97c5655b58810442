"""Notification kinds (the one reviewed list) and the I/O schemas of the in-app inbox and its settings.

Pydantic and the standard library only: the SDK imports this module without SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from kiln.core.schemas import InputSchema, ReadSchema


class NotificationKind(StrEnum):
    """What a notification is about. A domain sends only these; adding one is a reviewed change here
    (with its label and default channels in ``KINDS``), so every user's settings page lists it."""

    model_version_registered = "model_version.registered"
    model_version_promoted = "model_version.promoted"
    model_version_rolled_back = "model_version.rolled_back"
    approval_requested = "approval.requested"
    approval_decided = "approval.decided"
    dataset_quality_failed = "dataset.quality_failed"
    pipeline_run_failed = "pipeline_run.failed"
    alert_firing = "alert.firing"
    alert_resolved = "alert.resolved"
    deployment_rolled_back = "deployment.rolled_back"
    retraining_triggered = "retraining.triggered"


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How a kind reads on the settings page, and its channels for a user who never changed them."""

    label: str
    in_app: bool
    email: bool


# Defaults: everything shows in the app; mail is for what needs someone to act or to know now
# (a failure, a rollback, an approval waiting), not for routine progress (a registration, a promotion).
KINDS: dict[NotificationKind, KindSpec] = {
    NotificationKind.model_version_registered: KindSpec("A model version is registered", True, False),
    NotificationKind.model_version_promoted: KindSpec("A model version changes stage", True, False),
    NotificationKind.model_version_rolled_back: KindSpec("A production model is rolled back", True, True),
    NotificationKind.approval_requested: KindSpec("A promotion waits for an approval", True, True),
    NotificationKind.approval_decided: KindSpec("An approval I asked for is decided", True, True),
    NotificationKind.dataset_quality_failed: KindSpec(
        "A dataset version fails its quality checks", True, True
    ),
    NotificationKind.pipeline_run_failed: KindSpec("A pipeline run fails", True, True),
    NotificationKind.alert_firing: KindSpec("A monitoring alert fires", True, True),
    NotificationKind.alert_resolved: KindSpec("A monitoring alert is resolved", True, False),
    NotificationKind.deployment_rolled_back: KindSpec("A deployment is rolled back", True, True),
    NotificationKind.retraining_triggered: KindSpec("Drift or an alert starts a retraining run", True, False),
}
if set(KINDS) != set(NotificationKind):  # pragma: no cover - a kind without a spec fails at import
    raise RuntimeError(f"kinds without a KindSpec: {sorted(set(NotificationKind) - set(KINDS))}")

TITLE_LENGTH = 200
BODY_LENGTH = 4000
LINK_LENGTH = 2000


# Read schemas carry the kind as text: a client older than the server still reads a kind added since.
class NotificationRead(ReadSchema):
    id: str
    kind: str = Field(description="a NotificationKind value, such as model_version.promoted")
    title: str
    body: str
    link: str | None = Field(description="where it points inside Kiln (a path such as /models/...)")
    project_id: str | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(ReadSchema):
    unread: int


class MarkedRead(ReadSchema):
    marked: int = Field(description="how many notifications were unread and are read now")


class NotificationSettingRead(ReadSchema):
    """A kind with the channels in effect for the user (their choice, or the kind's default)."""

    kind: str
    label: str
    in_app: bool
    email: bool
    default_in_app: bool
    default_email: bool


class NotificationSettingUpdate(InputSchema):
    """One kind's channels; a channel left out (``null``) keeps its current value."""

    kind: NotificationKind
    in_app: bool | None = None
    email: bool | None = None
