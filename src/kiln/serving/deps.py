"""The prediction logger as a FastAPI dependency (one per app, on ``KilnState``).

The predict route appends to it after answering: ``logger.append(PredictionRecord(...))``.
"""

from __future__ import annotations

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request

from kiln.serving.model_cache import ModelCache
from kiln.serving.prediction_log import PredictionLogger


class ServingState(Protocol):
    @property
    def prediction_logger(self) -> PredictionLogger: ...


def get_prediction_logger(request: Request) -> PredictionLogger:
    return cast(ServingState, request.app.state.kiln).prediction_logger


async def _prediction_logger(request: Request) -> PredictionLogger:  # async: a state lookup needs no thread
    return get_prediction_logger(request)


PredictionLoggerDep = Annotated[PredictionLogger, Depends(_prediction_logger)]


class ModelCacheState(Protocol):
    @property
    def model_cache(self) -> ModelCache: ...


def get_model_cache(request: Request) -> ModelCache:
    """The model cache (deployment name -> loaded model), started and stopped by the lifespan."""
    return cast(ModelCacheState, request.app.state.kiln).model_cache


async def _model_cache(request: Request) -> ModelCache:  # async: a state lookup needs no thread
    return get_model_cache(request)


ModelCacheDep = Annotated[ModelCache, Depends(_model_cache)]
