"""Worker processes for the ``segments`` executor: one pipe each, one segment at a time.

A pool of our own rather than :mod:`concurrent.futures`: when a worker dies, this
pool knows which segment it was running (so only that one is retried), and an early
close stops exactly the workers that are still busy. Workers are started with
``forkserver`` (or ``spawn``), never ``fork``: the parent may run threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import FrameType
from typing import Any, Protocol

from videopipe.adapters._malloc import tune_glibc_malloc
from videopipe.adapters.executors._segmenting import (
    Recipe,
    Segment,
    load_recipe,
    pack_error,
    run_segment,
)
from videopipe.adapters.quiet import quiet_if_asked
from videopipe.domain.errors import ConfigurationError

START_METHODS: tuple[str, ...] = ("forkserver", "spawn")
_STOP_GRACE = 3.0
"""Seconds a worker told to stop (SIGTERM) gets before it is killed."""


def default_start_method() -> str:
    """``forkserver`` where the platform has it, else ``spawn``."""
    available = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in available else "spawn"


def check_start_method(start_method: str | None) -> str:
    """``start_method`` (default :func:`default_start_method`) if it is one of ours."""
    method = start_method or default_start_method()
    if method not in START_METHODS:
        raise ConfigurationError(
            f"start_method must be one of {', '.join(START_METHODS)}, got {method!r}"
        )
    return method


def raise_exit(signum: int, _frame: FrameType | None) -> None:
    """A signal handler that unwinds the process (``finally`` blocks run), exit 128 + signum."""
    raise SystemExit(128 + signum)


def watch_parent(parent: int) -> None:
    """Stop this worker (cleanly, through SIGTERM) when the process that started it dies."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="videopipe-parent-watch", daemon=True).start()


def worker_main(conn: Connection, tune_malloc: bool = True) -> None:
    """A worker's loop: receive recipes and segments, send results back.

    Messages in: ``("recipe", key, pickled recipe)``, ``("run", task, key, segment)``,
    ``("stop",)``. Out: ``("results", task, [FrameResult, ...])``, ``("done", task)``,
    ``("failed", task, packed error)``. Ctrl-C is the parent's to handle; SIGTERM
    unwinds (closing the decoder) and exits. ``tune_malloc``: fix glibc's thresholds
    (:func:`~videopipe.adapters._malloc.tune_glibc_malloc`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, raise_exit)
    watch_parent(os.getppid())
    quiet_if_asked()  # the libraries' logs, as in the process that started this one
    if tune_malloc:
        tune_glibc_malloc()
    recipes: dict[int, Recipe | Exception] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        if message[0] == "recipe":
            _, key, state = message
            recipes.clear()  # one video's recipe at a time
            try:
                recipes[key] = load_recipe(state)
            except Exception as exc:
                recipes[key] = exc
            continue
        _, task, key, segment = message
        _run_task(conn, task, recipes.get(key), segment)


def _run_task(
    conn: Connection, task: int, recipe: Recipe | Exception | None, segment: Segment
) -> None:
    def emit(batch: list[Any]) -> None:
        try:
            message = pickle.dumps(("results", task, batch))
        except Exception as exc:
            raise ConfigurationError(
                f"the runner's results cannot be sent back from a worker process "
                f"({type(exc).__name__}: {exc}); results must be picklable values"
            ) from exc
        conn.send_bytes(message)

    try:
        if recipe is None:
            raise RuntimeError("videopipe: the worker was given no recipe for this video")
        if isinstance(recipe, Exception):
            raise recipe
        run_segment(recipe, segment, emit)
    except Exception as exc:
        conn.send(("failed", task, pack_error(exc, segment)))
    else:
        conn.send(("done", task))


class WorkerProcess:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self, context: multiprocessing.context.BaseContext, *, tune_malloc: bool = True
    ) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.conn: Connection = parent_end
        self.process = context.Process(  # type: ignore[attr-defined]
            target=worker_main,
            args=(child_end, tune_malloc),
            name="videopipe-segment-worker",
            daemon=True,
        )
        self.process.start()
        child_end.close()
        self.recipe_key: int | None = None
        self.task: Any = None
        """What the scheduler gave this worker to run (``None``: idle)."""

    @property
    def sentinel(self) -> int:
        """Becomes ready when the process ends."""
        sentinel: int = self.process.sentinel
        return sentinel

    def alive(self) -> bool:
        """Whether the process still runs."""
        alive: bool = self.process.is_alive()
        return alive

    def exit_description(self) -> str:
        """How the process ended (exit code or signal)."""
        code = self.process.exitcode
        if code is None:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"

    def send(self, message: tuple[Any, ...]) -> None:
        """Send a message (raises ``OSError`` if the worker is gone)."""
        self.conn.send(message)


class StoppableWorker(Protocol):
    """What :func:`stop_workers` needs of a worker: its process, its pipe, whether it is busy."""

    @property
    def process(self) -> Any:
        """The worker's ``multiprocessing`` process."""
        ...

    @property
    def conn(self) -> Connection:
        """The parent's end of the worker's pipe."""
        ...

    @property
    def task(self) -> object:
        """What the worker runs now (``None``: idle)."""
        ...

    def send(self, message: tuple[Any, ...]) -> None:
        """Send the worker a message (raises ``OSError`` if it is gone)."""
        ...


def stop_workers(workers: Sequence[StoppableWorker], *, graceful: bool) -> None:
    """End ``workers`` and wait for them: ``stop`` messages (idle) or SIGTERM, then SIGKILL.

    SIGTERM lets a busy worker close its decoder (and the decoder's own processes).
    """
    for worker in workers:
        with contextlib.suppress(OSError, ValueError):
            if graceful and worker.task is None:
                worker.send(("stop",))
            else:
                worker.process.terminate()
    deadline = time.monotonic() + _STOP_GRACE
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        with contextlib.suppress(OSError):
            worker.conn.close()
        with contextlib.suppress(ValueError):
            worker.process.close()
