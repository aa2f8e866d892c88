"""The ``scenes`` pipeline gives the sequential results under every executor.

Its nodes have history (32 and 10 frames) but none is recurrent, so executors split
the video and warm each part up with ``history_frames`` earlier frames. The video here
has a dissolve and a fade that the segment boundaries cut through (segments hold at
least twice the history: 270 frames make three, starting at frames 0, 90 and 180), and
a flash.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.scenes import evalset
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors.auto import AutoExecutor
from videopipe.adapters.executors.prefetch import PrefetchExecutor
from videopipe.adapters.executors.segments import SegmentExecutor
from videopipe.adapters.executors.threads import ThreadsExecutor
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.application import SequentialExecutor, VideoFilePipelineService
from videopipe.domain.model import FrameResult
from videopipe.ports.executor import Executor

GOP = 10


@pytest.fixture(scope="module")
def transitions_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, evalset.Truth]:
    """Three photo shots: a dissolve over frames 82-97, a fade over 176-194 (270 frames)."""
    width, height = 160, 90
    shots = [
        evalset.Shot("a", 98, evalset.camera("fruits.jpg", width, height, 98, pan=0.3)),
        evalset.Shot(
            "b", 102,
            evalset.flashed(evalset.camera("baboon.jpg", width, height, 102, pan=0.2),
                            {36: "bright"}),
            flashes=(36,),
        ),
        evalset.Shot("c", 83, evalset.camera("building.jpg", width, height, 83, pan=-0.3)),
    ]  # fmt: skip
    truth = evalset.Truth("transitions", 0, evalset.FPS)
    path = tmp_path_factory.mktemp("scenes-executors") / "transitions.mp4"
    steps = [("dissolve", 16, 0, 0), ("fade", 8, 3, 8)]
    frames = evalset.timeline(shots, steps, truth)
    evalset.write_frames(path, frames, width=width, height=height, gop=GOP)
    return path, truth


def results(path: Path, executor: Executor) -> list[FrameResult]:
    service = VideoFilePipelineService(
        DagPipelineRunner(), frame_source=create_frame_source(), executor=executor
    )
    return list(service.iter_frame_results("scenes", path))


EXECUTORS: dict[str, Callable[[], Executor]] = {
    "prefetch": PrefetchExecutor,
    "threads-2": lambda: ThreadsExecutor(2),
    "threads-3-chunk7": lambda: ThreadsExecutor(3, chunk_frames=7),
    "segments-2": lambda: SegmentExecutor(2, segments_per_worker=4, min_segment_frames=4),
    "auto-2": lambda: AutoExecutor(2),
}


def test_the_sequential_run_finds_the_dissolve_and_the_fade(transitions_video):
    path, truth = transitions_video
    found = [
        (r.frame_index, r.result["scene"]["kind"]) for r in results(path, SequentialExecutor())
    ]
    cuts = [(index, kind) for index, kind in found if kind]
    assert truth.frames == 270
    assert [(b.start, b.end) for b in truth.boundaries] == [(82, 98), (176, 195)]
    assert [kind for _, kind in cuts] == ["dissolve", "fade"]
    for (index, _), boundary in zip(cuts, truth.boundaries, strict=True):
        assert boundary.start <= index <= boundary.end


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_every_executor_gives_the_sequential_results(transitions_video, name):
    path, truth = transitions_video
    expected = results(path, SequentialExecutor())
    executor = EXECUTORS[name]()
    try:
        if isinstance(executor, SegmentExecutor):
            service = VideoFilePipelineService(
                DagPipelineRunner(), frame_source=create_frame_source(), executor=executor
            )
            plan = executor.plan(service.work("scenes", path))
            starts = {segment.start for segment in plan}
            inside = [b for b in truth.boundaries if starts & set(range(b.start + 1, b.end + 1))]
            assert [s.start for s in plan] == [0, 90, 180]
            assert len(inside) == 2  # a segment starts inside the dissolve and inside the fade
            assert all(segment.warm_from < segment.start for segment in plan if segment.start)
        assert results(path, executor) == expected
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
