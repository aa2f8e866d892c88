"""The executor port: how one video's selected frames are scheduled through the runner.

The service turns each ``run_on_file`` / ``iter_results`` call into a
:class:`~videopipe.ports.work.VideoWork` (what to decode, how to process one frame) and
hands it to an :class:`Executor`, which decides *where* and *when* frames are decoded and
processed: in turn on the calling thread, with decoding overlapped, on several threads,
or on other processes or machines. Whatever the executor, the results are those of a
sequential run, in frame order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from videopipe.domain.model import FrameResult
from videopipe.ports.work import VideoWork


@runtime_checkable
class Executor(Protocol):
    """Schedules one video's work and streams its results.

    ``execute`` yields one :class:`FrameResult` per selected frame, in frame order,
    identical to a sequential run's; a failure is raised after every result before it
    has been yielded. Closing the returned iterator early stops all work promptly and
    releases every decoder, thread and process it started.
    """

    name: str

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Run ``work`` and yield its results in frame order."""
        ...


@runtime_checkable
class ManyVideoExecutor(Executor, Protocol):
    """An executor that also runs many videos at once on the same workers (a capability).

    ``execute_many`` yields ``(work, result)`` by video, then by frame; a failure stops
    the run as it would stop a loop over the videos (every result before it comes first).
    """

    def execute_many(self, works: Iterable[VideoWork]) -> Iterator[tuple[VideoWork, FrameResult]]:
        """Run every work of ``works``, their segments sharing the executor's workers."""
        ...
