"""One-machine executors: prefetch and threads against sequential, and memory with length.

Throughput rows (group ``640x360 executors <decoder> <workload>``): the same service on
the same 1000-frame H.264 video (another size: ``VIDEOPIPE_BENCH_EXECUTOR_SIZE=1280x720``),
once per executor, each row with its ratio to the sequential run measured in this
session (the reference). The runner blurs the frame
with OpenCV on one thread (``cv2.setNumThreads(1)``; OpenCV releases the GIL), a number
of times calibrated at the start of the session so that one call costs:

- ``overlap``: about as much as decoding the frame (what prefetch can hide: at best
  2x on two cores);
- ``cpu-heavy``: about four times as much (what threads can spread over the cores).

The cases run in turn, round after round (``VIDEOPIPE_BENCH_ROUNDS``), so that drift on
a shared machine hits them alike; each row is the mean of its rounds. Only result
counts are asserted, never a time.

Memory (``test_peak_rss_stays_flat_with_length``): the peak RSS of a run in a fresh
process over a 1080p file of ``SHORT`` frames and one of ``LONG`` frames
(``VIDEOPIPE_BENCH_LONG_FRAMES``, default 4000; the long file is the short one's
packets repeated by stream copy, so making it is quick), for prefetch and threads.
The peak may not grow with length by more than a few frames' worth (eight).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import RESULTS, Measurement
from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.adapters.executors import create_executor
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.application import SequentialExecutor, VideoFilePipelineService
from videopipe.ports.executor import Executor
from videopipe.testing.media import make_video

cv2 = pytest.importorskip("cv2", reason="the executor benchmarks' runner blurs with OpenCV")

FRAMES = 1000
WIDTH, HEIGHT = (
    int(side) for side in os.environ.get("VIDEOPIPE_BENCH_EXECUTOR_SIZE", "640x360").split("x")
)
"""The video size (``VIDEOPIPE_BENCH_EXECUTOR_SIZE``, default 640x360)."""
WORKERS = 2
KERNEL = (9, 9)
SHORT = 1000
LONG = int(os.environ.get("VIDEOPIPE_BENCH_LONG_FRAMES", "4000"))


DECODER_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    name: (name, {}) for name in available_decoders()
}
"""Decoders measured: every installed one, plus PyAV held to one decoding thread (how
issue 7 measured overlap: a decoder that already uses every core leaves nothing to hide)."""
if "pyav" in DECODER_CASES:
    DECODER_CASES["pyav-1-thread"] = ("pyav", {"threads": 1})


class BlurRunner:
    """Blurs the frame ``rounds`` times with OpenCV (which releases the GIL)."""

    thread_safe = True

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    def history_frames(self, pipeline_id: str) -> int:
        """Stateless."""
        return 0

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        image = payload["image"]
        for _ in range(self.rounds):
            image = cv2.GaussianBlur(image, KERNEL, 0)
        return {"frame_index": payload["frame_index"], "corner": int(image[0, 0, 0])}


class NoopRunner(BlurRunner):
    """Costs nothing: what decoding alone takes."""

    def __init__(self) -> None:
        super().__init__(0)


@pytest.fixture(scope="module", autouse=True)
def _one_opencv_thread() -> Any:
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(before)


@pytest.fixture(scope="module")
def executor_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(
        tmp_path_factory.mktemp("executors") / f"testsrc_{WIDTH}x{HEIGHT}.mp4",
        frames=FRAMES,
        width=WIDTH,
        height=HEIGHT,
        content="testsrc",
    )


def run_once(video: Path, decoder: str, runner: Any, executor: Executor) -> tuple[float, int]:
    name, options = DECODER_CASES[decoder]
    service = VideoFilePipelineService(
        runner, frame_source=create_frame_source(name, **options), executor=executor
    )
    started = time.perf_counter()
    count = sum(1 for _ in service.iter_frame_results("bench", video))
    return time.perf_counter() - started, count


def blur_seconds(rounds: int = 50) -> float:
    """One blur call on a frame of the benchmark size (the best of a few batches).

    The best, not the mean: on a shared machine other processes only ever add time.
    """
    image = np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    batches = []
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            cv2.GaussianBlur(image, KERNEL, 0)
        batches.append((time.perf_counter() - started) / rounds)
    return min(batches)


def interleaved(
    group: str,
    cases: dict[str, Callable[[], tuple[float, int]]],
    rounds: int,
) -> dict[str, float]:
    """Run the cases in turn, ``rounds`` times; record each mean; the first is the reference."""
    times: dict[str, list[float]] = {case: [] for case in cases}
    counts: dict[str, int] = {}
    for _ in range(rounds):
        for case, run in cases.items():
            seconds, counts[case] = run()
            times[case].append(seconds)
    means = {case: sum(values) / len(values) for case, values in times.items()}
    for number, case in enumerate(cases):
        RESULTS[(group, case)] = Measurement(means[case], rounds, counts[case], number == 0)
    reference = next(iter(means.values()))
    print(f"\n{group}: " + ", ".join(f"{case} x{reference / means[case]:.2f}" for case in cases))
    print(
        "  per round: "
        + json.dumps({case: [round(t, 3) for t in ts] for case, ts in times.items()})
    )
    return means


@pytest.mark.parametrize("decoder", list(DECODER_CASES))
@pytest.mark.parametrize("workload", ["overlap", "cpu-heavy"])
def test_executors_against_sequential(
    executor_video: Path, bench_rounds: int, decoder: str, workload: str
) -> None:
    decodes = [run_once(executor_video, decoder, NoopRunner(), SequentialExecutor()) for _ in "ab"]
    assert all(count == FRAMES for _, count in decodes)
    per_frame = min(seconds for seconds, _ in decodes) / FRAMES
    factor = 1 if workload == "overlap" else 4
    blur = blur_seconds()
    rounds = max(1, round(factor * per_frame / blur))
    runner = BlurRunner(rounds)
    print(
        f"\n{decoder}: decode {per_frame * 1e3:.2f} ms/frame, blur x{rounds} "
        f"= {rounds * blur * 1e3:.2f} ms/frame"
    )

    def case(executor: Callable[[], Executor]) -> Callable[[], tuple[float, int]]:
        return lambda: run_once(executor_video, decoder, runner, executor())

    cases = {
        "sequential (reference)": case(SequentialExecutor),
        "prefetch": case(lambda: create_executor("prefetch")),
        f"threads, {WORKERS} workers": case(lambda: create_executor("threads", workers=WORKERS)),
        f"auto, {WORKERS} workers": case(lambda: create_executor("auto", workers=WORKERS)),
    }
    group = f"{WIDTH}x{HEIGHT} executors {decoder} {workload} (runner x{rounds} blur)"
    interleaved(group, cases, bench_rounds)
    assert all(RESULTS[(group, name)].frames_out == FRAMES for name in cases)


# -- memory --------------------------------------------------------------------------------

_MEASURE = """
import json, resource, sys
from videopipe import VideoFilePipelineService
from videopipe.adapters.executors import create_executor
class Touch:
    thread_safe = True
    def history_frames(self, pipeline_id): return 0
    def run_pipeline(self, pipeline_id, payload):
        return {"corner": int(payload["image"][0, 0, 0])}
