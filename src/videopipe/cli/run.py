"""``videopipe run``: a pipeline over videos, one JSON line per processed frame.

Over 300 lines because it is one click command: its options, their checks and the loop
that writes, resumes and annotates read as one page (results, resume and annotation
logic live in their own modules).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time

import click

from videopipe.adapters.sinks import (
    FORMATS,
    JsonLinesSink,
    Sink,
    format_of,
    open_sink,
)
from videopipe.application.inputs import find_videos
from videopipe.application.settings import ERROR_POLICIES
from videopipe.cli.annotation import annotation_of
from videopipe.cli.app import (
    EXIT_INPUT,
    EXIT_OK,
    InvalidUsageError,
    app,
    at_least_one_frame,
    count_option,
    debug_option,
    decoder_option,
    env_option,
    executor_options,
    stderr_console,
    stderr_is_terminal,
)
from videopipe.cli.batch import BATCH_EPILOG, BatchOptions, batch_options, run_batch_job
from videopipe.cli.failures import run_each
from videopipe.cli.paths import check_paths
from videopipe.cli.pipeline_choice import PIPELINE_HELP, chosen_pipeline, pipeline_path_option
from videopipe.cli.progress import progress_bars
from videopipe.cli.results import plan_resume
from videopipe.cli.summary import RunSummaries, summary_options, summary_table
from videopipe.cli.videos import Tally, run_videos, spreads_videos
from videopipe.container import Container, create_container


def _stdout_is_terminal() -> bool:
    try:
        return os.isatty(1)
    except OSError:
        return False


@app.command(
    "run",
    context_settings={"help_option_names": ["-h", "--help"]},
    short_help="Run a pipeline over videos; one JSON line per processed frame.",
    epilog=BATCH_EPILOG,
)
@click.argument("videos", metavar="PATH...", nargs=-1, required=True)
@click.option("--pipeline", "-p", required=True, metavar="ID|FILE", help=PIPELINE_HELP)
@pipeline_path_option
@count_option("--stride", minimum=1, text="Process every N-th frame (frames 0, N, 2N, ...).")
@click.option(
    "--max-frames",
    type=int,
    callback=at_least_one_frame,
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
@summary_options
@batch_options
@debug_option
def run_command(
    *,
    videos: tuple[str, ...],
    pipeline: str,
    pipeline_paths: tuple[str, ...],
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
    summary_file: str | None,
    max_gap: int,
    stats: bool | None,
    **batch: object,
) -> int:
    """Run pipeline ID (or FILE) over each video of PATH (files, directories, globs), in order.

    Prints one JSON line per processed frame, as soon as it is produced, to stdout or
    to --output: {"video", "frame_index", "timestamp", "result"}, plus "error" for a
    frame skipped with --on-error skip. On a terminal, a progress bar and a summary go
    to stderr, and a table of what each video holds (its summaries, also written by
    --summary FILE); when piped, stdout holds nothing but JSON lines and stderr stays quiet
    unless something fails.
    """
    options = BatchOptions(**batch)  # type: ignore[arg-type]
    options.check(output=output, annotate=annotate, resume=resume)
    if resume and output is None:
        raise InvalidUsageError("--resume needs --output (the file to continue)")
    streamed = output is None and options.output_dir is None
    if format_of(output, results_format) == "parquet" and streamed:
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
    videos = tuple(find_videos(videos))
    check_paths(videos, output, annotate, summary_file, batch_dir=options.output_dir)
    pipeline = chosen_pipeline(container, pipeline, pipeline_paths)
    _load_pipeline(container, pipeline)
    if options.output_dir is not None:
        return run_batch_job(
            service,
            pipeline,
            videos,
            options,
            show=stats,
            summary_file=summary_file,
            max_gap=max_gap,
            results_format=results_format,
        )
    plan = plan_resume(output, videos, results_format) if resume and output is not None else None
    sink = open_sink(output, results_format, resume=plan is not None)
    tally = Tally()
    on_terminal = stderr_is_terminal()
    stats = stats if stats is not None else on_terminal
    if summary_file is not None or stats:
        resumed = output if plan is not None else None
        tally.summaries = RunSummaries(
            service,
            pipeline,
            videos,
            summary_file,
            max_gap,
            rebuild_from=resumed,
            rebuild_format=results_format,
        )
    # Lines printed to the same terminal would tear the bar: then the lines are the progress.
    show_progress = on_terminal and not (output is None and _stdout_is_terminal())
    started = time.monotonic()
    try:
        # The writer's ffmpeg starts before the progress bar's thread does.
        with (
            annotation_of(service, videos[0], annotate) as annotation,
            progress_bars(show_progress) as progress,
            tally.summaries or contextlib.nullcontext(),
        ):
            together = plan is None and annotation is None and spreads_videos(service, videos)
            run = functools.partial(
                run_videos,
                service,
                pipeline,
                together=together,
                sink=sink,
                plan=plan,
                annotation=annotation,
                progress=progress,
                tally=tally,
            )
            tally.failed = run_each(videos, run, tally.summaries)
            if together:  # every video given, those that failed too
                tally.videos = len(videos)
            sink.close()  # committed before a resumed run's summaries are read back from it
    finally:
        sink.close()
        if stats:
            _print_summary(tally, time.monotonic() - started, sink, output, annotate)
            if tally.summaries is not None and any(r.summaries for r in tally.summaries.reports):
                stderr_console().print(summary_table(tally.summaries.reports))
    return EXIT_INPUT if tally.failed else EXIT_OK  # some videos could not be read


def _load_pipeline(container: Container, pipeline: str) -> None:
    """Fail before the first frame when the DAG runner cannot load the pipeline."""
    if container.config.runner() == "dag":
        container.pipeline_library().load(pipeline)


def _print_summary(
    tally: Tally, seconds: float, sink: Sink, output: str | None, annotate: str | None
) -> None:
    rate = tally.frames / seconds if seconds > 0 else 0.0
    videos = f"{tally.videos} video" + ("" if tally.videos == 1 else "s")
    parts = [
        f"{tally.frames} frames of {videos} in {seconds:.2f} s ({rate:.1f} frames/s)",
        f"{tally.errors} error" + ("" if tally.errors == 1 else "s"),
    ]
    if tally.failed:
        parts.append(f"{len(tally.failed)} failed (cannot be read)")
    # A JSON-lines file holds a line per frame; a CSV or Parquet file rows per frame.
    unit = "lines" if sink.format == "jsonl" else "frames"
    if tally.resumed or tally.skipped_videos:
        parts.append(
            f"resumed: {tally.resumed} {unit} were already in {output}, "
            f"{tally.skipped_videos} complete videos skipped"
        )
    if output is not None:
        rows = "" if isinstance(sink, JsonLinesSink) else f" ({sink.rows} rows)"
        parts.append(f"{tally.written} {unit} written to {output}{rows}")
    if annotate is not None:
        parts.append(f"annotated video {annotate}")
    stderr_console().print("videopipe: " + "; ".join(parts), markup=False, soft_wrap=True)
