"""What the segment-parallel executors share: the plan, one segment's run, errors in transit.

A video's selected frames are cut into contiguous segments by frame index. The count
of frames comes from what the video declares (its index, else duration x frame rate,
else a count of its packets); it is only used for balance: the last segment is always
open-ended, so a wrong count never loses or invents a frame. A worker decodes its own
segment (frames never cross processes), starting ``history`` selected frames early to
warm a stateful runner, and sends back the results.
"""

from __future__ import annotations

import os
import pickle
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from videopipe.adapters.executors.threads import declared_history
from videopipe.adapters.ffmpeg.libav import count_video_packets
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import FrameResult, FrameSelection, VideoInfo
from videopipe.ports.closing import close_if_closeable, closed_after
from videopipe.ports.executor import ManyVideoExecutor
from videopipe.ports.work import VideoWork

Recipe = Callable[[], VideoWork]
"""A picklable zero-argument callable that rebuilds a work (``VideoWork.portable()``)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One contiguous part of a video's selection, run by one worker.

    Frames ``start``, ``start + step``, ... below ``stop`` (exclusive; ``None``: to the
    end of the video) are processed; the selected frames from ``warm_from`` up to
    ``start`` are decoded first and only shown to the runner (its history).
    """

    path: str
    number: int
    start: int
    stop: int | None
    step: int
    warm_from: int

    @property
    def selection(self) -> FrameSelection:
        """The frames the worker decodes (warm-up frames included)."""
        return FrameSelection(self.warm_from, self.stop, self.step)

    def describe(self) -> str:
        """``frames [start, stop)`` of the file, for messages."""
        end = "end" if self.stop is None else str(self.stop)
        return f"frames [{self.start}, {end}) of {self.path!r}"


def estimate_frame_count(info: VideoInfo, abspath: str | None = None) -> int | None:
    """How many frames the video holds, as well as can be told without decoding.

    The declared count when there is one; else duration x frame rate; else the
    packets of its first video stream, counted by demuxing (``abspath`` given).
    """
    if info.frame_count is not None:
        return info.frame_count
    if info.duration and info.fps:
        return max(1, round(info.duration * info.fps))
    if abspath is None:
        return None
    return count_video_packets(abspath)


def plan_segments(
    path: str,
    selection: FrameSelection,
    *,
    frame_count: int | None,
    parts: int,
    history: int,
    min_frames: int,
) -> list[Segment]:
    """Cut ``selection`` into at most ``parts`` segments of about equal frame counts.

    Segments hold at least ``min_frames`` selected frames (when the video has that
    many), and at least twice ``history``, so warming up never costs more than half
    the work (unbounded history: one segment). The last one ends where ``selection``
    ends (open-ended when it does). Each segment warms up on the ``history`` selected
    frames before its first.
    """
    min_frames = max(min_frames, 2 * history)
    step = selection.step
    end = frame_count
    if selection.stop is not None:
        end = selection.stop if end is None else min(end, selection.stop)
    selected = 0 if end is None else max(0, -(-(end - selection.start) // step))
    parts = max(1, min(parts, selected // max(1, min_frames)))
    cuts = [selection.start + round(i * selected / parts) * step for i in range(parts)]
    segments = []
    for number, start in enumerate(cuts):
        stop = cuts[number + 1] if number + 1 < parts else selection.stop
        warm_from = max(selection.start, start - history * step)
        segments.append(Segment(path, number, start, stop, step, warm_from))
    return segments


def plan_work(work: VideoWork, parts: int, min_frames: int) -> list[Segment]:
    """:func:`plan_segments` for ``work``: opens the file for its frame count."""
    with work.open() as reader:
        info = reader.info
    count = estimate_frame_count(info, os.path.abspath(work.path))
    history = declared_history(work)
    return plan_segments(
        work.path,
        work.selection,
        frame_count=count,
        parts=parts,
        history=history,
        min_frames=min_frames,
    )


def run_segment(
    recipe: Recipe,
    segment: Segment,
    emit: Callable[[list[FrameResult]], None],
    *,
    batch: int = 32,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """Rebuild the work, decode ``segment`` and ``emit`` its results in batches.

    A failure (runner under ``raise``, decoder) propagates after every result before
    it was emitted. ``cancelled`` is polled between frames: when true, the run stops.
    """
    work = recipe()
    try:
        part = work.with_selection(segment.selection)
        try:
            _process(part, segment, emit, batch, cancelled)
        finally:
            part.close()
    finally:
        work.close()


def _process(
    part: VideoWork,
    segment: Segment,
    emit: Callable[[list[FrameResult]], None],
    batch: int,
    cancelled: Callable[[], bool] | None,
) -> None:
    pending: list[FrameResult] = []
    try:
        with part.open() as reader:
            frames = reader.frames(part.selection)
            try:
                for frame in frames:
                    if cancelled is not None and cancelled():
                        return
                    if frame.index < segment.start:
                        part.warm(frame)
                        continue
                    pending.append(part.process(frame))
                    if len(pending) >= batch:
                        emit(pending)
                        pending = []
            finally:
                close_if_closeable(frames)
    finally:
        if pending:
            emit(pending)


def load_recipe(state: bytes) -> Recipe:
    """Unpickle a recipe in a worker; failing that, say why in a typed error."""
    try:
        recipe: Recipe = pickle.loads(state)  # made by VideoWork.portable() in the caller
        return recipe
    except Exception as exc:
        raise ConfigurationError(
            f"a worker process could not rebuild the service ({type(exc).__name__}: {exc}); "
            "the runner's and decoder's classes must be importable there (not defined in "
            "an interactive session)"
        ) from exc


def pack_error(error: BaseException, segment: Segment) -> bytes:
    """``error`` pickled for the caller, with a note naming the segment and worker.

    The exception keeps its type when it survives pickling (every videopipe error
    does); its cause travels along when it can. Otherwise a ``RuntimeError`` carries
    its type name and message. The worker's traceback is in the note.
    """
    remote = "".join(traceback.format_exception(error)).rstrip()
    note = (
        f"videopipe: raised in worker process {os.getpid()} running {segment.describe()}; "
        f"the worker's traceback:\n{remote}"
    )
    cause = error.__cause__
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        notes = getattr(error, "__notes__", [])
        error = RuntimeError(f"{type(error).__module__}.{type(error).__qualname__}: {error}")
        for earlier in notes:
            error.add_note(earlier)
    error.add_note(note)
    try:
        return pickle.dumps((error, cause))
    except Exception:
        return pickle.dumps((error, None))


def unpack_error(state: bytes) -> BaseException:
    """The exception :func:`pack_error` packed, with its cause attached again."""
    error, cause = pickle.loads(state)  # from our own worker
    if cause is not None:
        error.__cause__ = cause
    if not isinstance(error, BaseException):  # pragma: no cover - our own protocol
        raise TypeError(f"not an exception: {error!r}")
    return error


def results_of(payload: Any) -> list[FrameResult]:
    """Check that a worker's message holds results (a list of :class:`FrameResult`)."""
    if not isinstance(payload, list) or not all(isinstance(r, FrameResult) for r in payload):
        raise TypeError(f"a worker sent {type(payload).__name__}, not a list of FrameResult")
    return payload


def execute_one(executor: ManyVideoExecutor, work: VideoWork) -> Iterator[FrameResult]:
    """``executor.execute(work)`` for an executor built around ``execute_many``."""
    with closed_after(executor.execute_many([work])) as results:
        for _, result in results:
            yield result
