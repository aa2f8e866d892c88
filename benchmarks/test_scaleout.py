"""Scale-out: segments on 2 local processes and on a 2-worker Dask cluster vs sequential.

Rows of the group ``320x240 scale-out, <decoder>``, each with its ratio to the sequential run of
the same service on the same 1000-frame video measured in this session (the
reference). The runner is CPU-bound numpy on one core per call (no BLAS, no OpenCV
threads, so the sequential run really uses one core): each frame is converted to
float64 and put through a few element-wise operations ``NUMPY_ROUNDS`` times, about
1.8 MB allocated and freed per operation — also what makes Dask's
``MALLOC_TRIM_THRESHOLD_`` visible, measured as one more row (``trim_memory=True``).

The cases run in turn, round after round (``VIDEOPIPE_BENCH_ROUNDS``), so that drift
on a shared machine hits them alike; each row is the mean of its rounds, and the
per-round times are printed (``-s``). Worker start-up (processes, cluster) is not
timed: each executor is started and run once on a short video before the rounds.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import RESULTS, Measurement
from videopipe.adapters.decoders import DEFAULT_DECODER, available_decoders, create_frame_source
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.adapters.executors.segments import SegmentExecutor
from videopipe.domain.service import SequentialExecutor, VideoFilePipelineService
from videopipe.testing.media import make_video

WORKERS = 2
NUMPY_ROUNDS = int(os.environ.get("VIDEOPIPE_BENCH_NUMPY_ROUNDS", "3"))
DECODER = os.environ.get("VIDEOPIPE_BENCH_SCALEOUT_DECODER") or (
    "pyav" if "pyav" in available_decoders() else DEFAULT_DECODER
)
"""``pyav`` (it seeks to a segment's keyframe; the other decoders decode every segment
from the start of the file) unless ``VIDEOPIPE_BENCH_SCALEOUT_DECODER`` names another."""
GROUP = f"320x240 scale-out, {DECODER}"


class NumpyRunner:
    """CPU-bound, allocation-heavy numpy work on the frame (single-threaded)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        image = payload["image"]
        total = 0.0
        for _ in range(self.rounds):
            values = image.astype(np.float64)
            total += float(np.sqrt(values * 1.5 + 2.0).mean())
        return {"frame_index": payload["frame_index"], "value": round(total, 6)}


@pytest.fixture(scope="module")
def warm_up_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("warm") / "warm.mp4", frames=24, width=64, height=48)


@pytest.fixture(scope="module")
def expected(video_320x240: Any) -> list[dict[str, Any]]:
    """The sequential results every scale-out run must give."""
    service = VideoFilePipelineService(
        NumpyRunner(NUMPY_ROUNDS), frame_source=create_frame_source(DECODER)
    )
    return service.run_on_file("numpy", video_320x240.path)


def executors() -> dict[str, Any]:
    """Case name -> a new executor; the first case is the reference."""
    return {
        "sequential (reference)": SequentialExecutor,
        f"segments, {WORKERS} local processes": lambda: SegmentExecutor(WORKERS),
        f"dask LocalCluster, {WORKERS} workers": lambda: DaskExecutor(WORKERS),
        f"dask LocalCluster, {WORKERS} workers, MALLOC_TRIM_THRESHOLD_ kept": lambda: DaskExecutor(
            WORKERS, trim_memory=True
        ),
    }


def test_scaleout(
    bench_rounds: int,
    video_320x240: Any,
    warm_up_video: Path,
    expected: list[dict[str, Any]],
) -> None:
    """Every case in turn, round after round (drift on a shared machine hits all alike)."""
    services = {}
    for case, make in executors().items():
        service = VideoFilePipelineService(
            NumpyRunner(NUMPY_ROUNDS), frame_source=create_frame_source(DECODER), executor=make()
        )
        service.run_on_file("numpy", warm_up_video)  # start the workers, untimed
        services[case] = service
    times: dict[str, list[float]] = {case: [] for case in services}
    try:
        for _ in range(bench_rounds):
            for case, service in services.items():
                started = time.perf_counter()
                output = service.run_on_file("numpy", video_320x240.path)
                times[case].append(time.perf_counter() - started)
                assert output == expected
    finally:
        for service in services.values():
            close = getattr(service.executor, "close", None)
            if close is not None:
                close()
    reference = statistics.mean(times["sequential (reference)"])
    for case, seconds in times.items():
        mean = statistics.mean(seconds)
        RESULTS[(GROUP, case)] = Measurement(
            mean, len(seconds), len(expected), case.startswith("sequential")
        )
        rounds = ", ".join(f"{value:.2f}" for value in seconds)
        print(f"{case}: rounds {rounds} s; mean ratio {reference / mean:.2f}")
