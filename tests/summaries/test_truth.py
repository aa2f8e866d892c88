"""Every built-in summary equals the truth of generated media, under every executor.

The videos (tests/summaries/media.py) show QR payloads on known frames, a square that
moves on known frames and shots cut on known frames; the truth is computed from that
plan by a plain list-based reference, never from a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.summaries import media
from videopipe import VideoFilePipelineService
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.adapters.executors.prefetch import PrefetchExecutor
from videopipe.adapters.executors.segments import SegmentExecutor
from videopipe.adapters.executors.threads import ThreadsExecutor
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.application import SequentialExecutor
from videopipe.ports.executor import Executor
from videopipe.testing import MockDagPipelineService

CUTS_PIPELINE = """\
description: cuts from luma histograms (scene_change)
nodes:
  cuts:
    plugin: scene_change
    params: {threshold: 0.4}
"""


class FailingDagRunner(DagPipelineRunner):
    """The DAG runner, failing on the frames of ``fail_at`` (module level: picklable)."""

    def __init__(
        self, library: PipelineLibrary | None = None, fail_at: frozenset[int] = frozenset()
    ):
        super().__init__(library)
        self.fail_at = fail_at

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "fail_at": self.fail_at}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["library"], state["fail_at"])  # type: ignore[misc]

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if payload["frame_index"] in self.fail_at:
            raise RuntimeError(f"no answer on frame {payload['frame_index']}")
        return super().run_pipeline(pipeline_id, payload)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, media.Made]:
    folder = tmp_path_factory.mktemp("summaries")
    return {
        "qr": media.qr_video(folder / "qr.mp4"),
        "square": media.square_video(folder / "square.mp4"),
        "shots": media.shots_video(folder / "shots.mp4"),
    }


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> PipelineLibrary:
    folder = tmp_path_factory.mktemp("pipelines")
    (folder / "cuts.yaml").write_text(CUTS_PIPELINE)
    return PipelineLibrary([folder])


@pytest.fixture(scope="module")
def dask2() -> Iterator[DaskExecutor]:
    """A LocalCluster of two worker processes, reused by the module."""
    with DaskExecutor(2, segments_per_worker=3, min_segment_frames=4) as executor:
        yield executor


EXECUTORS: dict[str, Callable[[], Executor]] = {
    "sequential": SequentialExecutor,
    "prefetch": PrefetchExecutor,
    "threads-2": lambda: ThreadsExecutor(2, chunk_frames=7),
    "segments-2": lambda: SegmentExecutor(2, segments_per_worker=3, min_segment_frames=4),
}


@pytest.fixture(params=[*EXECUTORS, "dask-2"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    if request.param == "dask-2":
        yield request.getfixturevalue("dask2")
        return
    made = EXECUTORS[request.param]()
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if close is not None:
            close()


def service(
    library: PipelineLibrary, executor: Executor, **options: Any
) -> VideoFilePipelineService:
    runner = options.pop("runner", None) or DagPipelineRunner(library)
    return VideoFilePipelineService(runner, executor=executor, **options)


def expected(
    videos: dict[str, media.Made], processed: list[int], max_gap: int = 0
) -> dict[str, Any]:
    """Every pipeline's summaries from the plan, over the ``processed`` frames."""
    qr, square, shots = (
        videos["qr"].timestamps,
        videos["square"].timestamps,
        videos["shots"].timestamps,
    )
    codes = [
        {
            "text": payload,
            "frames": len(shown & set(processed)),
            "intervals": [
                {**interval, "text": payload}
                for interval in media.intervals(shown, processed, qr, max_gap)
            ],
        }
        for payload, shown in sorted(
            media.QR_SHOWN.items(), key=lambda item: min(set(processed) & item[1])
        )
    ]
    scenes = {"scenes": media.scenes(processed, shots)}
    moving = media.motion_frames(processed)
    return {
        "qr_codes": {"codes": {"max_gap": max_gap, "codes": codes}},
        "motion": {
            "motion": {
                "max_gap": max_gap,
                "frames": len(moving),
                "intervals": media.intervals(moving, processed, square, max_gap),
            }
        },
        "scenes": {"scene": scenes},
        "cuts": {"cuts": scenes},
    }


RUNS = {"qr_codes": "qr", "motion": "square", "scenes": "shots", "cuts": "shots"}
"""Pipeline -> the video it summarises."""


def summaries(
    svc: VideoFilePipelineService, videos: dict[str, media.Made], **options: Any
) -> dict[str, Any]:
    return {
        pipeline: dict(svc.report(pipeline, videos[video].path, **options).summaries)
        for pipeline, video in RUNS.items()
    }


