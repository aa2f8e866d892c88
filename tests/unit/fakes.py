"""An in-memory frame source: the domain's unit tests need no decoder."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

import numpy as np

from videopipe.domain.errors import VideoDecodeError
from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo


class FakeReader:
    """Serves ``frame_count`` synthetic frames; can fail after ``fail_after`` frames.

    With a ``size``, the frames have ``size.output_size(8, 6)`` and their ``source_size``.
    """

    def __init__(
        self,
        path: str,
        frame_count: int,
        fail_after: int | None,
        fps: float,
        size: FrameSize | None = None,
    ) -> None:
        self.info = VideoInfo(
            path=path, width=8, height=6, codec="fake", fps=fps, frame_count=frame_count
        )
        output = (8, 6) if size is None else size.output_size(8, 6)
        self.output_size = output
        self.source_size = None if output == (8, 6) else (8, 6)
        self.frame_count = frame_count
        self.fail_after = fail_after
        self.fps = fps
        self.closed = False
        self.decoded = 0

    def frames(self, selection: FrameSelection | None = None) -> Iterator[Frame]:
        chosen = selection or FrameSelection()
        for index in range(self.frame_count):
            if chosen.is_past(index):
                return
            if self.fail_after is not None and index >= self.fail_after:
                raise VideoDecodeError(self.info.path, "fake damage", frames_read=index)
            self.decoded += 1
            if chosen.contains(index):
                width, height = self.output_size
                image = np.full((height, width, 3), index % 256, dtype=np.uint8)
                yield Frame(index, round(index / self.fps, 6), image, self.source_size)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class FakeFrameSource:
    """A FrameSource whose every path is a video of ``frame_count`` frames."""

    name = "fake"

    def __init__(
        self, frame_count: int = 10, *, fail_after: int | None = None, fps: float = 25.0
    ) -> None:
        self.frame_count = frame_count
        self.fail_after = fail_after
        self.fps = fps
        self.readers: list[FakeReader] = []
        self.sizes: list[FrameSize | None] = []

    def open(self, path: str, *, size: FrameSize | None = None) -> FakeReader:
        self.sizes.append(size)
        reader = FakeReader(path, self.frame_count, self.fail_after, self.fps, size)
        self.readers.append(reader)
        return reader
