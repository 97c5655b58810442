"""The canonical Parquet form of a version: the same data always gives the same bytes, so their sha256
identifies the version (an identical re-upload is the version that exists).

Columns in the schema's order with their declared Arrow types, rows in the order given, no pandas
index or pandas metadata, one row group, and fixed writer options. The bytes also depend on the
pyarrow release that writes them (its name is in the file's footer): after an upgrade the same data
may hash differently once, and then becomes a new version.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from kiln.core.lazy_module import lazy_module
from kiln.data.spec import ColumnType, DatasetSchema

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")
    pq = lazy_module("pyarrow.parquet")


# Built on first use, not at import: pyarrow loads only when a version is written or read.
@functools.cache
def _arrow_types() -> dict[ColumnType, pa.DataType]:
    return {
        ColumnType.integer: pa.int64(),
        ColumnType.number: pa.float64(),
        ColumnType.string: pa.string(),
        ColumnType.category: pa.string(),
        ColumnType.boolean: pa.bool_(),
        ColumnType.datetime: pa.timestamp("us", tz="UTC"),
    }


# Fixed, so a change of pyarrow's defaults cannot change the bytes of the same data.
_WRITER_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": False,
}


def arrow_schema(schema: DatasetSchema) -> pa.Schema:
    return pa.schema(
        [pa.field(column.name, _arrow_types()[column.type], nullable=True) for column in schema.columns]
    )


def to_table(frame: pd.DataFrame, schema: DatasetSchema) -> pa.Table:
    """``frame`` (typed by ``rules.split_rows``) as an Arrow table in the schema's columns and types."""
    target = arrow_schema(schema)
    arrays = [pa.array(frame[field.name], type=field.type, from_pandas=True) for field in target]
    return pa.Table.from_arrays(arrays, schema=target)


def canonical_bytes(frame: pd.DataFrame, schema: DatasetSchema) -> bytes:
    table = to_table(frame, schema)
    buffer = io.BytesIO()
    # One row group whatever the size: the grouping would otherwise be another input of the bytes.
    pq.write_table(table, buffer, row_group_size=max(table.num_rows, 1), **_WRITER_OPTIONS)
    return buffer.getvalue()


def read_frame(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """A stored version's bytes as a DataFrame (integers as nullable Int64, as rules produce them)."""
    table = pq.read_table(io.BytesIO(data), columns=columns)
    frame: pd.DataFrame = table.to_pandas(
        types_mapper={pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}.get
    )
    return frame
