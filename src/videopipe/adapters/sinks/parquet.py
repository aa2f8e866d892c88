"""Parquet (pyarrow): the tabular schema, in row groups written as results arrive.

Every ``rows_per_part`` rows (at a frame's end) the rows held become a complete part
file (one row group); ``close`` streams the parts into ``<output>`` in row groups of
exactly ``rows_per_part`` rows (so the file does not depend on where a run was
interrupted and resumed) and renames it into place (``_parts``). The schema's name and
version are in the file's key-value metadata (``videopipe.schema``,
``videopipe.schema_version``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from videopipe.adapters.sinks._rows import (
    COLUMNS,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Row,
    frames_of,
)
from videopipe.adapters.sinks._tabular import TabularSink, kept_frames
from videopipe.domain.errors import ResultsFileError
from videopipe.domain.model import FrameResult

FORMAT = "parquet"
SUFFIX = ".parquet"
COMPRESSION = "zstd"

_TYPES = {"string": pa.string(), "integer": pa.int64(), "double": pa.float64()}
METADATA = {
    b"videopipe.schema": SCHEMA_NAME.encode(),
    b"videopipe.schema_version": str(SCHEMA_VERSION).encode(),
}
SCHEMA = pa.schema([pa.field(name, _TYPES[kind]) for name, kind in COLUMNS], metadata=METADATA)
"""The Arrow schema of every results Parquet file, with the schema's name and version."""


class ParquetSink(TabularSink):
    """Results as Parquet rows in ``path`` (parts while running, one file at ``close``)."""

    format = FORMAT
    suffix = SUFFIX

    def __init__(self, path: str, *, resume: bool = False, rows_per_part: int = 10_000) -> None:
        super().__init__(path, resume=resume, rows_per_part=rows_per_part)

    def _part(self, rows: Sequence[Row]) -> Callable[[str], None]:
        table = _table(rows)
        return lambda path: pq.write_table(table, path, compression=COMPRESSION)

    def _merge(self, parts: Sequence[str], target: str) -> None:
        _merge(parts, target, self.rows_per_part)


def _table(rows: Sequence[Row]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    arrays = [
        pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _merge(parts: Sequence[str], target: str, group: int) -> None:
    """The parts' rows into ``target`` in row groups of exactly ``group`` rows (the last fewer)."""
    with pq.ParquetWriter(target, SCHEMA, compression=COMPRESSION) as writer:
        held: list[pa.RecordBatch] = []
        count = 0
        for part in parts:
            for batch in _open(part).iter_batches(batch_size=group):
                held.append(batch)
                count += batch.num_rows
                while count >= group:
                    table = pa.Table.from_batches(held, schema=SCHEMA)
                    writer.write_table(table.slice(0, group).combine_chunks(), row_group_size=group)
                    held = table.slice(group).to_batches()
                    count -= group
        if count or not parts:
            table = pa.Table.from_batches(held, schema=SCHEMA).combine_chunks()
            writer.write_table(table, row_group_size=max(group, 1))


def _open(path: str) -> pq.ParquetFile:
    """``path`` as a results Parquet file (its schema checked)."""
    try:
        handle = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ResultsFileError(f"{path!r} is not a readable Parquet file: {exc}") from exc
    metadata = handle.schema_arrow.metadata or {}
    name = metadata.get(b"videopipe.schema")
    version = metadata.get(b"videopipe.schema_version")
    if name != METADATA[b"videopipe.schema"] or version != METADATA[b"videopipe.schema_version"]:
        raise ResultsFileError(
            f"{path!r} is not {SCHEMA_NAME} version {SCHEMA_VERSION} "
            f"(its metadata says {name!r} version {version!r})"
        )
    if handle.schema_arrow.names != SCHEMA.names:
        raise ResultsFileError(f"{path!r} has other columns than {SCHEMA_NAME}")
    return handle


def read_rows(path: str) -> Iterator[Row]:
    """The rows of a results Parquet file, row group by row group (flat memory)."""
    handle = _open(path)
    for batch in handle.iter_batches(batch_size=10_000):
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def read_frames(path: str) -> Iterator[tuple[str, FrameResult]]:
    """Every ``(video, FrameResult)`` of a results Parquet file, exactly as written."""
    return frames_of(read_rows(path), path)


def resumable_frames(path: str) -> Iterator[tuple[str, FrameResult]]:
    """What a resumed Parquet output continues: its complete parts, else the committed file."""
    return kept_frames(path, SUFFIX, read_frames)


__all__ = ["FORMAT", "SCHEMA", "ParquetSink", "read_frames", "read_rows", "resumable_frames"]
