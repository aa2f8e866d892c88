"""``videopipe run PATH... --output-dir DIR``: a batch job over many videos, and ``jobs show``.

Each video's results go to their own file in DIR, ``DIR/manifest.sqlite`` records every
video (see docs/batch.md), and the same command again continues the batch. On a
terminal: one bar for the files, one for the frames, then a table of the videos done,
failed and skipped with the reasons.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from rich.progress import (
    Progress,
    TaskID,
)
from rich.table import Table

from videopipe.api import VideoFilePipelineService
from videopipe.application.inputs import VIDEO_EXTENSIONS
from videopipe.application.jobs import DEFAULT_MAX_ATTEMPTS, BatchRun
from videopipe.cli.app import (
    EXIT_INPUT,
    EXIT_OK,
    InvalidUsageError,
    OutputError,
    add_text_row,
    count_option,
    stderr_console,
    stderr_is_terminal,
)
from videopipe.cli.progress import progress_bars
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoFinished, VideoProgress, VideoStarted
from videopipe.ports.closing import closed_after

F = TypeVar("F", bound=Callable[..., Any])

EXTENSIONS_HELP = " ".join(VIDEO_EXTENSIONS)

BATCH_EPILOG = (
    "PATH: video files (any extension), directories (searched recursively for "
    f"{EXTENSIONS_HELP}) and globs ('footage/**/*.mp4'). Exit status: 0 every "
    "video done, 3 some videos failed (with --output-dir: or were skipped after "
    "--max-attempts failures) and the others completed; see docs/batch.md."
)


def batch_options(function: F) -> F:
    """``--output-dir``, ``--jobs``, ``--max-errors``, ``--max-attempts``, ``--force``."""
    options = [
        click.option(
            "--output-dir",
            type=click.Path(file_okay=False),
            default=None,
            metavar="DIR",
            help="A batch job: one results file per video in DIR (named from the video's "
            "path, so two inputs never collide) and DIR/manifest.sqlite; the same command "
            "again skips the videos done, retries the failed ones, redoes the changed ones.",
        ),
        count_option(
            "--jobs",
            "-j",
            minimum=1,
            default=1,
            show_default=True,
            text="Videos processed at once, in N local processes (with --output-dir; "
            "--executor dask spreads the videos over the cluster instead).",
        ),
        count_option(
            "--max-errors",
            minimum=0,
            text="With --output-dir and --on-error skip: a video with more than N skipped "
            "frames fails.",
        ),
        count_option(
            "--max-attempts",
            minimum=1,
            default=DEFAULT_MAX_ATTEMPTS,
            show_default=True,
            text="With --output-dir: runs a failing video gets over the batch's reruns.",
        ),
        click.option(
            "--force",
            is_flag=True,
            help="With --output-dir: accept a manifest made with other options (its "
            "videos run again with these).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@dataclass
class BatchOptions:
    """The batch options of ``videopipe run``."""

    output_dir: str | None
    jobs: int
    max_errors: int | None
    max_attempts: int
    force: bool

    def check(self, *, output: str | None, annotate: str | None, resume: bool) -> None:
        """Refuse batch options without ``--output-dir`` and options a batch does not take."""
        if self.output_dir is None:
            for name, given in (
                ("--jobs", self.jobs != 1),
                ("--max-errors", self.max_errors is not None),
                ("--force", self.force),
            ):
                if given:
                    raise InvalidUsageError(f"{name} needs --output-dir (a batch job)")
            return
        conflicts = (("--output", output is not None), ("--annotate", annotate is not None))
        for name, conflict in (*conflicts, ("--resume", resume)):
            if conflict:
                raise InvalidUsageError(
                    f"--output-dir and {name} do not go together"
                    + (" (the manifest resumes a batch)" if name == "--resume" else "")
                )


@dataclass
class _Outcome:
    done: list[VideoReport] = field(default_factory=list)
    failed: list[VideoReport] = field(default_factory=list)


def run_batch_job(
    service: VideoFilePipelineService,
    pipeline: str,
    videos: Sequence[str],
    options: BatchOptions,
    *,
    show: bool | None,
    summary_file: str | None = None,
    max_gap: int = 0,
    results_format: str | None = None,
) -> int:
    """Run the batch; 0 when every video is done, 3 when some are not.

    ``summary_file``: each video's report, one JSON object a line, in input order (a
    video skipped as done gets the report the manifest kept).
    """
    if options.output_dir is None:
        raise InvalidUsageError("a batch job needs --output-dir")
    batch = service.batch(
        pipeline,
        videos,
        jobs=options.jobs,
        output_dir=options.output_dir,
        max_errors=options.max_errors,
        max_gap=max_gap,
        max_attempts=options.max_attempts,
        force=options.force,
        results_format=results_format,
    )
    outcome = _Outcome()
    on_terminal = stderr_is_terminal()
    with progress_bars(on_terminal, speed=False) as progress:
        _run(batch, outcome, progress)
    if summary_file is not None:
        _write_summaries(summary_file, batch, outcome)
    if show or (show is None and on_terminal):
        _print_table(batch, outcome)
    else:
        for report in outcome.failed:
            error = report.error or {}
            stderr_console().print(
                f"videopipe: failed: {report.video}: {error.get('type')}: {error.get('message')}",
                markup=False,
                soft_wrap=True,
            )
    not_done = len(outcome.failed) + sum(skip.reason != "done" for skip in batch.skipped)
    return EXIT_INPUT if not_done else EXIT_OK


def _write_summaries(path: str, batch: BatchRun, outcome: _Outcome) -> None:
    reports = {report.video: report.to_dict() for report in outcome.done + outcome.failed}
    for skip in batch.skipped:
        if skip.entry.report is not None:
            reports.setdefault(skip.path, dict(skip.entry.report))
    try:
        with open(path, "w", encoding="utf-8") as file:
            for video in batch.videos:
                if video in reports:
                    file.write(json.dumps(reports[video], default=str) + "\n")
    except OSError as exc:
        raise OutputError(f"cannot write --summary {path!r}: {exc.strerror or exc}") from exc


def _run(batch: BatchRun, outcome: _Outcome, progress: Progress | None) -> None:
    files: TaskID | None = None
    frames: TaskID | None = None
    if progress is not None:
        files = progress.add_task("files", total=len(batch.jobs))
        frames = progress.add_task("frames", total=None)
    seen: dict[str, int] = {}
    total = 0
    with closed_after(batch.events()) as events:
        for event in events:
            if isinstance(event, VideoStarted):
                seen[event.path] = 0
            elif isinstance(event, VideoProgress):
                step = event.frames - seen.get(event.path, 0)
                seen[event.path] = event.frames
                if progress is not None and frames is not None and step > 0:
                    progress.advance(frames, step)
            elif isinstance(event, VideoFinished):
                report = event.report
                (outcome.done if report.ok else outcome.failed).append(report)
                step = report.frames_processed - seen.pop(event.path, 0)
                total += report.frames_processed
                if progress is not None and files is not None and frames is not None:
                    progress.advance(frames, max(step, 0))
                    progress.advance(files)
    if progress is not None and frames is not None:
        progress.update(frames, total=total, completed=total)  # the bar ends full


LISTED = 20
"""Up to this many videos done (or skipped as done before), the table lists each; more
are one row of their count (the failed and the given-up ones are always listed)."""


def _print_table(batch: BatchRun, outcome: _Outcome) -> None:
    console = stderr_console()
    table = Table(title=f"batch: {len(batch.jobs) + len(batch.skipped)} videos")
    for column in ("status", "video", "frames", "reason"):
        table.add_column(column)
    done = [(report.video, report.frames_processed) for report in outcome.done]
    _add_rows(table, "done", done, "")
    for report in outcome.failed:
        error = report.error or {}
        reason = f"{error.get('type')}: {error.get('message')}"
        add_text_row(table, "failed", report.video, str(report.frames_processed), reason)
    before = [(skip.path, skip.entry.frames) for skip in batch.skipped if skip.reason == "done"]
    _add_rows(table, "skipped", before, "done before")
    for skip in batch.skipped:
        if skip.reason != "done":
            add_text_row(table, "skipped", skip.path, str(skip.entry.frames), skip.reason)
    console.print(table)
    console.print(
        f"videopipe: {len(outcome.done)} done, {len(outcome.failed)} failed, "
        f"{len(batch.skipped)} skipped; manifest {batch.manifest_location}",
        markup=False,
        soft_wrap=True,
    )


def _add_rows(table: Table, status: str, videos: list[tuple[str, int]], reason: str) -> None:
    """A row per video, or one row of their count when there are more than :data:`LISTED`."""
    if len(videos) <= LISTED:
        for video, frames in videos:
            add_text_row(table, status, video, str(frames), reason)
    else:
        frames = sum(count for _, count in videos)
        add_text_row(table, status, f"{len(videos)} videos", str(frames), reason)
