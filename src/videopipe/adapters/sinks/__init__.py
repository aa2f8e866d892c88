"""Result sinks (JSON lines, CSV, Parquet) and their readers, chosen by format name.

``open_sink(output, format)`` picks the format from ``format`` or the output's
extension (``.jsonl``/``.json``/``.ndjson``, ``.csv``, ``.parquet``/``.pq``; JSON lines
otherwise and for stdout). Every format reads back to the same rows and frames.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Literal, get_args

from videopipe.adapters.sinks import csvfile, jsonl, parquet
from videopipe.adapters.sinks._rows import COLUMNS, SCHEMA_NAME, SCHEMA_VERSION, Row, rows_of
from videopipe.adapters.sinks.csvfile import CsvSink
from videopipe.adapters.sinks.jsonl import JsonLinesSink, encode_line
from videopipe.adapters.sinks.parquet import ParquetSink
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import FrameResult

SinkFormat = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[SinkFormat, ...] = get_args(SinkFormat)

EXTENSIONS: dict[str, SinkFormat] = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""The format each output extension means (any other extension: JSON lines)."""

Sink = JsonLinesSink | CsvSink | ParquetSink

_Frames = Callable[[str], Iterator[tuple[str, FrameResult]]]


def format_of(output: str | None, requested: str | None = None) -> SinkFormat:
    """The format of ``output``: ``requested``, else from its extension, else JSON lines."""
    if requested is not None:
        if requested not in FORMATS:
            raise ConfigurationError(
                f"unknown results format {requested!r}; known: {', '.join(FORMATS)}"
            )
        return requested
    if output is None:
        return "jsonl"
    return EXTENSIONS.get(os.path.splitext(output)[1].lower(), "jsonl")


def open_sink(
    output: str | None,
    requested: str | None = None,
    *,
    resume: bool = False,
    rows_per_part: int = 10_000,
) -> Sink:
    """A sink writing to ``output`` (``None``: stdout) in its format.

    ``resume`` continues what the output holds (see :func:`resumable_frames`) instead
    of replacing it. Parquet needs a file (it is written whole, footer last).
    """
    kind = format_of(output, requested)
    if kind == "parquet":
        if output is None:
            raise ConfigurationError("Parquet results need a file: --output FILE.parquet")
        return ParquetSink(output, resume=resume, rows_per_part=rows_per_part)
    if kind == "csv":
        return CsvSink(output, resume=resume, rows_per_part=rows_per_part)
    if output is None:
        return JsonLinesSink.to_stdout()
    return JsonLinesSink.to_file(output, resume=resume)


_READERS: dict[SinkFormat, _Frames] = {
    "jsonl": jsonl.read_frames,
    "csv": csvfile.read_frames,
    "parquet": parquet.read_frames,
}
_RESUMABLE: dict[SinkFormat, _Frames] = {
    "jsonl": jsonl.read_frames,
    "csv": csvfile.resumable_frames,
    "parquet": parquet.resumable_frames,
}


def read_frames(path: str, requested: str | None = None) -> Iterator[tuple[str, FrameResult]]:
    """Every ``(video, FrameResult)`` of a results file, as it was written."""
    return _READERS[format_of(path, requested)](path)


def resumable_frames(path: str, requested: str | None = None) -> Iterator[tuple[str, FrameResult]]:
    """What a sink opened with ``resume=True`` on ``path`` keeps (and continues after)."""
    return _RESUMABLE[format_of(path, requested)](path)


def read_rows(path: str, requested: str | None = None) -> Iterator[Row]:
    """The tabular rows of a results file (a JSON-lines file is flattened the same way)."""
    kind = format_of(path, requested)
    if kind == "csv":
        return csvfile.read_rows(path)
    if kind == "parquet":
        return parquet.read_rows(path)
    return (row for video, item in jsonl.read_frames(path) for row in rows_of(video, item))


__all__ = [
    "COLUMNS",
    "EXTENSIONS",
    "FORMATS",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "CsvSink",
    "JsonLinesSink",
    "ParquetSink",
    "Sink",
    "SinkFormat",
    "encode_line",
    "format_of",
    "open_sink",
    "read_frames",
    "read_rows",
    "resumable_frames",
]
