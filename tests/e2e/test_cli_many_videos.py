"""``videopipe run A B C -o FILE``: a video that cannot be read fails alone; the run goes on.

The others' lines are all written (exactly those of running each alone), stderr names
the failed video with its typed error, ``--summary`` carries its error, the exit is 3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import videopipe
from videopipe.testing import make_video, write_corrupted_mp4, write_truncated_video

ENV = {"VIDEOPIPE_ENV": "test"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """a_good (6 frames), b_corrupt, c_cut (frames, then cut), d_text.mkv, e_good (8 frames)."""
    folder = tmp_path / "footage"
    folder.mkdir()
    make_video(folder / "a_good.mp4", frames=6, width=96, height=64)
    write_corrupted_mp4(folder / "b_corrupt.mp4")
    write_truncated_video(folder / "c_cut.mp4", frames=24, width=96, height=64)
    (folder / "d_text.mkv").write_text("not a video\n")
    make_video(folder / "e_good.mp4", frames=8, width=96, height=64)
    return folder


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _alone(tmp_path: Path, video: Path, *options: str) -> list[dict[str, object]]:
    out = tmp_path / f"{video.stem}.alone.jsonl"
    done = videopipe("run", str(video), "-p", "demo", "-o", str(out), *options, env=ENV)
    assert done.returncode in (0, 3), done.stderr
    return _lines(out)


@pytest.mark.parametrize("executor", ["sequential", "segments"])
def test_unreadable_videos_fail_alone_and_the_others_complete(
    tmp_path: Path, folder: Path, executor: str
) -> None:
    out = tmp_path / "all.jsonl"
    summary = tmp_path / "summary.jsonl"
    done = videopipe(
        "run", str(folder), "-p", "demo", "-o", str(out), "--summary", str(summary),
        "--executor", executor, "--no-stats", env=ENV,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("videopipe: failed: ")]
    assert [line.split(": ")[2].rsplit("/", 1)[1] for line in failed] == [
        "b_corrupt.mp4",
        "c_cut.mp4",
        "d_text.mkv",
    ], done.stderr
    assert "VideoReadError" in failed[0]
    assert "VideoDecodeError" in failed[1]
    lines = _lines(out)
    expected = []
    for name in ("a_good.mp4", "c_cut.mp4", "e_good.mp4"):
        expected += _alone(tmp_path, folder / name)  # the cut one: its frames before the cut
    assert lines == expected
    assert sum(line["video"] == str(folder / "a_good.mp4") for line in lines) == 6
    assert sum(line["video"] == str(folder / "e_good.mp4") for line in lines) == 8
    reports = {Path(r["video"]).name: r for r in map(json.loads, summary.read_text().splitlines())}
    assert sorted(reports) == [
        "a_good.mp4",
        "b_corrupt.mp4",
        "c_cut.mp4",
        "d_text.mkv",
        "e_good.mp4",
    ]
    assert "error" not in reports["a_good.mp4"]
    assert "error" not in reports["e_good.mp4"]
    assert reports["b_corrupt.mp4"]["error"]["type"] == "VideoReadError"
    assert reports["c_cut.mp4"]["error"]["type"] == "VideoDecodeError"
    assert reports["c_cut.mp4"]["frames_processed"] > 0


def test_one_unreadable_video_alone_is_still_the_run_s_error(tmp_path: Path, folder: Path) -> None:
    done = videopipe("run", str(folder / "b_corrupt.mp4"), "-p", "demo", env=ENV)
    assert done.returncode == 3
    assert "videopipe: failed:" not in done.stderr
    assert "Unable to read video file" in done.stderr


def test_a_runner_failure_still_stops_the_run(tmp_path: Path, folder: Path) -> None:
    """Only the video's own failures go on; a runner that fails stops at once (exit 5)."""
    config = tmp_path / "fail.yaml"
    config.write_text("runner: failure\nrunners:\n  failure:\n    fail_at: [2]\n")
    videos = [str(folder / "a_good.mp4"), str(folder / "e_good.mp4")]
    out = tmp_path / "o.jsonl"
    done = videopipe(
        "run", *videos, "-p", "demo", "-o", str(out), env={"VIDEOPIPE_CONFIG": str(config)}
    )
    assert done.returncode == 5, done.stderr
    assert "videopipe: failed:" not in done.stderr
    assert [line["frame_index"] for line in _lines(out)] == [0, 1]
