"""What the data domain announces after commit (pipelines will trigger on it). Ids and names only."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.events import Event


@dataclass(frozen=True, slots=True)
class DatasetVersionCreated(Event):
    """A new version exists (never for an identical re-upload, which creates nothing)."""

    project_id: str
    dataset_id: str
    dataset_name: str
    version_id: str
    number: int
    rows: int
    quarantined: int
    quality_passed: bool
    source: str
    actor_user_id: str | None