def test_every_built_in_summary_equals_the_truth_under_every_executor(videos, library, executor):
    got = summaries(service(library, executor), videos)
    assert got == expected(videos, list(range(media.FRAMES)))


@pytest.mark.parametrize("max_gap", [1, 2, 10])
def test_intervals_join_across_max_gap_processed_frames(videos, library, max_gap):
    got = summaries(service(library, SequentialExecutor()), videos, max_gap=max_gap)
    assert got == expected(videos, list(range(media.FRAMES)), max_gap)
    alpha = got["qr_codes"]["codes"]["codes"][0]
    assert [(i["first_frame"], i["last_frame"]) for i in alpha["intervals"]] == [(4, 19)]
    motion = got["motion"]["motion"]["intervals"]
    assert len(motion) == (1 if max_gap >= 10 else 2)


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("name", ["sequential", "segments-2"])
def test_a_stride_summarises_the_processed_frames(videos, library, name, stride):
    executor = EXECUTORS[name]()
    try:
        got = summaries(service(library, executor, frame_stride=stride), videos)
    finally:
        getattr(executor, "close", lambda: None)()
    processed = list(range(0, media.FRAMES, stride))
    assert got == expected(videos, processed)


@pytest.mark.parametrize("name", ["sequential", "threads-2", "segments-2"])
def test_frames_skipped_under_on_error_skip_are_in_the_report(videos, library, name):
    fail_at = frozenset({5, 12, 31})
    executor = EXECUTORS[name]()
    runner = FailingDagRunner(library, fail_at)
    try:
        svc = service(library, executor, runner=runner, on_error="skip")
        report = svc.report("qr_codes", videos["qr"].path)
    finally:
        getattr(executor, "close", lambda: None)()
    assert report.ok
    assert report.frames_processed == media.FRAMES
    assert [frame.frame_index for frame in report.skipped] == sorted(fail_at)
    assert [frame.timestamp for frame in report.skipped] == [
        videos["qr"].timestamps[i] for i in sorted(fail_at)
    ]
    assert {frame.error["type"] for frame in report.skipped} == {"RuntimeError"}
    assert "no answer on frame 12" in report.skipped[1].error["message"]
    # A skipped frame is fed to no reducer: the payload seen around it stays one interval.
    processed = [i for i in range(media.FRAMES) if i not in fail_at]
    want = expected(videos, processed)["qr_codes"]
    assert dict(report.summaries) == want
    assert report.to_dict()["skipped"][0] == {
        "frame_index": 5,
        "timestamp": 0.2,
        "error": report.skipped[0].error,
    }


def test_the_report_holds_the_video_info(videos, library):
    report = service(library, SequentialExecutor()).report("motion", videos["square"].path)
    assert report.video == str(videos["square"].path)
    assert report.pipeline_id == "motion"
    assert report.info is not None
    assert (report.info.width, report.info.height, report.info.frame_count) == (160, 120, 40)
    assert report.frames_processed == media.FRAMES
    assert report.to_dict()["info"]["fps"] == media.FPS


def test_the_stream_gives_every_frame_and_its_report_after_the_last(videos, library):
    svc = service(library, SequentialExecutor())
    stream = svc.iter_report("qr_codes", videos["qr"].path, max_gap=1)
    with pytest.raises(RuntimeError, match="after its last frame"):
        _ = stream.report
    frames = list(stream)
    assert frames == list(svc.iter_frame_results("qr_codes", videos["qr"].path))
    assert stream.done
    assert stream.report == svc.report("qr_codes", videos["qr"].path, max_gap=1)


def test_a_failed_run_carries_the_report_of_the_frames_before_it(videos, library):
    runner = FailingDagRunner(library, frozenset({20}))
    svc = service(library, SequentialExecutor(), runner=runner)
    with pytest.raises(RuntimeError, match="no answer on frame 20") as caught:
        svc.report("qr_codes", videos["qr"].path)
    report = caught.value.report
    assert report.error == {"type": "RuntimeError", "message": "no answer on frame 20"}
    assert report.frames_processed == 20
    beta = report.summaries["codes"]["codes"][1]
    assert beta["intervals"][0]["last_frame"] == 19


def test_a_runner_without_reducers_gives_a_report_without_summaries(videos):
    report = VideoFilePipelineService(MockDagPipelineService()).report("demo", videos["qr"].path)
    assert report.summaries == {}
    assert report.frames_processed == media.FRAMES


def test_max_gap_must_be_a_count(videos, library):
    svc = service(library, SequentialExecutor())
    with pytest.raises(ValueError, match="max_gap"):
        svc.report("motion", videos["square"].path, max_gap=-1)
