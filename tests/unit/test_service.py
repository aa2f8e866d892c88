"""Unit tests of the domain service, with the test-double runners and a fake decoder."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fakes import FakeFrameSource
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import VideoDecodeError
from videopipe.domain.model import FrameSelection
from videopipe.ports import FrameSource, PipelineRunner
from videopipe.testing import (
    FailureInjectingRunner,
    MockDagPipelineService,
    MockDagPipelineServiceWithMutation,
)


def service(runner: PipelineRunner, frames: int = 10, **options: Any) -> VideoFilePipelineService:
    return VideoFilePipelineService(runner, frame_source=FakeFrameSource(frames), **options)


def indices(results: list[dict[str, Any]]) -> list[int]:
    return [item["frame_index"] for item in results]


def test_fake_source_and_doubles_implement_the_ports() -> None:
    assert isinstance(FakeFrameSource(), FrameSource)
    assert isinstance(MockDagPipelineService(), PipelineRunner)
    assert isinstance(FailureInjectingRunner(), PipelineRunner)


def test_every_frame_is_processed_in_order() -> None:
    results = service(MockDagPipelineService()).run_on_file("p", "clip.mp4")
    assert indices(results) == list(range(10))
    assert all(set(item) == {"frame_index", "result"} for item in results)


def test_stride_three_yields_every_third_index() -> None:
    results = service(MockDagPipelineService(), frame_stride=3).run_on_file("p", "clip.mp4")
    assert indices(results) == [0, 3, 6, 9]


def test_max_frames_caps_processed_frames_and_stops_decoding() -> None:
    source = FakeFrameSource(100)
    svc = VideoFilePipelineService(MockDagPipelineService(), 2, 3, frame_source=source)
    assert indices(svc.run_on_file("p", "clip.mp4")) == [0, 2, 4]
    assert source.readers[0].decoded <= 5
    assert source.readers[0].closed


def test_max_frames_zero_processes_nothing() -> None:
    runner = MockDagPipelineService()
    assert service(runner, max_frames=0).run_on_file("p", "clip.mp4") == []
    assert runner.calls == []


@settings(max_examples=200, deadline=None)
@given(
    frame_count=st.integers(0, 60),
    stride=st.integers(1, 20),
    max_frames=st.none() | st.integers(0, 30),
)
def test_any_stride_and_cap_give_exactly_the_expected_indices(
    frame_count: int, stride: int, max_frames: int | None
) -> None:
    expected = list(range(0, frame_count, stride))[:max_frames]
    svc = VideoFilePipelineService(
        MockDagPipelineService(), stride, max_frames, frame_source=FakeFrameSource(frame_count)
    )
    assert indices(svc.run_on_file("p", "clip.mp4")) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"frame_stride": 0}, "frame_stride must be >= 1"),
        ({"frame_stride": -2}, "frame_stride must be >= 1"),
        ({"frame_stride": 1.5}, "frame_stride must be an integer"),
        ({"max_frames": -1}, "max_frames must be >= 0"),
        ({"max_frames": True}, "max_frames must be an integer"),
        ({"image_bytes": "jpeg2000"}, "image_bytes must be one of"),
    ],
)
def test_invalid_arguments_are_rejected_at_construction(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        service(MockDagPipelineService(), **options)


def test_runner_without_run_pipeline_is_rejected() -> None:
    with pytest.raises(TypeError, match="run_pipeline"):
        VideoFilePipelineService(object(), frame_source=FakeFrameSource())  # type: ignore[arg-type]


@pytest.mark.parametrize("pipeline_id", ["", "   ", None, 3])
def test_empty_pipeline_id_is_rejected_when_called(pipeline_id: Any) -> None:
    svc = service(MockDagPipelineService())
    with pytest.raises(ValueError, match="pipeline_id must be a non-empty string"):
        svc.run_on_file(pipeline_id, "clip.mp4")
    with pytest.raises(ValueError, match="pipeline_id must be a non-empty string"):
        svc.iter_results(pipeline_id, "clip.mp4")  # checked before the first next()


def test_payload_holds_the_frame_and_its_metadata() -> None:
    runner = MockDagPipelineService(keep_images=True)
    service(runner, frames=2).run_on_file("p", "clip.mp4")
    payload = runner.calls[1]["payload"]
    assert payload["frame_index"] == 1
    assert payload["timestamp"] == pytest.approx(0.04)
    assert (payload["width"], payload["height"]) == (8, 6)
    assert payload["image"].dtype == np.uint8
    assert payload["image"].shape == (6, 8, 3)


def test_raw_image_bytes_are_a_zero_copy_read_only_view_of_the_pixels() -> None:
    runner = MockDagPipelineService(keep_images=True)
    service(runner, frames=1).run_on_file("p", "clip.mp4")
    payload = runner.calls[0]["payload"]
    view = payload["image_bytes"]
    assert isinstance(view, memoryview)
    assert view.readonly
    assert len(view) == 6 * 8 * 3
    assert bytes(view) == payload["image"].tobytes()
    assert np.shares_memory(np.frombuffer(view, dtype=np.uint8), payload["image"])


def test_copy_image_bytes_are_immutable_bytes() -> None:
    runner = MockDagPipelineService(keep_images=True)
    service(runner, frames=1, image_bytes="copy").run_on_file("p", "clip.mp4")
    payload = runner.calls[0]["payload"]
    assert isinstance(payload["image_bytes"], bytes)
    assert payload["image_bytes"] == payload["image"].tobytes()


def test_an_encoder_decides_image_bytes_when_given() -> None:
    class Upper:
        format = "fake"

        def encode(self, image: Any) -> bytes:
            return b"ENCODED"

    runner = MockDagPipelineService()
    results = service(runner, frames=1, image_encoder=Upper()).run_on_file("p", "clip.mp4")
    assert results[0]["result"]["bytes_length"] == len(b"ENCODED")


def test_calls_keep_no_pixels_by_default() -> None:
    runner = MockDagPipelineService()
    service(runner, frames=3).run_on_file("p", "clip.mp4")
    payload = runner.calls[0]["payload"]
    assert "image" not in payload
    assert "image_bytes" not in payload
    assert payload["image_bytes_length"] == 6 * 8 * 3
    assert payload["image_shape"] == (6, 8, 3)


def test_runner_errors_keep_their_type_and_carry_the_results_so_far() -> None:
    runner = FailureInjectingRunner(fail_at=[4], exception=KeyError)
    with pytest.raises(KeyError) as caught:
        service(runner).run_on_file("p", "clip.mp4")
    assert indices(caught.value.partial_results) == [0, 1, 2, 3]  # type: ignore[attr-defined]
    assert any("frame 4" in note and "clip.mp4" in note for note in caught.value.__notes__)


def test_streaming_hands_out_results_before_a_later_failure() -> None:
    runner = FailureInjectingRunner(fail_at=[3])
    produced = []
    with pytest.raises(RuntimeError, match="injected failure"):
        for item in service(runner).iter_results("p", "clip.mp4"):
            produced.append(item["frame_index"])
    assert produced == [0, 1, 2]


def test_a_decoder_error_mid_stream_arrives_after_the_good_frames() -> None:
    source = FakeFrameSource(10, fail_after=5)
    svc = VideoFilePipelineService(MockDagPipelineService(), frame_source=source)
    produced = []
    with pytest.raises(VideoDecodeError, match="5 frames were read"):
        for item in svc.iter_results("p", "clip.mp4"):
            produced.append(item["frame_index"])
    assert produced == [0, 1, 2, 3, 4]
    assert source.readers[0].closed


def test_closing_the_stream_early_closes_the_decoder() -> None:
    source = FakeFrameSource(50)
    stream = VideoFilePipelineService(MockDagPipelineService(), frame_source=source).iter_results(
        "p", "c.mp4"
    )
    assert next(stream)["frame_index"] == 0
    stream.close()
    assert source.readers[0].closed


def test_frame_results_carry_timestamps() -> None:
    results = list(service(MockDagPipelineService(), frames=3).iter_frame_results("p", "clip.mp4"))
    assert [item.timestamp for item in results] == [0.0, 0.04, 0.08]
    assert results[2].to_dict() == {"frame_index": 2, "result": results[2].result}


def test_mutation_runner_outputs_the_mutated_dict() -> None:
    runner = MockDagPipelineServiceWithMutation(lambda output: {**output, "flag": 1})
    results = service(runner, frames=1).run_on_file("p", "clip.mp4")
    assert results[0]["result"]["flag"] == 1


def test_video_info_comes_from_the_frame_source() -> None:
    info = service(MockDagPipelineService(), frames=7).video_info("clip.mp4")
    assert (info.frame_count, info.codec) == (7, "fake")


def test_a_selection_replaces_stride_and_cap_for_one_call() -> None:
    runner = MockDagPipelineService()
    service = VideoFilePipelineService(runner, 5, 2, frame_source=FakeFrameSource(20))
    chosen = FrameSelection(start=3, stop=10, step=2)
    got = service.iter_frame_results("demo", "clip.mp4", selection=chosen)
    assert [item.frame_index for item in got] == [3, 5, 7, 9]
    assert [item.frame_index for item in service.iter_frame_results("demo", "clip.mp4")] == [0, 5]
    assert [call["payload"]["frame_index"] for call in runner.calls] == [3, 5, 7, 9, 0, 5]
