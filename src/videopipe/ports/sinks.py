"""The sink port: where a run's per-frame results go (JSON lines, CSV, Parquet, ...)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from videopipe.domain.model import FrameResult


@runtime_checkable
class ResultSink(Protocol):
    """Takes results as they are produced, video after video, frame after frame.

    ``close`` commits: afterwards the output is complete and readable. A run stopped
    before ``close`` (a crash, SIGKILL) leaves an output that is readable (what was
    written before) or none, never a corrupt one.
    """

    @property
    def location(self) -> str:
        """Where the results go (a path, or ``<stdout>``), for messages."""
        ...

    def write(self, video: str, item: FrameResult) -> None:
        """Take the result of one processed frame of ``video``."""
        ...

    def close(self) -> None:
        """Finish the output (idempotent)."""
        ...
