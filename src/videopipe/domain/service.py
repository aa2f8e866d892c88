"""The video service: runs a pipeline runner over the frames of a video file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

from videopipe.domain.calls import TimedCalls
from videopipe.domain.model import Frame, FrameResult, FrameSelection, VideoInfo
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.frames import FrameSource
from videopipe.ports.runner import PipelineRunner

ErrorPolicy = Literal["raise", "skip"]
"""What a frame whose runner call failed (after its retries) does to the run.

``raise``: the runner's exception propagates and the run stops. ``skip``: the run goes
on; that frame's result is ``None`` and its item gains ``"error": {"type", "message",
"attempts"}``.
"""

ImageBytesMode = Literal["raw", "copy"]
"""How ``payload["image_bytes"]`` is made when no encoder is given.

``raw``: a read-only, zero-copy ``memoryview`` of the RGB24 pixels (format ``B``,
``len`` = height * width * 3). ``copy``: the same pixels as an immutable ``bytes``.
"""

_IMAGE_BYTES_MODES: tuple[str, ...] = ("raw", "copy")
_ERROR_POLICIES: tuple[str, ...] = ("raise", "skip")


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _as_dicts(frame_results: Iterator[FrameResult]) -> Iterator[dict[str, Any]]:
    """Map results to the seed's dict shape, closing the source when closed early."""
    try:
        for item in frame_results:
            yield item.to_dict()
    finally:
        close = getattr(frame_results, "close", None)
        if close is not None:
            close()


