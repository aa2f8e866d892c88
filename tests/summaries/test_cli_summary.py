"""``videopipe run --summary FILE``: one report per video, as the library gives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import videopipe
from tests.summaries import media
from videopipe import VideoFilePipelineService
from videopipe.adapters.runners.dag import DagPipelineRunner


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("cli-summary")
    return [media.qr_video(folder / "qr.mp4").path, media.square_video(folder / "sq.mp4").path]


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_summary_writes_one_report_per_video_as_the_service_does(two_videos, tmp_path):
    summary = tmp_path / "summary.jsonl"
    done = videopipe(
        "run", *map(str, two_videos), "-p", "qr_codes", "-o", str(tmp_path / "r.jsonl"),
        "--summary", str(summary), "--max-gap", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no stats, no table
    reports = read(summary)
    service = VideoFilePipelineService(DagPipelineRunner())
    assert reports == [
        service.report("qr_codes", video, max_gap=1).to_dict() for video in two_videos
    ]
    alpha, _beta = reports[0]["summary"]["codes"]["codes"]
    assert [(i["first_frame"], i["last_frame"]) for i in alpha["intervals"]] == [(4, 19)]
    assert reports[0]["summary"]["codes"]["max_gap"] == 1
    assert reports[1]["summary"]["codes"]["codes"] == []  # no QR code in the square video


def test_the_resumed_summary_is_the_uninterrupted_one(two_videos, tmp_path):
    output, fresh, resumed = tmp_path / "r.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = ["run", *map(str, two_videos), "-p", "motion", "-o", str(output)]
    assert videopipe(*args, "--summary", str(fresh)).returncode == 0
    lines = output.read_bytes().splitlines(keepends=True)
    output.write_bytes(b"".join(lines[:50]))  # the first video and 10 frames of the second
    done = videopipe(*args, "--resume", "--summary", str(resumed))
    assert done.returncode == 0, done.stderr
    assert read(resumed) == read(fresh)
    assert read(fresh)[1]["summary"]["motion"]["frames"] == len(media.MOVES)


def test_stats_shows_the_summary_table_on_stderr(two_videos, tmp_path):
    done = videopipe(
        "run", str(two_videos[1]), "-p", "motion", "-o", str(tmp_path / "r"), "--stats"
    )
    assert done.returncode == 0, done.stderr
    assert "2 intervals, 15 frames" in done.stderr


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_resumed_summary_reads_tabular_results_back(two_videos, tmp_path, suffix):
    output, fresh, resumed = tmp_path / f"r{suffix}", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    args = ["run", *map(str, two_videos), "-p", "qr_codes", "-o", str(output)]
    assert videopipe(*args, "--summary", str(fresh)).returncode == 0
    done = videopipe(*args, "--resume", "--summary", str(resumed))  # nothing left to run
    assert done.returncode == 0, done.stderr
    assert read(resumed) == read(fresh)
    assert read(fresh)[0]["summary"]["codes"]["codes"]  # the QR video's payloads are there
