"""What runs inside a Dask worker: its process set up as videopipe's own, the task, the check.

:func:`run_segment_task` is the task (one segment), :func:`check_work` the pre-flight
check of one video.

A worker started by ``dask worker`` (or a deployment that runs it) gets its nanny's
``distributed.nanny.pre-spawn-environ``: ``MALLOC_TRIM_THRESHOLD_=65536``,
``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``. Those are
Dask's defaults, not the user's: :func:`prepare_worker` sets the process up as a
``segments`` worker is (glibc's thresholds, the libraries' own thread counts) unless
videopipe's configuration says otherwise (:class:`WorkerSetup`), once per process,
before the first task or check. See docs/scale-out.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from videopipe.adapters._malloc import set_glibc_thresholds
from videopipe.adapters.executors._segmenting import (
    Segment,
    load_recipe,
    pack_error,
    run_segment,
)
from videopipe.adapters.quiet import quiet_if_asked
from videopipe.domain.errors import MissingDependencyError, VideoReadError
from videopipe.domain.model import FrameResult

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Thread-count variables a nanny exports (OpenMP, MKL, OpenBLAS read them at load)."""
MALLOC_VARIABLES = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")
_BLAS_SETTERS = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
)
_EXTRAS = {
    "cv2": "opencv",
    "zxingcpp": "qr",
    "onnxruntime": "onnx",
    "rapidocr": "ocr",
    "segno": "testing",
    "distributed": "dask",
}
"""Modules of videopipe's optional extras, by top-level name."""
_CANCEL_POLL = 0.5
"""Seconds between a running segment's checks that its task was cancelled."""
_LOCK = threading.Lock()
_DONE: list[WorkerSetup] = []
_STATE: dict[str, bool] = {}
"""What the set-up did in this process (``malloc_tuned``), for tests and diagnostics."""


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """How a Dask worker's process is set up for videopipe's tasks.

    ``enabled=False`` leaves the worker as its nanny started it. ``tune_malloc``: fix
    glibc's thresholds as the ``segments`` workers do, whatever the nanny exported
    (``False``: the nanny's ``MALLOC_*`` stay in force). ``threads``: OpenMP, MKL,
    OpenBLAS and OpenCV threads per worker process (``None``: the libraries' own
    choice, as in a ``segments`` worker, not the nanny's 1).
    """

    enabled: bool = True
    tune_malloc: bool = True
    threads: int | None = None


def nanny_variables() -> dict[str, str]:
    """The environment variables in force here that this worker's nanny exported.

    Those whose value is the one Dask's configuration (``distributed.nanny.environ``
    and ``pre-spawn-environ``, as the nanny passed it to this process) gives them.
    """
    try:
        import dask  # noqa: PLC0415 - in a Dask worker: installed

        exported: dict[str, object] = {}
        for key in ("distributed.nanny.pre-spawn-environ", "distributed.nanny.environ"):
            exported.update(dask.config.get(key, default={}) or {})
    except Exception:
        return {}
    return {
        name: str(value)
        for name, value in exported.items()
        if value is not None and os.environ.get(name) == str(value)
    }


def _loaded_libraries(fragment: str) -> list[str]:
    """Paths of the shared libraries mapped into this process whose name has ``fragment``."""
    found: dict[str, None] = {}
    with contextlib.suppress(OSError), open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            path = line.rsplit(" ", 1)[-1].strip()
            if path.startswith("/") and fragment in os.path.basename(path).lower():
                found[path] = None
    return list(found)


def set_blas_threads(threads: int) -> int:
    """Set the threads of every OpenBLAS loaded here (numpy's); return how many were set."""
    count = 0
    for path in _loaded_libraries("openblas"):
        with contextlib.suppress(OSError):
            library = ctypes.CDLL(path)
            for name in _BLAS_SETTERS:
                setter = getattr(library, name, None)
                if setter is not None:
                    setter.argtypes = [ctypes.c_int]
                    setter(threads)
                    count += 1
                    break
    return count


def _set_opencv_threads(threads: int) -> None:
    if "cv2" not in sys.modules and importlib.util.find_spec("cv2") is None:
        return
    with contextlib.suppress(Exception):
        cv2 = importlib.import_module("cv2")
        cv2.setNumThreads(threads)


def in_dask_worker() -> bool:
    """Whether this process is a Dask worker's (not the client's)."""
    module = sys.modules.get("distributed.worker")
    return bool(module is not None and getattr(module.Worker, "_instances", None))


