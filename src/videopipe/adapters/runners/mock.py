"""The seed's test-double runners: deterministic mock, latency and output mutation.

Never imported by functional code; select them by configuration (``runner: mock``,
``latency``, ``mutation``) or import them from :mod:`videopipe.testing`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from videopipe.adapters.runners._recording import CallRecorder, mock_output

FailMode = Literal["pipeline_not_found", "plugin_error", "random_failure"]
FAIL_MODES: tuple[str, ...] = ("pipeline_not_found", "plugin_error", "random_failure")
Mutator = Callable[[dict[str, Any]], dict[str, Any]]


class MockDagPipelineService(CallRecorder):
    """A deterministic mock DAG runner with optional failure injection.

    ``fail_mode``: ``None`` always succeeds; ``"pipeline_not_found"`` raises
    FileNotFoundError, ``"plugin_error"`` RuntimeError, ``"random_failure"`` ValueError.
    Success returns ``{"mock": True, "pipeline_id", "frame_index", "bytes_length"}``.
    """

    thread_safe = True
    """May be called from several threads at once (``calls`` is appended atomically;
    under concurrency its order is the order calls started, not frame order)."""

    def history_frames(self, pipeline_id: str) -> int:
        """0: stateless, every result depends on its own frame only."""
        return 0

    def __init__(self, *, fail_mode: FailMode | None = None, keep_images: bool = False) -> None:
        if fail_mode is not None and fail_mode not in FAIL_MODES:
            raise ValueError(
                f"fail_mode must be None or one of {', '.join(FAIL_MODES)}, got {fail_mode!r}"
            )
        super().__init__(keep_images=keep_images)
        self.fail_mode = fail_mode

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Record the call, inject the configured failure, else return the mock output."""
        self.record(pipeline_id, payload)
        if self.fail_mode == "pipeline_not_found":
            raise FileNotFoundError("Pipeline not found")
        if self.fail_mode == "plugin_error":
            raise RuntimeError("Plugin execution failed")
        if self.fail_mode == "random_failure":
            raise ValueError("Random failure")
        return mock_output(pipeline_id, payload)


class MockDagPipelineServiceWithLatency(CallRecorder):
    """The mock runner, sleeping ``latency_seconds`` on every call."""

    thread_safe = True
    """May be called from several threads at once (``calls`` is appended atomically;
    under concurrency its order is the order calls started, not frame order)."""

    def history_frames(self, pipeline_id: str) -> int:
        """0: stateless, every result depends on its own frame only."""
        return 0

    def __init__(self, *, latency_seconds: float = 0.0, keep_images: bool = False) -> None:
        if latency_seconds < 0:
            raise ValueError(f"latency_seconds must be >= 0, got {latency_seconds}")
        super().__init__(keep_images=keep_images)
        self.latency_seconds = latency_seconds

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Record the call, sleep, return the mock output."""
        self.record(pipeline_id, payload)
        if self.latency_seconds > 0:
            time.sleep(self.latency_seconds)
        return mock_output(pipeline_id, payload)


class MockDagPipelineServiceWithMutation(CallRecorder):
    """The mock runner whose output goes through ``mutator`` before it is returned.

    Declared thread-safe: a ``mutator`` given to it must be too (``add_fields``'s is).
    """

    thread_safe = True
    """May be called from several threads at once (``calls`` is appended atomically;
    under concurrency its order is the order calls started, not frame order)."""

    def history_frames(self, pipeline_id: str) -> int:
        """0: stateless, every result depends on its own frame only."""
        return 0

    def __init__(self, mutator: Mutator, *, keep_images: bool = False) -> None:
        if not callable(mutator):
            raise TypeError(f"mutator must be callable, got {type(mutator).__name__}")
        super().__init__(keep_images=keep_images)
        self.mutator = mutator

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Record the call and return ``mutator(mock output)``."""
        self.record(pipeline_id, payload)
        return self.mutator(mock_output(pipeline_id, payload))


def add_fields(fields: dict[str, Any]) -> Mutator:
    """A mutator that adds (or overwrites) ``fields`` in every output."""
    frozen = dict(fields)

    def mutate(output: dict[str, Any]) -> dict[str, Any]:
        output.update(frozen)
        return output

    return mutate
