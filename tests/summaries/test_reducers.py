"""The reducers alone: intervals, joining, keys and counts, scene lists; memory stays flat."""

from __future__ import annotations

import tracemalloc
from collections.abc import Mapping
from typing import Any

import pytest

from videopipe import FrameResult, summarize
from videopipe.adapters.plugins.shots import scene_list
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.adapters.summaries import (
    IntervalTracker,
    MotionIntervals,
    SceneList,
    code_intervals,
    label_intervals,
    marker_intervals,
    text_intervals,
)
from videopipe.ports.plugins import FrameContext, Plugin
from videopipe.ports.summaries import Reducer


def spans(tracker: IntervalTracker) -> list[tuple[Any, int, int]]:
    return [(key, i.first_frame, i.last_frame) for key, i in tracker.intervals()]


def feed(tracker: IntervalTracker, frames: dict[int, list[str]], count: int) -> None:
    for index in range(count):
        tracker.step(index, index / 10, frames.get(index, []))


def test_a_key_seen_on_consecutive_frames_is_one_interval_with_their_times():
    tracker = IntervalTracker()
    feed(tracker, {2: ["a"], 3: ["a"], 4: ["a", "a"]}, 8)
    ((key, interval),) = tracker.intervals()
    assert key == "a"
    assert interval.to_dict() == {
        "first_frame": 2,
        "last_frame": 4,
        "start_time": 0.2,
        "end_time": 0.4,
    }


@pytest.mark.parametrize(
    ("max_gap", "want"),
    [
        (0, [("a", 0, 1), ("a", 3, 3), ("a", 6, 6)]),
        (1, [("a", 0, 3), ("a", 6, 6)]),
        (2, [("a", 0, 6)]),
    ],
)
def test_intervals_join_across_up_to_max_gap_frames(max_gap, want):
    tracker = IntervalTracker(max_gap)
    feed(tracker, {0: ["a"], 1: ["a"], 3: ["a"], 6: ["a"]}, 9)
    assert spans(tracker) == want


def test_intervals_come_by_start_then_by_the_order_keys_appeared():
    tracker = IntervalTracker()
    feed(tracker, {0: ["b"], 1: ["b", "a"], 2: ["c", "a"], 4: ["a"]}, 5)
    assert spans(tracker) == [("b", 0, 1), ("a", 1, 2), ("c", 2, 2), ("a", 4, 4)]


def test_a_stride_counts_processed_frames_not_indices():
    tracker = IntervalTracker()
    for index in range(0, 30, 5):  # frames 0, 5, 10, ...: adjacent when processed
        tracker.step(index, index / 25, ["x"])
    assert spans(tracker) == [("x", 0, 25)]


def test_max_gap_must_be_a_count():
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="max_gap"):
            IntervalTracker(bad)  # type: ignore[arg-type]


def test_keyed_summaries_say_max_gap_and_group_per_key():
    reducer = code_intervals(max_gap=1)
    codes = [[], [{"text": "a"}], [{"text": "a"}, {"text": "b"}], [], [{"text": "a"}]]
    for index, found in enumerate(codes):
        reducer.add(index, index * 0.5, {"codes": found})
    assert reducer.summary() == {
        "max_gap": 1,
        "codes": [
            {
                "text": "a",
                "frames": 3,
                "intervals": [
                    {
                        "first_frame": 1,
                        "last_frame": 4,
                        "start_time": 0.5,
                        "end_time": 2.0,
                        "text": "a",
                    }
                ],
            },
            {
                "text": "b",
                "frames": 1,
                "intervals": [
                    {
                        "first_frame": 2,
                        "last_frame": 2,
                        "start_time": 1.0,
                        "end_time": 1.0,
                        "text": "b",
                    }
                ],
            },
        ],
    }


def test_detections_are_counted_per_label():
    reducer = label_intervals()
    frames = [
        [{"label": "person"}, {"label": "person"}, {"label": "car"}],
        [{"label": "person"}],
        [],
        [{"label": "car"}],
    ]
    for index, found in enumerate(frames):
        reducer.add(index, float(index), {"detections": found})
    person, car = reducer.summary()["labels"]
    assert (person["label"], person["frames"], person["detections"], person["max_per_frame"]) == (
        "person",
        2,
        3,
        2,
    )
    assert [(i["first_frame"], i["last_frame"]) for i in person["intervals"]] == [(0, 1)]
    assert [(i["first_frame"], i["last_frame"], i["label"]) for i in car["intervals"]] == [
        (0, 0, "car"),
        (3, 3, "car"),
    ]


def test_markers_by_id_and_texts_by_text():
    markers, texts = marker_intervals(), text_intervals()
    markers.add(0, 0.0, {"markers": [{"id": 7}, {"id": 3}]})
    markers.add(1, 0.1, {"markers": [{"id": 7}]})
    texts.add(0, 0.0, {"texts": [{"text": "EXIT"}, {"text": "EXIT"}]})
    texts.add(1, 0.1, {"texts": None})
    assert [(m["id"], m["frames"]) for m in markers.summary()["markers"]] == [(7, 2), (3, 1)]
    assert markers.summary()["markers"][0]["intervals"][0]["id"] == 7
    ((exit_,),) = [texts.summary()["texts"]]
    assert (exit_["text"], exit_["frames"], len(exit_["intervals"])) == ("EXIT", 1, 1)


def test_motion_intervals_count_the_frames_with_motion():
    reducer = MotionIntervals(max_gap=0)
    for index, moving in enumerate([False, True, True, False, True]):
        reducer.add(index, index / 4, {"moving": moving, "score": 0.1})
    summary = reducer.summary()
    assert summary["frames"] == 3
    assert [(i["first_frame"], i["last_frame"]) for i in summary["intervals"]] == [(1, 2), (4, 4)]


