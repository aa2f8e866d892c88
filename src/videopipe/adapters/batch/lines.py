"""A video's results as JSON lines in a file (the lines ``videopipe run --output`` writes).

Each line is ``{"video", "frame_index", "timestamp", "result"}`` plus ``"error"`` for a
skipped frame, encoded exactly as ``videopipe run`` encodes it.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

from videopipe.domain.model import FrameResult


def _json_default(value: Any) -> Any:
    """Make numpy scalars and arrays (and anything else) JSON-serialisable."""
    for attribute in ("tolist", "item"):
        convert = getattr(value, attribute, None)
        if callable(convert):
            return convert()
    return str(value)


class JsonLinesFile:
    """A :class:`~videopipe.ports.sinks.ResultSink` writing JSON lines to a new file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[bytes] | None = open(path, "wb")  # noqa: SIM115 - closed by close()

    @property
    def location(self) -> str:
        """The file."""
        return self.path

    def write(self, video: str, item: FrameResult) -> None:
        """Append one frame's line."""
        if self._file is None:
            raise ValueError(f"results file {self.path!r} is closed")
        line: dict[str, Any] = {
            "video": video,
            "frame_index": item.frame_index,
            "timestamp": item.timestamp,
            "result": item.result,
        }
        if item.error is not None:
            line["error"] = item.error
        self._file.write((json.dumps(line, default=_json_default) + "\n").encode("utf-8"))

    def close(self) -> None:
        """Flush to the disk and close (idempotent)."""
        file, self._file = self._file, None
        if file is not None:
            try:
                file.flush()
                os.fsync(file.fileno())
            finally:
                file.close()


def open_json_lines(path: str) -> JsonLinesFile:
    """Open ``path`` for a video's JSON lines (replaced if it exists)."""
    return JsonLinesFile(path)
