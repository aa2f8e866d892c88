"""A batch of 200 small files: ``run_batch(..., jobs=2)`` against ``jobs=1``.

The runner is CPU-bound (``OneThreadBlurRunner``: OpenCV blurs, one OpenCV thread in
whichever process runs it), so two worker processes can use both cores; ``jobs=1``
runs the videos one after another in this process. Each round writes every video's
results to a fresh output directory with its manifest, as ``--output-dir`` does. The
ratio is printed and recorded, never asserted (the machine is shared); only the
report counts are.

``VIDEOPIPE_BENCH_BATCH_FILES`` (default 200) and ``VIDEOPIPE_BENCH_BATCH_FRAMES``
(default 24 frames per file) size the batch.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import RESULTS, Measurement
from test_cluster import OneThreadBlurRunner
from videopipe.adapters.decoders import create_frame_source
from videopipe.api import VideoFilePipelineService
from videopipe.testing.media import make_video

FILES = int(os.environ.get("VIDEOPIPE_BENCH_BATCH_FILES", "200"))
FRAMES = int(os.environ.get("VIDEOPIPE_BENCH_BATCH_FRAMES", "24"))
ROUNDS_OF_BLUR = 6


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch-bench")
    prototype = make_video(
        folder / "prototype.mp4", frames=FRAMES, width=320, height=240, content="testsrc"
    )
    videos = folder / "videos"
    for number in range(FILES):
        target = videos / f"group{number % 10}" / f"clip{number:03d}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(prototype, target)
    return videos


def _round(videos: Path, out: Path, jobs: int) -> float:
    service = VideoFilePipelineService(
        OneThreadBlurRunner(ROUNDS_OF_BLUR), frame_source=create_frame_source("pyav", threads=1)
    )
    started = time.perf_counter()
    reports = list(service.run_batch("bench", [videos], jobs=jobs, output_dir=out))
    seconds = time.perf_counter() - started
    assert len(reports) == FILES
    assert all(report.ok and report.frames_processed == FRAMES for report in reports)
    return seconds


def test_batch_two_jobs_against_one(batch_folder: Path, bench_rounds: int, tmp_path: Path) -> None:
    times: dict[int, list[float]] = {1: [], 2: []}
    for number in range(bench_rounds):
        for jobs in (1, 2):  # interleaved: both see the same load
            times[jobs].append(_round(batch_folder, tmp_path / f"out-{jobs}-{number}", jobs))
    one, two = min(times[1]), min(times[2])
    group = f"batch {FILES} files x {FRAMES} frames"
    RESULTS[(group, "jobs=1")] = Measurement(one, bench_rounds, FILES * FRAMES, True)
    RESULTS[(group, "jobs=2")] = Measurement(two, bench_rounds, FILES * FRAMES, False)
    print(
        f"\n{group}: jobs=1 best {one:.2f} s, jobs=2 best {two:.2f} s, "
        f"speed-up {one / two:.2f}x (rounds: {times})"
    )
