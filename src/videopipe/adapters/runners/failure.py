"""A failure-injecting test-double runner for realistic faults.

Which frames fail is decided by frame index (and a seed), never by call order, so a
run gives the same failures whatever order or concurrency frames are processed in.
"""

from __future__ import annotations

import builtins
import random
import threading
import time
from collections.abc import Iterable
from typing import Any, Literal

from videopipe.adapters.runners._recording import CallRecorder, mock_output

Action = Literal["raise", "hang"]


def exception_type(name_or_type: str | type[Exception]) -> type[Exception]:
    """An exception class, given itself or the name of a builtin exception."""
    if isinstance(name_or_type, type) and issubclass(name_or_type, Exception):
        return name_or_type
    found = getattr(builtins, str(name_or_type), None)
    if isinstance(found, type) and issubclass(found, Exception):
        return found
    raise ValueError(
        f"exception must be an Exception subclass or a builtin exception name, got {name_or_type!r}"
    )


class FailureInjectingRunner(CallRecorder):
    """Fails chosen frames; every other call returns the mock output.

    A frame is *targeted* when its index is in ``fail_at``, when it is the ``every``-th,
    2``every``-th, ... frame of the video (indices ``every - 1``, ``2 * every - 1``, ...),
    or when a draw seeded by ``(seed, frame index)`` falls below ``probability``.
    With none of the three given, every frame is targeted.

    On a targeted frame, ``action="raise"`` raises ``exception(message)`` and
    ``action="hang"`` blocks for ``hang_seconds`` and then returns normally.
    ``fail_times`` limits how many attempts on one frame are affected (the later
    attempts succeed, as for a retry); ``None`` affects every attempt.
    """

    thread_safe = True
    """May be called from several threads at once (attempts are counted under a lock)."""

    def history_frames(self, pipeline_id: str) -> int:
        """0: stateless (failures are decided by frame index and attempt, not order)."""
        return 0

    def __init__(
        self,
        *,
        fail_at: Iterable[int] = (),
        every: int | None = None,
        probability: float = 0.0,
        seed: int = 0,
        fail_times: int | None = None,
        exception: str | type[Exception] = RuntimeError,
        message: str = "injected failure",
        action: Action = "raise",
        hang_seconds: float = 0.0,
        keep_images: bool = False,
    ) -> None:
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within [0, 1], got {probability}")
        if fail_times is not None and fail_times < 0:
            raise ValueError(f"fail_times must be >= 0 or None, got {fail_times}")
        if action not in ("raise", "hang"):
            raise ValueError(f"action must be 'raise' or 'hang', got {action!r}")
        if hang_seconds < 0:
            raise ValueError(f"hang_seconds must be >= 0, got {hang_seconds}")
        super().__init__(keep_images=keep_images)
        self.fail_at = frozenset(int(index) for index in fail_at)
        self.every = every
        self.probability = probability
        self.seed = seed
        self.fail_times = fail_times
        self.exception = exception_type(exception)
        self.message = message
        self.action: Action = action
        self.hang_seconds = hang_seconds
        self.attempts: dict[int, int] = {}
        self._lock = threading.Lock()
        self._target_all = not self.fail_at and every is None and probability == 0.0

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the lock (executors send runners to other processes)."""
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def is_targeted(self, frame_index: int) -> bool:
        """Whether ``frame_index`` is one of the frames this runner fails."""
        if self._target_all or frame_index in self.fail_at:
            return True
        if self.every is not None and (frame_index + 1) % self.every == 0:
            return True
        if self.probability > 0.0:
            return random.Random(f"{self.seed}:{frame_index}").random() < self.probability
        return False

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Record the call; fail or hang on targeted frames, else return the mock output."""
        self.record(pipeline_id, payload)
        index = int(payload["frame_index"])
        with self._lock:
            attempt = self.attempts.get(index, 0) + 1
            self.attempts[index] = attempt
        affected = self.fail_times is None or attempt <= self.fail_times
        if affected and self.is_targeted(index):
            if self.action == "hang":
                time.sleep(self.hang_seconds)
            else:
                raise self.exception(f"{self.message} (frame {index}, attempt {attempt})")
        return mock_output(pipeline_id, payload)
