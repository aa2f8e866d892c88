"""The default executor: picks, for each video, the fastest executor that is exact."""

from __future__ import annotations

from collections.abc import Iterator

from videopipe.adapters.executors.prefetch import DEFAULT_DEPTH, PrefetchExecutor
from videopipe.adapters.executors.threads import (
    DEFAULT_CHUNK_FRAMES,
    ThreadsExecutor,
    declared_history,
)
from videopipe.domain.model import FrameResult
from videopipe.ports.executor import Executor
from videopipe.ports.work import UNBOUNDED_HISTORY, VideoWork


class AutoExecutor:
    """Chooses per video between ``threads`` and ``prefetch`` (see :meth:`choose`).

    ``workers`` (``None``: ``os.cpu_count()``), ``chunk_frames`` and ``depth`` are
    passed on to the executor chosen.
    """

    name = "auto"

    def __init__(
        self,
        workers: int | None = None,
        *,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        depth: int = DEFAULT_DEPTH,
    ) -> None:
        self.threads = ThreadsExecutor(workers, chunk_frames=chunk_frames, depth=depth)
        self.workers = self.threads.workers
        self.prefetch = PrefetchExecutor(depth)

    def choose(self, work: VideoWork) -> Executor:
        """``threads`` when it can run the runner concurrently, else ``prefetch``.

        ``threads`` needs more than one worker, a runner that declares
        ``thread_safe = True`` and a pipeline whose history is bounded. Decoding ahead
        never costs exactness and overlaps the decoder with the runner, so every
        other case gets ``prefetch``.
        """
        if (
            self.workers > 1
            and work.runner_thread_safe()
            and declared_history(work) < UNBOUNDED_HISTORY
        ):
            return self.threads
        return self.prefetch

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Run ``work`` with the executor :meth:`choose` picks for it."""
        return self.choose(work).execute(work)

    def __repr__(self) -> str:
        return f"AutoExecutor(workers={self.workers})"
