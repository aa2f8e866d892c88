"""The ``dask`` executor: a video's segments as tasks on a Dask distributed cluster.

The same segment plan as the ``segments`` executor (see ``_segmenting``): each task
rebuilds the work from :meth:`VideoWork.portable` (a pickled
:class:`~videopipe.application.work.WorkOrder`) and decodes its own segment, so
the workers must see the video files at the same paths (a shared filesystem). By
default the executor starts a ``LocalCluster`` of ``workers`` single-threaded worker
processes on first use and keeps it for later videos until :meth:`DaskExecutor.close`;
with ``scheduler_address`` it connects to an existing cluster instead.

Every wait is bounded by ``connect_timeout``: reaching the scheduler, a first worker,
and a worker while every worker has left mid-run
(:class:`~videopipe.domain.errors.ClusterUnavailableError`). Before a video's first
segment, every worker is checked (``preflight``, see ``_dask_preflight``), and each
task first sets its worker process up as videopipe's own workers are, whatever the
nanny exported (``_dask_worker``).

A worker that dies while running a segment is replaced by its nanny and the scheduler
runs the segment again elsewhere, up to ``max_retries`` times (the scheduler setting
``distributed.scheduler.allowed-failures``, set for the clusters this executor starts;
a remote scheduler keeps its own), then :class:`~videopipe.domain.errors.WorkerLostError`
names the frame range. Needs ``pip install "videopipe[dask]"``.

Over 300 lines: the client side in one place (connection, the bounded waits, the
window of tasks); what runs in the workers, the pre-flight and its probe are in
``_dask_worker``, ``_dask_preflight`` and ``_dask_probe``.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import time
import weakref
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from videopipe.adapters.executors._dask_preflight import check_listening, preflight
from videopipe.adapters.executors._dask_worker import WorkerSetup, run_segment_task
from videopipe.adapters.executors._segmenting import (
    Segment,
    execute_one,
    plan_work,
    results_of,
    unpack_error,
)
from videopipe.adapters.executors.segments import check_workers
from videopipe.application.settings import check_int
from videopipe.domain.errors import (
    ClusterUnavailableError,
    ConfigurationError,
    MissingDependencyError,
    WorkerLostError,
)
from videopipe.domain.model import FrameResult
from videopipe.ports.work import VideoWork

_PREFLIGHT_TIMEOUT = 60.0
"""Seconds every worker gets to answer the pre-flight checks (at least connect_timeout)."""
_WAIT_POLL = 1.0
"""Seconds between the checks, while waiting for a segment, that a worker is left."""


def _import_distributed() -> Any:
    try:
        import distributed  # noqa: PLC0415 - optional extra, imported only when chosen
    except ImportError as exc:
        raise MissingDependencyError("The dask executor", "dask") from exc
    return distributed


class DaskExecutor:
    """Runs each video's segments as tasks on a Dask distributed cluster.

    ``workers``: worker processes of the ``LocalCluster`` started when no
    ``scheduler_address`` is given (default: the CPU count). A video is cut into
    ``segments_per_worker`` segments per worker (per worker thread of a cluster given
    by address). ``connect_timeout``: seconds to reach the scheduler, to wait for a
    first worker, and to wait for one to come back when all left mid-run.
    ``preflight``: check every worker of a cluster given by address before a video's
    first segment. ``worker_setup``,
    ``tune_malloc``, ``threads``: how each worker process is set up for the tasks
    (:class:`~videopipe.adapters.executors._dask_worker.WorkerSetup`).
    ``trim_memory=True`` keeps Dask's ``MALLOC_TRIM_THRESHOLD_`` (no ``tune_malloc``);
    ``trim_memory=False`` (default) starts the local workers without Dask's
    ``MALLOC_TRIM_THRESHOLD_`` (see docs/scale-out.md for the measurement).
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        scheduler_address: str | None = None,
        *,
        segments_per_worker: int = 3,
        min_segment_frames: int = 16,
        max_retries: int = 2,
        trim_memory: bool = False,
        connect_timeout: float = 10.0,
        preflight: bool = True,
        worker_setup: bool = True,
        tune_malloc: bool = True,
        threads: int | None = None,
    ) -> None:
        self._distributed = _import_distributed()
        self.workers = check_workers(workers)
        self.scheduler_address = scheduler_address or None
        self.segments_per_worker = check_int(
            "segments_per_worker", segments_per_worker, 1, error=ConfigurationError
        )
        self.min_segment_frames = check_int(
            "min_segment_frames", min_segment_frames, 1, error=ConfigurationError
        )
        self.max_retries = check_int("max_retries", max_retries, 0, error=ConfigurationError)
        if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, int | float):
            raise ConfigurationError(f"connect_timeout must be seconds, got {connect_timeout!r}")
        if not connect_timeout > 0:
            raise ConfigurationError(f"connect_timeout must be > 0, got {connect_timeout!r}")
        self.connect_timeout = float(connect_timeout)
        self.trim_memory = trim_memory
        self.preflight = preflight
        self.setup = WorkerSetup(
            enabled=worker_setup,
            tune_malloc=tune_malloc and not trim_memory,  # trim_memory: keep Dask's
            threads=None if threads is None else check_workers(threads),
        )
        self._client: Any = None
        self._cluster: Any = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def client(self) -> Any:
        """The ``distributed.Client``, connected with a worker (or started with its cluster).

        Raises :class:`~videopipe.domain.errors.ClusterUnavailableError` when the
        scheduler cannot be reached, or no worker connects, within ``connect_timeout``.
        """
        if self._client is not None:
            return self._client
        import dask  # noqa: PLC0415 - installed with distributed

        distributed = self._distributed
        settings: dict[str, Any] = {"distributed.scheduler.allowed-failures": self.max_retries}
        if not self.trim_memory:
            settings["distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"] = None
        with dask.config.set(settings):
            if self.scheduler_address:
                client = self._connect()
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    scheduler_kwargs={"dashboard_address": ":0"},  # any free port, not 8787
                    silence_logs=logging.ERROR,
                )
                client = distributed.Client(self._cluster)
        self._client = client
        self._finalizer = weakref.finalize(self, _shutdown, client, self._cluster)
        if self.scheduler_address:
            try:
                client.wait_for_workers(1, timeout=self.connect_timeout)
            except TimeoutError as exc:
                self.close()
                raise ClusterUnavailableError(
                    self.scheduler_address,
                    "a worker to connect to the scheduler (none is connected)",
                    self.connect_timeout,
                    f"start workers with 'dask worker {self.scheduler_address}'",
                ) from exc
        return client

    def _connect(self) -> Any:
        address = self.scheduler_address
        check_listening(address, self.connect_timeout)
        try:
            return self._distributed.Client(
                address, timeout=self.connect_timeout, set_as_default=False
            )
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnavailableError(
                address,
                "the scheduler to answer",
                self.connect_timeout,
                f"{type(exc).__name__}: {exc}",
            ) from exc

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, computed on the cluster."""
        return execute_one(self, work)

    def execute_many(
        self, works: Iterable[VideoWork]
    ) -> Generator[tuple[VideoWork, FrameResult], None, None]:
        """Run many videos on the cluster; ``(work, result)`` by video, then frame."""
        client = self.client()
        slots = self.slots()
        window: deque[tuple[VideoWork, Segment | None, Any]] = deque()
        tasks = self._tasks(works)
        try:
            while True:
                while len(window) < 2 * slots:
                    task = next(tasks, None)
                    if task is None:
                        break
                    work, segment, item = task
                    if segment is not None:
                        item = client.submit(
                            run_segment_task, item, segment, self.setup, pure=False
                        )
                    window.append((work, segment, item))
                    if segment is None:
                        break  # a planning error: nothing after it is submitted
                if not window:
                    return
                work, segment, item = window[0]
                if segment is None:
                    window.popleft()
                    raise item
                results, error = self._outcome(item, segment)  # Ctrl-C here: cancelled below
                window.popleft()
                for result in results:
                    yield work, result
                if error is not None:
                    raise error
        finally:
            tasks.close()
            pending = [item for _, segment, item in window if segment is not None]
            if pending:
                with contextlib.suppress(Exception):
                    client.cancel(pending)

    def _tasks(
        self, works: Iterable[VideoWork]
    ) -> Generator[tuple[VideoWork, Segment | None, Any], None, None]:
        for work in works:
            try:
                state = pickle.dumps(work.portable())
                segments = self.plan(work)
                if self.preflight and self.scheduler_address:  # not our own LocalCluster
                    preflight(
                        self.client(),
                        self.scheduler_address,
                        work,
                        state,
                        setup=self.setup,
                        timeout=max(self.connect_timeout, _PREFLIGHT_TIMEOUT),
                    )
            except Exception as exc:
                yield work, None, exc
                return
            for segment in segments:
                yield work, segment, state

    def _outcome(
        self, future: Any, segment: Segment
    ) -> tuple[list[FrameResult], BaseException | None]:
        try:
            results, error = self._result(future, segment)
        except Exception as exc:
            if type(exc).__name__ != "KilledWorker":
                raise
            lost = WorkerLostError(
                segment.path, segment.start, segment.stop, self.max_retries + 1, str(exc)
            )
            raise lost from exc
        return results_of(results), None if error is None else unpack_error(error)

    def _result(self, future: Any, segment: Segment) -> Any:
        """``future``'s result; waits for a worker ``connect_timeout`` when none is left."""
        alone_since: float | None = None
        while True:
            try:
                return future.result(timeout=_WAIT_POLL)  # the task never raises its own
            except TimeoutError:
                if self.live_workers() > 0:
                    alone_since = None
                    continue
                now = time.monotonic()
                alone_since = now if alone_since is None else alone_since
                if now - alone_since < self.connect_timeout:
                    continue
                raise ClusterUnavailableError(
                    self.scheduler_address,
                    "a worker to come back (every worker left during the run)",
                    self.connect_timeout,
                    f"{segment.describe()} was not run; the results before it were given",
                ) from None

    def live_workers(self) -> int:
        """Workers connected to the scheduler now (0 when the scheduler cannot tell)."""
        client = self._client
        if client is None or client.status not in ("running", "newly-created"):
            return 0
        try:
            return len(client.nthreads(callback_timeout=self.connect_timeout))
        except Exception:
            return 0

    def slots(self) -> int:
        """Segments the cluster runs at once: its worker threads (``workers`` if unknown)."""
        if self.scheduler_address is None or self._client is None:
            return self.workers
        try:
            info = self._client.scheduler_info()
            threads = sum(int(w.get("nthreads", 1)) for w in info["workers"].values())
        except Exception:
            return self.workers
        return threads or self.workers

    def plan(self, work: VideoWork) -> list[Segment]:
        """The segments ``work`` is cut into (opens the file to read its frame count)."""
        return plan_work(work, self.slots() * self.segments_per_worker, self.min_segment_frames)

    def close(self) -> None:
        """Close the client, and the local cluster if this executor started it."""
        if self._finalizer is not None:
            self._finalizer()
        self._client = self._cluster = self._finalizer = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _shutdown(client: Any, cluster: Any) -> None:
    for resource in (client, cluster):
        if resource is not None:
            with contextlib.suppress(Exception):
                resource.close()
