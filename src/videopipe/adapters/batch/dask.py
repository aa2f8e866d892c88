"""``--executor dask`` for a batch: one task per video on the executor's Dask cluster.

Each task runs a whole :class:`~videopipe.application.batch.VideoJob` on a worker (the
workers see the video files and the output directory at the same paths: a shared
filesystem). Videos are reported as they finish; a task that fails or whose worker
is lost fails its video, never the batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from videopipe.adapters.batch.processes import failed_report
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import BatchEvent, VideoFinished, VideoStarted, VideoTask


def _run_video(task: VideoTask) -> VideoReport:
    """What a worker runs: the video, without progress messages."""
    return task(lambda _frames: None)


class DaskVideoPool:
    """A :class:`~videopipe.ports.batch.VideoPool` on a ``DaskExecutor``'s cluster."""

    name = "dask"

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def run(self, tasks: Sequence[VideoTask]) -> Iterator[BatchEvent]:
        """Submit every video; events as they finish."""
        return self._events(list(tasks))

    def _events(self, tasks: list[VideoTask]) -> Iterator[BatchEvent]:
        from distributed import as_completed  # noqa: PLC0415 - optional extra

        client = self.executor.client()
        futures = {}
        for task in tasks:
            future = client.submit(_run_video, task, pure=False)
            futures[future] = task
            yield VideoStarted(task.path)
        try:
            for future in as_completed(list(futures)):  # type: ignore[no-untyped-call]
                task = futures[future]
                try:
                    report = future.result()
                except Exception as exc:
                    report = failed_report(task.path, exc)
                yield VideoFinished(task.path, report)
        finally:
            for future in futures:
                future.cancel()
