"""One video of a batch as a task (:class:`VideoJob`), and the in-process pool that runs them.

A :class:`VideoJob` is picklable (a :class:`~videopipe.application.work.WorkOrder`, the
output path, the sink factory), so a pool can run it in another process or on a
cluster worker. It writes the video's results under ``.partial/<name>/`` in the output
directory and moves them beside it only when the video is done: a batch killed at any
moment leaves whole outputs of finished videos and no partial one under a final name.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from videopipe.application.report import ReportBuilder, runner_reducers
from videopipe.application.work import ServiceWork, WorkOrder
from videopipe.domain.errors import TooManyErrorsError
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import BatchEvent, VideoFinished, VideoProgress, VideoStarted, VideoTask
from videopipe.ports.closing import closed_after
from videopipe.ports.sinks import ResultSink

STAGING = ".partial"
"""The directory (in the output's) where a video's results are written until it is done."""


def staging_directory(output: str) -> str:
    """Where ``output`` is written until its video is done: ``.partial/<name>/`` beside it."""
    return os.path.join(os.path.dirname(output), STAGING, os.path.basename(output))


def _publish(staging: str, output: str) -> None:
    """Move the finished files of ``staging`` beside ``output``; ``output`` itself last."""
    name = os.path.basename(output)
    target = os.path.dirname(output)
    for entry in sorted(os.listdir(staging)):
        if entry != name:  # a companion (a CSV's metadata), before the results appear
            os.replace(os.path.join(staging, entry), os.path.join(target, entry))
    os.replace(os.path.join(staging, name), output)
    shutil.rmtree(staging, ignore_errors=True)


def error_of(exc: BaseException) -> dict[str, str]:
    """``{"type", "message"}`` of a failure, as manifests and reports record it."""
    return {"type": type(exc).__name__, "message": " ".join(str(exc).split())}


class _Stopped(BaseException):
    """Ends the running video of a batch whose caller stopped reading (not a failure)."""


@dataclass(frozen=True, slots=True)
class VideoJob:
    """Run one video to its report, writing its results to ``output`` when given.

    ``open_sink(path)`` opens the results file (a picklable callable, e.g. a sink
    factory); ``max_errors``: more skipped frames than this fail the video;
    ``max_gap``: the summaries' intervals join across that many frames. The report
    holds the summaries of the pipeline's nodes (folded where the video runs).
    """

    order: WorkOrder
    output: str | None = None
    open_sink: Callable[[str], ResultSink] | None = None
    max_errors: int | None = None
    max_gap: int = 0

    @property
    def path(self) -> str:
        """The video file."""
        return self.order.path

    def __call__(self, progress: Callable[[int], None]) -> VideoReport:
        """Run the video; a failure is the report's ``error``, never an exception."""
        order = self.order
        try:
            reducers = runner_reducers(
                order.settings.runner, order.pipeline_id, max_gap=self.max_gap
            )
        except Exception as exc:
            return ReportBuilder(order.path, order.pipeline_id, {}).report(error_of(exc))
        report = ReportBuilder(order.path, order.pipeline_id, reducers)
        staging = None if self.output is None else staging_directory(self.output)
        sink: ResultSink | None = None
        try:
            if staging is not None and self.output is not None and self.open_sink is not None:
                shutil.rmtree(staging, ignore_errors=True)  # what a killed run left
                os.makedirs(staging)
                sink = self.open_sink(os.path.join(staging, os.path.basename(self.output)))
            self._run(report, sink, progress)
            if sink is not None and staging is not None and self.output is not None:
                sink.close()  # commits: the file (and any companion) is whole
                _publish(staging, self.output)
        except Exception as exc:
            if sink is not None:
                with contextlib.suppress(Exception):
                    sink.close()
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            return report.report(error_of(exc))
        return report.report()

    def _run(
        self, report: ReportBuilder, sink: ResultSink | None, progress: Callable[[int], None]
    ) -> None:
        work = ServiceWork(self.order)
        try:
            with work.open() as reader:
                report.info = reader.info
                with closed_after(reader.frames(work.selection)) as frames:
                    for frame in frames:
                        item = work.process(frame)
                        report.add(item)
                        if sink is not None:
                            sink.write(self.order.path, item)
                        progress(report.frames_processed)
        finally:
            work.close()
        skipped = report.skipped
        if self.max_errors is not None and len(skipped) > self.max_errors:
            first = skipped[0]
            raise TooManyErrorsError(
                self.order.path,
                len(skipped),
                self.max_errors,
                first.frame_index,
                str(first.error.get("message", "")),
            )


class InProcessVideoPool:
    """Runs the tasks one after another on a thread of this process (``--jobs 1``).

    Nothing is pickled, so any runner works. Closing the event stream early lets the
    running video end at its next frame.
    """

    name = "in-process"

    def run(self, tasks: Sequence[VideoTask]) -> Iterator[BatchEvent]:
        """Run ``tasks`` in order; events as they happen."""
        return self._events(list(tasks))

    @staticmethod
    def _events(tasks: list[VideoTask]) -> Iterator[BatchEvent]:
        events: queue.Queue[BatchEvent | None] = queue.Queue(maxsize=256)
        stop = threading.Event()

        def progress_of(path: str) -> Callable[[int], None]:
            def progress(frames: int) -> None:
                if stop.is_set():
                    raise _Stopped  # the caller closed the batch: end this video now
                with contextlib.suppress(queue.Full):
                    events.put_nowait(VideoProgress(path, frames))

            return progress

        def work() -> None:
            try:
                for task in tasks:
                    if stop.is_set():
                        return
                    events.put(VideoStarted(task.path))
                    report = task(progress_of(task.path))
                    events.put(VideoFinished(task.path, report))
            except _Stopped:
                return
            finally:
                events.put(None)

        thread = threading.Thread(target=work, name="videopipe-batch", daemon=True)
        thread.start()
        try:
            while (event := events.get()) is not None:
                yield event
        finally:
            stop.set()
            while thread.is_alive():  # drain, so the thread never blocks on a full queue
                with contextlib.suppress(queue.Empty):
                    events.get(timeout=0.1)
            thread.join()
