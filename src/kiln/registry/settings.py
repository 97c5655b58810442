"""The registry's settings section: ``KILN_TRUST_PICKLE`` and the size of one model file.

Pickle-family payloads (pickle, joblib, cloudpickle) execute whatever the file says while loading,
so the registry refuses them unless the operator says, for this whole server, that every uploader is
trusted (``KILN_TRUST_PICKLE=1``). skops and ONNX need no such trust.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ModelRegistrySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    # Accept (and load) pickle, joblib and cloudpickle payloads: only where every uploader is trusted.
    trust_pickle: bool = False
    # The largest single file of a model version (a whole upload is also capped by KILN_MAX_UPLOAD_BYTES).
    max_model_file_bytes: int = Field(default=4 * 1024**3, ge=1)
