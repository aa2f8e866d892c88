"""The video service: runs a pipeline runner over the frames of a video file."""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from typing import Any, Literal

import numpy as np

from videopipe.domain.calls import TimedCalls
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import Frame, FrameResult, FrameSelection, VideoInfo
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor, VideoWork
from videopipe.ports.frames import FrameSource, VideoReader
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


class SequentialExecutor:
    """The reference executor: decode a frame, process it, then the next, on this thread."""

    name = "sequential"

    def execute(self, work: VideoWork) -> Iterator[FrameResult]:
        """Yield ``work``'s results in frame order, one frame at a time."""
        with work.open() as reader:
            frames = reader.frames(work.selection)
            try:
                for frame in frames:
                    yield work.process(frame)
            finally:
                close = getattr(frames, "close", None)
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

    ``executor`` schedules the frames (:class:`~videopipe.ports.executor.Executor`;
    default: :class:`SequentialExecutor`); every executor gives the same results in
    the same order.
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
        executor: Executor | None = None,
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
        if executor is not None and not callable(getattr(executor, "execute", None)):
            raise TypeError(
                f"executor must have an execute(work) method, got {type(executor).__name__}"
            )
        self.executor: Executor = executor if executor is not None else SequentialExecutor()

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
        self,
        pipeline_id: str,
        path: str | os.PathLike[str],
        *,
        selection: FrameSelection | None = None,
    ) -> Iterator[FrameResult]:
        """Stream :class:`FrameResult` objects (which also carry each frame's timestamp).

        ``selection`` processes those frames instead of the service's stride and
        ``max_frames`` (e.g. ``FrameSelection(start=500, step=5)`` to continue a run).
        Arguments are checked at once; the file is opened on the first ``next()``,
        and closing the generator early releases the decoder at once.
        """
        self._check_pipeline_id(pipeline_id)
        return self._generate(pipeline_id, os.fspath(path), selection)

    def _generate(
        self, pipeline_id: str, path: str, selection: FrameSelection | None
    ) -> Iterator[FrameResult]:
        work = self.work(pipeline_id, path, selection)
        try:
            results = self.executor.execute(work)
            try:
                yield from results
            finally:
                close = getattr(results, "close", None)
                if close is not None:
                    close()
        finally:
            work.close()

    def work(
        self,
        pipeline_id: str,
        path: str | os.PathLike[str],
        selection: FrameSelection | None = None,
    ) -> VideoWork:
        """The :class:`~videopipe.ports.executor.VideoWork` an executor runs for a file.

        ``selection`` defaults to this service's (stride and ``max_frames``). The caller
        closes the work.
        """
        self._check_pipeline_id(pipeline_id)
        return _ServiceWork(self, pipeline_id, os.fspath(path), selection or self.selection)

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

    def _history_frames(self, pipeline_id: str) -> int:
        declare = getattr(self.runner, "history_frames", None)
        if declare is None:
            return 0
        declared = declare(pipeline_id)
        try:
            return _check_int("history_frames", declared, 0)
        except ValueError as exc:
            raise ConfigurationError(
                f"{type(self.runner).__name__}.history_frames({pipeline_id!r}) must return "
                f"an integer >= 0, got {declared!r}"
            ) from exc

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


class _ServiceWork:
    """:class:`~videopipe.ports.executor.VideoWork` backed by a service's settings."""

    def __init__(
        self,
        service: VideoFilePipelineService,
        pipeline_id: str,
        path: str,
        selection: FrameSelection,
    ) -> None:
        self.service = service
        self._pipeline_id = pipeline_id
        self._path = path
        self._selection = selection
        # One timer per calling thread: TimedCalls serves one caller at a time, and a
        # runner that keeps per-thread state must see a thread's frames on one thread.
        self._timers: dict[int, TimedCalls] = {}
        self._timers_lock = threading.Lock()

    @property
    def pipeline_id(self) -> str:
        return self._pipeline_id

    @property
    def path(self) -> str:
        return self._path

    @property
    def selection(self) -> FrameSelection:
        return self._selection

    def open(self) -> VideoReader:
        return self.service.frame_source.open(self._path)

    def _timer(self) -> TimedCalls | None:
        timeout = self.service.runner_timeout
        if timeout is None:
            return None
        key = threading.get_ident()
        with self._timers_lock:
            timed = self._timers.get(key)
            if timed is None:
                timed = self._timers[key] = TimedCalls(timeout)
            return timed

    def process(self, frame: Frame) -> FrameResult:
        return self.service._run_one(self._pipeline_id, self._path, frame, self._timer())

    def warm(self, frame: Frame) -> None:
        payload = self.service.build_payload(frame, self._path)
        runner = self.service.runner
        timed = self._timer()
        # A warm-up frame's own outcome belongs to the segment before; only its state counts.
        # It goes through the same timer as process(): the runner sees it on the same thread.
        with contextlib.suppress(Exception):
            if timed is None:
                runner.run_pipeline(self._pipeline_id, payload)
            else:
                timed.call(
                    self._pipeline_id,
                    frame.index,
                    runner.run_pipeline,
                    *(self._pipeline_id, payload),
                )

    def history_frames(self) -> int:
        return self.service._history_frames(self._pipeline_id)

    def runner_thread_safe(self) -> bool:
        return getattr(self.service.runner, "thread_safe", False) is True

    def with_selection(self, selection: FrameSelection) -> VideoWork:
        return _ServiceWork(self.service, self._pipeline_id, self._path, selection)

    def portable(self) -> Callable[[], VideoWork]:
        service = self.service
        clone = object.__new__(type(service))
        clone.__dict__.update(service.__dict__)
        clone.executor = SequentialExecutor()
        try:
            state = pickle.dumps(clone)
        except Exception as exc:
            raise ConfigurationError(
                f"this executor runs frames in other processes, but the service cannot be "
                f"sent there ({type(exc).__name__}: {exc}); runner "
                f"{type(service.runner).__name__}, decoder {type(service.frame_source).__name__}"
            ) from exc
        return _PortableWork(state, self._pipeline_id, self._path, self._selection)

    def close(self) -> None:
        with self._timers_lock:
            timers = list(self._timers.values())
            self._timers.clear()
        for timed in timers:
            timed.close()


class _PortableWork:
    """A pickled service plus what to run: rebuilds the work in a worker process."""

    def __init__(
        self, state: bytes, pipeline_id: str, path: str, selection: FrameSelection
    ) -> None:
        self.state = state
        self.pipeline_id = pipeline_id
        self.path = path
        self.selection = selection

    def __call__(self) -> VideoWork:
        service = pickle.loads(self.state)  # made by portable() above
        return _ServiceWork(service, self.pipeline_id, self.path, self.selection)
