"""How ``videopipe run --resume`` continues the last video of a results file."""

from __future__ import annotations

from collections.abc import Iterator

from videopipe.adapters.sinks import Sink
from videopipe.api import VideoFilePipelineService
from videopipe.cli.annotation import Annotation
from videopipe.cli.app import InvalidUsageError
from videopipe.cli.results import ResumeCheck, ResumePlan, WrittenVideo
from videopipe.domain.model import FrameResult, FrameSelection
from videopipe.ports.runner import HistoryDeclaringRunner


def _stateless(service: VideoFilePipelineService, pipeline: str, video: str) -> bool:
    """Whether the runner declares that a frame's result depends on that frame alone."""
    if not isinstance(service.runner, HistoryDeclaringRunner):
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
    """The results from the last frame written on (stateless runner).

    The last frame is run again and checked against the file's last line (another
    pipeline or configuration is refused); the frames before it are not run again.
    """
    selection = service.selection
    if not selection.contains(written.last_index) or written.lines != len(
        range(selection.start, written.last_index + 1, selection.step)
    ):
        raise InvalidUsageError(
            f"cannot resume {output!r}: its {written.lines} lines for {written.video!r} are "
            "not the frames this run selects (was it written with another --stride or "
            "--max-frames?)"
        )
    restart = FrameSelection(written.last_index, selection.stop, selection.step)
    return service.iter_frame_results(pipeline, video, selection=restart)


def resumed_results(
    service: VideoFilePipelineService,
    pipeline: str,
    video: str,
    *,
    sink: Sink,
    plan: ResumePlan | None,
    annotation: Annotation | None,
) -> tuple[Iterator[FrameResult], ResumeCheck | None, int]:
    """The results to write for ``video``, the check of lines already written, their count.

    A video the file holds part of is continued from its last line when the runner is
    stateless (and no annotated video needs every frame); otherwise it is re-run from
    its start (exact for stateful plugins). Either way the frames re-run are checked
    against the file and not written again.
    """
    if plan is None or plan.partial is None or plan.partial.video != video:
        return service.iter_frame_results(pipeline, video), None, 0
    if annotation is None and _stateless(service, pipeline, video):
        results = _results_after(service, pipeline, video, plan.partial, sink.location)
        check = ResumeCheck(sink.location, plan.partial.last_only())
        return results, check, plan.partial.lines - 1
    return service.iter_frame_results(pipeline, video), ResumeCheck(sink.location, plan.partial), 0