def prepare_worker(setup: WorkerSetup) -> None:
    """Set this worker process up as ``setup`` says, once per process (and per setup).

    Does nothing outside a Dask worker's process. Libraries are quieted as the client's
    are (:func:`~videopipe.adapters.quiet.quiet_if_asked`) whatever ``setup`` says.
    """
    if in_dask_worker():
        quiet_if_asked()
    if not setup.enabled or (_DONE and _DONE[0] == setup) or not in_dask_worker():
        return
    with _LOCK:
        if _DONE and _DONE[0] == setup:
            return
        exported = nanny_variables()
        if setup.tune_malloc:
            for name in MALLOC_VARIABLES:
                if name in exported:  # also gone for the decoder's own processes (ffmpeg)
                    del os.environ[name]
            _STATE["malloc_tuned"] = set_glibc_thresholds()
        if setup.threads is not None:
            for name in THREAD_VARIABLES:
                os.environ[name] = str(setup.threads)
            set_blas_threads(setup.threads)
            _set_opencv_threads(setup.threads)
        elif any(name in exported for name in THREAD_VARIABLES):
            for name in THREAD_VARIABLES:
                if name in exported:
                    del os.environ[name]
            set_blas_threads(len(os.sched_getaffinity(0)))
        _DONE[:] = [setup]


def check_work(recipe_state: bytes, setup: WorkerSetup) -> list[tuple[str, str]]:
    """Whether this worker can run the work ``recipe_state`` rebuilds: ``(problem, fix)``s.

    Rebuilds the work, opens its video with its decoder and loads its pipeline (the
    extras its plugins need), as the first segment would.
    """
    prepare_worker(setup)
    try:
        work = load_recipe(recipe_state)()
    except Exception as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, MissingDependencyError):
            return [(str(cause), f'pip install "videopipe[{cause.extra}]" on the worker')]
        missing = (getattr(cause, "name", None) or "").partition(".")[0]
        if isinstance(cause, ImportError) and missing in _EXTRAS:
            extra = _EXTRAS[missing]
            return [
                (
                    f"the module {missing!r} of videopipe's {extra!r} extra is not installed "
                    "there (the service cannot be rebuilt without it)",
                    f'pip install "videopipe[{extra}]" on the worker',
                )
            ]
        return [
            (
                f"cannot rebuild the service ({type(cause).__name__}: {cause})",
                "install the runner's and the decoder's packages on the worker, "
                "in the versions the client has",
            )
        ]
    problems: list[tuple[str, str]] = []
    try:
        try:
            with work.open() as reader:
                _ = reader.info
        except MissingDependencyError as exc:
            problems.append((str(exc), f'pip install "videopipe[{exc.extra}]" on the worker'))
        except (OSError, VideoReadError) as exc:
            problems.append(
                (
                    f"cannot open {work.path!r} there ({exc})",
                    "make the file readable at the same path on every worker (a shared "
                    "filesystem), with the decoder's libraries installed there",
                )
            )
        with contextlib.suppress(Exception):
            try:
                work.history_frames()  # loads the pipeline: its plugins' extras
            except MissingDependencyError as exc:
                problems.append((str(exc), f'pip install "videopipe[{exc.extra}]" on the worker'))
    finally:
        work.close()
    return problems


def cancel_probe() -> Callable[[], bool] | None:
    """A cheap check, inside a Dask task, that the task was cancelled (None: unknown)."""
    try:
        import distributed.worker  # noqa: PLC0415 - inside a Dask task: installed

        worker = distributed.worker.get_worker()
        key = distributed.worker.thread_state.key  # type: ignore[attr-defined]
    except Exception:
        return None
    last = [time.monotonic()]

    def cancelled() -> bool:
        now = time.monotonic()
        if now - last[0] < _CANCEL_POLL:
            return False
        last[0] = now
        try:
            task = worker.state.tasks.get(key)
        except Exception:
            return False
        return task is None or task.state in ("cancelled", "released", "forgotten")

    return cancelled


def run_segment_task(
    state: bytes, segment: Segment, setup: WorkerSetup | None = None
) -> tuple[list[FrameResult], bytes | None]:
    """The Dask task: one segment's results, and its failure (packed) if it failed.

    The worker process is first set up as ``setup`` says (once per process). Failures
    are returned, not raised, so that Dask retries only lost workers, never a runner's
    or decoder's own error (which would fail again, and must come after the results
    before it).
    """
    results: list[FrameResult] = []
    try:
        prepare_worker(setup or WorkerSetup())
        run_segment(load_recipe(state), segment, results.extend, cancelled=cancel_probe())
    except Exception as exc:
        return results, pack_error(exc, segment)
    return results, None
