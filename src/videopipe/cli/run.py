"""``videopipe run``: a pipeline over videos, one JSON line per processed frame."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import click
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

from videopipe.adapters.annotate import AnnotatedVideoWriter, annotation_fps, draw_result
from videopipe.api import VideoFilePipelineService
from videopipe.cli.app import (
    EXIT_OK,
    InvalidUsageError,
    app,
    debug_option,
    decoder_option,
    env_option,
    stderr_console,
    stderr_is_terminal,
)
from videopipe.cli.results import (
    LineSink,
    ResumeCheck,
    ResumePlan,
    WrittenVideo,
    drop_torn_tail,
    encode_line,
    plan_resume,
)
from videopipe.container import ERROR_POLICIES, Container, create_container
from videopipe.domain.errors import VideoFileNotFoundError
from videopipe.domain.model import Frame, FrameResult, FrameSelection, RGBImage


class _FramesPerSecond(ProgressColumn):
    """The task's speed, in frames/s."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- frames/s" if speed is None else f"{speed:.1f} frames/s")


class _ImageTap:
    """A runner wrapper that keeps each frame's image until the annotation takes it.

    Thread-safe when the wrapped runner is (images are keyed by frame index, so
    executors may call it out of order and from several threads).
    """

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self._images: dict[int, RGBImage] = {}
        self._lock = threading.Lock()

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Keep the frame's image, then run the wrapped runner."""
        with self._lock:
            self._images[int(payload["frame_index"])] = payload["image"]
        result: dict[str, Any] = self.runner.run_pipeline(pipeline_id, payload)
        return result

    def __getattr__(self, name: str) -> Any:
        # What executors ask of a runner (thread_safe, history_frames) is the wrapped one's.
        return getattr(self.runner, name)

    def take(self, frame_index: int) -> RGBImage | None:
        """The image of ``frame_index``, if the runner saw it here (earlier ones are dropped).

        None when the runner ran in another process (a process-based executor).
        """
        with self._lock:
            image = self._images.pop(frame_index, None)
            for index in [index for index in self._images if index < frame_index]:
                del self._images[index]
        return image


@dataclass
class _Tally:
    frames: int = 0
    written: int = 0
    resumed: int = 0
    errors: int = 0
    videos: int = 0
    skipped_videos: int = 0


def _selected(frame_count: int | None, selection: FrameSelection) -> int | None:
    """How many frames of a video with ``frame_count`` frames the selection picks."""
    if frame_count is None:
        return selection.count
    stop = frame_count if selection.stop is None else min(frame_count, selection.stop)
    return len(range(selection.start, max(stop, selection.start), selection.step))


def _check_paths(videos: Sequence[str], output: str | None, annotate: str | None) -> None:
    for video in videos:
        if not os.path.lexists(video) or not os.path.exists(video):
            raise VideoFileNotFoundError(video)
    targets = [("--output", output), ("--annotate", annotate)]
    for option, target in targets:
        if target is None or not os.path.exists(target):
            continue
        for video in videos:
            if os.path.samefile(target, video):
                raise InvalidUsageError(f"{option} {target!r} is one of the input videos")
    if output and annotate and os.path.abspath(output) == os.path.abspath(annotate):
        raise InvalidUsageError("--output and --annotate name the same file")


