"""scene_list: per-frame results of the scenes pipeline -> scenes with frames and times."""

from __future__ import annotations

import pytest

from videopipe.adapters.plugins.shots import scene_list
from videopipe.domain.model import FrameResult


def result(cut: bool) -> dict:
    return {"scene": {"score": 0.9 if cut else 0.01, "cut": cut, "kind": "cut" if cut else None}}


def test_scenes_start_on_the_first_frame_and_on_every_cut():
    items = [
        {"frame_index": i, "timestamp": i / 25, "result": result(i in (4, 7))} for i in range(10)
    ]
    assert scene_list(items) == [
        {"start_frame": 0, "end_frame": 3, "start_time": 0.0, "end_time": 0.16},
        {"start_frame": 4, "end_frame": 6, "start_time": 0.16, "end_time": 0.28},
        {"start_frame": 7, "end_frame": 9, "start_time": 0.28, "end_time": 0.4},
    ]


def test_frame_results_and_strided_frames():
    items = [FrameResult(i, i / 10, result(i == 6)) for i in range(0, 12, 3)]
    assert scene_list(items) == [
        {"start_frame": 0, "end_frame": 3, "start_time": 0.0, "end_time": 0.6},
        {"start_frame": 6, "end_frame": 9, "start_time": 0.6, "end_time": 1.2},
    ]


def test_without_timestamps_the_frame_rate_times_the_scenes():
    items = [{"frame_index": i, "result": result(i == 2)} for i in range(4)]
    assert scene_list(items, fps=2.0)[1] == {
        "start_frame": 2,
        "end_frame": 3,
        "start_time": 1.0,
        "end_time": 2.0,
    }
    with pytest.raises(ValueError, match="fps"):
        scene_list(items)


def test_skipped_frames_and_other_nodes():
    items = [
        {"frame_index": 0, "timestamp": 0.0, "result": {"cuts": {"cut": False}}},
        {"frame_index": 1, "timestamp": 0.5, "result": None, "error": {"type": "X"}},
        {"frame_index": 2, "timestamp": 1.0, "result": {"cuts": {"cut": True}}},
    ]
    assert [s["start_frame"] for s in scene_list(items, node="cuts")] == [0, 2]
    assert scene_list([]) == []
