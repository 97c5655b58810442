"""Registry I/O schemas, shared by the API and the SDK (pydantic only)."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where a version is in its life. ``failed``: rolled back out of production."""

    development = "development"
    staging = "staging"
    production = "production"
    archived = "archived"
    failed = "failed"


class VersionStatus(StrEnum):
    """An uploaded version is a ``draft`` until its owner finishes it; every other version is ``ready``."""

    draft = "draft"
    ready = "ready"


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