@app.command(
    "run",
    context_settings={"help_option_names": ["-h", "--help"]},
    short_help="Run a pipeline over videos; one JSON line per processed frame.",
)
@click.argument("videos", metavar="VIDEO...", nargs=-1, required=True)
@click.option("--pipeline", "-p", required=True, metavar="ID", help="Pipeline id.")
@click.option(
    "--stride",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Process every N-th frame (frames 0, N, 2N, ...).",
)
@click.option(
    "--max-frames",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Process at most N frames of each video.",
)
@env_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the JSON lines to this file (replaced, unless --resume) instead of stdout.",
)
@click.option(
    "--annotate",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="OUT.mp4",
    help="Also write a video of the processed frames with the results' boxes and labels "
    "drawn on them (H.264, the source's size, its frame rate divided by the stride). "
    "One video only.",
)
@click.option(
    "--on-error",
    type=click.Choice(ERROR_POLICIES),
    default=None,
    help="A frame whose runner call failed: raise (stop, exit 5) or skip (its line gets "
    '"error" and the run goes on). Default: the configuration\'s (raise).',
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run from the last line in --output: videos already "
    "complete are skipped; the last one is re-run from its start (so stateful plugins "
    "are exact) and only frames not yet in the file are written.",
)
@decoder_option
@click.option(
    "--summary/--no-summary",
    default=None,
    help="Print a summary line on stderr at the end (default: only when stderr is a terminal).",
)
@debug_option
def run_command(
    *,
    videos: tuple[str, ...],
    pipeline: str,
    stride: int | None,
    max_frames: int | None,
    env: str | None,
    output: str | None,
    annotate: str | None,
    on_error: str | None,
    resume: bool,
    decoder: str | None,
    summary: bool | None,
) -> int:
    """Run pipeline ID over each VIDEO, one after another.

    Prints one JSON line per processed frame, as soon as it is produced, to stdout or
    to --output: {"video", "frame_index", "timestamp", "result"}, plus "error" for a
    frame skipped with --on-error skip. On a terminal, a progress bar and a summary go
    to stderr; when piped, stdout holds nothing but JSON lines and stderr stays quiet
    unless something fails.
    """
    if resume and output is None:
        raise InvalidUsageError("--resume needs --output (the file to continue)")
    if annotate is not None and len(videos) > 1:
        raise InvalidUsageError(
            "--annotate takes one video; run each video with its own --annotate"
        )
    if resume and len(set(videos)) != len(videos):
        raise InvalidUsageError("--resume needs each video once")
    overrides = {
        key: value
        for key, value in (
            ("decoder", decoder),
            ("frame_stride", stride),
            ("max_frames", max_frames),
            ("on_error", on_error),
        )
        if value is not None
    }
    container = create_container(env, overrides=overrides)
    service = container.video_service()
    _check_paths(videos, output, annotate)
    _load_pipeline(container, pipeline)
    plan = plan_resume(output, videos) if resume and output is not None else None
    if plan is not None and output is not None:
        drop_torn_tail(output, plan.keep_bytes)
    sink = (
        LineSink.to_stdout()
        if output is None
        else LineSink.to_file(output, append=plan is not None)
    )
    tally = _Tally()
    show_progress = stderr_is_terminal()
    started = time.monotonic()
    try:
        # The writer's ffmpeg starts before the progress bar's thread does.
        with (
            _annotation(service, videos[0], annotate) as annotation,
            _progress(show_progress) as progress,
        ):
            for video in videos:
                if plan is not None and video in plan.done:
                    tally.skipped_videos += 1
                    continue
                _run_video(
                    service,
                    pipeline,
                    video,
                    sink=sink,
                    plan=plan,
                    annotation=annotation,
                    progress=progress,
                    tally=tally,
                )
    finally:
        sink.close()
        if summary or (summary is None and show_progress):
            _print_summary(tally, time.monotonic() - started, output, annotate)
    return EXIT_OK


def _load_pipeline(container: Container, pipeline: str) -> None:
    """Fail before the first frame when the DAG runner cannot load the pipeline."""
    if container.config.runner() == "dag":
        container.pipeline_library().load(pipeline)


class _Annotation:
    """The annotated video of one run: frame images, and the writer they are drawn into."""

    def __init__(
        self, service: VideoFilePipelineService, video: str, writer: AnnotatedVideoWriter
    ) -> None:
        self.service = service
        self.video = video
        self.writer = writer
        self.tap = _ImageTap(service.runner)
        self._stack = contextlib.ExitStack()
        self._frames: Iterator[Frame] | None = None

    def image(self, frame_index: int) -> RGBImage:
        """The frame ``frame_index``: from the runner's call, else decoded here in step."""
        image = self.tap.take(frame_index)
        if image is not None:
            return image
        if self._frames is None:
            reader = self._stack.enter_context(self.service.frame_source.open(self.video))
            self._frames = frames = reader.frames(self.service.selection)
            close = getattr(frames, "close", None)
            if close is not None:
                self._stack.callback(close)
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
def _annotation(
    service: VideoFilePipelineService, video: str, path: str | None
) -> Iterator[_Annotation | None]:
    """Tap the runner for frame images and open the annotated video's writer."""
    if path is None:
        yield None
        return
    info = service.video_info(video)
    fps = annotation_fps(info.fps, service.frame_stride)
    with AnnotatedVideoWriter(path, info.width, info.height, fps) as writer:
        annotation = _Annotation(service, video, writer)
        service.runner = annotation.tap
        try:
            yield annotation
        finally:
            service.runner = annotation.tap.runner
            annotation.close()


