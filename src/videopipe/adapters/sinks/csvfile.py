"""CSV (RFC 4180, UTF-8, a header row): the tabular schema, one row per item or frame value.

To a file, rows are kept in complete parts and committed by one rename (``_parts``),
with a CSVW sidecar ``<file>-metadata.json`` (W3C "CSV on the Web") naming the schema
and its version and typing the columns. To stdout, rows stream as frames arrive.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from videopipe.adapters.signals import signals_deferred
from videopipe.adapters.sinks._rows import (
    COLUMNS,
    NAMES,
    SCHEMA_NAME,
    SCHEMA_VERSION,
    Row,
    frames_of,
)
from videopipe.adapters.sinks._tabular import TabularSink, kept_frames
from videopipe.domain.errors import ResultsFileError, ResultsWriteError
from videopipe.domain.model import FrameResult

FORMAT = "csv"
SUFFIX = ".csv"
CONFORMS_TO = f"urn:{SCHEMA_NAME.replace('.', ':')}:{SCHEMA_VERSION}"
"""The sidecar's ``dc:conformsTo``: ``urn:videopipe:results:1``."""


def sidecar_path(path: str) -> str:
    """The CSVW metadata file of ``path`` (the standard ``{+url}-metadata.json`` location)."""
    return path + "-metadata.json"


def sidecar(path: str) -> dict[str, Any]:
    """The CSVW metadata of a results CSV: schema name and version, typed columns."""
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": os.path.basename(path),
        "dc:conformsTo": CONFORMS_TO,
        "dc:description": f"{SCHEMA_NAME} version {SCHEMA_VERSION} (videopipe docs/results.md)",
        "dialect": {"header": True, "encoding": "utf-8"},
        "tableSchema": {
            "columns": [{"name": name, "datatype": kind} for name, kind in COLUMNS],
        },
        "null": "",
    }


def _text(rows: Sequence[Row], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(NAMES)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


class CsvSink(TabularSink):
    """Results as CSV rows: to a file (parts, then a commit), or streamed to stdout."""

    format = FORMAT
    suffix = SUFFIX

    def __init__(
        self, path: str | None, *, resume: bool = False, rows_per_part: int = 10_000
    ) -> None:
        super().__init__(path, resume=resume, rows_per_part=rows_per_part)
        self.header_due = path is None

    def _stream(self) -> None:
        data = memoryview(_text(self.buffer, header=self.header_due))
        self.header_due = False
        self.buffer.clear()
        with signals_deferred():
            try:
                while data:
                    data = data[os.write(1, data) :]
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise ResultsWriteError(f"cannot write to <stdout>: {exc.strerror or exc}") from exc

    def _part(self, rows: Sequence[Row]) -> Callable[[str], None]:
        data = _text(rows, header=True)

        def write(path: str) -> None:
            with open(path, "wb") as handle:
                handle.write(data)

        return write

    def _merge(self, parts: Sequence[str], target: str) -> None:
        _merge(parts, target)

    def _committing(self, path: str) -> None:
        _write_sidecar(path)


def _write_sidecar(path: str) -> None:
    target = sidecar_path(path)
    temporary = target + ".tmp"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(sidecar(path), handle, indent=2)
            handle.write("\n")
        os.replace(temporary, target)
    except OSError as exc:
        raise ResultsWriteError(f"cannot write {target!r}: {exc.strerror or exc}") from exc


def _merge(parts: Sequence[str], target: str) -> None:
    """The header once, then every part's rows."""
    with open(target, "wb") as out:
        out.write(_text((), header=True))
        for part in parts:
            with open(part, "rb") as handle:
                handle.readline()  # the part's header
                while chunk := handle.read(1 << 20):
                    out.write(chunk)


_CONVERT = {"integer": int, "double": float, "string": str}


def _check_sidecar(path: str) -> None:
    try:
        with open(sidecar_path(path), encoding="utf-8") as handle:
            declared = json.load(handle).get("dc:conformsTo")
    except FileNotFoundError:
        return
    except (OSError, ValueError, AttributeError):
        raise ResultsFileError(f"{sidecar_path(path)!r} is not CSVW metadata") from None
    if declared != CONFORMS_TO:
        raise ResultsFileError(
            f"{path!r} declares schema {declared!r}; this videopipe reads {CONFORMS_TO!r}"
        )


def read_rows(path: str) -> Iterator[Row]:
    """The rows of a results CSV, typed (an empty cell is ``None``)."""
    _check_sidecar(path)
    converters = [_CONVERT[kind] for _, kind in COLUMNS]
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:  # a file cut short or not text: a typed error, not the csv module's
            header = next(reader, None)
            if header is None or tuple(header) != NAMES:
                raise ResultsFileError(f"{path!r} is not a videopipe results CSV (its header)")
            for cells in reader:
                if len(cells) != len(NAMES):
                    raise ResultsFileError(
                        f"{path!r} line {reader.line_num}: not {len(NAMES)} cells"
                    )
                try:
                    yield tuple(
                        None if cell == "" else convert(cell)
                        for convert, cell in zip(converters, cells, strict=True)
                    )
                except ValueError:
                    raise ResultsFileError(
                        f"{path!r} line {reader.line_num}: a bad number"
                    ) from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ResultsFileError(
                f"{path!r} line {reader.line_num}: not a whole CSV row ({exc})"
            ) from None


def read_frames(path: str) -> Iterator[tuple[str, FrameResult]]:
    """Every ``(video, FrameResult)`` of a results CSV, exactly as written."""
    return frames_of(read_rows(path), path)


def resumable_frames(path: str) -> Iterator[tuple[str, FrameResult]]:
    """What a resumed CSV output continues: its complete parts, else the committed file."""
    return kept_frames(path, SUFFIX, read_frames)


__all__ = ["FORMAT", "CsvSink", "read_frames", "read_rows", "resumable_frames", "sidecar_path"]
