"""The per-frame call: one frame's payload through the runner, under the run's policy.

Retries, the error policy (``raise`` / ``skip``) and the per-call timeout of
:class:`~videopipe.application.settings.RunSettings` apply here and nowhere else.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from videopipe.application.calls import TimedCalls
from videopipe.application.settings import RunSettings, check_int
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import Frame, FrameResult, FrameSize
from videopipe.ports.runner import (
    FrameSizeDeclaringRunner,
    HistoryDeclaringRunner,
    PipelineRunner,
    ThreadSafeRunner,
)


def build_payload(settings: RunSettings, frame: Frame, path: str | None = None) -> dict[str, Any]:
    """The dict handed to the runner for one frame of the video at ``path``."""
    image = frame.image
    if settings.image_encoder is not None:
        image_bytes: bytes | memoryview = settings.image_encoder.encode(image)
    else:
        contiguous = image if image.flags.c_contiguous else np.ascontiguousarray(image)
        view = memoryview(contiguous.data).cast("B").toreadonly()
        image_bytes = view if settings.image_bytes == "raw" else view.tobytes()
    return {
        "frame_index": frame.index,
        "timestamp": frame.timestamp,
        "image": image,
        "image_bytes": image_bytes,
        "width": frame.width,
        "height": frame.height,
        "video_path": path,
        "source_width": frame.width if frame.source_size is None else frame.source_size[0],
        "source_height": frame.height if frame.source_size is None else frame.source_size[1],
        "scale": frame.scale,
        "format": frame.format,
        "luma_range": frame.luma_range,
    }


def _call(
    runner: PipelineRunner, pipeline_id: str, payload: dict[str, Any], timed: TimedCalls | None
) -> dict[str, Any]:
    if timed is None:
        return runner.run_pipeline(pipeline_id, payload)
    output: dict[str, Any] = timed.call(
        pipeline_id, payload["frame_index"], runner.run_pipeline, pipeline_id, payload
    )
    return output


def process_frame(
    settings: RunSettings, pipeline_id: str, path: str, frame: Frame, timed: TimedCalls | None
) -> FrameResult:
    """One frame's result: the runner's output, after ``retries``, under ``on_error``.

    Under ``raise`` the runner's last exception propagates with a note naming the frame;
    under ``skip`` the result is ``None`` with an ``error`` (type, message, attempts).
    """
    attempts = 0
    while True:
        attempts += 1
        payload = build_payload(settings, frame, path)
        try:
            output = _call(settings.runner, pipeline_id, payload, timed)
        except Exception as exc:
            if attempts <= settings.retries:
                continue
            if settings.on_error == "skip":
                error = {"type": type(exc).__name__, "message": str(exc), "attempts": attempts}
                return FrameResult(frame.index, frame.timestamp, None, error)
            exc.add_note(
                f"videopipe: raised by {type(settings.runner).__name__}.run_pipeline for "
                f"pipeline {pipeline_id!r} on frame {frame.index} "
                f"(t={frame.timestamp:.6f}s) of {path!r}"
                + (f" after {attempts} attempts" if attempts > 1 else "")
            )
            raise
        return FrameResult(frame.index, frame.timestamp, output)


def warm_frame(
    settings: RunSettings, pipeline_id: str, path: str, frame: Frame, timed: TimedCalls | None
) -> None:
    """Show the runner ``frame`` for its state only; its result and errors are dropped."""
    # A warm-up frame's own outcome belongs to the segment before; only its state counts.
    # It goes through the same timer as process_frame: the runner sees it on that thread.
    payload = build_payload(settings, frame, path)
    with contextlib.suppress(Exception):
        _call(settings.runner, pipeline_id, payload, timed)


def declared_history(runner: PipelineRunner, pipeline_id: str) -> int | None:
    """What ``runner`` declares of ``pipeline_id``'s history; ``None``: it declares none."""
    if not isinstance(runner, HistoryDeclaringRunner):
        return None
    declared = runner.history_frames(pipeline_id)
    try:
        return check_int("history_frames", declared, 0)
    except ValueError as exc:
        raise ConfigurationError(
            f"{type(runner).__name__}.history_frames({pipeline_id!r}) must return "
            f"an integer >= 0, got {declared!r}"
        ) from exc


def declared_frame_size(runner: PipelineRunner, pipeline_id: str) -> FrameSize | None:
    """The frame size ``runner`` declares for ``pipeline_id``; ``None``: the video's own.

    ``None`` too when the runner fails to say (an unknown pipeline): it then fails on
    every frame, which the error policy handles frame by frame as it always did.
    Anything but a :class:`FrameSize` or ``None`` is a :class:`ConfigurationError`.
    """
    if not isinstance(runner, FrameSizeDeclaringRunner):
        return None
    try:
        declared = runner.frame_size(pipeline_id)
    except Exception:
        return None
    if declared is not None and not isinstance(declared, FrameSize):
        raise ConfigurationError(
            f"{type(runner).__name__}.frame_size({pipeline_id!r}) must return a FrameSize "
            f"or None, got {declared!r}"
        )
    return declared


def runner_thread_safe(runner: PipelineRunner) -> bool:
    """Whether ``runner`` declares ``thread_safe = True``."""
    return isinstance(runner, ThreadSafeRunner) and runner.thread_safe is True
