"""The unit of work an executor runs: :class:`WorkOrder` (what) and :class:`ServiceWork` (how).

A :class:`WorkOrder` is a small frozen, picklable description of one video's work: the
run's settings, the pipeline, the file and the frames. A worker process calls it to get
the :class:`ServiceWork` that decodes and processes those frames, exactly as the
service's own would.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass

from videopipe.application.calls import TimedCalls
from videopipe.application.frames import (
    declared_frame_size,
    declared_history,
    process_frame,
    runner_thread_safe,
    warm_frame,
)
from videopipe.application.settings import RunSettings
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import Frame, FrameResult, FrameSelection
from videopipe.ports.frames import VideoReader
from videopipe.ports.work import VideoWork


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """What to run: settings, pipeline, file, frames. Calling it builds the work."""

    settings: RunSettings
    pipeline_id: str
    path: str
    selection: FrameSelection

    def __call__(self) -> VideoWork:
        """The :class:`ServiceWork` this order describes (the caller closes it)."""
        return ServiceWork(self)


class ServiceWork:
    """:class:`~videopipe.ports.work.VideoWork` that runs a :class:`WorkOrder`."""

    def __init__(self, order: WorkOrder) -> None:
        self.order = order
        # One timer per calling thread: TimedCalls serves one caller at a time, and a
        # runner that keeps per-thread state must see a thread's frames on one thread.
        self._timers: dict[int, TimedCalls] = {}
        self._timers_lock = threading.Lock()

    @property
    def pipeline_id(self) -> str:
        """The pipeline run on every selected frame."""
        return self.order.pipeline_id

    @property
    def path(self) -> str:
        """The local video file."""
        return self.order.path

    @property
    def selection(self) -> FrameSelection:
        """The frames to process."""
        return self.order.selection

    def open(self) -> VideoReader:
        """Open the file with the run's decoder (the caller closes it).

        When the runner declares a frame size for the pipeline, the decoder scales
        every frame down to it; otherwise the file is opened exactly as before.
        """
        settings = self.order.settings
        size = declared_frame_size(settings.runner, self.order.pipeline_id)
        if size is None:
            return settings.frame_source.open(self.order.path)
        return settings.frame_source.open(self.order.path, size=size)

    def _timer(self) -> TimedCalls | None:
        timeout = self.order.settings.runner_timeout
        if timeout is None:
            return None
        key = threading.get_ident()
        with self._timers_lock:
            timed = self._timers.get(key)
            if timed is None:
                timed = self._timers[key] = TimedCalls(timeout)
            return timed

    def process(self, frame: Frame) -> FrameResult:
        """One frame's result under the run's retries, timeout and error policy."""
        order = self.order
        return process_frame(order.settings, order.pipeline_id, order.path, frame, self._timer())

    def warm(self, frame: Frame) -> None:
        """Show the runner a frame before the first one processed (its result is dropped)."""
        order = self.order
        warm_frame(order.settings, order.pipeline_id, order.path, frame, self._timer())

    def history_frames(self) -> int:
        """The runner's declared history for the pipeline (``0`` when it declares none)."""
        declared = declared_history(self.order.settings.runner, self.order.pipeline_id)
        return 0 if declared is None else declared

    def runner_thread_safe(self) -> bool:
        """Whether the runner declares ``thread_safe = True``."""
        return runner_thread_safe(self.order.settings.runner)

    def with_selection(self, selection: FrameSelection) -> VideoWork:
        """The same work on other frames, sharing this work's runner."""
        order = self.order
        return ServiceWork(WorkOrder(order.settings, order.pipeline_id, order.path, selection))

    def portable(self) -> WorkOrder:
        """The work's :class:`WorkOrder`, once it is known to survive pickling."""
        try:
            pickle.dumps(self.order)
        except Exception as exc:
            settings = self.order.settings
            raise ConfigurationError(
                f"this executor runs frames in other processes, but the service cannot be "
                f"sent there ({type(exc).__name__}: {exc}); runner "
                f"{type(settings.runner).__name__}, decoder {type(settings.frame_source).__name__}"
            ) from exc
        return self.order

    def close(self) -> None:
        """Stop the runner-call timer threads, if any; idempotent."""
        with self._timers_lock:
            timers = list(self._timers.values())
            self._timers.clear()
        for timed in timers:
            timed.close()
