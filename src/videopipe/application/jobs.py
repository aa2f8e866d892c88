"""A batch job over many files with a manifest: what to run, and recording what happened.

Running the same batch again (same options) skips every video that is done and whose
file did not change, runs again a video that failed (until it has been tried
``max_attempts`` times), redoes a video whose size or modification time changed, and
redoes a video left ``running`` by a batch that was killed. A manifest made with other
options is refused unless ``force``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TypedDict

from videopipe.application.batch import VideoJob, staging_directory
from videopipe.application.inputs import distinct, find_videos, output_name
from videopipe.application.options import ManifestOptionsError, what_changed
from videopipe.application.work import WorkOrder
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import BatchEvent, VideoFinished, VideoPool, VideoStarted, VideoTask
from videopipe.ports.closing import closed_after
from videopipe.ports.manifest import JobManifest, VideoEntry
from videopipe.ports.sinks import ResultSink

DEFAULT_MAX_ATTEMPTS = 3
"""How many runs a failing video gets, over all the batch's runs."""


class BatchOptions(TypedDict, total=False):
    """The keyword options of ``service.run_batch`` (see ``service.batch``)."""

    jobs: int
    output_dir: str | os.PathLike[str] | None
    max_errors: int | None
    max_gap: int
    max_attempts: int
    force: bool
    results_format: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A video this run leaves alone, and why."""

    path: str
    reason: str
    entry: VideoEntry


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The videos to run now (with their output file) and those skipped."""

    run: tuple[tuple[str, str | None], ...]
    skipped: tuple[Skipped, ...]


def _key(path: str) -> str:
    return os.path.abspath(path)


def _stat(video: str) -> tuple[int, float]:
    """Size and mtime; ``(-1, -1.0)`` for a dangling link or a link loop (its run fails it)."""
    try:
        stat = os.stat(video)
    except OSError:
        return -1, -1.0
    return stat.st_size, stat.st_mtime


