"""JSON lines: one object per processed frame, to stdout or a file (the default sink).

A line is written with one ``write`` of the whole encoded line, so a run stopped at
any moment (Ctrl-C, a crash, SIGKILL) leaves whole lines; a torn last line (only a
failing disk can leave one) is ignored when read and dropped when the file is resumed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from videopipe.adapters.signals import signals_deferred
from videopipe.adapters.sinks._rows import dumps
from videopipe.domain.errors import ResultsFileError, ResultsWriteError
from videopipe.domain.model import FrameResult

FORMAT = "jsonl"


def encode_line(video: str, item: FrameResult) -> bytes:
    """One result line: ``video``, ``frame_index``, ``timestamp``, ``result`` (+ ``error``)."""
    line: dict[str, Any] = {
        "video": video,
        "frame_index": item.frame_index,
        "timestamp": item.timestamp,
        "result": item.result,
    }
    if item.error is not None:
        line["error"] = item.error
    return (dumps(line) + "\n").encode("utf-8")


class JsonLinesSink:
    """Writes whole lines to a file descriptor (stdout, or the ``--output`` file)."""

    format = FORMAT

    def __init__(self, fd: int, name: str, *, owned: bool) -> None:
        self.fd = fd
        self.name = name
        self.owned = owned
        self.lines = 0

    @property
    def location(self) -> str:
        """The file's path, or ``<stdout>``."""
        return self.name

    @classmethod
    def to_stdout(cls) -> JsonLinesSink:
        """Lines to standard output."""
        return cls(1, "<stdout>", owned=False)

    @classmethod
    def to_file(cls, path: str, *, resume: bool = False) -> JsonLinesSink:
        """Lines to ``path``: replaced, or continued when ``resume`` (a torn tail dropped)."""
        if resume:
            _drop_torn_tail(path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if resume else os.O_TRUNC)
        try:
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write --output {path!r}: {exc.strerror or exc}"
            ) from exc
        return cls(fd, path, owned=True)

    def write(self, video: str, item: FrameResult) -> None:
        """Write the line of one frame."""
        self.write_line(encode_line(video, item))

    def write_line(self, data: bytes) -> None:
        """Write one whole line (Ctrl-C and SIGTERM wait until it is written)."""
        with signals_deferred():
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self.fd, view)
                    view = view[written:]
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise ResultsWriteError(
                    f"cannot write to {self.name!r}: {exc.strerror or exc}"
                ) from exc
        self.lines += 1

    def close(self) -> None:
        """Close the file (never stdout)."""
        if self.owned:
            os.close(self.fd)
            self.owned = False


def _drop_torn_tail(path: str) -> None:
    """Cut ``path`` after its last newline (a torn last line goes)."""
    try:
        with open(path, "rb+") as handle:
            end = handle.seek(0, os.SEEK_END)
            position = end
            while position > 0:
                step = min(position, 1 << 16)
                handle.seek(position - step)
                cut = handle.read(step).rfind(b"\n")
                if cut >= 0:
                    position = position - step + cut + 1
                    break
                position -= step
            if position < end:
                handle.truncate(position)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ResultsWriteError(f"cannot resume --output {path!r}: {exc.strerror or exc}") from exc


def decode_line(raw: bytes, where: str) -> tuple[str, FrameResult]:
    """The ``(video, FrameResult)`` of one line (``where`` names it in an error)."""
    try:
        line = json.loads(raw)
        video, index = line["video"], line["frame_index"]
        if not isinstance(video, str) or isinstance(index, bool) or not isinstance(index, int):
            raise TypeError
        timestamp, result, error = line.get("timestamp"), line.get("result"), line.get("error")
    except (ValueError, KeyError, TypeError):
        raise ResultsFileError(f"{where} is not a videopipe result line") from None
    return video, FrameResult(index, timestamp, result, error)


def read_frames(path: str) -> Iterator[tuple[str, FrameResult]]:
    """Every ``(video, FrameResult)`` of a JSON-lines file (a torn last line ignored)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return
            yield decode_line(raw, f"line {number}")


__all__ = ["FORMAT", "JsonLinesSink", "decode_line", "encode_line", "read_frames"]
