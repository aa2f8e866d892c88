"""What a Dask worker runs for a batch: one whole video, telling the client as it goes.

:func:`run_video_task` sets the worker process up as the ``dask`` executor's segment
tasks do (:func:`~videopipe.adapters.executors._dask_worker.prepare_worker`), then
runs the :class:`~videopipe.ports.batch.VideoTask`. It tells the client through the
scheduler's event log (``Worker.log_event`` on the batch's own topic, which the
client follows with ``Client.subscribe_topic``): :data:`STARTED` when the worker
starts the video, then :data:`PROGRESS` with the frames done, at most every
:data:`~videopipe.adapters.batch.processes.PROGRESS_EVERY` seconds, then :data:`ENDED`. A task whose
future was cancelled (the client stopped reading) ends its video at the next frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from videopipe.adapters.batch.processes import throttled
from videopipe.adapters.executors._dask_worker import WorkerSetup, cancel_probe, prepare_worker
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoTask

STARTED = "started"
"""The message a task sends when its worker starts the video."""
PROGRESS = "progress"
"""The message a task sends with the frames of its video done so far."""
ENDED = "ended"
"""The message a task sends when its video ended, before its report goes back.

A worker's messages reach the client in order, so the client hears this before the
worker's next video starts (the report itself comes back with the task's result)."""


class VideoCancelledError(Exception):
    """The video's task was cancelled: the batch's caller stopped (never reported)."""


def _sender(topic: str, index: int) -> Callable[[str, int], None]:
    """``send(kind, frames)`` to the client following ``topic`` (a no-op outside a worker)."""
    try:
        from distributed import get_worker  # noqa: PLC0415 - inside a Dask task: installed

        worker: Any = get_worker()
    except Exception:
        worker = None

    def send(kind: str, frames: int) -> None:
        if worker is not None:
            worker.log_event(topic, {"index": index, "kind": kind, "frames": frames})

    return send


def run_video_task(task: VideoTask, topic: str, index: int, setup: WorkerSetup) -> VideoReport:
    """The Dask task: video ``index`` of the batch following ``topic``, to its report."""
    prepare_worker(setup)
    send = _sender(topic, index)
    send(STARTED, 0)
    cancelled = cancel_probe()
    report_progress = throttled(lambda frames: send(PROGRESS, frames))

    def progress(frames: int) -> None:
        if cancelled is not None and cancelled():
            raise VideoCancelledError(task.path)
        report_progress(frames)

    try:
        return task(progress)
    finally:
        send(ENDED, 0)
