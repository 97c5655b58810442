"""The artifact store as a FastAPI dependency (one store per app, on ``KilnState``)."""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.storage.store import ArtifactStore


class StorageState(Protocol):
    @property
    def store(self) -> ArtifactStore: ...


def get_store(request: Request) -> ArtifactStore:
    return cast(StorageState, request.app.state.kiln).store


async def _store(request: Request) -> ArtifactStore:  # async: a state lookup needs no thread
    return get_store(request)


StoreDep = Annotated[ArtifactStore, Depends(_store)]
