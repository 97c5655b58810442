"""The prediction log's settings (``KILN_PREDICTION_LOG_*``): how much is kept and how it is flushed."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PredictionLogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_PREDICTION_LOG_", extra="ignore", frozen=True)

    # The fraction of successful predictions recorded (KILN_PREDICTION_LOG_SAMPLE); invalid requests
    # and errors are always recorded, whatever the fraction.
    sample: float = Field(default=1.0, ge=0.0, le=1.0)
    # The flusher writes at least this often (milliseconds) ...
    flush_interval_ms: int = Field(default=200, ge=1, le=60_000)
    # ... and as soon as this many records wait (one transaction per batch).
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    # Records waiting beyond this are dropped, and counted, rather than block a request.
    queue_size: int = Field(default=100_000, ge=1, le=10_000_000)
    # ... or beyond this many bytes of their inputs' and outputs' text (KILN_PREDICTION_LOG_QUEUE_BYTES):
    # a 1,000-row batch of 30 fields is about 0.8 MB, so a count alone let a backlog of batches take
    # gigabytes while the database caught up.
    queue_bytes: int = Field(default=32 * 2**20, ge=2**20, le=2**40)