def test_the_scene_list_has_the_frames_of_shots_scene_list():
    cuts = {0: False, 3: True, 6: False, 9: True, 12: False, 15: False}
    results = [
        FrameResult(index, index / 25, {"scene": {"cut": cut}}) for index, cut in cuts.items()
    ]
    reducer = SceneList()
    for item in results:
        reducer.add(item.frame_index, item.timestamp, item.result["scene"])
    scenes = reducer.summary()["scenes"]
    reference = scene_list(results)
    assert [(s["first_frame"], s["last_frame"], s["start_time"]) for s in scenes] == [
        (s["start_frame"], s["end_frame"], s["start_time"]) for s in reference
    ]
    assert [s["end_time"] for s in scenes] == [0.0, 0.24, 0.6]  # their last frames' times


def test_a_summary_does_not_close_what_is_still_open():
    reducer = MotionIntervals()
    reducer.add(0, 0.0, {"moving": True})
    first = reducer.summary()
    reducer.add(1, 0.1, {"moving": True})
    assert first["intervals"][0]["last_frame"] == 0
    assert reducer.summary()["intervals"][0]["last_frame"] == 1


# -- memory -----------------------------------------------------------------------

FRAMES = 200_000
LIMIT = 256 * 1024
"""Bytes a reducer may hold after 200k frames whose answer is a handful of intervals."""


class ListingReducer:
    """What the memory test must catch: a reducer that keeps every frame."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, float, Mapping[str, Any]]] = []

    def add(self, frame_index: int, timestamp: float, output: Mapping[str, Any]) -> None:
        self.frames.append((frame_index, timestamp, output))

    def summary(self) -> dict[str, Any]:
        return {"frames": len(self.frames)}


def held_after_feeding(reducer: Reducer, output: Mapping[str, Any]) -> int:
    """Bytes allocated and still held by ``reducer`` after 200k frames of ``output``."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(FRAMES):
            reducer.add(index, index / 25, output)
        reducer.summary()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


OUTPUTS: dict[str, tuple[Any, Mapping[str, Any]]] = {
    "scenes": (SceneList, {"cut": False, "score": 0.1}),
    "motion": (MotionIntervals, {"moving": True, "score": 0.5, "box": [1, 2, 3, 4]}),
    "qr": (code_intervals, {"codes": [{"text": "hello"}, {"text": "world"}]}),
    "aruco": (marker_intervals, {"markers": [{"id": 1}, {"id": 2}]}),
    "detectors": (label_intervals, {"detections": [{"label": "person"}, {"label": "car"}]}),
    "ocr": (text_intervals, {"texts": [{"text": "EXIT"}]}),
}


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_a_reducer_holds_no_per_frame_state(name):
    make, output = OUTPUTS[name]
    held = held_after_feeding(make(), output)
    assert held < LIMIT, f"{name} holds {held / 1e6:.1f} MB after {FRAMES} frames"


def test_the_memory_bound_catches_a_reducer_that_lists_frames():
    assert held_after_feeding(ListingReducer(), {"moving": True}) > LIMIT


# -- plugins, runner and summarize ------------------------------------------------------


class NoSummary(Plugin):
    name = "no_summary"

    def process(self, inputs, context: FrameContext, history=()):
        return {}


def test_a_plugin_declares_no_reducer_by_default():
    assert NoSummary.reducer({}, max_gap=3) is None


def test_the_dag_runner_gives_fresh_reducers_for_output_nodes_with_one():
    runner = DagPipelineRunner()
    first = runner.reducers("scenes")
    assert list(first) == ["scene"]  # signature and evidence are not outputs
    assert first["scene"] is not runner.reducers("scenes")["scene"]
    assert runner.reducers("motion", max_gap=4)["motion"].summary()["max_gap"] == 4


def test_summarize_rebuilds_the_reports_of_stored_results_per_video():
    def results(cuts: list[int], count: int) -> list[FrameResult]:
        return [
            FrameResult(i, i / 10, {"scene": {"cut": i in cuts, "kind": None, "score": 0.0}})
            for i in range(count)
        ]

    skipped = FrameResult(5, 0.5, None, {"type": "RuntimeError", "message": "boom"})
    pairs = [("a.mp4", item) for item in results([3], 5)]
    pairs += [("a.mp4", skipped)] + [("b.mp4", item) for item in results([2, 4], 6)]
    first, second = summarize("scenes", pairs)
    assert (first.video, first.frames_processed, first.info) == ("a.mp4", 6, None)
    assert [s.frame_index for s in first.skipped] == [5]
    assert first.skipped[0].error["message"] == "boom"
    assert [s["first_frame"] for s in first.summaries["scene"]["scenes"]] == [0, 3]
    assert [s["first_frame"] for s in second.summaries["scene"]["scenes"]] == [0, 2, 4]
    (alone,) = summarize("scenes", results([1], 3), video="c.mp4")
    assert alone.video == "c.mp4"
    assert summarize("scenes", []) == []


def test_summarize_lists_frames_a_pipeline_skipped_itself():
    error = {
        "node": "codes",
        "plugin": "qr_decode",
        "type": "ValueError",
        "message": "x",
        "attempts": 1,
    }
    frames = [
        FrameResult(0, 0.0, {"codes": {"codes": [{"text": "a"}]}}),
        FrameResult(1, 0.1, {"error": error}),
        FrameResult(2, 0.2, {"codes": {"codes": [{"text": "a"}]}}),
    ]
    (report,) = summarize("qr_codes", frames)
    assert [s.frame_index for s in report.skipped] == [1]
    ((interval,),) = [report.summaries["codes"]["codes"][0]["intervals"]]
    assert (interval["first_frame"], interval["last_frame"]) == (0, 2)
