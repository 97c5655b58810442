"""The pipelines' settings section as a FastAPI dependency (read from the app's settings on ``KilnState``)."""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.pipelines.settings import PipelineSettings


class _WithPipelinesSection(Protocol):
    @property
    def pipelines(self) -> PipelineSettings: ...


class PipelinesState(Protocol):
    @property
    def settings(self) -> _WithPipelinesSection: ...


async def _pipeline_settings(request: Request) -> PipelineSettings:  # async: a state lookup
    return cast(PipelinesState, request.app.state.kiln).settings.pipelines


PipelineSettingsDep = Annotated[PipelineSettings, Depends(_pipeline_settings)]
