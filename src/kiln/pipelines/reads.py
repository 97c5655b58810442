"""Pipelines and versions as their read schemas (what the API, the SDK and the CLI show)."""

from __future__ import annotations

from kiln.pipelines.models import Pipeline, PipelineVersion
from kiln.pipelines.schemas import PipelineRegistered, PipelineVersionRead
from kiln.pipelines.service import Registered, version_spec


def version_read(pipeline: Pipeline, version: PipelineVersion) -> PipelineVersionRead:
    return PipelineVersionRead(
        id=version.id,
        pipeline=pipeline.name,
        project_id=pipeline.project_id,
        number=version.number,
        content_hash=version.content_hash,
        spec=version_spec(version),
        created_by=version.created_by,
        created_at=version.created_at,
    )


def registered_read(registered: Registered) -> PipelineRegistered:
    read = version_read(registered.pipeline, registered.version)
    return PipelineRegistered(**dict(read), created=registered.created)
