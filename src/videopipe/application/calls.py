"""Calling a runner with a per-call time limit, on one reusable daemon worker thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from videopipe.domain.errors import RunnerTimeoutError

_Task = tuple[Callable[..., Any], tuple[Any, ...], "_Outcome"] | None


class _Outcome:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


def _serve(tasks: queue.SimpleQueue[_Task]) -> None:
    while (task := tasks.get()) is not None:
        function, args, outcome = task
        try:
            outcome.value = function(*args)
        except BaseException as exc:  # handed to the caller, whatever it is
            outcome.error = exc
        finally:
            outcome.done.set()
            del task, outcome


class TimedCalls:
    """Runs calls on a worker thread and gives up on one after ``timeout`` seconds.

    A call that times out cannot be stopped (Python has no way to kill a thread): its
    worker is abandoned, finishes in the background as a daemon thread, and the next
    call gets a fresh worker. ``close`` stops an idle worker and waits for it.
    """

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError(f"runner_timeout must be > 0 seconds, got {timeout}")
        self.timeout = timeout
        self._tasks: queue.SimpleQueue[_Task] | None = None
        self._worker: threading.Thread | None = None

    def call(
        self, pipeline_id: str, frame_index: int, function: Callable[..., Any], *args: Any
    ) -> Any:
        """``function(*args)``, or :class:`RunnerTimeoutError` after ``timeout`` seconds."""
        if self._tasks is None:
            self._tasks = queue.SimpleQueue()
            self._worker = threading.Thread(
                target=_serve, args=(self._tasks,), daemon=True, name="videopipe-runner-call"
            )
            self._worker.start()
        outcome = _Outcome()
        self._tasks.put((function, args, outcome))
        if not outcome.done.wait(self.timeout):
            self._tasks.put(None)  # the worker exits once the hung call returns
            self._tasks, self._worker = None, None
            raise RunnerTimeoutError(pipeline_id, frame_index, self.timeout)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def close(self) -> None:
        """Stop the idle worker, if any, and wait for it."""
        if self._tasks is not None and self._worker is not None:
            self._tasks.put(None)
            self._worker.join()
        self._tasks, self._worker = None, None
