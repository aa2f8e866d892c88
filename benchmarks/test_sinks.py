"""What writing results costs: JSON lines, CSV and Parquet against no sink, same run.

Group ``sinks motion 320x240``: the ``motion`` pipeline over the 1000-frame 320x240
benchmark video, its results dropped (the reference) or written to a ``.jsonl``,
``.csv`` or ``.parquet`` file (commit included); each row's ratio is its frames/s over
the reference's, so ``1 - ratio`` is the share of a run the sink takes.

Group ``sinks alone qr x3``: the sinks by themselves on 1000 synthetic frames of three
QR codes each (seven rows a frame), the cost of the sink per 1000 frames when the
pipeline is cheap: the ``mean s`` column is seconds per 1000 frames.

The cases run in turns, round after round (``VIDEOPIPE_BENCH_ROUNDS``), each row the
best round (at least three, after one untimed warm-up round). Only frame counts are
asserted, never a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import FRAMES, BenchVideo
from videopipe import results
from videopipe.adapters.sinks import open_sink
from videopipe.container import create_container
from videopipe.domain.model import FrameResult

FORMATS = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}


def _qr_frames() -> list[tuple[str, FrameResult]]:
    codes = [
        {"text": f"code-{i}-{n}", "box": [10 * n, 20, 10 * n + 50, 70], "points": [[1.0, 2.0]] * 4}
        for n in range(3)
        for i in [0]
    ]
    return [
        ("bench.mp4", FrameResult(i, i / 25, {"codes": {"codes": codes}})) for i in range(FRAMES)
    ]


def _turns(
    cases: dict[str, Callable[[], int]], rounds: int
) -> tuple[dict[str, float], dict[str, int]]:
    best = dict.fromkeys(cases, float("inf"))
    counts: dict[str, int] = {}
    for run in cases.values():
        run()  # warm-up, not timed: the pipeline loaded, the decoder and pyarrow imported
    for _ in range(rounds):
        for name, run in cases.items():
            started = time.perf_counter()
            counts[name] = run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best, counts


def _write_to(path: Path, frames) -> int:
    sink = open_sink(str(path))
    written = 0
    for video, item in frames:
        sink.write(video, item)
        written += 1
    sink.close()
    return written


@pytest.mark.parametrize("bench_size", ["320x240"])
def test_sink_cost_in_a_run(
    tmp_path: Path, video: BenchVideo, bench_rounds: int, record_best: Callable[..., None]
) -> None:
    service = create_container(None).video_service()
    pipeline = "motion"

    def dropped() -> int:
        return sum(1 for _ in service.iter_frame_results(pipeline, str(video.path)))

    def sink(extension: str) -> Callable[[], int]:
        target = tmp_path / f"run{extension}"
        return lambda: _write_to(
            target,
            (
                (str(video.path), item)
                for item in service.iter_frame_results(pipeline, str(video.path))
            ),
        )

    cases = {"no sink": dropped} | {name: sink(ext) for name, ext in FORMATS.items()}
    best, counts = _turns(cases, max(bench_rounds, 3))
    group = f"sinks motion {video.size}"
    for number, name in enumerate(cases):
        record_best(group, name, best[name], max(bench_rounds, 3), reference=number == 0)
    assert all(count == FRAMES for count in counts.values()), counts
    for name, extension in FORMATS.items():
        assert sum(1 for _ in results.read_frames(str(tmp_path / f"run{extension}"))) == FRAMES, (
            name
        )


def test_sink_cost_alone(
    tmp_path: Path, bench_rounds: int, record_best: Callable[..., None]
) -> None:
    frames = _qr_frames()
    cases = {
        name: (lambda path=tmp_path / f"alone{ext}": _write_to(path, frames))
        for name, ext in FORMATS.items()
    }
    best, counts = _turns(cases, max(bench_rounds, 3))
    for name in cases:
        record_best("sinks alone qr x3", name, best[name], max(bench_rounds, 3))
    assert all(count == FRAMES for count in counts.values()), counts
