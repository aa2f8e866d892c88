"""``service.run_batch``: reports as videos finish, a failed video never fails the batch."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from tests.batch.helpers import video_folder
from videopipe.application.inputs import output_name
from videopipe.container import create_container
from videopipe.domain.report import VideoReport

WORKER = "videopipe-batch-worker"


def service(executor: str = "sequential"):  # type: ignore[no-untyped-def]
    return create_container("dev", overrides={"executor": executor}).video_service()


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_batch_yields_one_report_per_video_with_the_failures_in_them(
    tmp_path: Path, jobs: int
) -> None:
    goods, bads = video_folder(tmp_path / "videos", good=3, corrupt=2)
    reports = list(service().run_batch("motion", [tmp_path / "videos"], jobs=jobs))
    assert all(isinstance(report, VideoReport) for report in reports)
    by_video = {report.video: report for report in reports}
    assert set(by_video) == {str(path) for path in goods + bads}
    for good in goods:
        report = by_video[str(good)]
        assert report.ok
        assert report.frames_processed == 6
        assert report.info is not None
        assert report.info.width == 64
    for bad in bads:
        assert by_video[str(bad)].error is not None
        assert by_video[str(bad)].error["type"] in {"VideoReadError", "VideoDecodeError"}  # type: ignore[index]


def test_run_batch_with_an_output_dir_writes_the_lines_of_a_single_run(tmp_path: Path) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=2)
    out = tmp_path / "out"
    reports = list(service().run_batch("motion", [str(path) for path in goods], output_dir=out))
    assert all(report.ok for report in reports)
    single = list(service().iter_frame_results("motion", goods[0]))
    written = out / output_name(str(goods[0]), ".jsonl")
    lines = [json.loads(line) for line in written.read_text().splitlines()]
    assert [line["frame_index"] for line in lines] == [item.frame_index for item in single]
    assert [line["result"] for line in lines] == [
        json.loads(json.dumps(item.result)) for item in single
    ]
    assert list(service().run_batch("motion", goods, output_dir=out)) == []  # all done


def test_closing_the_reports_early_stops_the_workers(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=6)
    reports = service().run_batch("motion", [tmp_path / "videos"], jobs=2)
    first = next(reports)
    assert first.ok
    assert [p for p in multiprocessing.active_children() if p.name == WORKER]
    reports.close()  # type: ignore[attr-defined]
    assert not [p for p in multiprocessing.active_children() if p.name == WORKER]


def test_bad_arguments_are_refused_at_once(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=1)
    with pytest.raises(ValueError, match="jobs"):
        service().run_batch("motion", [tmp_path / "videos"], jobs=0)
    with pytest.raises(ValueError, match="pipeline_id"):
        service().run_batch("", [tmp_path / "videos"])


def test_one_path_given_alone_is_one_path_not_its_characters(tmp_path: Path) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=2)
    (report,) = service().run_batch("motion", str(goods[0]))
    assert report.video == str(goods[0])
    assert len(list(service().run_batch("motion", tmp_path / "videos"))) == 2


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_reports_carry_the_summaries_of_service_report(tmp_path: Path, jobs: int) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=2, frames=12)
    reports = {
        report.video: report
        for report in service().run_batch("motion", goods, jobs=jobs, max_gap=1)
    }
    for good in goods:
        alone = service().report("motion", good, max_gap=1)
        assert reports[str(good)].summaries == alone.summaries
        assert reports[str(good)].summaries["motion"]["intervals"]  # the square moves
        assert reports[str(good)].to_dict() == alone.to_dict()
