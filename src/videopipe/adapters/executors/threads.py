"""Ordered concurrent runner calls: several threads analyse frames, results come in order.

For runners whose work releases the GIL (OpenCV, onnxruntime, most of numpy), ``workers``
threads call the runner at once while a background thread decodes (see
:class:`~videopipe.adapters.executors.prefetch.FramePump`). The calling thread hands out
work and yields the results strictly in frame order.

Work is handed out in *chunks* of consecutive selected frames; a worker runs a chunk's
frames in order. A stateless runner (``history_frames() == 0``) gets one-frame chunks.
A stateful one (history ``n``) gets chunks of ``chunk_frames`` frames (at least ``4n``),
each preceded by the ``n`` selected frames before it, shown with ``work.warm`` to the
worker's own runner state (a thread-safe runner keeps state per calling thread): every
result is then the one a sequential run gives. The in-flight work is bounded: at most
``workers + 1`` chunks (``2 * workers`` one-frame chunks) wait or run at once, so memory
stays flat, and a slow runner holds the decoder back.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
from collections.abc import Iterator
from typing import Final

from videopipe.adapters.executors.prefetch import (
    DEFAULT_DEPTH,
    FramePump,
    PrefetchExecutor,
)
from videopipe.application.settings import check_int
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import Frame, FrameResult
from videopipe.ports.work import UNBOUNDED_HISTORY, VideoWork

log = logging.getLogger(__name__)

DEFAULT_CHUNK_FRAMES: Final = 8
"""Frames per chunk of a stateful runner's work, by default (at least 4x its history)."""

_LIVENESS_SECONDS: Final = 1.0


class _Chunk:
    """Consecutive frames for one worker, the frames that warm its state, its results."""

    __slots__ = ("frames", "results", "warm")

    def __init__(self, warm: list[Frame]) -> None:
        self.warm = collections.deque(warm)
        self.frames: collections.deque[Frame] = collections.deque()
        self.results: queue.SimpleQueue[object] = queue.SimpleQueue()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE: Final = object()


class _Workers:
    """``count`` threads running chunks of ``work`` until closed."""

    def __init__(self, work: VideoWork, count: int) -> None:
        self._work = work
        self._tasks: queue.SimpleQueue[_Chunk | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name=f"videopipe-worker-{number}", daemon=True)
            for number in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, chunk: _Chunk) -> None:
        self._tasks.put(chunk)

    def _serve(self) -> None:
        work = self._work
        while (chunk := self._tasks.get()) is not None:
            # Frames are taken out of the chunk as they are run: each is freed as soon as
            # its result exists, not when the caller is done with the whole chunk.
            try:
                while chunk.warm and not self._stop.is_set():
                    work.warm(chunk.warm.popleft())
                while chunk.frames and not self._stop.is_set():
                    chunk.results.put(work.process(chunk.frames.popleft()))
            except BaseException as exc:  # handed to the caller in frame order
                chunk.results.put(_Failure(exc))
            finally:
                chunk.warm.clear()
                chunk.frames.clear()
                chunk.results.put(_DONE)
            del chunk

    def result(self, chunk: _Chunk) -> object:
        """The chunk's next result, ``_Failure`` or ``_DONE`` (waits for it)."""
        while True:
            try:
                return chunk.results.get(timeout=_LIVENESS_SECONDS)
            except queue.Empty:
                if not any(thread.is_alive() for thread in self._threads):
                    raise RuntimeError("every worker thread ended without a result") from None

    def close(self) -> None:
        """Stop after the calls in progress, and wait for every thread."""
        self._stop.set()
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join()


def declared_history(work: VideoWork) -> int:
    """``work.history_frames()``, or 0 when the runner fails to say (an unknown pipeline).

    The runner then fails on every frame the same way, which the error policy handles
    frame by frame exactly as in a sequential run; failing here instead would differ.
    A runner that answers with something other than a count is a
    :class:`~videopipe.domain.errors.ConfigurationError`, raised.
    """
    try:
        return work.history_frames()
    except ConfigurationError:
        raise
    except Exception:
        return 0