executor = create_executor(sys.argv[2], **json.loads(sys.argv[3]))
service = VideoFilePipelineService(Touch(), executor=executor)
count = sum(1 for _ in service.iter_frame_results("rss", sys.argv[1]))
print(json.dumps({"count": count, "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


@pytest.fixture(scope="module")
def long_1080p(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("rss")
    short = make_video(
        folder / "short.mp4",
        frames=SHORT,
        width=1920,
        height=1080,
        content="testsrc",
        output_args=["-preset", "ultrafast", "-crf", "40"],
    )
    listing = folder / "list.txt"
    repeats = -(-LONG // SHORT)
    listing.write_text(f"file '{short}'\n" * repeats)
    long = folder / "long.mp4"
    command = [bundled_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat"]
    command += ["-safe", "0", "-i", str(listing), "-c", "copy", "-frames:v", str(LONG), str(long)]
    subprocess.run(command, check=True)
    return {SHORT: short, LONG: long}


@pytest.mark.parametrize(("name", "options"), [("prefetch", {}), ("threads", {"workers": WORKERS})])
def test_peak_rss_stays_flat_with_length(
    long_1080p: dict[int, Path], name: str, options: dict[str, Any]
) -> None:
    peaks = {}
    for frames, path in long_1080p.items():
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(path), name, json.dumps(options)],
            check=True,
            capture_output=True,
            text=True,
        )
        measured = json.loads(out.stdout)
        assert measured["count"] == frames
        peaks[frames] = measured["peak_kib"] / 1024
    frame_mib = 1920 * 1080 * 3 / 2**20
    print(
        f"\npeak RSS {name}: " + ", ".join(f"{n} frames {mib:.0f} MiB" for n, mib in peaks.items())
    )
    # Frames are never collected: a longer file may not hold more of them. The peak still
    # creeps by a few frames' worth with length when several threads allocate and free
    # 6 MB buffers (the C allocator's high-water mark; Python's own allocations stay flat
    # under tracemalloc), so the bound is eight frames, against thousands if collected.
    assert peaks[LONG] - peaks[SHORT] < 8 * frame_mib, peaks
