"""The annotated video of a run: frame images for :mod:`videopipe.adapters.annotate`."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from videopipe.adapters.annotate import AnnotatedVideoWriter, annotation_fps, draw_result
from videopipe.api import VideoFilePipelineService
from videopipe.domain.model import Frame, RGBImage
from videopipe.ports.closing import closed_after


class ImageTap:
    """A runner wrapper that keeps each frame's image until the annotation takes it.

    Thread-safe when the wrapped runner is (images are keyed by frame index, so
    executors may call it out of order and from several threads).
    """

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self._images: dict[int, RGBImage] = {}
        self._lock = threading.Lock()

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Keep the frame's image (when it is at the video's size), then run the runner.

        A frame decoded smaller or as luma (a pipeline's ``frame:`` size or format) is
        not kept: the annotation draws on the video's own frames, decoded again in step.
        """
        full_size = tuple(payload.get("scale", (1.0, 1.0))) == (1.0, 1.0)
        if full_size and payload.get("format", "rgb24") == "rgb24":
            with self._lock:
                self._images[int(payload["frame_index"])] = payload["image"]
        result: dict[str, Any] = self.runner.run_pipeline(pipeline_id, payload)
        return result

    def __getattr__(self, name: str) -> Any:
        # What executors ask of a runner (thread_safe, history_frames) is the wrapped one's.
        return getattr(self.runner, name)

    def take(self, frame_index: int) -> RGBImage | None:
        """The image of ``frame_index``, if the runner saw it here (earlier ones are dropped).

        None when the runner ran in another process (a process-based executor) or the
        frame was decoded smaller than the video.
        """
        with self._lock:
            image = self._images.pop(frame_index, None)
            for index in [index for index in self._images if index < frame_index]:
                del self._images[index]
        return image


class Annotation:
    """The annotated video of one run: frame images, and the writer they are drawn into."""

    def __init__(
        self, service: VideoFilePipelineService, video: str, writer: AnnotatedVideoWriter
    ) -> None:
        self.service = service
        self.video = video
        self.writer = writer
        self.tap = ImageTap(service.runner)
        self._stack = contextlib.ExitStack()
        self._frames: Iterator[Frame] | None = None

    def image(self, frame_index: int) -> RGBImage:
        """The frame ``frame_index``: from the runner's call, else decoded here in step."""
        image = self.tap.take(frame_index)
        if image is not None:
            return image
        if self._frames is None:
            reader = self._stack.enter_context(self.service.frame_source.open(self.video))
            frames = reader.frames(self.service.selection)
            self._frames = self._stack.enter_context(closed_after(frames))
        for frame in self._frames:
            if frame.index == frame_index:
                return frame.image
            if frame.index > frame_index:
                break
        raise RuntimeError(f"frame {frame_index} of {self.video!r} was not decoded again")

    def draw(self, frame_index: int, result: dict[str, Any] | None) -> None:
        """Draw ``result`` on the frame and append it to the video."""
        self.writer.write(draw_result(self.image(frame_index), result))

    def close(self) -> None:
        """Stop the in-step decoder, if one was started."""
        self._stack.close()


@contextlib.contextmanager
def annotation_of(
    service: VideoFilePipelineService, video: str, path: str | None
) -> Iterator[Annotation | None]:
    """Tap the runner for frame images and open the annotated video's writer."""
    if path is None:
        yield None
        return
    info = service.video_info(video)
    fps = annotation_fps(info.fps, service.frame_stride)
    with AnnotatedVideoWriter(path, info.width, info.height, fps) as writer:
        annotation = Annotation(service, video, writer)
        service.runner = annotation.tap
        try:
            yield annotation
        finally:
            service.runner = annotation.tap.runner
            annotation.close()
