"""Several videos into one output, one after another or handed to the executor together.

:func:`run_videos` runs the videos of ``videopipe run PATH... [--output FILE]`` (not a
batch: see ``cli/batch.py``) into one sink, with their progress bars and the run's
:class:`Tally`; ``cli/failures.py`` goes on after a video that cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.progress import (
    Progress,
    TaskID,
)

from videopipe.adapters.executors.batch import run_batch
from videopipe.adapters.sinks import (
    Sink,
    encode_line,
)
from videopipe.api import VideoFilePipelineService
from videopipe.cli.annotation import Annotation
from videopipe.cli.progress import selected_frames
from videopipe.cli.results import ResumePlan
from videopipe.cli.resume import resumed_results
from videopipe.cli.summary import RunSummaries
from videopipe.ports.closing import close_if_closeable, closed_after
from videopipe.ports.executor import ManyVideoExecutor


@dataclass
class Tally:
    """What a run did: frames, lines written, videos, skipped and failed ones."""

    frames: int = 0
    written: int = 0
    resumed: int = 0
    errors: int = 0
    videos: int = 0
    skipped_videos: int = 0
    summaries: RunSummaries | None = None
    failed: list[str] = field(default_factory=list)


def run_videos(
    service: VideoFilePipelineService,
    pipeline: str,
    videos: Sequence[str],
    *,
    together: bool,
    sink: Sink,
    plan: ResumePlan | None,
    annotation: Annotation | None,
    progress: Progress | None,
    tally: Tally,
) -> None:
    """Run ``videos`` in order into ``sink``: handed to the executor together, or each."""
    if together:
        _run_together(service, pipeline, videos, sink=sink, progress=progress, tally=tally)
        return
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


def spreads_videos(service: VideoFilePipelineService, videos: Sequence[str]) -> bool:
    """Whether the videos go to the executor together (it runs many at once: segments, dask)."""
    return len(videos) > 1 and isinstance(service.executor, ManyVideoExecutor)


def _run_together(
    service: VideoFilePipelineService,
    pipeline: str,
    videos: Sequence[str],
    *,
    sink: Sink,
    progress: Progress | None,
    tally: Tally,
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
                    total = selected_frames(service.video_info(video), service.selection)
                    tasks[video] = progress.add_task(os.path.basename(video), total=total)
                else:
                    tasks[video] = TaskID(0)
            sink.write(video, item)
            if tally.summaries is not None:
                tally.summaries.add(video, item)
            tally.frames += 1
            tally.written += 1
            if item.error is not None:
                tally.errors += 1
            if progress is not None:
                progress.advance(tasks[video])


def _run_video(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    *,
    sink: Sink,
    plan: ResumePlan | None,
    annotation: Annotation | None,
    progress: Progress | None,
    tally: Tally,
) -> None:
    results, check, already = resumed_results(
        service, pipeline, video, sink=sink, plan=plan, annotation=annotation
    )
    tally.resumed += 0 if plan is None else plan.lines_of(video)
    task = None
    if progress is not None:
        info = service.video_info(video)
        total = selected_frames(info, service.selection)
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
            if tally.summaries is not None:
                tally.summaries.add(video, item)
            if task is not None and progress is not None:
                progress.advance(task)
        if check is not None:
            check.finish()
        if task is not None and progress is not None and info.frame_count is None:
            # The total was an estimate: the bar ends at the frames there were.
            done = next(each.completed for each in progress.tasks if each.id == task)
            progress.update(task, total=done)
    finally:
        close_if_closeable(results)  # stops the decoder at once (Ctrl-C, a failure, a closed pipe)
