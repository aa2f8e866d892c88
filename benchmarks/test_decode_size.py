"""Decoding at a smaller size: 1/2 and 1/4 of the frame against full size, same run.

For 1280x720 and 1920x1080 (1000 H.264 ``testsrc2`` frames each) and every decoder, the
cases run in turns, round after round (``VIDEOPIPE_BENCH_ROUNDS``, at least 3), and each
keeps its best round, so drift on a shared machine hits every case alike:

- ``full``: ``reader.frames()`` at the video's size (the reference of its group);
- ``1/2``, ``1/4``: ``open(path, size=FrameSize(scale=...))``, the decoder scaling in
  its own colour conversion (swscale in PyAV and in the ffmpeg pipe, ``cv2.resize`` for
  OpenCV);
- ``full + resize 1/4``: full-size frames shrunk afterwards with ``cv2.resize``
  (``INTER_AREA``), what a plugin did before a pipeline could declare its size.

Rows go to the summary table (group ``<size> <decoder> size``: ratio = frames/s over the
``full`` row's); the lines printed with ``-s`` also give the CPU-time ratios (this
process and the ffmpeg it waited for), steadier than wall time on a loaded machine.
A second test runs the per-pixel plugins the project ships (``scene_change``,
``motion``) through the service on pyav, with no ``frame:`` key and with
``frame: {max_side: 640}`` and ``{max_side: 320}``: what a pipeline gains end to end.
Only frame counts and shapes are asserted, never a time. Run::

    python -m pytest benchmarks/test_decode_size.py -p no:cacheprovider -q -s
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import VideoFilePipelineService
from videopipe.domain.model import FrameSelection, FrameSize

CASES: dict[str, FrameSize | None] = {
    "full": None,
    "1/2": FrameSize(scale=0.5),
    "1/4": FrameSize(scale=0.25),
}
RESIZED_AFTER = "full + resize 1/4"
FRAMES = 1000
"""Frames in every benchmark video (``benchmarks/conftest.py``)."""


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _pass(decoder: str, video: Any, case: str) -> Callable[[], tuple[int, tuple[int, ...]]]:
    source = create_frame_source(decoder)

    def run() -> tuple[int, tuple[int, ...]]:
        count, shape = 0, ()
        if case == RESIZED_AFTER:
            import cv2  # noqa: PLC0415 - the opencv extra, only for this case

            width, height = video.width // 4, video.height // 4
            with source.open(str(video.path)) as reader:
                for frame in reader.frames(FrameSelection()):
                    small = cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA)
                    count, shape = count + 1, small.shape
            return count, shape
        size = CASES[case]
        with (
            source.open(str(video.path), size=size) if size else source.open(str(video.path))
        ) as reader:
            for frame in reader.frames(FrameSelection()):
                count, shape = count + 1, frame.image.shape
        return count, shape

    return run


@pytest.mark.parametrize("decoder", available_decoders())
@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
def test_decoding_at_a_smaller_size(
    request: pytest.FixtureRequest,
    record_best: Callable[..., None],
    decoder: str,
    size: str,
    bench_rounds: int,
) -> None:
    video = request.getfixturevalue(f"video_{size}")
    cases = [*CASES, RESIZED_AFTER]
    runs = {case: _pass(decoder, video, case) for case in cases}
    best_wall = dict.fromkeys(cases, float("inf"))
    best_cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(max(3, bench_rounds)):
        for case in cases:
            wall, cpu = time.perf_counter(), _cpu_seconds()
            count, shape = runs[case]()
            best_wall[case] = min(best_wall[case], time.perf_counter() - wall)
            best_cpu[case] = min(best_cpu[case], _cpu_seconds() - cpu)
            assert count == FRAMES, f"{case}: {count} frames"
            factor = {"full": 1, "1/2": 2}.get(case, 4)
            assert shape == (video.height // factor, video.width // factor, 3), case
    group = f"{size} {decoder} size"
    for case in cases:
        record_best(group, case, best_wall[case], max(3, bench_rounds), reference=case == "full")
        print(
            f"{group:28} {case:18} wall {FRAMES / best_wall[case]:7.0f} frames/s "
            f"x{best_wall['full'] / best_wall[case]:.2f}  "
            f"cpu {FRAMES / best_cpu[case]:7.0f} frames/s x{best_cpu['full'] / best_cpu[case]:.2f}"
        )


PIPELINES = {
    "scene_change": "nodes:\n  scene:\n    plugin: scene_change\n    params: {threshold: 0.4}\n",
    "motion": "nodes:\n  motion:\n    plugin: motion\n",
}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
def test_a_pipeline_at_a_smaller_size(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pipeline: str,
    size: str,
    bench_rounds: int,
    record_best: Callable[..., None],
) -> None:
    """The shipped per-pixel plugins through the service (pyav), full size vs ``max_side``."""
    video = request.getfixturevalue(f"video_{size}")
    text = PIPELINES[pipeline]
    (tmp_path / "full.yaml").write_text(text)
    (tmp_path / "max_side_640.yaml").write_text(text + "frame: {max_side: 640}\n")
    (tmp_path / "max_side_320.yaml").write_text(text + "frame: {max_side: 320}\n")
    library = PipelineLibrary([tmp_path], shipped=False)
    cases = ["full", "max_side_640", "max_side_320"]
    best_wall = dict.fromkeys(cases, float("inf"))
    best_cpu = dict.fromkeys(cases, float("inf"))
    for _ in range(max(3, bench_rounds)):
        for case in cases:
            service = VideoFilePipelineService(
                DagPipelineRunner(library), frame_source=create_frame_source("pyav")
            )
            wall, cpu = time.perf_counter(), _cpu_seconds()
            results = service.run_on_file(case, video.path)
            best_wall[case] = min(best_wall[case], time.perf_counter() - wall)
            best_cpu[case] = min(best_cpu[case], _cpu_seconds() - cpu)
            assert len(results) == FRAMES
    group = f"{size} pyav {pipeline} pipeline"
    for case in cases:
        record_best(group, case, best_wall[case], max(3, bench_rounds), reference=case == "full")
        print(
            f"{group:28} {case:18} wall {FRAMES / best_wall[case]:7.0f} frames/s "
            f"x{best_wall['full'] / best_wall[case]:.2f}  "
            f"cpu {FRAMES / best_cpu[case]:7.0f} frames/s x{best_cpu['full'] / best_cpu[case]:.2f}"
        )
