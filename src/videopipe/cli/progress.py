"""``videopipe run``'s progress bars: their columns and each video's total."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from videopipe.adapters.executors._segmenting import estimate_frame_count
from videopipe.cli.app import stderr_console
from videopipe.domain.model import FrameSelection, VideoInfo


class FramesPerSecond(ProgressColumn):
    """The task's speed, in frames/s."""

    def render(self, task: Task) -> Text:
        """The speed, or dashes before it is known."""
        speed = task.finished_speed or task.speed
        return Text("-- frames/s" if speed is None else f"{speed:.1f} frames/s")


def selected_frames(info: VideoInfo, selection: FrameSelection) -> int | None:
    """How many frames of the video the selection picks (the progress bar's total).

    From the frame count the container declares, else the segment planner's estimate
    (duration x frame rate: MKV, MPEG-TS); ``None`` when neither is known.
    """
    frame_count = estimate_frame_count(info)
    if frame_count is None:
        return selection.count
    stop = frame_count if selection.stop is None else min(frame_count, selection.stop)
    return len(range(selection.start, max(stop, selection.start), selection.step))


@contextlib.contextmanager
def progress_bars(show: bool, *, speed: bool = True) -> Iterator[Progress | None]:
    """A progress display on stderr (``None`` when not shown).

    ``speed``: a frames/s column (bars that count frames; a batch's files bar does not).
    """
    if not show:
        yield None
        return
    columns: list[ProgressColumn] = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *([FramesPerSecond()] if speed else []),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=stderr_console(), transient=False) as progress:
        yield progress
