"""The registry's settings section as a FastAPI dependency (read from the app's settings on ``KilnState``)."""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.registry.settings import ModelRegistrySettings


class _WithRegistrySection(Protocol):
    @property
    def registry(self) -> ModelRegistrySettings: ...


class RegistryState(Protocol):
    @property
    def settings(self) -> _WithRegistrySection: ...


def get_registry_settings(request: Request) -> ModelRegistrySettings:
    return cast(RegistryState, request.app.state.kiln).settings.registry


async def _registry_settings(request: Request) -> ModelRegistrySettings:  # async: a state lookup
    return get_registry_settings(request)


RegistrySettingsDep = Annotated[ModelRegistrySettings, Depends(_registry_settings)]
