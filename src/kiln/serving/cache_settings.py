"""The model cache's settings (``KILN_SERVING_*``): how often routes are checked, how many models stay."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModelCacheSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_SERVING_", extra="ignore", frozen=True)

    # Each serving process checks max(deployments.revision) this often (seconds): a deployment change
    # reaches every process within about this long.
    poll_seconds: float = Field(default=1.0, gt=0.0, le=60.0)
    # Model versions kept loaded (LRU); versions that active deployments use are never evicted.
    max_models: int = Field(default=16, ge=1, le=1000)
    # A version that failed to load (a missing or corrupted file) is tried again this often (seconds).
    retry_seconds: float = Field(default=30.0, gt=0.0, le=3600.0)
