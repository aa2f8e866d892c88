"""The DAG runner's state under executors: per-thread history, bounds, retries, reuse."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from tests.executors.test_inprocess import Delta, Smooth
from videopipe import VideoFilePipelineService
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.work import UNBOUNDED_HISTORY


class Seen(Plugin):
    """Reports the frame indices in its history; counts setups and closes."""

    name = "seen"
    inputs: ClassVar[dict[str, str]] = {"frame_index": "index"}
    outputs: ClassVar[dict[str, str]] = {"seen": "history frame indices", "value": "index"}
    params: ClassVar[dict[str, Param]] = {"fail_once_on": Param(list[int], [], "frames")}
    history = 2
    recurrent = False
    setups = 0
    closes = 0
    attempts: ClassVar[dict[int, int]] = {}

    def setup(self) -> None:
        type(self).setups += 1

    def close(self) -> None:
        type(self).closes += 1

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        index = inputs["frame_index"]
        self.attempts[index] = self.attempts.get(index, 0) + 1
        if index in self.config["fail_once_on"] and self.attempts[index] == 1:
            raise ValueError(f"first attempt on {index}")
        return {"seen": [entry.frame_index for entry in history], "value": float(index)}


@pytest.fixture
def library(tmp_path: Path) -> PipelineLibrary:
    Seen.setups = Seen.closes = 0
    Seen.attempts = {}
    pipelines = {
        "seen": "nodes: {s: {plugin: seen}}",
        "seen_retry": "nodes: {s: {plugin: seen, params: {fail_once_on: [2]}}}",
        # histories 2 (seen) + 1 (delta) on one path, 1 (motion) on another: sum 4
        "wide": "nodes:\n  s: {plugin: seen}\n  d: {plugin: delta, inputs: {value: s.value}}\n"
        "  m: {plugin: motion}\n",
        "recurrent": "nodes:\n  s: {plugin: seen}\n"
        "  r: {plugin: smooth, inputs: {value: s.value}}\n",
        "stateless": "nodes: {g: {plugin: grayscale}}",
    }
    for name, text in pipelines.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    registry = PluginRegistry(entry_points=False)
    for plugin in (Seen, Delta, Smooth):
        registry._loaded[plugin.name] = plugin
        registry._targets[plugin.name] = f"tests:{plugin.__name__}"
    return PipelineLibrary([tmp_path], registry=registry)


def payload(index: int, video: str = "a.mp4") -> dict[str, Any]:
    return {
        "frame_index": index,
        "timestamp": index / 25,
        "image": np.zeros((8, 8, 3), np.uint8),
        "video_path": video,
    }


def test_history_frames_is_the_sum_of_histories_or_unbounded(library: PipelineLibrary) -> None:
    runner = DagPipelineRunner(library)
    assert runner.history_frames("seen") == 2
    assert runner.history_frames("wide") == 4
    assert runner.history_frames("stateless") == 0
    assert runner.history_frames("motion") == 1
    assert runner.history_frames("scenes") == 42  # shot_evidence 32 + shot_boundary 10
    assert runner.history_frames("recurrent") == UNBOUNDED_HISTORY
    assert DagPipelineRunner.thread_safe is True


def test_each_thread_keeps_its_own_history(library: PipelineLibrary) -> None:
    runner = DagPipelineRunner(library)
    seen: dict[str, list[list[int]]] = {}
    barrier = threading.Barrier(2)

    def run(name: str, indices: list[int]) -> None:
        barrier.wait()
        seen[name] = [runner.run_pipeline("seen", payload(i))["s"]["seen"] for i in indices]
        barrier.wait()  # both alive until both ran: neither can take the other's state

    threads = [
        threading.Thread(target=run, args=("low", [0, 1, 2, 3])),
        threading.Thread(target=run, args=("high", [10, 11, 12])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"low": [[], [0], [0, 1], [1, 2]], "high": [[], [10], [10, 11]]}
    assert Seen.setups == 2  # one instance per thread
    runner.close()
    assert Seen.closes == 2


def test_a_later_thread_reuses_plugins_but_not_history(library: PipelineLibrary) -> None:
    runner = DagPipelineRunner(library)

    def run(indices: list[int], out: list[Any]) -> None:
        out.extend(runner.run_pipeline("seen", payload(i))["s"]["seen"] for i in indices)

    first: list[Any] = []
    thread = threading.Thread(target=run, args=([0, 1, 2], first))
    thread.start()
    thread.join()
    second: list[Any] = []
    thread = threading.Thread(target=run, args=([3, 4], second))
    thread.start()
    thread.join()
    assert first == [[], [0], [0, 1]]
    assert second == [[], [3]]  # the ended thread's history is not carried over
    assert Seen.setups == 1  # its plugin instance (a loaded model) is


def test_a_retried_frame_gives_its_slots_back(library: PipelineLibrary, tmp_path: Path) -> None:
    service = VideoFilePipelineService(DagPipelineRunner(library), retries=1)
    runner = service.runner
    results = [runner.run_pipeline("seen_retry", payload(i)) for i in (0, 1)]
    with pytest.raises(Exception, match="first attempt on 2"):
        runner.run_pipeline("seen_retry", payload(2))
    results.append(runner.run_pipeline("seen_retry", payload(2)))  # the retry
    results.append(runner.run_pipeline("seen_retry", payload(3)))
    assert [result["s"]["seen"] for result in results] == [[], [0], [0, 1], [1, 2]]


def test_a_failed_frame_leaves_a_gap_in_the_window(library: PipelineLibrary) -> None:
    runner = DagPipelineRunner(library)
    runner.run_pipeline("seen_retry", payload(0))
    runner.run_pipeline("seen_retry", payload(1))
    with pytest.raises(Exception, match="first attempt on 2"):
        runner.run_pipeline("seen_retry", payload(2))
    # frame 3 sees the last two frames' entries: frame 2 left none, frame 0 is too old
    assert runner.run_pipeline("seen_retry", payload(3))["s"]["seen"] == [1]
    assert runner.run_pipeline("seen_retry", payload(4))["s"]["seen"] == [3]


def test_a_new_video_or_an_earlier_frame_starts_history_over(library: PipelineLibrary) -> None:
    runner = DagPipelineRunner(library)
    for index in range(3):
        runner.run_pipeline("seen", payload(index))
    assert runner.run_pipeline("seen", payload(3, video="b.mp4"))["s"]["seen"] == []
    assert runner.run_pipeline("seen", payload(1, video="b.mp4"))["s"]["seen"] == []
