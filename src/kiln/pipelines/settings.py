"""The pipelines' settings (``KILN_PIPELINE_*``).

``KILN_PIPELINE_MODULES`` is the administrator's list of module prefixes step functions may be
imported from (comma-separated: ``examples,acme_ml.pipelines``). A spec names functions, never code;
a name outside these prefixes is refused at registration and again before a step runs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class PipelineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_PIPELINE_", extra="ignore", frozen=True)

    modules: Annotated[tuple[str, ...], NoDecode] = ("examples",)
    # Steps of one run executed at once by the local executor (processes).
    processes: int = Field(default=2, ge=1, le=256)
    # Seconds an attempt of a step without its own ``timeout`` may take before it is stopped and
    # counted failed: a step that hangs (a deadlock, a network call that never answers) fails
    # instead of holding its run forever.
    step_timeout: float = Field(default=6 * 3600, gt=0, le=7 * 86400)
    # "local" (a process pool on the worker) or "dask://host:8786" / "tcp://host:8786" (a cluster).
    executor: str = Field(default="local", pattern=r"^(local|(dask|tcp|tls)://\S+)$")

    @field_validator("modules", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
