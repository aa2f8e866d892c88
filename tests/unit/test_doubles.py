"""The test-double runners behave as documented."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from videopipe.testing import (
    FailureInjectingRunner,
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    add_fields,
)


def payload(index: int) -> dict[str, Any]:
    image = np.zeros((2, 3, 3), dtype=np.uint8)
    return {"frame_index": index, "image": image, "image_bytes": image.tobytes()}


def outcome(runner: FailureInjectingRunner, index: int) -> str:
    try:
        runner.run_pipeline("p", payload(index))
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def test_mock_output_is_the_seed_shape() -> None:
    assert MockDagPipelineService().run_pipeline("p", payload(7)) == {
        "mock": True,
        "pipeline_id": "p",
        "frame_index": 7,
        "bytes_length": 18,
    }


def test_unknown_fail_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="fail_mode must be None or one of"):
        MockDagPipelineService(fail_mode="explode")  # type: ignore[arg-type]


def test_latency_runner_sleeps() -> None:
    runner = MockDagPipelineServiceWithLatency(latency_seconds=0.05)
    started = time.monotonic()
    runner.run_pipeline("p", payload(0))
    assert time.monotonic() - started >= 0.05


def test_fail_at_targets_exactly_those_frames() -> None:
    runner = FailureInjectingRunner(fail_at=[1, 4])
    assert [outcome(runner, index) for index in range(6)] == [
        "ok",
        "RuntimeError",
        "ok",
        "ok",
        "RuntimeError",
        "ok",
    ]


def test_every_targets_the_nth_frames() -> None:
    runner = FailureInjectingRunner(every=3, exception="ValueError")
    assert [outcome(runner, index) for index in range(7)] == [
        "ok",
        "ok",
        "ValueError",
        "ok",
        "ok",
        "ValueError",
        "ok",
    ]


def test_probability_is_seeded_by_frame_not_by_call_order() -> None:
    forward = FailureInjectingRunner(probability=0.5, seed=7)
    backward = FailureInjectingRunner(probability=0.5, seed=7)
    first = [outcome(forward, index) for index in range(40)]
    second = [outcome(backward, index) for index in reversed(range(40))][::-1]
    assert first == second
    assert 5 < first.count("RuntimeError") < 35
    other_seed = FailureInjectingRunner(probability=0.5, seed=8)
    assert [outcome(other_seed, index) for index in range(40)] != first


def test_fail_times_then_succeed_per_frame() -> None:
    runner = FailureInjectingRunner(fail_at=[2], fail_times=2)
    assert [outcome(runner, 2) for _ in range(4)] == ["RuntimeError", "RuntimeError", "ok", "ok"]
    assert runner.attempts[2] == 4


def test_without_targets_every_frame_fails() -> None:
    runner = FailureInjectingRunner(exception=TimeoutError)
    assert {outcome(runner, index) for index in range(5)} == {"TimeoutError"}


def test_hang_blocks_then_returns() -> None:
    runner = FailureInjectingRunner(fail_at=[0], action="hang", hang_seconds=0.05)
    started = time.monotonic()
    assert runner.run_pipeline("p", payload(0))["frame_index"] == 0
    assert time.monotonic() - started >= 0.05


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"every": 0}, "every must be >= 1"),
        ({"probability": 1.5}, "probability must be within"),
        ({"fail_times": -1}, "fail_times must be >= 0"),
        ({"action": "explode"}, "action must be"),
        ({"exception": "NoSuchError"}, "exception must be"),
    ],
)
def test_invalid_failure_options_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FailureInjectingRunner(**options)


def test_add_fields_merges_into_the_output() -> None:
    assert add_fields({"a": 1})({"b": 2}) == {"b": 2, "a": 1}
