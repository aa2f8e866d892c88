"""``videopipe run``: a pipeline over videos, one JSON line per processed frame.

Over 300 lines because it is one click command: its options, their checks and the loop
that writes, resumes and annotates read as one page (results, resume and annotation
logic live in their own modules).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from videopipe.adapters.executors.batch import run_batch
from videopipe.adapters.sinks import FORMATS, Sink, encode_line, format_of, open_sink
from videopipe.api import VideoFilePipelineService
from videopipe.application.settings import ERROR_POLICIES
from videopipe.cli.annotation import Annotation, annotation_of
from videopipe.cli.app import (
    EXIT_OK,
    InvalidUsageError,
    app,
    debug_option,
    decoder_option,
    env_option,
    executor_options,
    stderr_console,
    stderr_is_terminal,
)
from videopipe.cli.results import ResumePlan, plan_resume
from videopipe.cli.resume import resumed_results
from videopipe.container import Container, create_container
from videopipe.domain.errors import VideoFileNotFoundError
from videopipe.domain.model import FrameSelection
from videopipe.ports.closing import close_if_closeable, closed_after
from videopipe.ports.executor import ManyVideoExecutor


class _FramesPerSecond(ProgressColumn):
    """The task's speed, in frames/s."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- frames/s" if speed is None else f"{speed:.1f} frames/s")


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


def _stdout_is_terminal() -> bool:
    try:
        return os.isatty(1)
    except OSError:
        return False


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
    help="Write the results to this file (replaced, unless --resume) instead of stdout; "
    "its format from its extension: .jsonl/.json/.ndjson, .csv, .parquet/.pq.",
)
@click.option(
    "--format",
    "results_format",
    type=click.Choice(FORMATS),
    default=None,
    help="Results format (default: from --output's extension; JSON lines for stdout and "
    "other extensions). CSV and Parquet hold one row per item or frame value "
    "(docs/results.md); Parquet needs --output.",
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
@executor_options
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
    results_format: str | None,
    annotate: str | None,
    on_error: str | None,
    resume: bool,
    decoder: str | None,
    executor: str | None,
    workers: int | None,
    summary: bool | None,
) -> int:
    """Run pipeline ID over each VIDEO, in order.

    Prints one JSON line per processed frame, as soon as it is produced, to stdout or
    to --output: {"video", "frame_index", "timestamp", "result"}, plus "error" for a
    frame skipped with --on-error skip. On a terminal, a progress bar and a summary go
    to stderr; when piped, stdout holds nothing but JSON lines and stderr stays quiet
    unless something fails.
    """
    if resume and output is None:
        raise InvalidUsageError("--resume needs --output (the file to continue)")
    if format_of(output, results_format) == "parquet" and output is None:
        raise InvalidUsageError("--format parquet needs --output FILE (Parquet is not streamed)")
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
            ("executor", executor),
            ("workers", workers),
        )
        if value is not None
    }
    container = create_container(env, overrides=overrides)
    service = container.video_service()
    _check_paths(videos, output, annotate)
    _load_pipeline(container, pipeline)
    plan = plan_resume(output, videos, results_format) if resume and output is not None else None
    sink = open_sink(output, results_format, resume=plan is not None)
    tally = _Tally()
    on_terminal = stderr_is_terminal()
    # Lines printed to the same terminal would tear the bar: then the lines are the progress.
    show_progress = on_terminal and not (output is None and _stdout_is_terminal())
    started = time.monotonic()
    try:
        # The writer's ffmpeg starts before the progress bar's thread does.
        with (
            annotation_of(service, videos[0], annotate) as annotation,
            _progress(show_progress) as progress,
        ):
            if plan is None and annotation is None and _spreads_videos(service, videos):
                _run_together(service, pipeline, videos, sink=sink, progress=progress, tally=tally)
                videos = ()
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
        if summary or (summary is None and on_terminal):
            _print_summary(tally, time.monotonic() - started, output, annotate)
    return EXIT_OK


def _load_pipeline(container: Container, pipeline: str) -> None:
    """Fail before the first frame when the DAG runner cannot load the pipeline."""
    if container.config.runner() == "dag":
        container.pipeline_library().load(pipeline)


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


def _spreads_videos(service: VideoFilePipelineService, videos: Sequence[str]) -> bool:
    """Whether the videos go to the executor together (it runs many at once: segments, dask)."""
    return len(videos) > 1 and isinstance(service.executor, ManyVideoExecutor)


def _run_together(
    service: VideoFilePipelineService,
    pipeline: str,
    videos: Sequence[str],
    *,
    sink: Sink,
    progress: Progress | None,
    tally: _Tally,
) -> None:
    """Every video through one ``run_batch``: the executor spreads them over its workers.

    The lines are those of the videos run one after another, in the same order.
    """
    tasks: dict[str, TaskID] = {}
    with closed_after(run_batch(service, pipeline, videos)) as results:
        for video, item in results:
            if video not in tasks:
                tally.videos += 1
                if progress is not None:
                    total = _selected(service.video_info(video).frame_count, service.selection)
                    tasks[video] = progress.add_task(os.path.basename(video), total=total)
                else:
                    tasks[video] = TaskID(0)
            sink.write(video, item)
            tally.frames += 1
            tally.written += 1
            if item.error is not None:
                tally.errors += 1
            if progress is not None:
                progress.advance(tasks[video])
    tally.videos = len(videos)


def _run_video(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    *,
    sink: Sink,
    plan: ResumePlan | None,
    annotation: Annotation | None,
    progress: Progress | None,
    tally: _Tally,
) -> None:
    results, check, already = resumed_results(
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
            tally.frames += 1
            if item.error is not None:
                tally.errors += 1
            if annotation is not None:  # first, so a line written is a frame drawn
                annotation.draw(item.frame_index, item.result)
            if check is None or not check.already_written(item, encode_line(video, item)):
                sink.write(video, item)
                tally.written += 1
            if task is not None and progress is not None:
                progress.advance(task)
        if check is not None:
            check.finish()
    finally:
        close_if_closeable(results)  # stops the decoder at once (Ctrl-C, a failure, a closed pipe)


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
