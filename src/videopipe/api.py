"""The public service: the application's service with the default decoder bound."""

from __future__ import annotations

from videopipe import application as _application
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors import create_executor
from videopipe.application.settings import ErrorPolicy, ImageBytesMode
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor
from videopipe.ports.frames import FrameSource
from videopipe.ports.runner import PipelineRunner


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
