"""An external Dask cluster (``dask scheduler``, 2 ``dask worker`` with nanny) vs local executors.

The cluster is started the way a user starts one (``tests/cluster/processes.py``: a
scheduler and two single-threaded ``dask worker`` processes with their nanny, on
loopback) and the ``dask`` executor connects to it by address. Two workloads, each on
its own video, each case checked equal to the sequential run:

- ``scenes``: the shipped ``scenes`` pipeline (DAG runner) on 400 frames of 720p
  H.264 (``videopipe.testing``), decoder ``pyav``.
- ``cpu-bound``: the executor benchmark's CPU-bound runner (``BlurRunner`` of
  ``test_executors.py``, OpenCV on one thread, calibrated to four times a frame's
  decode) on its 1000-frame 640x360 video.

Rows (groups ``cluster <workload>``): sequential (the reference), ``segments`` on 2
local processes, the cluster. The cases run in turn, round after round
(``VIDEOPIPE_BENCH_ROUNDS``); worker start-up is not timed (each executor runs a short
video first). Printed as well: cluster / segments and cluster / sequential speed
ratios, the time to the first result of each case, and the load averages before and
after. Only results are asserted, never a time.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.cluster.processes import Cluster, start_cluster, worker_environment

from conftest import RESULTS, Measurement
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.adapters.executors.segments import SegmentExecutor
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.application import SequentialExecutor, VideoFilePipelineService
from videopipe.testing.media import make_video

cv2 = pytest.importorskip("cv2", reason="the CPU-bound runner blurs with OpenCV")

from test_executors import BlurRunner, blur_seconds, run_once  # noqa: E402

WORKERS = 2
SCENES_FRAMES = 400
CPU_FRAMES = 1000


class OneThreadBlurRunner(BlurRunner):
    """``BlurRunner`` holding OpenCV to one thread in whichever process runs it."""

    thread_safe = False

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if cv2.getNumThreads() != 1:
            cv2.setNumThreads(1)
        return super().run_pipeline(pipeline_id, payload)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A scheduler and two ``dask worker --nthreads 1`` (nanny) on loopback."""
    bench = str(Path(__file__).parent)  # the workers import this module's runners
    envs = [worker_environment(bench) for _ in range(WORKERS)]
    started = start_cluster(tmp_path_factory.mktemp("bench-cluster"), WORKERS, envs=envs)
    yield started
    assert started.stop() == []


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cluster-videos")
    return {
        "scenes": make_video(
            folder / "scenes_720p.mp4",
            frames=SCENES_FRAMES,
            width=1280,
            height=720,
            content="testsrc",
        ),
        "cpu-bound": make_video(
            folder / "cpu_640x360.mp4",
            frames=CPU_FRAMES,
            width=640,
            height=360,
            content="testsrc",
        ),
        "warm": make_video(folder / "warm.mp4", frames=48, width=160, height=120),
    }


def timed(service: VideoFilePipelineService, pipeline: str, path: Path) -> tuple[float, float, Any]:
    """Seconds to the first result and to the last; the results."""
    started = time.perf_counter()
    first = None
    results = []
    for result in service.iter_frame_results(pipeline, path):
        if first is None:
            first = time.perf_counter() - started
        results.append(result)
    return time.perf_counter() - started, first or 0.0, results


def measure(
    workload: str,
    runner: Any,
    pipeline: str,
    videos: dict[str, Path],
    cases: dict[str, Callable[[], Any]],
    rounds: int,
) -> None:
    services = {}
    for case, make in cases.items():
        service = VideoFilePipelineService(
            runner, frame_source=create_frame_source("pyav"), executor=make()
        )
        service.run_on_file(pipeline, videos["warm"])  # start-up, untimed
        services[case] = service
    loads = [os.getloadavg()]
    totals: dict[str, list[float]] = {case: [] for case in cases}
    firsts: dict[str, list[float]] = {case: [] for case in cases}
    reference: Any = None
    try:
        for _ in range(rounds):
            for case, service in services.items():
                total, first, results = timed(service, pipeline, videos[workload])
                totals[case].append(total)
                firsts[case].append(first)
                reference = results if reference is None else reference
                assert results == reference  # equal to the sequential run
    finally:
        for service in services.values():
            close = getattr(service.executor, "close", None)
            if close is not None:
                close()
    loads.append(os.getloadavg())
    group = f"cluster {workload}"
    means = {case: statistics.mean(values) for case, values in totals.items()}
    names = list(cases)
    for number, case in enumerate(names):
        RESULTS[(group, case)] = Measurement(means[case], rounds, len(reference), number == 0)
    sequential, segments, clustered = (means[name] for name in names)
    print(f"\n{group}: {len(reference)} frames, {rounds} round(s)")
    for case in names:
        rounds_text = ", ".join(f"{value:.2f}" for value in totals[case])
        print(
            f"  {case}: mean {means[case]:.2f} s (rounds {rounds_text}); first result "
            f"{statistics.mean(firsts[case]):.3f} s"
        )
    print(
        f"  cluster / segments {segments / clustered:.2f}; cluster / sequential "
        f"{sequential / clustered:.2f}; segments / sequential {sequential / segments:.2f}"
    )
    print(f"  load average before {loads[0][0]:.1f}, after {loads[1][0]:.1f}")


def cases(cluster: Cluster) -> dict[str, Callable[[], Any]]:
    return {
        "sequential (reference)": SequentialExecutor,
        f"segments, {WORKERS} local processes": lambda: SegmentExecutor(WORKERS),
        f"dask cluster, {WORKERS} workers (nanny)": lambda: DaskExecutor(
            scheduler_address=cluster.address
        ),
    }


def test_cluster_scenes(cluster: Cluster, videos: dict[str, Path], bench_rounds: int) -> None:
    measure("scenes", DagPipelineRunner(), "scenes", videos, cases(cluster), bench_rounds)


def test_cluster_cpu_bound(cluster: Cluster, videos: dict[str, Path], bench_rounds: int) -> None:
    decodes = [
        run_once(videos["cpu-bound"], "pyav", OneThreadBlurRunner(0), SequentialExecutor())
        for _ in "ab"
    ]
    per_frame = min(seconds for seconds, _ in decodes) / CPU_FRAMES
    rounds = max(1, round(4 * per_frame / blur_seconds()))
    print(f"\ncpu-bound runner: blur x{rounds} per frame (4x a frame's decode)")
    runner = OneThreadBlurRunner(rounds)
    measure("cpu-bound", runner, "bench", videos, cases(cluster), bench_rounds)
