"""The batch port: where whole videos run when a batch processes many files at once.

A :class:`VideoPool` takes :class:`VideoTask` objects (one video each: decode, run,
write its output, build its report) and runs them somewhere: one after another in this
process, on local worker processes, or on a cluster. It streams :data:`BatchEvent`
values as the videos start, progress and finish, in the order they happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from videopipe.domain.report import VideoReport


@runtime_checkable
class VideoTask(Protocol):
    """One video's whole run; picklable when the pool runs it in another process.

    Calling it runs the video and returns its report; it never raises for a failure of
    the video (the report carries the error). ``progress(frames)`` is called with the
    number of frames processed so far, as often as the task likes.
    """

    @property
    def path(self) -> str:
        """The video file."""
        ...

    def __call__(self, progress: Callable[[int], None]) -> VideoReport:
        """Run the video; its report (``error`` set when it failed)."""
        ...


@dataclass(frozen=True, slots=True)
class VideoStarted:
    """A worker took the video."""

    path: str


@dataclass(frozen=True, slots=True)
class VideoProgress:
    """``frames`` frames of the video are processed so far."""

    path: str
    frames: int


@dataclass(frozen=True, slots=True)
class VideoFinished:
    """The video ended, done or failed (``report.error``)."""

    path: str
    report: VideoReport


BatchEvent = VideoStarted | VideoProgress | VideoFinished
"""What a pool reports while it runs a batch."""


@runtime_checkable
class VideoPool(Protocol):
    """Runs many :class:`VideoTask` objects, several at once where it can.

    ``run`` yields one :class:`VideoStarted` and one :class:`VideoFinished` per task
    (and any :class:`VideoProgress` between them). A worker lost mid-video finishes
    that video with an error report, never the batch. Closing the iterator early stops
    every worker it started.
    """

    name: str

    def run(self, tasks: Sequence[VideoTask]) -> Iterator[BatchEvent]:
        """Run ``tasks``; events as they happen."""
        ...
