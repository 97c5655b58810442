"""The artifact store as a FastAPI dependency (one store per app, built in ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kiln.storage.store import ArtifactStore


def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


StoreDep = Annotated[ArtifactStore, Depends(get_store)]
