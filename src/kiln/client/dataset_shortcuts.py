"""``kiln.datasets``: the one-line forms over the default client (``kiln.set_tracking_uri``/``KILN_URL``).

kiln.datasets.upload(frame, "telemetry")          # a new version (or the one holding this data)
kiln.datasets.append(frame, "telemetry")          # rows staged whole; the policy cuts versions
frame = kiln.datasets.load("telemetry@latest")    # checked against its sha256
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.client.api import Client, default_client
from kiln.data.ingestion_schemas import AppendResult
from kiln.data.schemas import DatasetVersionUploaded

if TYPE_CHECKING:
    import pandas as pd


class DatasetShortcuts:
    def upload(
        self,
        data: pd.DataFrame | str | Path,
        name: str,
        *,
        project: str | None = None,
        client: Client | None = None,
    ) -> DatasetVersionUploaded:
        """Upload a DataFrame or a .csv/.parquet file as the next version of dataset ``name``."""
        return (client or default_client()).datasets.upload(name, data, project=project)

    def append(
        self,
        data: pd.DataFrame | Sequence[Mapping[str, Any]] | str | Path,
        name: str,
        *,
        project: str | None = None,
        client: Client | None = None,
    ) -> AppendResult:
        """Append a DataFrame, records (dicts) or a .csv/.parquet file to dataset ``name``: accepted
        whole or refused whole; the dataset's ingestion policy decides when they become a version."""
        return (client or default_client()).datasets.append(name, data, project=project)

    def load(
        self,
        ref: str,
        *,
        project: str | None = None,
        allow_failed: bool = False,
        client: Client | None = None,
    ) -> pd.DataFrame:
        """The rows of ``ref`` (``dataset:telemetry@7``, ``telemetry@latest``); a version that failed
        its quality gate raises ``DatasetQualityFailed`` unless ``allow_failed``."""
        return (client or default_client()).datasets.load(ref, project=project, allow_failed=allow_failed)


datasets = DatasetShortcuts()
