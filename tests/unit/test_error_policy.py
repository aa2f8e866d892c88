"""Error policies, retries and the per-call runner timeout, as properties and cases."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fakes import FakeFrameSource
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import RunnerTimeoutError, VideoPipeError
from videopipe.testing import FailureInjectingRunner, MockDagPipelineService


class ScriptedRunner:
    """Fails frame i's first ``failures[i]`` attempts with RuntimeError, then succeeds."""

    def __init__(self, failures: dict[int, int]) -> None:
        self.failures = failures
        self.attempts: dict[int, int] = {}

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        index = payload["frame_index"]
        self.attempts[index] = self.attempts.get(index, 0) + 1
        if self.attempts[index] <= self.failures.get(index, 0):
            raise RuntimeError(f"scripted failure {self.attempts[index]} on frame {index}")
        return {"frame": index, "attempt": self.attempts[index]}


@settings(max_examples=300, deadline=None)
@given(
    frame_count=st.integers(0, 12),
    stride=st.integers(1, 4),
    failures=st.dictionaries(st.integers(0, 11), st.integers(0, 4), max_size=12),
    retries=st.integers(0, 3),
    on_error=st.sampled_from(["raise", "skip"]),
)
def test_any_failure_sequence_gives_the_expected_results_and_errors(
    frame_count: int, stride: int, failures: dict[int, int], retries: int, on_error: str
) -> None:
    runner = ScriptedRunner(failures)
    service = VideoFilePipelineService(
        runner,
        stride,
        frame_source=FakeFrameSource(frame_count),
        retries=retries,
        on_error=on_error,  # type: ignore[arg-type]
    )
    expected: list[dict[str, Any]] = []
    fatal: int | None = None
    for index in range(0, frame_count, stride):
        failed = failures.get(index, 0)
        if failed <= retries:
            expected.append(
                {"frame_index": index, "result": {"frame": index, "attempt": failed + 1}}
            )
        elif on_error == "skip":
            error = {
                "type": "RuntimeError",
                "message": f"scripted failure {retries + 1} on frame {index}",
                "attempts": retries + 1,
            }
            expected.append({"frame_index": index, "result": None, "error": error})
        else:
            fatal = index
            break

    if fatal is None:
        assert service.run_on_file("p", "clip.mp4") == expected
    else:
        with pytest.raises(RuntimeError, match=f"on frame {fatal}") as caught:
            service.run_on_file("p", "clip.mp4")
        assert caught.value.partial_results == expected  # type: ignore[attr-defined]
        assert runner.attempts[fatal] == retries + 1
        assert any(f"frame {fatal}" in note for note in caught.value.__notes__)


@settings(max_examples=100, deadline=None)
@given(
    fail_at=st.sets(st.integers(0, 30), max_size=8),
    every=st.none() | st.integers(1, 10),
    frame_count=st.integers(1, 31),
)
def test_failure_runner_skips_exactly_its_targets(
    fail_at: set[int], every: int | None, frame_count: int
) -> None:
    runner = FailureInjectingRunner(fail_at=fail_at, every=every)
    service = VideoFilePipelineService(
        runner, frame_source=FakeFrameSource(frame_count), on_error="skip"
    )
    results = service.run_on_file("p", "clip.mp4")
    targeted = {
        index
        for index in range(frame_count)
        if index in fail_at
        or (every is not None and (index + 1) % every == 0)
        or (not fail_at and every is None)
    }
    assert [item["frame_index"] for item in results] == list(range(frame_count))
    assert {item["frame_index"] for item in results if "error" in item} == targeted
    assert all(item["result"] is None for item in results if "error" in item)


def test_retries_let_a_flaky_frame_succeed() -> None:
    runner = FailureInjectingRunner(fail_at=[2], fail_times=2)
    service = VideoFilePipelineService(runner, frame_source=FakeFrameSource(4), retries=2)
    assert [item["frame_index"] for item in service.run_on_file("p", "c.mp4")] == [0, 1, 2, 3]
    assert runner.attempts[2] == 3


def test_a_hung_runner_call_becomes_a_typed_timeout_error() -> None:
    runner = FailureInjectingRunner(fail_at=[1], action="hang", hang_seconds=10.0)
    service = VideoFilePipelineService(runner, frame_source=FakeFrameSource(4), runner_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(RunnerTimeoutError, match=r"longer than 0\.2 s on frame 1") as caught:
        service.run_on_file("p", "c.mp4")
    assert time.monotonic() - started < 5.0  # did not wait for the 10 s hang
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, VideoPipeError)
    assert [item["frame_index"] for item in caught.value.partial_results] == [0]  # type: ignore[attr-defined]


def test_a_timed_out_frame_is_skipped_and_the_run_goes_on() -> None:
    runner = FailureInjectingRunner(fail_at=[1], action="hang", hang_seconds=0.5)
    service = VideoFilePipelineService(
        runner, frame_source=FakeFrameSource(4), runner_timeout=0.1, on_error="skip"
    )
    results = service.run_on_file("p", "c.mp4")
    assert [item["frame_index"] for item in results] == [0, 1, 2, 3]
    assert results[1]["error"]["type"] == "RunnerTimeoutError"
    assert results[2]["result"]["frame_index"] == 2


def test_the_timeout_worker_thread_does_not_outlive_a_normal_run() -> None:
    before = threading.active_count()
    service = VideoFilePipelineService(
        MockDagPipelineService(), frame_source=FakeFrameSource(5), runner_timeout=5.0
    )
    assert len(service.run_on_file("p", "c.mp4")) == 5
    assert threading.active_count() == before


def test_runner_exceptions_pass_through_the_timeout_worker_with_their_type() -> None:
    runner = MockDagPipelineService(fail_mode="pipeline_not_found")
    service = VideoFilePipelineService(runner, frame_source=FakeFrameSource(2), runner_timeout=5.0)
    with pytest.raises(FileNotFoundError, match="Pipeline not found"):
        service.run_on_file("p", "c.mp4")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_error": "ignore"}, "on_error must be one of raise, skip"),
        ({"retries": -1}, "retries must be >= 0"),
        ({"runner_timeout": 0}, "runner_timeout must be a number of seconds > 0"),
        ({"runner_timeout": "5"}, "runner_timeout must be a number of seconds > 0"),
    ],
)
def test_invalid_policy_arguments_are_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VideoFilePipelineService(
            MockDagPipelineService(), frame_source=FakeFrameSource(), **options
        )