def plan_batch(
    manifest: JobManifest,
    videos: Sequence[tuple[str, str]],
    options: str,
    *,
    force: bool = False,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> BatchPlan:
    """Decide for each ``(video, output)`` whether it runs, and record the new rows.

    Raises :class:`ManifestOptionsError` when the manifest holds other options and
    ``force`` is false.
    """
    stored = manifest.options_hash()
    if stored is not None and stored != options and not force:
        raise ManifestOptionsError(
            f"the manifest {manifest.location!r} was made with other options "
            f"({what_changed(stored, options)}{stored}, now {options}): run with the same "
            "options to continue it, "
            "or add --force to run every video again with these"
        )
    if stored != options:
        manifest.set_options_hash(options)
    run: list[tuple[str, str | None]] = []
    skipped: list[Skipped] = []
    for video, output in videos:
        size, mtime = _stat(video)
        entry = manifest.get(_key(video))
        fresh = VideoEntry(_key(video), size, mtime, options, output=output)
        same = (
            entry is not None
            and entry.options_hash == options
            and entry.size == size
            and entry.mtime == mtime
        )
        if entry is None or not same:
            manifest.put(fresh)
            run.append((video, output))
        elif entry.status == "done" and (entry.output is None or os.path.exists(entry.output)):
            skipped.append(Skipped(video, "done", entry))
        elif entry.status == "failed" and entry.attempts >= max_attempts:
            error = entry.error or {}
            reason = f"failed {entry.attempts} times: {error.get('type', '')}"
            skipped.append(Skipped(video, reason, entry))
        else:
            manifest.put(replace(entry, status="pending", output=output))
            run.append((video, output))
    return BatchPlan(tuple(run), tuple(skipped))


def recorded(manifest: JobManifest, events: Iterator[BatchEvent]) -> Iterator[BatchEvent]:
    """Pass ``events`` through, recording each video's start and end in ``manifest``.

    The row of a video is written before its event is passed on. A failed video's
    staging directory goes too: a worker killed mid-video could not remove it.
    """
    for event in events:
        if isinstance(event, VideoStarted | VideoFinished):
            entry = manifest.get(_key(event.path))
            if entry is not None:
                manifest.put(_after(entry, event))
                if isinstance(event, VideoFinished) and not event.report.ok and entry.output:
                    shutil.rmtree(staging_directory(entry.output), ignore_errors=True)
        yield event


def _after(entry: VideoEntry, event: VideoStarted | VideoFinished) -> VideoEntry:
    now = time.time()
    if isinstance(event, VideoStarted):
        return replace(
            entry,
            status="running",
            started=now,
            ended=None,
            error=None,
            frames=0,
            attempts=entry.attempts + 1,
        )
    report = event.report
    return replace(
        entry,
        status="done" if report.ok else "failed",
        frames=report.frames_processed,
        error=report.error,
        report=report.to_dict(),
        output=entry.output if report.ok else None,
        ended=now,
    )


class BatchRun:
    """A batch ready to run: its plan, then its events (recorded in the manifest).

    ``events()`` runs the planned videos on the pool and yields what happens; the
    manifest (if any) is closed when the events end. ``reports()`` yields only each
    video's :class:`~videopipe.domain.report.VideoReport`, as the videos finish.
    """

    def __init__(
        self,
        jobs: Sequence[VideoTask],
        pool: VideoPool,
        *,
        skipped: Sequence[Skipped] = (),
        manifest: JobManifest | None = None,
        videos: Sequence[str] = (),
    ) -> None:
        self.videos = list(videos) or [job.path for job in jobs]
        """Every video the paths named, in order (run now or skipped)."""
        self.jobs = list(jobs)
        self.pool = pool
        self.skipped = list(skipped)
        self.manifest = manifest
        self.manifest_location = None if manifest is None else manifest.location

    def events(self) -> Iterator[BatchEvent]:
        """Run the batch; its events as they happen."""
        try:
            events = self.pool.run(self.jobs)
            with closed_after(events):
                if self.manifest is None:
                    yield from events
                else:
                    yield from recorded(self.manifest, events)
        finally:
            if self.manifest is not None:
                self.manifest.close()

    def reports(self) -> Iterator[VideoReport]:
        """Each run video's report, as it finishes (a failed video's has ``error``)."""
        with closed_after(self.events()) as events:
            for event in events:
                if isinstance(event, VideoFinished):
                    yield event.report


def prepare_batch(
    order_of: Callable[[str], WorkOrder],
    paths: Iterable[str | os.PathLike[str]],
    *,
    pool: VideoPool,
    output_dir: str | None = None,
    open_sink: Callable[[str], ResultSink] | None = None,
    suffix: str = ".jsonl",
    manifest: JobManifest | None = None,
    options: str = "",
    max_errors: int | None = None,
    max_gap: int = 0,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    force: bool = False,
) -> BatchRun:
    """Find the videos of ``paths``, plan them against ``manifest`` and build their jobs.

    ``paths`` may be one path. ``order_of(path)`` is the work order of one video. With
    ``output_dir`` each video's results go to ``output_dir/<name>``
    (:func:`~videopipe.application.inputs.output_name`), written with ``open_sink``.
    """
    videos = distinct(find_videos([paths] if isinstance(paths, str | os.PathLike) else paths))
    output_dir = None if output_dir is None else os.path.abspath(output_dir)
    outputs = [
        (video, "" if output_dir is None else os.path.join(output_dir, output_name(video, suffix)))
        for video in videos
    ]
    if manifest is not None:
        try:
            plan = plan_batch(manifest, outputs, options, force=force, max_attempts=max_attempts)
        except BaseException:
            manifest.close()
            raise
        chosen = [(video, output or None) for video, output in plan.run]
        skipped: Sequence[Skipped] = plan.skipped
    else:
        chosen = [(video, output or None) for video, output in outputs]
        skipped = ()
    jobs = [
        VideoJob(order_of(video), output, open_sink if output else None, max_errors, max_gap)
        for video, output in chosen
    ]
    return BatchRun(jobs, pool, skipped=skipped, manifest=manifest, videos=videos)
