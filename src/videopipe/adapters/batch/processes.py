"""``--jobs N``: whole videos on N local worker processes, several videos at once.

Each worker takes one :class:`~videopipe.ports.batch.VideoTask` at a time (pickled:
a :class:`~videopipe.application.batch.VideoJob` holds a picklable
:class:`~videopipe.application.work.WorkOrder`), runs it to its report and asks for the
next; the parent hands out the next video as soon as a worker is free. Workers start
with ``forkserver`` (or ``spawn``), never ``fork``: the parent may run threads. A worker
that dies mid-video fails that video (:class:`~videopipe.domain.errors.WorkerLostError`
in its report) and is replaced; the batch goes on.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from videopipe.adapters._malloc import tune_glibc_malloc
from videopipe.adapters.executors._pool import (
    check_start_method,
    raise_exit,
    stop_workers,
    watch_parent,
)
from videopipe.adapters.quiet import quiet_if_asked
from videopipe.application.batch import error_of
from videopipe.application.settings import check_int
from videopipe.domain.errors import ConfigurationError, WorkerLostError
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import BatchEvent, VideoFinished, VideoProgress, VideoStarted, VideoTask

_PRELOAD = ["videopipe.adapters.batch.processes", "videopipe.application.service"]
PROGRESS_EVERY = 0.2
"""Seconds between two progress messages of a worker."""


def throttled(send: Callable[[int], None], every: float = PROGRESS_EVERY) -> Callable[[int], None]:
    """A task's ``progress(frames)`` that calls ``send(frames)`` at most once per ``every`` s."""
    sent = [time.monotonic()]

    def progress(frames: int) -> None:
        now = time.monotonic()
        if now - sent[0] >= every:
            sent[0] = now
            send(frames)

    return progress


def _worker_main(conn: Connection) -> None:
    """A worker's loop: ``("run", index, task)`` in, progress and the report out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, raise_exit)  # unwind: the decoder and the results file close
    parent = os.getppid()
    watch_parent(parent)  # a parent killed mid-video: stop, do not finish it unseen
    tune_glibc_malloc()
    quiet_if_asked()  # the libraries' logs, as in the process that started this one
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop" or os.getppid() != parent:
            return
        _, index, task = message
        progress = throttled(functools.partial(_send_progress, conn, index))
        try:
            report = task(progress)
            conn.send(("done", index, report))
        except Exception as exc:  # the task's own promise broken, or an unpicklable report
            conn.send(("done", index, failed_report(task.path, exc)))


def _send_progress(conn: Connection, index: int, frames: int) -> None:
    conn.send(("progress", index, frames))


def failed_report(path: str, exc: BaseException) -> VideoReport:
    """The report of a video whose task could not report (a lost worker, a broken task)."""
    return VideoReport(
        video=path, pipeline_id="", info=None, frames_processed=0, error=error_of(exc)
    )


class _Worker:
    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.process: Any = context.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child_end,), name="videopipe-batch-worker", daemon=True
        )
        self.process.start()
        child_end.close()
        self.task: tuple[int, VideoTask] | None = None
        self.frames = 0

    def send(self, message: tuple[Any, ...]) -> None:
        """Send a message (raises ``OSError`` if the worker is gone)."""
        self.conn.send(message)


class ProcessVideoPool:
    """A :class:`~videopipe.ports.batch.VideoPool` of ``jobs`` local worker processes.

    Workers start with the batch and stop at its end (or when the event stream is
    closed early: the busy ones are terminated). ``start_method``: ``forkserver``
    (default where available) or ``spawn``.
    """

    name = "processes"

    def __init__(self, jobs: int, *, start_method: str | None = None) -> None:
        self.jobs = check_int("jobs", jobs, 1, error=ConfigurationError)
        self.start_method = check_start_method(start_method)

    def run(self, tasks: Sequence[VideoTask]) -> Iterator[BatchEvent]:
        """Run ``tasks`` on the workers; events as they happen (checked at once)."""
        tasks = list(tasks)
        if tasks:
            try:
                pickle.dumps(tasks[0])
            except Exception as exc:
                raise ConfigurationError(
                    f"--jobs runs videos in other processes, but the job cannot be sent "
                    f"there ({type(exc).__name__}: {exc})"
                ) from exc
        return self._events(tasks)

    def _context(self) -> multiprocessing.context.BaseContext:
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            context.set_forkserver_preload(_PRELOAD)
        return context

    def _events(self, tasks: list[VideoTask]) -> Iterator[BatchEvent]:
        waiting = collections.deque(enumerate(tasks))
        context = self._context()
        workers = [_Worker(context) for _ in range(min(self.jobs, len(tasks)))]
        try:
            while True:
                for worker in workers:
                    if worker.task is None and waiting:
                        worker.task = waiting.popleft()
                        worker.frames = 0
                        worker.conn.send(("run", *worker.task))
                        yield VideoStarted(worker.task[1].path)
                busy = [worker for worker in workers if worker.task is not None]
                if not busy:
                    return
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
                for position, worker in enumerate(workers):
                    if worker.conn in ready or worker.process.sentinel in ready:
                        event = self._receive(worker)
                        if event is None:  # the worker died: fail its video, start another
                            event = self._lost(worker)
                            workers[position] = _Worker(context)
                        yield event
        finally:
            stop_workers(workers, graceful=True)  # idle ones told, busy ones terminated

    @staticmethod
    def _receive(worker: _Worker) -> BatchEvent | None:
        try:
            if not worker.conn.poll() and not worker.process.is_alive():
                return None
            message = worker.conn.recv()
        except (EOFError, OSError):
            return None
        assert worker.task is not None
        path = worker.task[1].path
        if message[0] == "progress":
            worker.frames = int(message[2])
            return VideoProgress(path, worker.frames)
        worker.task = None
        return VideoFinished(path, message[2])

    @staticmethod
    def _lost(worker: _Worker) -> VideoFinished:
        assert worker.task is not None
        path = worker.task[1].path
        worker.process.join(1.0)
        code = worker.process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        error = WorkerLostError(path, 0, None, 1, how)
        # The frames it had processed (its last progress), as a failed video's report says.
        report = VideoReport(
            video=path,
            pipeline_id="",
            info=None,
            frames_processed=worker.frames,
            error=error_of(error),
        )
        worker.task = None
        with contextlib.suppress(OSError):
            worker.conn.close()
        return VideoFinished(path, report)
