"""The reference executor: every other executor gives its results, in its order."""

from __future__ import annotations

from collections.abc import Iterator

from videopipe.domain.model import FrameResult
from videopipe.ports.closing import closed_after
from videopipe.ports.work import VideoWork


class SequentialExecutor:
    """Decode a frame, process it, then the next, on this thread."""

    name = "sequential"

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, one frame at a time."""
        with work.open() as reader, closed_after(reader.frames(work.selection)) as frames:
            for frame in frames:
                yield work.process(frame)
