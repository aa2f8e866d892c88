"""The seed contract's tests, ported to ``videopipe`` imports.

Each runs on the seed's own OpenCV mp4v videos and on H.264 ones (``make_mp4``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from videopipe import VideoFilePipelineService
from videopipe.testing import (
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    MockDagPipelineServiceWithMutation,
    write_corrupted_mp4,
    write_header_only_mp4,
    write_truncated_mp4,
)

MakeMp4 = Callable[[str, int], Path]


def test_pipeline_not_found(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("one.mp4", 1)
    service = VideoFilePipelineService(MockDagPipelineService(fail_mode="pipeline_not_found"))
    with pytest.raises(FileNotFoundError, match="Pipeline not found"):
        service.run_on_file("bad_pipeline", str(video_path))


def test_plugin_error(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("one.mp4", 1)
    service = VideoFilePipelineService(MockDagPipelineService(fail_mode="plugin_error"))
    with pytest.raises(RuntimeError, match="Plugin execution failed"):
        service.run_on_file("yolo_ocr", str(video_path))


def test_random_failure(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("one.mp4", 1)
    service = VideoFilePipelineService(MockDagPipelineService(fail_mode="random_failure"))
    with pytest.raises(ValueError, match="Random failure"):
        service.run_on_file("yolo_ocr", str(video_path))


def test_runner_error_is_noted_with_frame_and_file(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("one.mp4", 1)
    service = VideoFilePipelineService(MockDagPipelineService(fail_mode="plugin_error"))
    with pytest.raises(RuntimeError) as caught:
        service.run_on_file("yolo_ocr", str(video_path))
    notes = "\n".join(caught.value.__notes__)
    assert "frame 0" in notes
    assert str(video_path) in notes
    assert caught.value.partial_results == []  # type: ignore[attr-defined]


def test_corrupted_mp4_unit(tmp_path: Path) -> None:
    video_path = write_corrupted_mp4(tmp_path / "corrupt.mp4")
    service = VideoFilePipelineService(MockDagPipelineService())
    with pytest.raises(ValueError, match="Unable to read video file") as caught:
        service.run_on_file("yolo_ocr", str(video_path))
    assert str(video_path) in str(caught.value)


def test_video_service_with_mutation(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("tiny.mp4", 2)

    def mutator(output: dict[str, object]) -> dict[str, object]:
        output["extra_flag"] = True
        return output

    mock = MockDagPipelineServiceWithMutation(mutator)
    results = VideoFilePipelineService(mock).run_on_file("yolo_ocr", str(video_path))
    assert [item["result"]["extra_flag"] for item in results] == [True, True]
    assert results[0]["result"]["mock"] is True


def test_video_service_with_latency(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("tiny.mp4", 3)
    mock = MockDagPipelineServiceWithLatency(latency_seconds=0.01)
    results = VideoFilePipelineService(mock).run_on_file("yolo_ocr", str(video_path))
    assert [item["frame_index"] for item in results] == [0, 1, 2]
    assert len(mock.calls) == 3


def test_video_service_1000_frames(make_mp4: MakeMp4) -> None:
    video_path = make_mp4("large.mp4", 1000)
    mock = MockDagPipelineService()
    service = VideoFilePipelineService(mock, frame_stride=1, max_frames=None)

    results = service.run_on_file("yolo_ocr", str(video_path))

    assert len(results) == 1000
    assert results[0]["frame_index"] == 0
    assert results[-1]["frame_index"] == 999
    assert [item["frame_index"] for item in results] == list(range(1000))
    assert len(mock.calls) == 1000
    assert results[0] == {
        "frame_index": 0,
        "result": {
            "mock": True,
            "pipeline_id": "yolo_ocr",
            "frame_index": 0,
            "bytes_length": 320 * 240 * 3,
        },
    }


def fuzz_cases(tmp_path: Path) -> list[Path]:
    random_1 = tmp_path / "random_1.bin"
    random_1.write_bytes(os.urandom(128))
    random_2 = tmp_path / "random_2.bin"
    random_2.write_bytes(os.urandom(1024))
    return [
        random_1,
        random_2,
        write_header_only_mp4(tmp_path / "header_only.mp4"),
        write_truncated_mp4(tmp_path / "truncated.mp4"),
    ]


def test_video_service_mp4_fuzz(tmp_path: Path) -> None:
    # The seed accepted "0 frames or ValueError"; videopipe never returns a silent
    # empty result for a file that holds no video, so each case must raise.
    service = VideoFilePipelineService(MockDagPipelineService())
    for path in fuzz_cases(tmp_path):
        with pytest.raises(ValueError, match="Unable to read video file"):
            service.run_on_file("yolo_ocr", str(path))
