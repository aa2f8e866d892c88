"""The unit-of-work port: one video's work, as the application hands it to an executor.

The service turns each ``run_on_file`` / ``iter_results`` call into a :class:`VideoWork`
(what to decode, how to process one frame); an executor
(:class:`~videopipe.ports.executor.Executor`) decides where and when its frames run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from videopipe.domain.model import Frame, FrameResult, FrameSelection
from videopipe.ports.frames import VideoReader

UNBOUNDED_HISTORY: Final[int] = sys.maxsize
""":meth:`VideoWork.history_frames` of a runner whose results may depend on every
earlier frame (a recurrent plugin): only a run from the video's first selected frame
is exact. An executor either runs such work in one piece or warms from the start."""


@runtime_checkable
class VideoWork(Protocol):
    """One video's work: a pipeline, a file, the frames selected in it.

    Built by the service; executors call its methods and never touch the runner, the
    decoder or the error policy directly. :meth:`process` and :meth:`warm` may be called
    from several threads when :meth:`runner_thread_safe` is true; the calls made on one
    thread reach that thread's runner state (and its own runner-call timer).
    """

    @property
    def pipeline_id(self) -> str:
        """The pipeline run on every selected frame."""
        ...

    @property
    def path(self) -> str:
        """The local video file."""
        ...

    @property
    def selection(self) -> FrameSelection:
        """The frames to process (indices in the stream's presentation order)."""
        ...

    def open(self) -> VideoReader:
        """Open the file with the service's decoder (the caller closes it)."""
        ...

    def process(self, frame: Frame) -> FrameResult:
        """Run the runner on one frame under the service's retries, timeout and policy.

        Under ``on_error="raise"`` a failing frame raises (the runner's exception, with
        a note naming the frame); under ``"skip"`` it returns a result with ``error``.
        """
        ...

    def warm(self, frame: Frame) -> None:
        """Show the runner a frame before the first one an executor processes.

        Stateful runners (see :meth:`history_frames`) need the frames just before a
        segment to give that segment's first frames the results a sequential run gives.
        The result, and any exception, is discarded.
        """
        ...

    def history_frames(self) -> int:
        """How many earlier *selected* frames a frame's result may depend on.

        ``0``: every frame's result depends on that frame alone (any split is exact).
        ``n``: a run that starts at a selected frame ``f`` is exact from ``f`` on if the
        runner was first shown (:meth:`warm`) the ``n`` selected frames before ``f``
        (fewer at the start of the video: all those before ``f``).
        :data:`UNBOUNDED_HISTORY`: no split is exact.
        """
        ...

    def runner_thread_safe(self) -> bool:
        """Whether the runner may be called from several threads at once.

        A thread-safe runner that keeps state (:meth:`history_frames` > 0) keeps it per
        calling thread: frames shown to it on one thread are the history of the next
        frames processed on that thread only.
        """
        ...

    def with_selection(self, selection: FrameSelection) -> VideoWork:
        """The same work on other frames (a segment), sharing this work's runner."""
        ...

    def portable(self) -> Callable[[], VideoWork]:
        """A picklable recipe that rebuilds this work in another process.

        Raises :class:`~videopipe.domain.errors.ConfigurationError` when the runner or
        the decoder cannot be sent to another process.
        """
        ...

    def close(self) -> None:
        """Release what the work holds (a runner-call timer thread); idempotent.

        The service closes the works it builds; an executor closes the works it rebuilt
        from :meth:`portable` or made with :meth:`with_selection`.
        """
        ...
