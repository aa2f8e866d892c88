"""The public service (the application's, with the default decoder bound) and ``summarize``."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable

from videopipe import application as _application
from videopipe.adapters.batch import ProcessVideoPool
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors import create_executor
from videopipe.adapters.manifest import MANIFEST_NAME, SqliteManifest
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.adapters.sinks import format_of, open_sink
from videopipe.application.batch import InProcessVideoPool
from videopipe.application.report import ReportBuilder, runner_reducers
from videopipe.application.settings import ErrorPolicy, ImageBytesMode
from videopipe.domain.model import FrameResult
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoPool
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor
from videopipe.ports.frames import FrameSource
from videopipe.ports.manifest import JobManifest
from videopipe.ports.runner import PipelineRunner
from videopipe.ports.sinks import ResultSink


class VideoFilePipelineService(_application.VideoFilePipelineService):
    """Runs a pipeline runner over every frame of a video file.

    ``VideoFilePipelineService(runner)`` decodes with the default decoder (``pyav``:
    FFmpeg's libraries in process); pass ``frame_source=`` to use another one, e.g.
    ``videopipe.adapters.decoders.create_frame_source("imageio_ffmpeg")``.

    ``executor`` schedules the frames: an executor object, or the name of one
    (``"sequential"``, the default; ``"prefetch"``, ``"threads"``, ``"auto"``, ... see
    :mod:`videopipe.adapters.executors`), built with its defaults (``threads``: one
    worker per CPU). Every executor gives the same results in the same order.
    Everything else is :class:`videopipe.application.VideoFilePipelineService`.
    """

    def __init__(
        self,
        runner: PipelineRunner,
        frame_stride: int = 1,
        max_frames: int | None = None,
        *,
        frame_source: FrameSource | None = None,
        image_bytes: ImageBytesMode = "raw",
        image_encoder: ImageEncoder | None = None,
        on_error: ErrorPolicy = "raise",
        retries: int = 0,
        runner_timeout: float | None = None,
        executor: Executor | str | None = None,
    ) -> None:
        super().__init__(
            runner,
            frame_stride,
            max_frames,
            frame_source=frame_source if frame_source is not None else create_frame_source(),
            image_bytes=image_bytes,
            image_encoder=image_encoder,
            on_error=on_error,
            retries=retries,
            runner_timeout=runner_timeout,
            executor=create_executor(executor) if isinstance(executor, str) else executor,
        )

    def video_pool(self, jobs: int) -> VideoPool:
        """Where a batch's videos run.

        The ``dask`` executor: spread over its cluster, one task per video. Else
        ``jobs`` local worker processes (``jobs == 1``: in this process).
        """
        if getattr(self.executor, "name", None) == "dask":
            from videopipe.adapters.batch.dask import DaskVideoPool  # noqa: PLC0415 - optional

            return DaskVideoPool(self.executor)
        if jobs == 1:
            return InProcessVideoPool()
        return ProcessVideoPool(jobs)

    def open_manifest(self, output_dir: str) -> JobManifest:
        """``output_dir/manifest.sqlite``."""
        return SqliteManifest(os.path.join(output_dir, MANIFEST_NAME))

    def result_files(
        self, results_format: str | None = None
    ) -> tuple[Callable[[str], ResultSink] | None, str]:
        """The sink factory of ``results_format`` (default JSON lines) and its suffix."""
        kind = format_of(None, results_format)
        return functools.partial(open_sink, requested=kind), f".{kind}"


def summarize(
    pipeline_id: str,
    frames: Iterable[FrameResult | tuple[str, FrameResult]],
    *,
    runner: PipelineRunner | None = None,
    max_gap: int = 0,
    video: str = "",
) -> list[VideoReport]:
    """Re-run a pipeline's summaries over stored frame results, without decoding again.

    ``frames``: :class:`FrameResult` values of one video (named ``video``), or
    ``(video, FrameResult)`` pairs, e.g. what ``videopipe.results.read_frames`` gives
    back from a results file; each video's frames in frame order, videos one after
    another. Returns one :class:`VideoReport` per video, in order (``info`` is ``None``:
    no file is opened). ``runner`` says which reducers the pipeline's nodes have
    (default: a :class:`DagPipelineRunner` over the pipeline library); ``max_gap`` as in
    :meth:`VideoFilePipelineService.report`. Streams: memory grows with the reports only.
    """
    source = runner if runner is not None else DagPipelineRunner()
    reducers = runner_reducers(source, pipeline_id, max_gap=max_gap)  # check the arguments once
    reports: list[VideoReport] = []
    builder: ReportBuilder | None = None
    for item in frames:
        name, result = item if isinstance(item, tuple) else (video, item)
        if builder is None or name != builder.video:
            if builder is not None:
                reports.append(builder.report())
                reducers = runner_reducers(source, pipeline_id, max_gap=max_gap)
            builder = ReportBuilder(name, pipeline_id, reducers)
        builder.add(result)
    if builder is not None:
        reports.append(builder.report())
    return reports
