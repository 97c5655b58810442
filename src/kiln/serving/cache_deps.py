"""The model cache as a FastAPI dependency (one per app, on ``KilnState``, started in the lifespan)."""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.serving.model_cache import ModelCache


class ModelCacheState(Protocol):
    @property
    def model_cache(self) -> ModelCache: ...


def get_model_cache(request: Request) -> ModelCache:
    return cast(ModelCacheState, request.app.state.kiln).model_cache


async def _model_cache(request: Request) -> ModelCache:  # async: a state lookup needs no thread
    return get_model_cache(request)


ModelCacheDep = Annotated[ModelCache, Depends(_model_cache)]
