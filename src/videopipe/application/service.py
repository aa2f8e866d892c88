"""The video service: runs a pipeline runner over the frames of a video file, or of many.

Over 300 lines because it is the library's one entry point: the per-file calls and the
batch calls (``batch``, ``run_batch``, whose work lives in ``jobs`` and ``batch``) share
its checked settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Unpack

from videopipe.application.batch import InProcessVideoPool
from videopipe.application.frames import build_payload
from videopipe.application.jobs import (
    DEFAULT_MAX_ATTEMPTS,
    BatchOptions,
    BatchRun,
    prepare_batch,
)
from videopipe.application.options import options_hash
from videopipe.application.report import ReportBuilder, ReportingStream, runner_reducers
from videopipe.application.sequential import SequentialExecutor
from videopipe.application.settings import (
    ERROR_POLICIES,
    IMAGE_BYTES_MODES,
    ErrorPolicy,
    ImageBytesMode,
    RunSettings,
    check_choice,
    check_int,
    check_seconds,
)
from videopipe.application.work import ServiceWork, WorkOrder
from videopipe.domain.errors import ConfigurationError, ResultsWriteError
from videopipe.domain.model import Frame, FrameResult, FrameSelection, VideoInfo
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoPool
from videopipe.ports.closing import closed_after
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor
from videopipe.ports.frames import FrameSource
from videopipe.ports.manifest import JobManifest
from videopipe.ports.runner import PipelineRunner
from videopipe.ports.sinks import ResultSink
from videopipe.ports.work import VideoWork


def _as_dicts(frame_results: Iterator[FrameResult]) -> Iterator[dict[str, Any]]:
    """Map results to the seed's dict shape, closing the source when closed early."""
    with closed_after(frame_results):
        for item in frame_results:
            yield item.to_dict()


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
        if not isinstance(runner, PipelineRunner) or not callable(runner.run_pipeline):
            raise TypeError(
                f"runner must have a run_pipeline(pipeline_id, payload) method, "
                f"got {type(runner).__name__}"
            )
        self.image_bytes: ImageBytesMode = check_choice(
            "image_bytes", image_bytes, IMAGE_BYTES_MODES
        )
        self.on_error: ErrorPolicy = check_choice("on_error", on_error, ERROR_POLICIES)
        self.runner_timeout = check_seconds("runner_timeout", runner_timeout)
        self.runner = runner
        self.frame_stride = check_int("frame_stride", frame_stride, 1)
        self.max_frames = None if max_frames is None else check_int("max_frames", max_frames, 0)
        self.frame_source = frame_source
        self.image_encoder = image_encoder
        self.retries = check_int("retries", retries, 0)
        if executor is not None and not (
            isinstance(executor, Executor) and callable(executor.execute)
        ):
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

    def report(
        self, pipeline_id: str, path: str | os.PathLike[str], *, max_gap: int = 0
    ) -> VideoReport:
        """Run the pipeline on the file and return what it found: a :class:`VideoReport`.

        The report holds the video's info, the frames processed, the frames skipped
        (with their errors) and, per output node whose plugin declares a reducer, its
        summary; intervals join across up to ``max_gap`` processed frames. A failure
        propagates with ``exc.report`` (the frames before it). To also see each
        frame's result as it comes, iterate :meth:`iter_report` instead.
        """
        stream = self.iter_report(pipeline_id, path, max_gap=max_gap)
        with closed_after(stream):
            for _ in stream:
                pass
        return stream.report

    def iter_report(
        self,
        pipeline_id: str,
        path: str | os.PathLike[str],
        *,
        max_gap: int = 0,
        selection: FrameSelection | None = None,
    ) -> ReportingStream:
        """The per-frame stream (:meth:`iter_frame_results`) with its report alongside.

        ``stream.report`` is the :class:`VideoReport` once the stream is exhausted.
        """
        self._check_pipeline_id(pipeline_id)
        reducers = runner_reducers(self.runner, pipeline_id, max_gap=max_gap)
        video = os.fspath(path)
        builder = ReportBuilder(video, pipeline_id, reducers)
        results = self.iter_frame_results(pipeline_id, video, selection=selection)
        return ReportingStream(results, builder, info=lambda: self.video_info(video))

    def _generate(
        self, pipeline_id: str, path: str, selection: FrameSelection | None
    ) -> Iterator[FrameResult]:
        work = self.work(pipeline_id, path, selection)
        try:
            results = self.executor.execute(work)
            with closed_after(results):
                yield from results
        finally:
            work.close()

    def work(
        self,
        pipeline_id: str,
        path: str | os.PathLike[str],
        selection: FrameSelection | None = None,
    ) -> VideoWork:
        """The :class:`~videopipe.ports.work.VideoWork` an executor runs for a file.

        ``selection`` defaults to this service's (stride and ``max_frames``). The caller
        closes the work.
        """
        self._check_pipeline_id(pipeline_id)
        order = WorkOrder(
            self.settings(), pipeline_id, os.fspath(path), selection or self.selection
        )
        return ServiceWork(order)

    def settings(self) -> RunSettings:
        """The runner, decoder and per-frame policy this service runs with, now."""
        return RunSettings(
            runner=self.runner,
            frame_source=self.frame_source,
            image_bytes=self.image_bytes,
            image_encoder=self.image_encoder,
            on_error=self.on_error,
            retries=self.retries,
            runner_timeout=self.runner_timeout,
        )

    def batch(
        self,
        pipeline_id: str,
        paths: Iterable[str | os.PathLike[str]],
        *,
        jobs: int = 1,
        output_dir: str | os.PathLike[str] | None = None,
        max_errors: int | None = None,
        max_gap: int = 0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        force: bool = False,
        results_format: str | None = None,
    ) -> BatchRun:
        """:meth:`run_batch` as a :class:`~videopipe.application.jobs.BatchRun` (skips, events)."""
        self._check_pipeline_id(pipeline_id)
        check_int("jobs", jobs, 1, error=ConfigurationError)
        if max_errors is not None:
            check_int("max_errors", max_errors, 0, error=ConfigurationError)
        runner_reducers(self.runner, pipeline_id, max_gap=max_gap)  # checks max_gap
        settings, selection = self.settings(), self.selection
        sink, suffix = self.result_files(results_format)
        directory = manifest = None
        if output_dir is not None:
            directory = os.fspath(output_dir)
            if sink is None:
                raise ConfigurationError(f"{type(self).__name__} writes no results files")
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as exc:
                raise ResultsWriteError(
                    f"cannot make the output directory {directory!r}: {exc.strerror or exc}"
                ) from exc
            manifest = self.open_manifest(directory)
        extra = {"max_errors": max_errors, "max_gap": max_gap, "suffix": suffix}
        return prepare_batch(
            lambda path: WorkOrder(settings, pipeline_id, path, selection),
            paths,
            pool=self.video_pool(jobs),
            output_dir=directory,
            open_sink=sink,
            suffix=suffix,
            manifest=manifest,
            options=options_hash(settings, pipeline_id, selection, extra),
            max_errors=max_errors,
            max_gap=max_gap,
            max_attempts=max_attempts,
            force=force,
        )

    def run_batch(
        self,
        pipeline_id: str,
        paths: Iterable[str | os.PathLike[str]],
        **options: Unpack[BatchOptions],
    ) -> Iterator[VideoReport]:
        """Run the pipeline on every video of ``paths``; each video's report as it finishes.

        ``paths``: files, directories (searched recursively for
        :data:`~videopipe.application.inputs.VIDEO_EXTENSIONS`) and globs. ``jobs``
        videos run at once (``jobs > 1``: local worker processes). A video that fails
        gives a report with ``error``; the batch goes on. With ``output_dir``, each
        video's results go to their own file there and ``output_dir/manifest.sqlite``
        records every video, so the same call again skips what is done, retries what
        failed (up to ``max_attempts`` runs), redoes what changed, and refuses a
        manifest made with other options unless ``force``; ``results_format`` names the
        files' format (default JSON lines). ``max_errors``: more frames skipped
        (``on_error="skip"``) than this fail the video; ``max_gap`` as in :meth:`report`.
        """
        return self.batch(pipeline_id, paths, **options).reports()

    def video_pool(self, jobs: int) -> VideoPool:
        """Where a batch's videos run: here, one after another (``jobs == 1`` only)."""
        if jobs != 1:
            raise ConfigurationError(
                "jobs > 1 runs videos in worker processes: use videopipe.VideoFilePipelineService"
            )
        return InProcessVideoPool()

    def open_manifest(self, output_dir: str) -> JobManifest:
        """The manifest of a batch writing to ``output_dir`` (none in the application)."""
        raise ConfigurationError(
            "a batch with an output directory needs videopipe.VideoFilePipelineService"
        )

    def result_files(
        self, results_format: str | None = None
    ) -> tuple[Callable[[str], ResultSink] | None, str]:
        """How a batch writes one video's results file, and the files' suffix."""
        return None, ""

    def video_info(self, path: str | os.PathLike[str]) -> VideoInfo:
        """Open the file with this service's decoder and report what it declares."""
        with self.frame_source.open(os.fspath(path)) as reader:
            return reader.info

    def build_payload(self, frame: Frame, path: str | None = None) -> dict[str, Any]:
        """The dict handed to the runner for one frame of the video at ``path``."""
        return build_payload(self.settings(), frame, path)

    @staticmethod
    def _check_pipeline_id(pipeline_id: object) -> None:
        if not isinstance(pipeline_id, str) or not pipeline_id.strip():
            raise ValueError(f"pipeline_id must be a non-empty string, got {pipeline_id!r}")