class ThreadsExecutor:
    """Calls the runner from ``workers`` threads at once; yields results in frame order.

    ``workers``: threads calling the runner (``None``: ``os.cpu_count()``).
    ``chunk_frames``: consecutive frames a worker takes at once when the runner keeps
    state (at least four times its history, so warming costs at most a quarter more
    calls). ``depth``: decoded frames buffered ahead of the hand-out.

    With more than one worker the runner must declare ``thread_safe = True``; otherwise
    :meth:`execute` refuses with :class:`~videopipe.domain.errors.ConfigurationError`
    before opening the file (use ``prefetch``, or ``auto``, which only picks ``threads``
    for thread-safe runners). A pipeline whose results may depend on every earlier frame
    (``history_frames() == UNBOUNDED_HISTORY``) cannot be split: it runs as a prefetch
    run, the runner on the calling thread (with a warning in the log). So does any work
    with ``workers=1``.
    """

    name = "threads"

    def __init__(
        self,
        workers: int | None = None,
        *,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        depth: int = DEFAULT_DEPTH,
    ) -> None:
        self.workers = check_int(
            "workers", workers if workers is not None else os.cpu_count() or 1, 1
        )
        self.chunk_frames = check_int("chunk_frames", chunk_frames, 1)
        self.depth = check_int("prefetch depth", depth, 1)

    def plan(self, work: VideoWork) -> tuple[int, int, int]:
        """``(workers, frames per chunk, warm-up frames per chunk)`` for ``work``.

        One worker means no concurrency: the run is then a prefetch run (decoding
        ahead, the runner on the calling thread).
        """
        workers = self.workers
        if workers > 1 and not work.runner_thread_safe():
            raise ConfigurationError(
                f"executor 'threads' with {workers} workers calls the runner from several "
                f"threads at once, but the runner does not declare thread_safe = True; use "
                f"executor 'prefetch' (or 'auto'), or workers: 1"
            )
        history = declared_history(work)
        if workers == 1:
            return 1, 1, 0
        if history >= UNBOUNDED_HISTORY:
            log.warning(
                "pipeline %r: a result may depend on every earlier frame (a recurrent "
                "plugin); executor 'threads' runs it on one thread, decoding ahead",
                work.pipeline_id,
            )
            return 1, 1, 0
        if history == 0:
            return workers, 1, 0
        return workers, max(self.chunk_frames, 4 * history), history

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, computed by several threads."""
        workers, chunk_frames, history = self.plan(work)
        if workers == 1:
            yield from PrefetchExecutor(self.depth).execute(work)
            return
        window = 2 * workers if chunk_frames == 1 else workers + 1
        with (
            work.open() as reader,
            FramePump(reader, work.selection, self.depth) as pump,
        ):
            pool = _Workers(work, workers)
            try:
                yield from self._schedule(pump, pool, chunk_frames, history, window)
            finally:
                pool.close()

    @staticmethod
    def _schedule(
        pump: FramePump, pool: _Workers, chunk_frames: int, history: int, window: int
    ) -> Iterator[FrameResult]:
        recent: collections.deque[Frame] = collections.deque(maxlen=history)
        pending: collections.deque[_Chunk] = collections.deque()
        decoder_error: BaseException | None = None
        exhausted = False
        while True:
            # Hand out chunks until the window is full or the decoder has nothing more.
            while not exhausted and len(pending) < window:
                chunk = _Chunk(list(recent) if history else [])
                try:
                    while len(chunk.frames) < chunk_frames:
                        frame = pump.get()
                        if frame is None:
                            exhausted = True
                            break
                        chunk.frames.append(frame)
                        if history:
                            recent.append(frame)
                except Exception as exc:  # the decoder's error, raised after earlier results
                    decoder_error, exhausted = exc, True
                if chunk.frames:
                    pending.append(chunk)
                    pool.submit(chunk)
            if not pending:
                break
            head = pending[0]
            while (item := pool.result(head)) is not _DONE:
                if isinstance(item, _Failure):
                    raise item.error
                assert isinstance(item, FrameResult)
                yield item
            pending.popleft()
        if decoder_error is not None:
            raise decoder_error

    def __repr__(self) -> str:
        return (
            f"ThreadsExecutor(workers={self.workers}, chunk_frames={self.chunk_frames}, "
            f"depth={self.depth})"
        )
