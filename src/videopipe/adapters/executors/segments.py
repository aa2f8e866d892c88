"""The ``segments`` executor: a video's segments run in parallel on local worker processes.

Each worker rebuilds the work from :meth:`VideoWork.portable` (a pickled
:class:`~videopipe.application.work.WorkOrder`) and decodes its own
segment; results come back in frame order, each segment's as soon as it and every
segment before it are done (the first segment's as they are produced). Errors behave
as in a sequential run: under ``raise`` every result before the failing frame comes
first, then the exception (same type, with a note naming the segment). A worker that
dies is replaced and its segment run again, ``max_retries`` times, then
:class:`~videopipe.domain.errors.WorkerLostError` names the frame range.

Over 300 lines because the scheduler's window, dispatch and worker-loss handling share
its task state; the worker side lives in ``_pool`` and the plan in ``_segmenting``.
"""

from __future__ import annotations

import collections
import itertools
import multiprocessing
import os
import pickle
import threading
import weakref
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from videopipe.adapters.executors._pool import (
    WorkerProcess,
    check_start_method,
    stop_workers,
)
from videopipe.adapters.executors._segmenting import (
    Segment,
    execute_one,
    plan_work,
    results_of,
    unpack_error,
)
from videopipe.application.settings import check_int
from videopipe.domain.errors import ConfigurationError, WorkerLostError
from videopipe.domain.model import FrameResult
from videopipe.ports.work import VideoWork

_KEYS = itertools.count()
_PRELOAD = ["videopipe.adapters.executors._pool", "videopipe.application.service"]


@dataclass(eq=False)
class _Task:
    """One segment of one video, or an error met while planning that video."""

    work: VideoWork
    key: int
    segment: Segment | None
    state: bytes = b""
    error: BaseException | None = None
    done: bool = False
    running: bool = False
    lost: int = 0
    last_index: int = -1
    results: collections.deque[FrameResult] = field(default_factory=collections.deque)


def check_workers(workers: int | None) -> int:
    """``workers``, or the CPU count when ``None``; anything but a positive int is refused."""
    if workers is None:
        return os.cpu_count() or 1
    return check_int("workers", workers, 1, error=ConfigurationError)


