"""Decoding overlapped with analysis: frames decoded ahead on a thread, into a bounded buffer.

The decoder runs on one background thread (``videopipe-decode``) and the runner on the
calling thread, so a frame is decoded while the previous one is analysed. At most
``depth`` decoded frames wait in the buffer: a slow runner makes the decoder wait (memory
stays bounded), a decoder failure reaches the caller after every frame decoded before
it, and closing the results early stops the decoder thread and closes the file.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from typing import Final

from videopipe.adapters._closing import Closing
from videopipe.application.settings import check_int
from videopipe.domain.model import Frame, FrameResult, FrameSelection
from videopipe.ports.closing import close_if_closeable
from videopipe.ports.frames import VideoReader
from videopipe.ports.work import VideoWork

DEFAULT_DEPTH: Final = 4
"""Decoded frames the buffer holds by default (a 1080p RGB frame is 6.2 MB)."""

_LIVENESS_SECONDS: Final = 1.0


class _Failure:
    """An exception raised on the decode thread, carried to the caller in frame order."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END: Final = object()


class FramePump(Closing):
    """Decodes ``reader``'s selected frames on a background thread into a bounded buffer.

    :meth:`get` returns the next frame, ``None`` after the last one, or raises the
    decoder's exception (after every frame decoded before it). :meth:`close` (also on
    leaving the ``with`` block) stops the thread at its next frame, closes the frame
    generator on that thread (a generator is closed by the thread that runs it) and
    waits for it; the caller closes ``reader`` afterwards. At most ``depth`` frames wait
    in the buffer, plus the one the thread holds while the buffer is full.
    """

    def __init__(self, reader: VideoReader, selection: FrameSelection, depth: int) -> None:
        self._reader = reader
        self._selection = selection
        self._depth = check_int("depth", depth, 1)
        self._items: collections.deque[object] = collections.deque()
        self._ready = threading.Condition()
        self._stopped = False
        self.decoded = 0
        """Frames decoded so far."""
        self._thread = threading.Thread(target=self._pump, name="videopipe-decode", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        frames = self._reader.frames(self._selection)
        try:
            for frame in frames:
                self.decoded += 1
                if not self._put(frame):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the caller, in order, whatever it is
            self._put(_Failure(exc))
        finally:
            close_if_closeable(frames)

    def _put(self, item: object) -> bool:
        with self._ready:
            while len(self._items) >= self._depth and not self._stopped:
                self._ready.wait()
            if self._stopped:
                return False
            self._items.append(item)
            self._ready.notify_all()
            return True

    def get(self) -> Frame | None:
        """The next decoded frame; ``None`` after the last; the decoder's error in turn."""
        with self._ready:
            while not self._items:
                if self._stopped:
                    raise RuntimeError("the frame pump was closed")
                if not self._ready.wait(_LIVENESS_SECONDS) and not self._thread.is_alive():
                    if self._items:
                        break
                    raise RuntimeError("the decode thread ended without a result")
            item = self._items[0]
            if isinstance(item, Frame):  # the end and a failure stay: later calls see them
                self._items.popleft()
                self._ready.notify_all()
                return item
        if isinstance(item, _Failure):
            raise item.error
        return None

    def close(self) -> None:
        """Stop the decode thread, wait for it and drop the frames still buffered."""
        with self._ready:
            self._stopped = True
            self._ready.notify_all()
        self._thread.join()
        with self._ready:
            self._items.clear()


class PrefetchExecutor:
    """Decodes ahead on a background thread; runs the runner on the calling thread.

    Works with every runner (the runner is only ever called from one thread, the
    caller's) and gives exactly the sequential results: the frames are the same, in the
    same order, through the same runner calls. ``depth`` bounds the decoded frames
    waiting for the runner.
    """

    name = "prefetch"

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        self.depth = check_int("prefetch depth", depth, 1)

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, decoding ahead."""
        with work.open() as reader, FramePump(reader, work.selection, self.depth) as pump:
            while (frame := pump.get()) is not None:
                yield work.process(frame)

    def __repr__(self) -> str:
        return f"PrefetchExecutor(depth={self.depth})"
