"""Reading results back: rows, frames, and data frames, from any results file.

>>> from videopipe import results
>>> for row in results.read("out.parquet"):           # doctest: +SKIP
...     print(row["frame_index"], row["node"], row["text"])
>>> frames = results.read_frames("out.csv")            # doctest: +SKIP  (video, FrameResult)

The format comes from the extension (``.jsonl``/``.json``/``.ndjson``, ``.csv``,
``.parquet``/``.pq``) or ``format=``. ``read_frames`` gives exactly the
``(video, FrameResult)`` stream that was written, so summaries can be re-run without
decoding again. The schema (version :data:`SCHEMA_VERSION`) is in docs/results.md.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from itertools import islice
from types import ModuleType
from typing import Any

import pyarrow as pa

from videopipe.adapters.sinks import (
    COLUMNS,
    FORMATS,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Sink,
    format_of,
    open_sink,
    read_rows,
)
from videopipe.adapters.sinks import read_frames as _read_frames
from videopipe.adapters.sinks._rows import as_dict
from videopipe.adapters.sinks.parquet import SCHEMA
from videopipe.domain.errors import MissingDependencyError, ResultsFileError
from videopipe.domain.model import FrameResult

COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)


def _file(path: str) -> str:
    """``path``, refused with a clear error when it is a directory (a batch's ``DIR``)."""
    if os.path.isdir(path):
        raise ResultsFileError(
            f"{path!r} is a directory: read one results file (a batch writes one per video "
            "in its --output-dir)"
        )
    return path


def read(path: str, *, format: str | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a results file as dicts ``{column: value}`` (``None`` for null)."""
    return (as_dict(row) for row in read_rows(_file(path), format))


def read_frames(path: str, *, format: str | None = None) -> Iterator[tuple[str, FrameResult]]:
    """``(video, FrameResult)`` per processed frame, exactly as they were written."""
    return _read_frames(_file(path), format)


def to_arrow(path: str, *, format: str | None = None) -> pa.Table:
    """The rows of a results file as one Arrow table (the schema's typed columns)."""
    rows = read_rows(_file(path), format)
    batches = []
    while chunk := list(islice(rows, 65_536)):
        columns = list(zip(*chunk, strict=True))
        arrays = [
            pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA, strict=True)
        ]
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=SCHEMA))
    return pa.Table.from_batches(batches, schema=SCHEMA)


def _optional(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(what, module) from None


def to_pandas(path: str, *, format: str | None = None) -> Any:
    """The rows as a ``pandas.DataFrame`` (needs pandas: ``pip install "videopipe[pandas]"``)."""
    _optional("pandas", "videopipe.results.to_pandas")
    return to_arrow(path, format=format).to_pandas()


def to_polars(path: str, *, format: str | None = None) -> Any:
    """The rows as a ``polars.DataFrame`` (needs polars: ``pip install "videopipe[polars]"``)."""
    polars = _optional("polars", "videopipe.results.to_polars")
    return polars.from_arrow(to_arrow(path, format=format))


__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "FORMATS",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "ResultsFileError",
    "Sink",
    "format_of",
    "open_sink",
    "read",
    "read_frames",
    "to_arrow",
    "to_pandas",
    "to_polars",
]
