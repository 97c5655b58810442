"""The artifact store's settings: where artifacts live (``KILN_ARTIFACT_ROOT``) and an S3 endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    # A folder or an fsspec URL (s3://bucket/prefix); default: $KILN_HOME/artifacts.
    artifact_root: str | None = None
    # For S3-compatible stores other than AWS (MinIO, moto); credentials come from the AWS_* variables.
    s3_endpoint_url: str | None = None

    def root(self, home: Path) -> str:
        return self.artifact_root or str(home / "artifacts")

    def options(self, home: Path) -> dict[str, Any]:
        """fsspec options for the store at ``root(home)``."""
        if self.s3_endpoint_url and self.root(home).startswith("s3://"):
            return {"client_kwargs": {"endpoint_url": self.s3_endpoint_url}}
        return {}
