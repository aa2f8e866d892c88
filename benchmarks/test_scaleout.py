"""Scale-out: segments on 2 local processes and on a 2-worker Dask cluster vs sequential.

Two groups of rows, each with its ratio to the sequential run of the same runner on
the same 1000-frame 320x240 video measured in this session (its reference):

- ``320x240 scale-out, <decoder>``: a CPU-bound numpy runner working in place (one
  core per call, nothing allocated per frame): the parallel speed-up itself.
- ``..., allocating``: the same kind of work written the usual way (new float64
  temporaries of the frame's size on every frame). Here the process layout matters as
  much as parallelism: glibc trims the main thread's heap whenever such temporaries
  are freed (the sequential run and, untuned, a worker's main thread fault the pages in
  again every frame), Dask runs tasks in threads, and Dask's ``MALLOC_TRIM_THRESHOLD_``
  sends every buffer to a fresh mapping: one row keeps it (``trim_memory=True``).

The cases run in turn, round after round (``VIDEOPIPE_BENCH_ROUNDS``), so that drift
on a shared machine hits them alike; each row is the mean of its rounds, per-round
times are printed (``-s``), and every run's results are checked equal to the
sequential ones. Worker start-up (processes, cluster) is not timed: each executor is
started and run once on a short video before the rounds.
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
from videopipe.application import SequentialExecutor, VideoFilePipelineService
from videopipe.testing.media import make_video

WORKERS = 2
NUMPY_ROUNDS = int(os.environ.get("VIDEOPIPE_BENCH_NUMPY_ROUNDS", "3"))
COMPUTE_ROUNDS = 3 * NUMPY_ROUNDS  # about the same time per frame as the allocating runner
DECODER = os.environ.get("VIDEOPIPE_BENCH_SCALEOUT_DECODER") or (
    "pyav" if "pyav" in available_decoders() else DEFAULT_DECODER
)
"""``pyav`` (it seeks to a segment's keyframe; the other decoders decode every segment
from the start of the file) unless ``VIDEOPIPE_BENCH_SCALEOUT_DECODER`` names another."""
GROUP = f"320x240 scale-out, {DECODER}"


class ComputeRunner:
    """CPU-bound numpy on one core, in place: no allocation per frame (pure parallelism)."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self._buffer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "_buffer": None}

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        image = payload["image"]
        if self._buffer is None or self._buffer.shape != image.shape:
            self._buffer = np.empty(image.shape, dtype=np.float64)
        buffer = self._buffer
        total = 0.0
        for _ in range(self.rounds):
            np.multiply(image, 1.5, out=buffer)
            np.add(buffer, 2.0, out=buffer)
            np.sqrt(buffer, out=buffer)
            total += float(buffer.mean())
        return {"frame_index": payload["frame_index"], "value": round(total, 6)}


class AllocatingRunner:
    """The same kind of work written the usual way: new temporaries on every frame."""

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


def compute_cases() -> dict[str, Any]:
    """Case name -> a new executor; the first case is the reference."""
    return {
        "sequential (reference)": SequentialExecutor,
        f"segments, {WORKERS} local processes": lambda: SegmentExecutor(WORKERS),
        f"dask LocalCluster, {WORKERS} workers": lambda: DaskExecutor(WORKERS),
    }


def allocating_cases() -> dict[str, Any]:
    """The allocating runner: Dask with and without MALLOC_TRIM_THRESHOLD_."""
    return {
        "allocating runner, sequential (reference)": SequentialExecutor,
        f"allocating runner, segments, {WORKERS} local processes": lambda: SegmentExecutor(WORKERS),
        f"allocating runner, dask, {WORKERS} workers": lambda: DaskExecutor(WORKERS),
        f"allocating runner, dask, {WORKERS} workers, MALLOC_TRIM_THRESHOLD_ kept": lambda: (
            DaskExecutor(WORKERS, trim_memory=True)
        ),
    }


def measure(
    group: str,
    runner: Any,
    cases: dict[str, Any],
    rounds: int,
    video: Any,
    warm_up_video: Path,
) -> None:
    """Run every case in turn, ``rounds`` times; record each case's mean in ``group``."""
    services = {}
    for case, make in cases.items():
        service = VideoFilePipelineService(
            runner, frame_source=create_frame_source(DECODER), executor=make()
        )
        service.run_on_file("numpy", warm_up_video)  # start the workers, untimed
        services[case] = service
    times: dict[str, list[float]] = {case: [] for case in services}
    outputs: dict[str, list[dict[str, Any]]] = {}
    try:
        for _ in range(rounds):
            for case, service in services.items():
                started = time.perf_counter()
                output = service.run_on_file("numpy", video.path)
                times[case].append(time.perf_counter() - started)
                outputs.setdefault(case, output)
                assert output == next(iter(outputs.values()))  # equal to sequential
    finally:
        for service in services.values():
            close = getattr(service.executor, "close", None)
            if close is not None:
                close()
    reference = statistics.mean(next(iter(times.values())))
    for case, seconds in times.items():
        mean = statistics.mean(seconds)
        frames = len(outputs[case])
        RESULTS[(group, case)] = Measurement(mean, len(seconds), frames, case == next(iter(times)))
        rounds_text = ", ".join(f"{value:.2f}" for value in seconds)
        print(f"{group} | {case}: rounds {rounds_text} s; ratio {reference / mean:.2f}")


def test_scaleout_compute(bench_rounds: int, video_320x240: Any, warm_up_video: Path) -> None:
    """Parallel speed-up on a runner that allocates nothing per frame."""
    runner = ComputeRunner(COMPUTE_ROUNDS)
    measure(GROUP, runner, compute_cases(), bench_rounds, video_320x240, warm_up_video)


def test_scaleout_allocating(bench_rounds: int, video_320x240: Any, warm_up_video: Path) -> None:
    """The same work allocating temporaries: where Dask's MALLOC_TRIM_THRESHOLD_ shows."""
    runner = AllocatingRunner(NUMPY_ROUNDS)
    group = f"{GROUP}, allocating"
    measure(group, runner, allocating_cases(), bench_rounds, video_320x240, warm_up_video)
