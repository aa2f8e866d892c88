"""A video's report: its ordered frame results folded into a :class:`VideoReport`.

The fold happens on the stream an executor yields, in frame order, in the calling
process: every executor yields the same stream, so every executor gives the same
summaries. A reducer is fed a node's output on every frame that has it; a frame
skipped under the ``skip`` policy (the service's, or a pipeline's own ``on_error:
skip``) is listed with its error and fed to no reducer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from videopipe.domain.model import FrameResult, VideoInfo
from videopipe.domain.report import SkippedFrame, VideoReport
from videopipe.ports.closing import close_if_closeable
from videopipe.ports.runner import PipelineRunner
from videopipe.ports.summaries import Reducer, SummarizingRunner


def runner_reducers(
    runner: PipelineRunner, pipeline_id: str, *, max_gap: int = 0
) -> dict[str, Reducer]:
    """Fresh reducers for ``pipeline_id``'s output nodes; none when the runner cannot say."""
    if isinstance(runner, SummarizingRunner):
        return dict(runner.reducers(pipeline_id, max_gap=max_gap))
    if max_gap < 0:
        raise ValueError(f"max_gap must be an integer >= 0, got {max_gap!r}")
    return {}


def pipeline_skip_error(result: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The error of a frame a pipeline skipped itself (``{"error": {"node", ...}}``)."""
    if result is None or len(result) != 1:
        return None
    error = result.get("error")
    if isinstance(error, Mapping) and "node" in error and "message" in error:
        return error
    return None


class ReportBuilder:
    """Folds one video's frame results, in order, into its :class:`VideoReport`.

    Keeps the reducers' state and the skipped frames only, never the results.
    """

    def __init__(
        self,
        video: str,
        pipeline_id: str,
        reducers: Mapping[str, Reducer],
        *,
        info: VideoInfo | None = None,
    ) -> None:
        self.video = video
        self.pipeline_id = pipeline_id
        self.info = info
        self.reducers = dict(reducers)
        self.frames_processed = 0
        self.skipped: list[SkippedFrame] = []

    def add(self, item: FrameResult) -> None:
        """Take the next frame's result."""
        self.frames_processed += 1
        error = item.error if item.error is not None else pipeline_skip_error(item.result)
        if error is not None or item.result is None:
            self.skipped.append(SkippedFrame(item.frame_index, item.timestamp, dict(error or {})))
            return
        for node, reducer in self.reducers.items():
            output = item.result.get(node)
            if isinstance(output, Mapping):
                reducer.add(item.frame_index, item.timestamp, output)

    def report(self, error: BaseException | Mapping[str, Any] | None = None) -> VideoReport:
        """The report so far; ``error``: why the video stopped before its end."""
        failure: Mapping[str, Any] | None
        if isinstance(error, BaseException):
            failure = {"type": type(error).__name__, "message": str(error)}
        else:
            failure = error
        return VideoReport(
            video=self.video,
            pipeline_id=self.pipeline_id,
            info=self.info,
            frames_processed=self.frames_processed,
            skipped=tuple(self.skipped),
            summaries={node: reducer.summary() for node, reducer in self.reducers.items()},
            error=failure,
        )


class ReportingStream(Iterator[FrameResult]):
    """A video's frame results, as they come, with its :attr:`report` after the last one.

    Iterate it as the per-frame stream; once it is exhausted :attr:`report` holds the
    :class:`VideoReport`. If the run fails, the exception propagates (with
    ``exc.report``, the report of the frames before it, its ``error`` set) and
    :attr:`report` holds that report too. ``close()`` stops the run early.
    ``info`` is asked once, on the first ``next()``, for the report's video info
    (``None`` when it fails: the run then fails with the decoder's own error).
    """

    def __init__(
        self,
        results: Iterator[FrameResult],
        builder: ReportBuilder,
        *,
        info: Callable[[], VideoInfo] | None = None,
    ) -> None:
        self._results = results
        self._builder = builder
        self._info = info
        self._report: VideoReport | None = None

    def __iter__(self) -> ReportingStream:
        """The stream itself."""
        return self

    def __next__(self) -> FrameResult:
        """The next frame's result (folded into the report on the way)."""
        if self._report is not None:
            raise StopIteration
        if self._info is not None:
            probe, self._info = self._info, None
            try:
                self._builder.info = probe()
            except Exception:  # the run itself says why the file cannot be read
                self._builder.info = None
        try:
            item = next(self._results)
        except StopIteration:
            self._report = self._builder.report()
            raise
        except Exception as exc:
            self._report = self._builder.report(exc)
            exc.report = self._report  # type: ignore[attr-defined]
            exc.add_note(
                f"videopipe: the report of the {self._builder.frames_processed} frames "
                "before the failure is in exc.report"
            )
            raise
        self._builder.add(item)
        return item

    @property
    def done(self) -> bool:
        """Whether the stream has ended (its report is ready)."""
        return self._report is not None

    @property
    def report(self) -> VideoReport:
        """The video's report; ``RuntimeError`` before the stream has ended."""
        if self._report is None:
            raise RuntimeError(
                f"the report of {self._builder.video!r} is ready after its last frame: "
                "iterate the stream to its end first"
            )
        return self._report

    def close(self) -> None:
        """Stop the run (release the decoder and workers) without finishing the report."""
        close_if_closeable(self._results)