@contextlib.contextmanager
def _progress(show: bool) -> Iterator[Progress | None]:
    if not show:
        yield None
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _FramesPerSecond(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=False,
    )
    with progress:
        yield progress


def _stateless(service: VideoFilePipelineService, pipeline: str, video: str) -> bool:
    """Whether the runner declares that a frame's result depends on that frame alone."""
    if getattr(service.runner, "history_frames", None) is None:
        return False  # undeclared: it may keep state, so resume re-runs from the start
    work = service.work(pipeline, video)
    try:
        return work.history_frames() == 0
    finally:
        work.close()


def _results_after(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    written: WrittenVideo,
    output: str,
) -> Iterator[FrameResult]:
    """The results of the selected frames after the last one written (stateless runner)."""
    selection = service.selection
    if not selection.contains(written.last_index) or written.lines != len(
        range(selection.start, written.last_index + 1, selection.step)
    ):
        raise InvalidUsageError(
            f"cannot resume {output!r}: its {written.lines} lines for {written.video!r} are "
            "not the frames this run selects (was it written with another --stride or "
            "--max-frames?)"
        )
    start = written.last_index + selection.step
    if selection.stop is not None and start >= selection.stop:
        return iter(())
    return _execute(service, pipeline, video, FrameSelection(start, selection.stop, selection.step))


def _execute(
    service: VideoFilePipelineService, pipeline: str, video: str, selection: FrameSelection
) -> Iterator[FrameResult]:
    """Like ``service.iter_frame_results``, over ``selection`` instead of the service's."""
    work = service.work(pipeline, video, selection)
    try:
        results = service.executor.execute(work)
        try:
            yield from results
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    finally:
        work.close()


def _resumed(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    *,
    sink: LineSink,
    plan: ResumePlan | None,
    annotation: _Annotation | None,
) -> tuple[Iterator[FrameResult], ResumeCheck | None, int]:
    """The results to write for ``video``, the check of lines already written, their count.

    A video the file holds part of is continued after its last line when the runner is
    stateless (and no annotated video needs every frame); otherwise it is re-run from
    its start (exact for stateful plugins), checked against the file, then appended to.
    """
    if plan is None or plan.partial is None or plan.partial.video != video:
        return service.iter_frame_results(pipeline, video), None, 0
    if annotation is None and _stateless(service, pipeline, video):
        results = _results_after(service, pipeline, video, plan.partial, sink.name)
        return results, None, plan.partial.lines
    return service.iter_frame_results(pipeline, video), ResumeCheck(sink.name, plan.partial), 0


def _run_video(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    *,
    sink: LineSink,
    plan: ResumePlan | None,
    annotation: _Annotation | None,
    progress: Progress | None,
    tally: _Tally,
) -> None:
    results, check, already = _resumed(
        service, pipeline, video, sink=sink, plan=plan, annotation=annotation
    )
    tally.resumed += 0 if plan is None else plan.lines_of(video)
    task = None
    if progress is not None:
        total = _selected(service.video_info(video).frame_count, service.selection)
        task = progress.add_task(os.path.basename(video), total=total, completed=already)
    tally.videos += 1
    try:
        for item in results:
            line = encode_line(video, item)
            tally.frames += 1
            if item.error is not None:
                tally.errors += 1
            if annotation is not None:  # first, so a line written is a frame drawn
                annotation.draw(item.frame_index, item.result)
            if check is None or not check.already_written(item, line):
                sink.write(line)
                tally.written += 1
            if task is not None and progress is not None:
                progress.advance(task)
        if check is not None:
            check.finish()
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops the decoder at once (Ctrl-C, a failure, a closed pipe)


def _print_summary(tally: _Tally, seconds: float, output: str | None, annotate: str | None) -> None:
    rate = tally.frames / seconds if seconds > 0 else 0.0
    videos = f"{tally.videos} video" + ("" if tally.videos == 1 else "s")
    parts = [
        f"{tally.frames} frames of {videos} in {seconds:.2f} s ({rate:.1f} frames/s)",
        f"{tally.errors} error" + ("" if tally.errors == 1 else "s"),
    ]
    if tally.resumed or tally.skipped_videos:
        parts.append(
            f"resumed: {tally.resumed} lines were already in {output}, "
            f"{tally.skipped_videos} complete videos skipped"
        )
    if output is not None:
        parts.append(f"{tally.written} lines written to {output}")
    if annotate is not None:
        parts.append(f"annotated video {annotate}")
    stderr_console().print("videopipe: " + "; ".join(parts), markup=False, soft_wrap=True)
