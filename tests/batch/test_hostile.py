"""Hostile inputs of a batch: symlink loops and dangling links, links to the same file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.batch.helpers import video_folder
from tests.e2e.helpers import videopipe
from videopipe.adapters.batch.processes import ProcessVideoPool
from videopipe.adapters.manifest import SqliteManifest
from videopipe.application.batch import staging_directory
from videopipe.application.inputs import distinct, find_videos
from videopipe.application.jobs import recorded
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoFinished, VideoStarted
from videopipe.ports.manifest import VideoEntry
from videopipe.testing.media import make_video


def _rows(out: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(out / "manifest.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {row["path"]: dict(row) for row in db.execute("SELECT * FROM videos")}


def test_a_recursive_glob_does_not_follow_directory_links(tmp_path: Path) -> None:
    """Two links to ``.`` made glob's ``**`` walk 2^40 paths (a hang); now each file once."""
    clip = tmp_path / "in" / "clip.mp4"
    clip.parent.mkdir()
    clip.write_bytes(b"x")
    os.symlink(".", tmp_path / "in" / "l1")
    os.symlink(".", tmp_path / "in" / "l2")
    found: list[str] = []
    finder = threading.Thread(
        target=lambda: found.extend(find_videos([str(tmp_path / "in" / "**" / "*.mp4")])),
        daemon=True,
    )
    finder.start()
    finder.join(20)
    assert not finder.is_alive(), "the glob is still expanding after 20 s"
    assert found == [str(clip)]


def test_a_file_named_through_a_link_runs_once(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    os.symlink("clip.mp4", tmp_path / "same.mp4")
    os.symlink(".", tmp_path / "here")
    named = [str(clip), str(tmp_path / "same.mp4"), str(tmp_path / "here" / "clip.mp4")]
    assert distinct(named) == [str(clip)]


def test_dangling_links_and_link_loops_in_a_folder_fail_only_themselves(tmp_path: Path) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=2)
    folder = tmp_path / "videos"
    os.symlink("nowhere.mp4", folder / "dangling.mp4")
    os.symlink("loop2.mp4", folder / "loop1.mp4")
    os.symlink("loop1.mp4", folder / "loop2.mp4")
    out = tmp_path / "out"
    args = ["run", str(folder), "-p", "motion", "--env", "dev", "--output-dir", str(out)]
    done = videopipe(*args)
    assert done.returncode == 3, done.stderr
    status = {Path(path).name: row["status"] for path, row in _rows(out).items()}
    assert status == {
        "clip000.mp4": "done",
        "clip001.mp4": "done",
        "dangling.mp4": "failed",
        "loop1.mp4": "failed",
        "loop2.mp4": "failed",
    }
    errors = {Path(p).name: r["error"] for p, r in _rows(out).items()}
    assert json.loads(str(errors["dangling.mp4"]))["type"] == "VideoFileNotFoundError"
    again = videopipe(*args)  # the rerun retries them, the done ones are skipped
    assert again.returncode == 3, again.stderr
    assert {row["attempts"] for row in _rows(out).values() if row["status"] == "failed"} == {2}
    assert len(goods) == 2


def test_a_video_failed_by_a_lost_worker_leaves_nothing_in_partial(tmp_path: Path) -> None:
    """A worker killed mid-video cannot clean its staging: the batch does, when it records it."""
    output = str(tmp_path / "out" / "clip.mp4.01234567.jsonl")
    staging = staging_directory(output)
    os.makedirs(staging)
    Path(staging, os.path.basename(output)).write_text('{"half": ')
    manifest = SqliteManifest(tmp_path / "out" / "manifest.sqlite")
    video = str(tmp_path / "clip.mp4")
    manifest.put(VideoEntry(video, 1, 1.0, "h", output=output))
    lost = VideoReport(video, "", None, 0, error={"type": "WorkerLostError", "message": "-9"})
    events = [VideoStarted(video), VideoFinished(video, lost)]
    list(recorded(manifest, iter(events)))
    manifest.close()
    assert not os.path.exists(staging)


def test_the_final_table_of_a_big_batch_counts_the_done_videos_and_lists_the_failed(
    tmp_path: Path,
) -> None:
    """A 2,000-video batch printed 2,000 table rows; now the done ones are one row."""
    video_folder(tmp_path / "videos", good=24, corrupt=1, frames=2)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--stats", "-j", "2"]
    first = videopipe(*args, "--output-dir", str(tmp_path / "out"))
    assert first.returncode == 3, first.stderr
    assert "│ 24 videos" in first.stderr
    assert "VideoReadError" in first.stderr  # the failed video, with its error
    assert len(first.stderr.splitlines()) < 20
    again = videopipe(*args, "--output-dir", str(tmp_path / "out"))
    assert "│ 24 videos" in again.stderr
    assert "done before" in again.stderr
    assert len(again.stderr.splitlines()) < 20


