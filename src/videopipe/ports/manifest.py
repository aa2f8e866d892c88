"""The job-manifest port: what a batch knows about each video across runs.

A manifest keeps one :class:`VideoEntry` per input video (its size and modification
time when it was run, the options it was run with, its status, output and error), so
that running the same batch again skips what is done, retries what failed and redoes
what changed. One process writes it (the batch's parent); readers may look at any time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

VideoStatus = Literal["pending", "running", "done", "failed"]
"""Where a video stands in the batch."""

VIDEO_STATUSES: tuple[VideoStatus, ...] = ("pending", "running", "done", "failed")


@dataclass(frozen=True, slots=True)
class VideoEntry:
    """One video's row: the file as it was, the run's outcome.

    ``started`` / ``ended`` are Unix times (seconds); ``error`` is
    ``{"type", "message"}`` of a failed video; ``attempts`` counts the runs started;
    ``report`` is the last run's :meth:`~videopipe.domain.report.VideoReport.to_dict`
    (its summaries, skipped frames, the video's info).
    """

    path: str
    size: int
    mtime: float
    options_hash: str
    status: VideoStatus = "pending"
    frames: int = 0
    error: Mapping[str, Any] | None = None
    output: str | None = None
    started: float | None = None
    ended: float | None = None
    attempts: int = 0
    report: Mapping[str, Any] | None = None


@runtime_checkable
class JobManifest(Protocol):
    """Stores :class:`VideoEntry` rows by path, and the options the batch was made with."""

    @property
    def location(self) -> str:
        """Where the manifest is (a path), for messages."""
        ...

    def options_hash(self) -> str | None:
        """The options the manifest was made with (``None``: a new manifest)."""
        ...

    def set_options_hash(self, value: str) -> None:
        """Record the options this batch runs with."""
        ...

    def entries(self) -> Sequence[VideoEntry]:
        """Every row, by path."""
        ...

    def get(self, path: str) -> VideoEntry | None:
        """The row of ``path``, if any."""
        ...

    def put(self, entry: VideoEntry) -> None:
        """Insert or replace the row of ``entry.path`` (committed at once)."""
        ...

    def close(self) -> None:
        """Release the store (idempotent)."""
        ...
