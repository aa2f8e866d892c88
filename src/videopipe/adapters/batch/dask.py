"""``--executor dask`` for a batch: one task per video on the executor's Dask cluster.

Each task runs a whole :class:`~videopipe.application.batch.VideoJob` on a worker (the
workers see the video files and the output directory at the same paths: a shared
filesystem), set up as the executor's segment tasks set theirs (``_dask_task``).

- A video is :class:`~videopipe.ports.batch.VideoStarted` when a worker starts it
  (the task says so through the scheduler's event log), so the manifest's ``running``
  videos are the ones the workers run; :class:`~videopipe.ports.batch.VideoProgress`
  follows from the worker as the frames go, and the worker's word that the video
  ended comes before its next video's start (one worker's messages keep their order).
- Before anything is submitted to a cluster given by address, its workers are checked
  on the first video the client itself can open (the executor's ``preflight``): a
  worker that cannot run the batch is a
  :class:`~videopipe.domain.errors.WorkerPreflightError` before any video runs.
- Every wait is bounded: when no worker has been connected for the executor's
  ``connect_timeout``, :class:`~videopipe.domain.errors.ClusterUnavailableError` says
  how many videos were not run; the videos finished before are reported (and so
  recorded in the manifest), and the same command again runs the rest.
- A task whose worker dies on every attempt (``KilledWorker``) fails its video with
  :class:`~videopipe.domain.errors.WorkerLostError`, never the batch.
- Closing the event stream early cancels every task not finished; a running one ends
  its video at its next frame.
"""

from __future__ import annotations

import contextlib
import pickle
import queue
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from videopipe.adapters.batch._dask_task import ENDED, PROGRESS, run_video_task
from videopipe.adapters.batch.processes import failed_report
from videopipe.adapters.executors._dask_preflight import preflight
from videopipe.application.work import WorkOrder
from videopipe.domain.errors import ClusterUnavailableError, WorkerLostError
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import BatchEvent, VideoFinished, VideoProgress, VideoStarted, VideoTask

_PREFLIGHT_TIMEOUT = 60.0
"""Seconds every worker gets to answer the pre-flight checks (at least connect_timeout)."""
_WAIT_POLL = 1.0
"""Seconds between the checks, while no video reports, that a worker is left."""
_FINISHED = "finished"


class DaskVideoPool:
    """A :class:`~videopipe.ports.batch.VideoPool` on a ``DaskExecutor``'s cluster."""

    name = "dask"

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def run(self, tasks: Sequence[VideoTask]) -> Iterator[BatchEvent]:
        """Check the workers, submit every video; events as the workers report them."""
        return self._events(list(tasks))

    def _events(self, tasks: list[VideoTask]) -> Iterator[BatchEvent]:
        if not tasks:
            return
        executor = self.executor
        client = executor.client()
        self._preflight(client, tasks)
        topic = f"videopipe-batch-{uuid.uuid4().hex}"
        inbox: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        client.subscribe_topic(topic, lambda event: inbox.put(event[1]))
        futures: list[Any] = []
        try:
            count = len(tasks)
            futures = client.map(  # one graph: the scheduler queues what no worker is free for
                run_video_task,
                tasks,
                [topic] * count,
                range(count),
                [executor.setup] * count,
                pure=False,
            )
            for index, future in enumerate(futures):
                future.add_done_callback(
                    lambda _future, index=index: inbox.put({"index": index, "kind": _FINISHED})
                )
            yield from self._follow(tasks, futures, inbox)
        finally:
            pending = [future for future in futures if not future.done()]
            with contextlib.suppress(Exception):
                if pending:
                    client.cancel(pending)
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)

    def _preflight(self, client: Any, tasks: list[VideoTask]) -> None:
        """The executor's pre-flight, on the first video the client can open (if any)."""
        executor = self.executor
        if not (executor.preflight and executor.scheduler_address):  # not our LocalCluster
            return
        for task in tasks:
            order = getattr(task, "order", None)
            if not isinstance(order, WorkOrder):
                return  # not a VideoJob: nothing to rebuild on the workers
            work = order()
            try:
                try:
                    with work.open() as reader:
                        _ = reader.info
                except Exception:
                    continue  # a broken video fails alone when it runs, never the batch
                preflight(
                    client,
                    executor.scheduler_address,
                    work,
                    pickle.dumps(work.portable()),
                    setup=executor.setup,
                    timeout=max(executor.connect_timeout, _PREFLIGHT_TIMEOUT),
                )
                return
            finally:
                work.close()

    def _follow(
        self,
        tasks: list[VideoTask],
        futures: list[Any],
        inbox: queue.SimpleQueue[dict[str, Any]],
    ) -> Iterator[BatchEvent]:
        """Events from the workers' messages: one start and one end per video, in order."""
        started: set[int] = set()
        finished: set[int] = set()
        alone_since: float | None = None
        while len(finished) < len(tasks):
            try:
                message = inbox.get(timeout=_WAIT_POLL)
            except queue.Empty:
                alone_since = self._alone(alone_since, len(tasks) - len(finished), len(tasks))
                continue
            index = message.get("index")
            if not isinstance(index, int) or not 0 <= index < len(tasks) or index in finished:
                continue  # not ours, or late news of a video already reported
            path = tasks[index].path
            if index not in started:  # a task that ended before its own news arrived
                started.add(index)
                yield VideoStarted(path)
            kind = message.get("kind")
            if kind == PROGRESS:
                yield VideoProgress(path, int(message.get("frames", 0)))
            elif kind in (ENDED, _FINISHED):  # the worker's word, or the task's end
                left = len(tasks) - len(finished)
                report = self._report(futures[index], path, left, len(tasks))
                finished.add(index)
                yield VideoFinished(path, report)

    def _alone(self, since: float | None, left: int, total: int) -> float | None:
        """When the workers were last all gone (``None``: some are connected); raise after long."""
        executor = self.executor
        if executor.live_workers() > 0:
            return None
        now = time.monotonic()
        since = now if since is None else since
        if now - since < executor.connect_timeout:
            return since
        raise ClusterUnavailableError(
            executor.scheduler_address,
            "a worker to come back (every worker left during the batch)",
            executor.connect_timeout,
            f"{left} of {total} videos were not run or not finished; the "
            f"{total - left} finished are recorded, the same command again runs the rest",
        )

    def _report(self, future: Any, path: str, left: int, total: int) -> VideoReport:
        """The report of a task that ended (waiting, bounded, for it to come back).

        A lost worker (``KilledWorker``) or a broken task fails the video.
        """
        alone_since: float | None = None
        while True:
            try:
                report: VideoReport = future.result(timeout=_WAIT_POLL)
            except Exception as exc:
                if isinstance(exc, TimeoutError) and not future.done():
                    alone_since = self._alone(alone_since, left, total)
                    continue
                if type(exc).__name__ == "KilledWorker":
                    attempts = self.executor.max_retries + 1
                    exc = WorkerLostError(path, 0, None, attempts, str(exc))
                return failed_report(path, exc)
            return report
