"""The data domain's own errors (each registers itself by its code; the SDK raises the same classes)."""

from __future__ import annotations

from kiln.core.errors import InvalidState, KilnError, ValidationFailed


class DatasetQualityFailed(InvalidState):
    """The version failed its quality gate; read it anyway only by saying so (``allow_failed``)."""

    code = "dataset_quality_failed"


class UnsupportedDataFile(KilnError):
    """An upload that is not a CSV or Parquet file (by its name, or by its bytes)."""

    code = "unsupported_data_file"
    status_code = 415
    title = "Unsupported file"


class UnreadableDataFile(ValidationFailed):
    """A CSV or Parquet file that cannot be parsed, or holds no rows."""

    code = "unreadable_data_file"