def test_an_output_dir_that_cannot_be_made_is_an_output_error(tmp_path: Path) -> None:
    """It was exit 5 (a runner failure) with 'FileNotFoundError: [Errno 2] ...'."""
    video = make_video(tmp_path / "v.mp4", frames=2, width=64, height=48)
    (tmp_path / "file").write_text("not a directory")
    out = tmp_path / "file" / "out"
    done = videopipe("run", str(video), "-p", "motion", "--env", "dev", "--output-dir", str(out))
    assert done.returncode == 6, done.stderr
    assert "cannot make the output directory" in done.stderr


def test_a_second_batch_on_the_same_output_dir_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    """Two batches on one DIR failed each other's videos ('FileNotFoundError: ... .partial')."""
    video = make_video(tmp_path / "v.mp4", frames=2, width=64, height=48)
    out = tmp_path / "out"
    out.mkdir()
    first = SqliteManifest(out / "manifest.sqlite")  # a batch running on out/
    try:
        args = ["run", str(video), "-p", "motion", "--env", "dev", "--output-dir", str(out)]
        second = videopipe(*args)
        assert second.returncode == 2, second.stderr
        assert "another batch is running on" in second.stderr
        shown = videopipe("jobs", "show", str(out))  # reading it is fine
        assert shown.returncode == 0, shown.stderr
    finally:
        first.close()
    assert videopipe(*args).returncode == 0  # released


@dataclass(frozen=True)
class _DiesAfterFrames:
    """A task that reports ``frames`` frames processed, then its process is killed."""

    path: str
    frames: int

    def __call__(self, progress: Callable[[int], None]) -> VideoReport:
        for _ in range(3):  # progress goes out at most every 0.2 s
            progress(self.frames)
            time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def test_a_video_whose_worker_dies_keeps_the_frames_it_had_processed(tmp_path: Path) -> None:
    """docs/batch.md: ``frames`` of a failed video is what it processed before (it was 0)."""
    events = list(ProcessVideoPool(1).run([_DiesAfterFrames(str(tmp_path / "v.mp4"), 7)]))
    (report,) = [event.report for event in events if isinstance(event, VideoFinished)]
    assert report.error is not None
    assert report.error["type"] == "WorkerLostError"
    assert report.frames_processed == 7


def test_the_summary_table_of_a_run_over_many_videos_stays_short(tmp_path: Path) -> None:
    """A run over 2,000 videos printed a 2,000-row summary table on the terminal."""
    goods, _ = video_folder(tmp_path / "videos", good=25, frames=2)
    done = videopipe(
        "run",
        str(tmp_path / "videos"),
        "-p",
        "motion",
        "--env",
        "dev",
        "--stats",
        "-o",
        str(tmp_path / "all.jsonl"),
    )
    assert done.returncode == 0, done.stderr
    assert "... 5 more videos" in done.stderr
    assert done.stderr.count("│ motion ") == 20  # a row per video shown
    assert len(goods) == 25


def test_a_video_with_a_long_file_name_is_done(tmp_path: Path) -> None:
    """A legal 250-byte name failed: 'OSError: [Errno 36] File name too long' (its output's)."""
    folder = tmp_path / "videos"
    folder.mkdir()
    long_name = "é" * 100 + "v" * 46 + ".mp4"  # 250 bytes in UTF-8
    make_video(folder / long_name, frames=2, width=64, height=48)
    out = tmp_path / "out"
    for fmt in ("jsonl", "csv"):
        args = ["run", str(folder), "-p", "motion", "--env", "dev", "--format", fmt]
        done = videopipe(*args, "--output-dir", str(out / fmt))
        assert done.returncode == 0, done.stderr
        (row,) = _rows(out / fmt).values()
        assert row["status"] == "done"
        assert Path(str(row["output"])).name.startswith("é" * 50)
        assert len(Path(str(row["output"])).name.encode()) <= 200


def test_summary_never_overwrites_an_input_the_results_or_the_manifest(tmp_path: Path) -> None:
    """--summary VIDEO emptied the video; --summary equal to -o or the manifest clobbered it."""
    video = make_video(tmp_path / "v.mp4", frames=2, width=64, height=48)
    before = video.read_bytes()
    base = ["run", str(video), "-p", "motion", "--env", "dev"]
    onto_video = videopipe(*base, "--summary", str(video), "-o", str(tmp_path / "r.jsonl"))
    assert onto_video.returncode == 2, onto_video.stderr
    assert "--summary" in onto_video.stderr
    assert video.read_bytes() == before
    results = str(tmp_path / "r.jsonl")
    onto_results = videopipe(*base, "--summary", results, "-o", results)
    assert onto_results.returncode == 2, onto_results.stderr
    assert "name the same file" in onto_results.stderr
    out = tmp_path / "out"
    onto_manifest = videopipe(
        *base, "--output-dir", str(out), "--summary", str(out / "manifest.sqlite")
    )
    assert onto_manifest.returncode == 2, onto_manifest.stderr
    assert "manifest" in onto_manifest.stderr
