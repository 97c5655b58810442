"""Reading an uploaded file (already spooled to disk) into a DataFrame: CSV or Parquet, nothing else.

The kind comes from the file's name and must match its bytes (a Parquet file starts and ends with
``PAR1``; a CSV is UTF-8 text), so a renamed file is refused (415) before it is parsed. CSV cells are
read as text: the rules convert them to the declared types and name every cell that does not fit.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from kiln.core.lazy_module import lazy_module
from kiln.data.errors import UnreadableDataFile, UnsupportedDataFile
from kiln.storage.store import CHUNK_SIZE

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")

PARQUET_MAGIC = b"PAR1"
_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_SNIFF_BYTES = 64 * 1024


def file_kind(filename: str) -> str:
    """``csv`` or ``parquet`` by the file's extension, or ``UnsupportedDataFile``."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    kind = _KINDS.get(suffix)
    if kind is None:
        raise UnsupportedDataFile(
            f"{filename!r} is not a CSV or Parquet file; upload a .csv or .parquet file",
            details={"file": filename},
        )
    return kind


def read_spooled(stream: BinaryIO, filename: str) -> pd.DataFrame:
    """An uploaded file's rows: spooled to a temporary file in chunks (never whole in memory), read,
    and the temporary file removed whatever happens."""
    handle, spooled = tempfile.mkstemp(prefix="kiln-dataset-upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK_SIZE)
        return read_upload(Path(spooled), filename)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spooled)


def read_upload(path: Path, filename: str) -> pd.DataFrame:
    kind = file_kind(filename)
    size = path.stat().st_size
    if size == 0:
        raise UnreadableDataFile(f"{filename!r} is empty; upload a file with a header and rows")
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        handle.seek(max(size - len(PARQUET_MAGIC), 0))
        tail = handle.read()
    is_parquet = head.startswith(PARQUET_MAGIC) and tail == PARQUET_MAGIC
    if kind == "parquet":
        if not is_parquet:
            raise UnsupportedDataFile(
                f"{filename!r} is named as Parquet but is not a Parquet file (no PAR1 marks); "
                "upload the file itself, or name a CSV file .csv",
                details={"file": filename},
            )
        return _parquet(path, filename)
    if is_parquet or b"\x00" in head:
        raise UnsupportedDataFile(
            f"{filename!r} is named as CSV but holds binary data"
            + (" (it is a Parquet file: name it .parquet)" if is_parquet else ""),
            details={"file": filename},
        )
    return _csv(path, filename)


def _parquet(path: Path, filename: str) -> pd.DataFrame:
    try:
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise UnreadableDataFile(
            f"{filename!r} is not a readable Parquet file ({exc}); it may be truncated",
            details={"file": filename},
        ) from None
    if frame.empty:
        raise UnreadableDataFile(f"{filename!r} holds no rows", details={"file": filename})
    return frame


def _csv(path: Path, filename: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", engine="c"
        )
    except UnicodeDecodeError as exc:
        raise UnreadableDataFile(
            f"{filename!r} is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8",
            details={"file": filename},
        ) from None
    except pd.errors.EmptyDataError:
        raise UnreadableDataFile(
            f"{filename!r} holds no header; the first line must name the columns", details={"file": filename}
        ) from None
    except (pd.errors.ParserError, csv.Error) as exc:
        raise UnreadableDataFile(
            f"{filename!r} is not well-formed CSV: {exc}", details={"file": filename}
        ) from None
    if frame.empty:
        raise UnreadableDataFile(
            f"{filename!r} has a header but no rows",
            details={"file": filename, "columns": list(frame.columns)},
        )
    return frame
