"""``videopipe run --summary FILE``: one report per video, and the table at the end.

:class:`RunSummaries` folds each video's results into its
:class:`~videopipe.domain.report.VideoReport` as they go by and writes one JSON line per
video (``VideoReport.to_dict()``) as soon as the video ends. With ``--resume`` the
results of earlier runs are in the ``--output`` file, not in this run's stream, so the
reports are built from that file once the run ends (the summaries of stored results).
:func:`summary_table` is the readable table printed on stderr at the end of a
terminal run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import click
from rich.table import Table

from videopipe.api import VideoFilePipelineService
from videopipe.application.report import ReportBuilder, runner_reducers
from videopipe.cli.app import OutputError, add_text_row, count_option
from videopipe.domain.model import FrameResult
from videopipe.domain.report import VideoReport
from videopipe.results import read_frames

F = TypeVar("F", bound=Callable[..., Any])


def summary_options(function: F) -> F:
    """``--summary FILE``, ``--max-gap N`` and ``--stats/--no-stats`` of ``videopipe run``."""
    for option in reversed(_OPTIONS):
        function = option(function)
    return function


_OPTIONS = (
    click.option(
        "--summary",
        "summary_file",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="FILE",
        help="Write each video's report to FILE, one JSON object per line: info, frames "
        "processed, skipped frames with their errors, and per node its summary (scene list, "
        "intervals, counts; see docs/plugins.md).",
    ),
    count_option(
        "--max-gap",
        minimum=0,
        default=0,
        show_default=True,
        text="Summaries' intervals join across up to N processed frames without the thing.",
    ),
    click.option(
        "--stats/--no-stats",
        default=None,
        help="Print the stats line and the summary table on stderr at the end "
        "(default: only when stderr is a terminal).",
    ),
)

_GROUPS = {"codes": "text", "markers": "id", "labels": "label", "texts": "text"}
"""The built-in keyed summaries: group -> the key each entry is about."""


class RunSummaries:
    """The reports of a run's videos; a context manager that writes ``path`` (if any).

    ``add(video, item)`` takes each result in the order written; a video ends when the
    next one starts or the run ends. A run that fails records the error in the report
    of the video it was on. ``rebuild_from``: build every report from that results file
    at the end instead (``--resume``).
    """

    def __init__(
        self,
        service: VideoFilePipelineService,
        pipeline: str,
        videos: Sequence[str],
        path: str | None,
        max_gap: int,
        *,
        rebuild_from: str | None = None,
        rebuild_format: str | None = None,
    ) -> None:
        self.service, self.pipeline, self.videos = service, pipeline, list(videos)
        self.max_gap = max_gap
        self.rebuild_from = rebuild_from
        self.rebuild_format = rebuild_format
        runner_reducers(service.runner, pipeline, max_gap=max_gap)  # fail before any frame
        self.reports: list[VideoReport] = []
        self._builder: ReportBuilder | None = None
        self._path = path
        try:
            self._file = None if path is None else open(path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(f"cannot write --summary {path!r}: {exc.strerror or exc}") from exc

    def __enter__(self) -> RunSummaries:
        """Start collecting."""
        return self

    def add(self, video: str, item: FrameResult) -> None:
        """Take the next result of ``video``."""
        if self.rebuild_from is not None:
            return
        if self._builder is None or self._builder.video != video:
            self._finish(None)
            self._builder = self._new_builder(video)
        self._builder.add(item)

    def fail(self, video: str, error: BaseException) -> None:
        """End ``video``'s report with ``error`` (the run goes on with the next video)."""
        if self.rebuild_from is not None:
            return
        if self._builder is None or self._builder.video != video:
            self._finish(None)
            self._builder = self._new_builder(video)
        self._finish(error)

    def _new_builder(self, video: str) -> ReportBuilder:
        reducers = runner_reducers(self.service.runner, self.pipeline, max_gap=self.max_gap)
        builder = ReportBuilder(video, self.pipeline, reducers)
        try:
            builder.info = self.service.video_info(video)
        except Exception:  # the run reports why the file cannot be read
            builder.info = None
        return builder

    def _finish(self, error: BaseException | None) -> None:
        if self._builder is not None:
            self._emit(self._builder.report(error))
            self._builder = None

    def _emit(self, report: VideoReport) -> None:
        self.reports.append(report)
        if self._file is not None:
            self._file.write(json.dumps(report.to_dict(), default=str) + "\n")
            self._file.flush()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End the last video (with the run's error, if any) and close the file."""
        try:
            if self.rebuild_from is not None:
                for report in self._rebuilt(self.rebuild_from):
                    self._emit(report)
            else:
                self._finish(error)
            if error is None:  # videos without a single selected frame have a report too
                seen = {report.video for report in self.reports}
                for video in self.videos:
                    if video not in seen:
                        seen.add(video)
                        self._emit(self._new_builder(video).report())
        finally:
            if self._file is not None:
                self._file.close()

    def _rebuilt(self, results_file: str) -> Iterator[VideoReport]:
        builder: ReportBuilder | None = None
        for video, item in read_frames(results_file, format=self.rebuild_format):
            if builder is None or builder.video != video:
                if builder is not None:
                    yield builder.report()
                builder = self._new_builder(video)
            builder.add(item)
        if builder is not None:
            yield builder.report()


def count(number: int, noun: str) -> str:
    """``number`` and the plural ``noun``, singular for one: ``1 interval``, ``3 scenes``."""
    return f"{number} {noun[:-1] if number == 1 and noun.endswith('s') else noun}"


def describe(summary: Mapping[str, Any]) -> str:
    """One node's summary in a few words (the table's cell)."""
    if "scenes" in summary:
        return count(len(summary["scenes"]), "scenes")
    for group, key in _GROUPS.items():
        entries = summary.get(group)
        if isinstance(entries, list):
            shown = [
                f"{entry.get(key)} ({count(len(entry.get('intervals', [])), 'intervals')})"
                for entry in entries[:5]
            ]
            more = f", ... {len(entries) - 5} more" if len(entries) > 5 else ""
            return count(len(entries), group) + (": " + ", ".join(shown) + more if shown else "")
    if isinstance(summary.get("intervals"), list):
        intervals = count(len(summary["intervals"]), "intervals")
        return f"{intervals}, {count(int(summary.get('frames') or 0), 'frames')}"
    return json.dumps(summary, default=str)[:120]


TABLE_VIDEOS = 20
"""The summary table shows this many videos; more are one row of their count and totals."""


def summary_table(reports: Sequence[VideoReport]) -> Table:
    """Per video and node: frames, skipped frames and the summary in a few words.

    The first :data:`TABLE_VIDEOS` videos; the others are one row (``--summary FILE``
    has every video).
    """
    table = Table(title="summary", title_justify="left")
    for column in ("video", "frames", "skipped", "node", "summary"):
        table.add_column(column, overflow="fold")
    rest = reports[TABLE_VIDEOS:]
    for report in reports[:TABLE_VIDEOS]:
        nodes = list(report.summaries.items()) or [("", {})]
        for number, (node, summary) in enumerate(nodes):
            first = number == 0
            error = f"failed: {report.error.get('message', '')}" if report.error else ""
            add_text_row(
                table,
                report.video if first else "",
                str(report.frames_processed) if first else "",
                str(len(report.skipped)) if first else "",
                node,
                describe(summary) if summary else error,
            )
    if rest:
        failed = sum(report.error is not None for report in rest)
        add_text_row(
            table,
            f"... {len(rest)} more videos",
            str(sum(report.frames_processed for report in rest)),
            str(sum(len(report.skipped) for report in rest)),
            "",
            f"{failed} failed; every video's summary: --summary FILE",
        )
    return table
