"""Holding Ctrl-C and SIGTERM back while a piece of output is written whole."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

DEFERRED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Delay SIGINT and SIGTERM until the block ends, then deliver them.

    A result line or a video frame is written whole, so an interrupted run never
    leaves half of one (and an encoder is never killed mid-frame). Outside the main
    thread (where handlers cannot be set) the block just runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def remember(number: int, frame: FrameType | None) -> None:
        received.append(number)

    previous = {number: signal.signal(number, remember) for number in DEFERRED_SIGNALS}
    try:
        yield
    finally:
        for deferred, handler in previous.items():
            signal.signal(deferred, signal.SIG_DFL if handler is None else handler)
        for number in dict.fromkeys(received):
            signal.raise_signal(number)  # the restored handler runs now


__all__ = ["DEFERRED_SIGNALS", "signals_deferred"]
