"""``videopipe run PATH... --output-dir DIR``: batch jobs with a manifest, end to end."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.batch.helpers import nap_site, video_folder
from tests.e2e.helpers import clean_env, script, videopipe, wait_for
from videopipe.domain import errors
from videopipe.testing.media import make_video


def rows(out: Path) -> dict[str, dict[str, object]]:
    with sqlite3.connect(out / "manifest.sqlite") as db:
        db.row_factory = sqlite3.Row
        return {row["path"]: dict(row) for row in db.execute("SELECT * FROM videos")}


def done_count(out: Path) -> int:
    """Videos done so far (0 while the manifest is being made)."""
    try:
        return sum(row["status"] == "done" for row in rows(out).values())
    except sqlite3.OperationalError:
        return 0


def outputs(out: Path) -> dict[str, bytes]:
    return {
        path.name: path.read_bytes() for path in sorted(out.iterdir()) if path.suffix == ".jsonl"
    }


def test_fifty_files_on_two_jobs_five_corrupt_give_45_done_5_failed_and_exit_3(
    tmp_path: Path,
) -> None:
    goods, bads = video_folder(tmp_path / "videos", good=45, corrupt=5)
    out = tmp_path / "out"
    done = videopipe(
        "run",
        str(tmp_path / "videos"),
        "-p",
        "motion",
        "--env",
        "dev",
        "--output-dir",
        str(out),
        "--jobs",
        "2",
    )
    assert done.returncode == 3, done.stderr
    table = rows(out)
    assert len(table) == 50
    statuses = sorted(str(row["status"]) for row in table.values())
    assert statuses == ["done"] * 45 + ["failed"] * 5
    for bad in bads:
        row = table[str(bad)]
        assert row["status"] == "failed"
        error = json.loads(str(row["error"]))
        assert issubclass(getattr(errors, error["type"]), errors.VideoReadError), error
        assert row["output"] is None
        assert f"failed: {bad}" in done.stderr
    written = outputs(out)
    assert len(written) == 45
    assert not [path for path in out.iterdir() if path.name.endswith(".part")]
    for good in goods:
        row = table[str(good)]
        assert row["status"] == "done"
        assert row["frames"] == 6
        lines = Path(str(row["output"])).read_text().splitlines()
        assert [json.loads(line)["video"] for line in lines] == [str(good)] * 6


def test_a_killed_batch_rerun_gives_the_outputs_of_an_uninterrupted_one(tmp_path: Path) -> None:
    env = nap_site(tmp_path, seconds=0.03)
    video_folder(tmp_path / "videos", good=16, frames=10)
    args = ["run", str(tmp_path / "videos"), "-p", "napping", "--jobs", "2", "--output-dir"]
    whole = tmp_path / "whole"
    assert videopipe(*args, str(whole), env=env).returncode == 0

    killed = tmp_path / "killed"
    with subprocess.Popen(
        [script(), *args, str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_env(env),
        start_new_session=True,
    ) as process:
        try:
            wait_for(lambda: done_count(killed) >= 3, what="3 videos done")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    left = rows(killed)
    assert {row["status"] for row in left.values()} & {"pending", "running"}, "killed too late"
    done_before = {path for path, row in left.items() if row["status"] == "done"}
    assert len(outputs(killed)) == len(done_before)  # no partial output under a final name

    again = videopipe(*args, str(killed), env=env)
    assert again.returncode == 0, again.stderr
    assert outputs(killed) == outputs(whole)
    assert len(outputs(whole)) == 16
    after = rows(killed)
    assert all(row["status"] == "done" for row in after.values())
    for path in done_before:  # not run again
        assert after[path]["attempts"] == 1
        assert after[path]["started"] == left[path]["started"]


def test_a_rerun_skips_done_videos_and_redoes_a_changed_one(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=4)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir"]
    out = tmp_path / "out"
    assert videopipe(*args, str(out)).returncode == 0
    first = rows(out)
    changed = sorted(first)[0]
    make_video(changed, frames=9, width=64, height=48, content="moving_square")
    again = videopipe(*args, str(out))
    assert again.returncode == 0, again.stderr
    second = rows(out)
    for path, row in second.items():
        assert row["status"] == "done"
        if path == changed:
            assert row["frames"] == 9
            assert row["started"] != first[path]["started"]
        else:
            assert row == first[path]
    assert len(Path(str(second[changed]["output"])).read_text().splitlines()) == 9


def test_a_manifest_made_with_other_options_is_refused_unless_force(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=2)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir"]
    out = tmp_path / "out"
    assert videopipe(*args, str(out)).returncode == 0
    refused = videopipe(*args, str(out), "--stride", "2")
    assert refused.returncode == 2
    assert "other options" in refused.stderr
    assert "--force" in refused.stderr
    forced = videopipe(*args, str(out), "--stride", "2", "--force")
    assert forced.returncode == 0, forced.stderr
    for row in rows(out).values():
        assert row["frames"] == 3
        assert len(Path(str(row["output"])).read_text().splitlines()) == 3


def test_a_failed_video_is_retried_until_max_attempts(tmp_path: Path) -> None:
    _, bads = video_folder(tmp_path / "videos", good=1, corrupt=1)
    args = [
        "run",
        str(tmp_path / "videos"),
        "-p",
        "motion",
        "--env",
        "dev",
        "--max-attempts",
        "2",
        "--output-dir",
        str(tmp_path / "out"),
    ]
    attempts = []
    for _ in range(3):
        done = videopipe(*args)
        assert done.returncode == 3
        attempts.append(rows(tmp_path / "out")[str(bads[0])]["attempts"])
    assert attempts == [1, 2, 2]


def test_max_errors_fails_a_video_with_more_skipped_frames(tmp_path: Path) -> None:
    env = nap_site(tmp_path, fail_every=4)  # frames 0 and 4 of 6 fail
    video_folder(tmp_path / "videos", good=1)
    args = ["run", str(tmp_path / "videos"), "-p", "napping", "--on-error", "skip"]
    strict = videopipe(*args, "--max-errors", "1", "--output-dir", str(tmp_path / "a"), env=env)
    assert strict.returncode == 3, strict.stderr
    (row,) = rows(tmp_path / "a").values()
    assert row["status"] == "failed"
    assert json.loads(str(row["error"]))["type"] == "TooManyErrorsError"
    lenient = videopipe(*args, "--max-errors", "2", "--output-dir", str(tmp_path / "b"), env=env)
    assert lenient.returncode == 0, lenient.stderr
    (row,) = rows(tmp_path / "b").values()
    assert row["status"] == "done"
    lines = [json.loads(line) for line in Path(str(row["output"])).read_text().splitlines()]
    assert [line["frame_index"] for line in lines if "error" in line] == [0, 4]


def test_directories_and_globs_name_outputs_that_never_collide(tmp_path: Path) -> None:
    prototype = make_video(tmp_path / "p.mp4", frames=3, width=64, height=48)
    for folder in ("a", "b", "c/d"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        (tmp_path / "in" / folder / "same.mp4").write_bytes(prototype.read_bytes())
    (tmp_path / "in" / "notes.txt").write_text("not a video")
    out = tmp_path / "out"
    done = videopipe(
        "run",
        str(tmp_path / "in" / "a"),
        str(tmp_path / "in" / "c" / "**" / "*.mp4"),
        str(tmp_path / "in" / "b" / "same.mp4"),
        "-p",
        "motion",
        "--env",
        "dev",
        "--output-dir",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert len(outputs(out)) == 3
    assert all(name.startswith("same.mp4.") for name in outputs(out))
    assert len(rows(out)) == 3


def test_a_directory_without_videos_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    done = videopipe("run", str(tmp_path / "empty"), "-p", "motion", "--env", "dev")
    assert done.returncode == 2
    assert "no video files under directory" in done.stderr
    assert ".mp4" in done.stderr


def test_help_lists_the_extensions_and_exit_status_3() -> None:
    text = " ".join(videopipe("run", "--help").stdout.split())
    assert ".mkv" in text
    assert ".webm" in text
    assert "3 some videos failed" in text


def test_batch_options_need_output_dir(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", frames=2, width=64, height=48)
    for option in (["--jobs", "2"], ["--max-errors", "1"], ["--force"]):
        done = videopipe("run", str(video), "-p", "motion", "--env", "dev", *option)
        assert done.returncode == 2
        assert "needs --output-dir" in done.stderr


def test_jobs_show_prints_every_video_with_its_status(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=2, corrupt=1)
    out = tmp_path / "out"
    videopipe(
        "run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir", str(out)
    )
    for target in (out, out / "manifest.sqlite"):
        shown = videopipe("jobs", "show", str(target))
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.count("│ done") == 2
        assert shown.stdout.count("│ failed") == 1
        assert "VideoReadError" in shown.stdout
    missing = videopipe("jobs", "show", str(tmp_path / "nowhere.sqlite"))
    assert missing.returncode == 2
    assert "no manifest" in missing.stderr


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_outputs_do_not_depend_on_jobs(tmp_path: Path, jobs: int) -> None:
    video_folder(tmp_path / "videos", good=3, corrupt=1)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir"]
    assert videopipe(*args, str(tmp_path / "one"), "--jobs", "1").returncode == 3
    assert videopipe(*args, str(tmp_path / "many"), "--jobs", str(jobs)).returncode == 3
    assert outputs(tmp_path / "one") == outputs(tmp_path / "many")


def test_a_terminal_gets_files_and_frames_bars_and_the_final_table(tmp_path: Path) -> None:
    from tests.e2e.test_cli_progress import run_with_terminal_stderr  # noqa: PLC0415

    video_folder(tmp_path / "videos", good=2, corrupt=1)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "-j", "2"]
    code, _, stderr = run_with_terminal_stderr(*args, "--output-dir", str(tmp_path / "out"))
    assert code == 3
    assert "files" in stderr
    assert "frames" in stderr
    assert "3/3" in stderr
    assert "12/12" in stderr  # two videos of 6 frames
    assert "VideoReadError" in stderr
    assert "2 done, 1 failed, 0 skipped" in stderr
    code, _, stderr = run_with_terminal_stderr(*args, "--output-dir", str(tmp_path / "out"))
    assert code == 3
    assert "done before" in stderr
    assert "0 done, 1 failed, 2 skipped" in stderr
    assert "VideoReadError" in stderr  # the failed video, still listed with its error


def test_summary_file_has_every_video_in_order_even_those_done_before(tmp_path: Path) -> None:
    goods, _ = video_folder(tmp_path / "videos", good=3, frames=8)
    single = tmp_path / "single.jsonl"
    plain = videopipe(
        "run",
        *map(str, goods),
        "-p",
        "motion",
        "--env",
        "dev",
        "--summary",
        str(single),
        "-o",
        str(tmp_path / "lines.jsonl"),
    )
    assert plain.returncode == 0, plain.stderr
    args = [
        "run",
        str(tmp_path / "videos"),
        "-p",
        "motion",
        "--env",
        "dev",
        "-j",
        "2",
        "--output-dir",
        str(tmp_path / "out"),
        "--summary",
    ]
    first = videopipe(*args, str(tmp_path / "first.jsonl"))
    assert first.returncode == 0, first.stderr
    goods[1].write_bytes(goods[1].read_bytes())  # a new mtime: redone; the others skipped
    again = videopipe(*args, str(tmp_path / "again.jsonl"))
    assert again.returncode == 0, again.stderr
    expected = [json.loads(line) for line in single.read_text().splitlines()]
    assert len(expected) == 3
    for name in ("first.jsonl", "again.jsonl"):
        written = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        assert written == expected