class SegmentExecutor:
    """Runs each video's segments on ``workers`` local processes.

    ``segments_per_worker`` cuts a video into more segments than workers (balance, and
    early first results); a segment holds at least ``min_segment_frames`` selected
    frames. At most ``2 * workers`` segments are running or waiting to be yielded.
    The worker processes start on first use and are kept for the next video until
    :meth:`close` (or the end of the interpreter); a run closed early, or failing,
    stops the workers still busy on it. ``start_method``: ``forkserver`` (default where
    available) or ``spawn``. ``tune_malloc`` (default): workers keep freed buffers for
    reuse (glibc ``mallopt``; see :func:`~videopipe.adapters._malloc.tune_glibc_malloc`).
    """

    name = "segments"

    def __init__(
        self,
        workers: int | None = None,
        *,
        segments_per_worker: int = 3,
        min_segment_frames: int = 16,
        max_retries: int = 2,
        start_method: str | None = None,
        tune_malloc: bool = True,
    ) -> None:
        self.workers = check_workers(workers)
        self.segments_per_worker = check_int(
            "segments_per_worker", segments_per_worker, 1, error=ConfigurationError
        )
        self.min_segment_frames = check_int(
            "min_segment_frames", min_segment_frames, 1, error=ConfigurationError
        )
        self.max_retries = check_int("max_retries", max_retries, 0, error=ConfigurationError)
        self.start_method = check_start_method(start_method)
        self.tune_malloc = tune_malloc
        self._idle: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, stop_workers, self._idle, graceful=True)

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, computed on the worker processes."""
        return execute_one(self, work)

    def execute_many(
        self, works: Iterable[VideoWork]
    ) -> Generator[tuple[VideoWork, FrameResult], None, None]:
        """Run many videos on the same workers; ``(work, result)`` by video, then frame.

        A failure stops the run as in a sequential loop over the videos: every result
        before it (in that order) is yielded first.
        """
        owned = self._lock.acquire(blocking=False)  # else: a concurrent run, its own workers
        idle = self._idle if owned else []
        try:
            yield from _Scheduler(self, idle).run(works)
        finally:
            if not owned:
                stop_workers(idle, graceful=True)
            else:
                self._lock.release()

    def plan(self, work: VideoWork) -> list[Segment]:
        """The segments ``work`` is cut into (opens the file to read its frame count)."""
        return plan_work(work, self.workers * self.segments_per_worker, self.min_segment_frames)

    def context(self) -> multiprocessing.context.BaseContext:
        """The multiprocessing context workers are started with."""
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            context.set_forkserver_preload(_PRELOAD)
        return context

    def new_worker(self) -> WorkerProcess:
        """Start one worker process."""
        return WorkerProcess(self.context(), tune_malloc=self.tune_malloc)

    def close(self) -> None:
        """Stop the idle worker processes (a new run starts new ones)."""
        with self._lock:
            stop_workers(self._idle, graceful=True)
            self._idle.clear()

    def __enter__(self) -> SegmentExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Scheduler:
    """One run: keeps the workers busy on segments, yields results in order."""

    def __init__(self, executor: SegmentExecutor, idle: list[WorkerProcess]) -> None:
        self.executor = executor
        self.idle = idle
        self.busy: list[WorkerProcess] = []
        self.window: collections.deque[_Task] = collections.deque()
        self.window_size = 2 * executor.workers

    def run(self, works: Iterable[VideoWork]) -> Iterator[tuple[VideoWork, FrameResult]]:
        tasks = self._tasks(works)
        finished = False
        try:
            while True:
                self._fill(tasks)
                while self.window:
                    head = self.window[0]
                    while head.results:
                        yield head.work, head.results.popleft()
                    if not head.done:
                        break
                    self.window.popleft()
                    if head.error is not None:
                        raise head.error
                if not self.window:
                    self._fill(tasks)
                    if not self.window:
                        finished = True
                        return
                    continue
                self._dispatch()
                self._receive()
        finally:
            tasks.close()
            if not finished:
                stop_workers(self.busy, graceful=False)
                self.busy.clear()

    def _tasks(self, works: Iterable[VideoWork]) -> Generator[_Task, None, None]:
        for work in works:
            key = next(_KEYS)
            try:
                state = pickle.dumps(work.portable())
                segments = self.executor.plan(work)
            except Exception as exc:
                yield _Task(work, key, None, error=exc, done=True)
                return
            for segment in segments:
                yield _Task(work, key, segment, state)

    def _fill(self, tasks: Generator[_Task, None, None]) -> None:
        while len(self.window) < self.window_size:
            if any(task.error is not None for task in self.window):
                return  # nothing after a failure will be yielded
            task = next(tasks, None)
            if task is None:
                return
            self.window.append(task)

    def _dispatch(self) -> None:
        for task in self.window:
            if task.error is not None:
                return
            if task.done or task.running:
                continue
            if not self.idle and len(self.busy) >= self.executor.workers:
                return
            worker = self.idle.pop() if self.idle else self.executor.new_worker()
            self.busy.append(worker)
            worker.task = task
            task.running = True
            try:
                if worker.recipe_key != task.key:
                    worker.send(("recipe", task.key, task.state))
                    worker.recipe_key = task.key
                worker.send(("run", id(task), task.key, task.segment))
            except OSError:
                pass  # it died: _receive sees its sentinel and retries the segment

    def _receive(self) -> None:
        by_conn = {worker.conn: worker for worker in self.busy}
        by_sentinel = {worker.sentinel: worker for worker in self.busy}
        ready = wait([*by_conn, *by_sentinel], timeout=1.0)
        for item in ready:
            worker = None if isinstance(item, int) else by_conn.get(item)  # type: ignore[call-overload]
            if worker is not None:
                self._read(worker)
        for item in ready:
            worker = by_sentinel.get(item) if isinstance(item, int) else None
            if worker is not None and worker in self.busy:
                self._read(worker)  # what it sent before it ended still counts
                self._lost(worker)

    def _read(self, worker: WorkerProcess) -> None:
        """Take every message waiting from ``worker``; a closed pipe means it died."""
        while worker in self.busy:
            try:
                if not worker.conn.poll():
                    return
                message = worker.conn.recv()
            except (EOFError, OSError):
                self._lost(worker)
                return
            task: _Task = worker.task
            if message[0] == "results":
                for result in results_of(message[2]):
                    if result.frame_index > task.last_index:  # a retry repeats what came
                        task.results.append(result)
                        task.last_index = result.frame_index
                continue
            if message[0] == "failed":
                task.error = unpack_error(message[2])
            task.done, task.running = True, False
            worker.task = None
            self.busy.remove(worker)
            self.idle.append(worker)

    def _lost(self, worker: WorkerProcess) -> None:
        """``worker`` ended: run its segment again on a new one, or give up on it."""
        if worker not in self.busy:
            return
        self.busy.remove(worker)
        task: _Task | None = worker.task
        worker.task = None
        worker.process.join(1.0)
        description = worker.exit_description()
        stop_workers([worker], graceful=False)
        if task is None or task.done:
            return
        task.running = False
        task.lost += 1
        if task.lost > self.executor.max_retries:
            assert task.segment is not None
            task.error = WorkerLostError(
                task.work.path,
                task.segment.start,
                task.segment.stop,
                task.lost,
                description,
            )
            task.done = True