class VideoFilePipelineService:
    """Runs ``runner.run_pipeline(pipeline_id, payload)`` on the frames of a video file.

    ``frame_stride`` processes every n-th frame (stride 3: frames 0, 3, 6, ...);
    ``max_frames`` caps how many frames are processed (``None``: all). The frame
    source (decoder) is a required keyword here; ``videopipe.VideoFilePipelineService``
    is this class with the default decoder bound.

    A failing runner call is retried ``retries`` times, then ``on_error`` decides
    (:data:`ErrorPolicy`). ``runner_timeout`` (seconds) bounds each call: a call that
    takes longer fails with :class:`~videopipe.domain.errors.RunnerTimeoutError`.
    Decoder errors are never retried or skipped: they always propagate.
    """

    def __init__(
        self,
        runner: PipelineRunner,
        frame_stride: int = 1,
        max_frames: int | None = None,
        *,
        frame_source: FrameSource,
        image_bytes: ImageBytesMode = "raw",
        image_encoder: ImageEncoder | None = None,
        on_error: ErrorPolicy = "raise",
        retries: int = 0,
        runner_timeout: float | None = None,
    ) -> None:
        if not callable(getattr(runner, "run_pipeline", None)):
            raise TypeError(
                f"runner must have a run_pipeline(pipeline_id, payload) method, "
                f"got {type(runner).__name__}"
            )
        if image_bytes not in _IMAGE_BYTES_MODES:
            raise ValueError(
                f"image_bytes must be one of {', '.join(_IMAGE_BYTES_MODES)}, got {image_bytes!r}"
            )
        if on_error not in _ERROR_POLICIES:
            raise ValueError(
                f"on_error must be one of {', '.join(_ERROR_POLICIES)}, got {on_error!r}"
            )
        if runner_timeout is not None and (
            isinstance(runner_timeout, bool)
            or not isinstance(runner_timeout, int | float)
            or not runner_timeout > 0
        ):
            raise ValueError(
                f"runner_timeout must be a number of seconds > 0, got {runner_timeout!r}"
            )
        self.runner = runner
        self.frame_stride = _check_int("frame_stride", frame_stride, 1)
        self.max_frames = None if max_frames is None else _check_int("max_frames", max_frames, 0)
        self.frame_source = frame_source
        self.image_bytes: ImageBytesMode = image_bytes
        self.image_encoder = image_encoder
        self.on_error: ErrorPolicy = on_error
        self.retries = _check_int("retries", retries, 0)
        self.runner_timeout = None if runner_timeout is None else float(runner_timeout)

    @property
    def selection(self) -> FrameSelection:
        """The frames this service processes."""
        return FrameSelection.every(self.frame_stride, self.max_frames)

    def run_on_file(self, pipeline_id: str, path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Run the pipeline on the file and return one result dict per processed frame.

        Each item is ``{"frame_index": i, "result": output}``, in frame order. If a
        frame fails, the exception propagates with its own type and carries the
        results produced before it as ``exc.partial_results``.
        """
        results: list[dict[str, Any]] = []
        try:
            for item in self.iter_results(pipeline_id, path):
                results.append(item)
        except Exception as exc:
            exc.partial_results = results  # type: ignore[attr-defined]
            exc.add_note(
                f"videopipe: {len(results)} results produced before the failure "
                "are in exc.partial_results"
            )
            raise
        return results

    def iter_results(
        self, pipeline_id: str, path: str | os.PathLike[str]
    ) -> Iterator[dict[str, Any]]:
        """Stream :meth:`run_on_file`'s results, one per frame, as they are produced.

        Arguments are checked at once, before the first ``next()``.
        """
        return _as_dicts(self.iter_frame_results(pipeline_id, path))

    def iter_frame_results(
        self, pipeline_id: str, path: str | os.PathLike[str]
    ) -> Iterator[FrameResult]:
        """Stream :class:`FrameResult` objects (which also carry each frame's timestamp).

        Arguments are checked at once; the file is opened on the first ``next()``,
        and closing the generator early releases the decoder at once.
        """
        self._check_pipeline_id(pipeline_id)
        return self._generate(pipeline_id, os.fspath(path))

    def _generate(self, pipeline_id: str, path: str) -> Iterator[FrameResult]:
        timed = None if self.runner_timeout is None else TimedCalls(self.runner_timeout)
        try:
            with self.frame_source.open(path) as reader:
                frames = reader.frames(self.selection)
                try:
                    for frame in frames:
                        yield self._run_one(pipeline_id, path, frame, timed)
                finally:
                    close = getattr(frames, "close", None)
                    if close is not None:
                        close()
        finally:
            if timed is not None:
                timed.close()

    def video_info(self, path: str | os.PathLike[str]) -> VideoInfo:
        """Open the file with this service's decoder and report what it declares."""
        with self.frame_source.open(os.fspath(path)) as reader:
            return reader.info

    def build_payload(self, frame: Frame, path: str | None = None) -> dict[str, Any]:
        """The dict handed to the runner for one frame of the video at ``path``."""
        image = frame.image
        if self.image_encoder is not None:
            image_bytes: bytes | memoryview = self.image_encoder.encode(image)
        else:
            contiguous = image if image.flags.c_contiguous else np.ascontiguousarray(image)
            view = memoryview(contiguous.data).cast("B").toreadonly()
            image_bytes = view if self.image_bytes == "raw" else view.tobytes()
        return {
            "frame_index": frame.index,
            "timestamp": frame.timestamp,
            "image": image,
            "image_bytes": image_bytes,
            "width": frame.width,
            "height": frame.height,
            "video_path": path,
        }

    def _run_one(
        self, pipeline_id: str, path: str, frame: Frame, timed: TimedCalls | None
    ) -> FrameResult:
        attempts = 0
        while True:
            attempts += 1
            payload = self.build_payload(frame, path)
            try:
                if timed is None:
                    output = self.runner.run_pipeline(pipeline_id, payload)
                else:
                    output = timed.call(
                        pipeline_id, frame.index, self.runner.run_pipeline, pipeline_id, payload
                    )
            except Exception as exc:
                if attempts <= self.retries:
                    continue
                if self.on_error == "skip":
                    error = {"type": type(exc).__name__, "message": str(exc), "attempts": attempts}
                    return FrameResult(frame.index, frame.timestamp, None, error)
                exc.add_note(
                    f"videopipe: raised by {type(self.runner).__name__}.run_pipeline for "
                    f"pipeline {pipeline_id!r} on frame {frame.index} "
                    f"(t={frame.timestamp:.6f}s) of {path!r}"
                    + (f" after {attempts} attempts" if attempts > 1 else "")
                )
                raise
            return FrameResult(frame.index, frame.timestamp, output)

    @staticmethod
    def _check_pipeline_id(pipeline_id: object) -> None:
        if not isinstance(pipeline_id, str) or not pipeline_id.strip():
            raise ValueError(f"pipeline_id must be a non-empty string, got {pipeline_id!r}")
