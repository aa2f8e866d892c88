"""Runners and probes the cluster tests send to the workers (importable there: PYTHONPATH)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from pathlib import Path
from typing import Any

from videopipe.testing.media import read_frame_index


class IndexRunner:
    """Reads the index drawn into each frame: the right pixels reached the runner."""

    def history_frames(self, pipeline_id: str) -> int:
        return 0

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"drawn": read_frame_index(payload["image"]), "frame_index": payload["frame_index"]}


class MarkingRunner(IndexRunner):
    """Also leaves a file per process and video in ``marks`` (who ran what; not in results)."""

    def __init__(self, marks: str) -> None:
        self.marks = marks

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        name = Path(payload["video_path"]).name if "video_path" in payload else "video"
        (Path(self.marks) / f"{os.getpid()}-{name}").touch()
        return super().run_pipeline(pipeline_id, payload)


class SlowRunner(IndexRunner):
    """Takes ``seconds`` per frame."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        time.sleep(self.seconds)
        return super().run_pipeline(pipeline_id, payload)


class KillOnceRunner(IndexRunner):
    """SIGKILLs its worker process the first time it meets frame ``kill_at``."""

    def __init__(self, marks: str, kill_at: int) -> None:
        self.marks = marks
        self.kill_at = kill_at

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        marker = Path(self.marks) / f"killed-{payload['frame_index']}"
        if payload["frame_index"] == self.kill_at and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super().run_pipeline(pipeline_id, payload)


class KillOnVideoRunner(SlowRunner):
    """SIGKILLs its worker process whenever it meets a frame of the video named ``doomed``."""

    def __init__(self, doomed: str, seconds: float = 0.0) -> None:
        super().__init__(seconds)
        self.doomed = doomed

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if Path(payload.get("video_path", "")).name == self.doomed:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().run_pipeline(pipeline_id, payload)


def _blas_threads() -> int | None:
    """Threads of the OpenBLAS numpy loaded (None: none found)."""
    import numpy  # noqa: F401, PLC0415 - loads OpenBLAS

    from videopipe.adapters.executors._dask_worker import _loaded_libraries  # noqa: PLC0415

    for path in _loaded_libraries("openblas"):
        with contextlib.suppress(OSError):
            library = ctypes.CDLL(path)
            for name in (
                "openblas_get_num_threads",
                "scipy_openblas_get_num_threads64_",
                "openblas_get_num_threads64_",
            ):
                getter = getattr(library, name, None)
                if getter is not None:
                    return int(getter())
    return None


def worker_state() -> dict[str, Any]:
    """What the tests check in a worker process after a task ran there."""
    from videopipe.adapters.executors import _dask_worker  # noqa: PLC0415

    names = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", *_dask_worker.THREAD_VARIABLES)
    return {
        "environ": {name: os.environ[name] for name in names if name in os.environ},
        "malloc_tuned": _dask_worker._STATE.get("malloc_tuned", False),
        "setup": [repr(done) for done in _dask_worker._DONE],
        "blas_threads": _blas_threads(),
        "pid": os.getpid(),
    }
