"""A registered model's drift settings as the API reads them. Pydantic only (the SDK reads them).

What is written is a ``DriftThresholds`` (``drift_schemas``): the default thresholds and method,
per-feature overrides, features to ignore, the small-window size and the drifted share.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from kiln.core.schemas import ReadSchema
from kiln.monitoring.drift_schemas import DriftThresholds


class SettingsSource(StrEnum):
    version = "version"  # the version's own settings, which replace the model's
    model = "model"  # the model's, for every version without its own
    defaults = "defaults"  # none stored: Kiln's defaults


class DriftSettingsRead(ReadSchema):
    model: str
    version: int | None = Field(description="the version asked about; None: the model's own settings")
    source: SettingsSource = Field(description="whose thresholds apply there")
    thresholds: DriftThresholds
    updated_by: str | None = None
    updated_at: datetime | None = None
