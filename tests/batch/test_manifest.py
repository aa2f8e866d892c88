"""The SQLite manifest and the plan a rerun makes from it."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from videopipe.adapters.manifest import SqliteManifest
from videopipe.adapters.manifest.sqlite import ManifestError
from videopipe.application.jobs import ManifestOptionsError, plan_batch, recorded
from videopipe.domain.report import VideoReport
from videopipe.ports.batch import VideoFinished, VideoStarted
from videopipe.ports.manifest import JobManifest, VideoEntry


@pytest.fixture
def manifest(tmp_path: Path) -> SqliteManifest:
    return SqliteManifest(tmp_path / "manifest.sqlite")


def video(tmp_path: Path, name: str, data: bytes = b"video") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_rows_round_trip_and_the_table_has_the_documented_columns(
    manifest: SqliteManifest, tmp_path: Path
) -> None:
    assert isinstance(manifest, JobManifest)
    report = {"video": "/v.mp4", "summary": {"motion": {"intervals": []}}}
    entry = VideoEntry(
        "/v.mp4",
        10,
        1.5,
        "h",
        "failed",
        3,
        {"type": "E", "message": "m"},
        None,
        1.0,
        2.0,
        2,
        report,
    )
    manifest.put(entry)
    assert manifest.get("/v.mp4") == entry
    assert manifest.entries() == [entry]
    with sqlite3.connect(tmp_path / "manifest.sqlite") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(videos)")]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert columns == [
        "path",
        "size",
        "mtime",
        "options_hash",
        "status",
        "frames",
        "error",
        "output",
        "started",
        "ended",
        "attempts",
        "report",
    ]


def test_a_file_that_is_not_a_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(ManifestError):
        SqliteManifest(tmp_path / "x.sqlite")
    with pytest.raises(ManifestError, match="no manifest"):
        SqliteManifest(tmp_path / "none.sqlite", create=False)


def test_the_plan_runs_new_skips_done_retries_failed_and_redoes_changed(
    manifest: SqliteManifest, tmp_path: Path
) -> None:
    paths = [
        video(tmp_path, f"{name}.mp4")
        for name in ("new", "done", "failed", "changed", "running", "given_up")
    ]
    outputs = [(path, path + ".jsonl") for path in paths]
    plan_batch(manifest, outputs, "h")
    for path in paths[1:]:
        entry = manifest.get(os.path.abspath(path))
        assert entry is not None
        status = {"done": "done", "running": "running"}.get(Path(path).stem, "failed")
        attempts = 3 if Path(path).stem == "given_up" else 1
        manifest.put(replace(entry, status=status, attempts=attempts))  # type: ignore[arg-type]
        Path(path + ".jsonl").write_text("")
    manifest.put(replace(manifest.get(os.path.abspath(paths[0])), status="pending"))  # type: ignore[type-var]
    Path(paths[3]).write_bytes(b"a longer video now")
    plan = plan_batch(manifest, outputs, "h", max_attempts=3)
    ran = [Path(path).stem for path, _ in plan.run]
    assert ran == ["new", "failed", "changed", "running"]
    assert {Path(skip.path).stem: skip.reason for skip in plan.skipped} == {
        "done": "done",
        "given_up": "failed 3 times: ",
    }
    changed = manifest.get(os.path.abspath(paths[3]))
    assert changed is not None
    assert changed.attempts == 0
    assert changed.status == "pending"


def test_a_done_video_whose_output_is_gone_runs_again(
    manifest: SqliteManifest, tmp_path: Path
) -> None:
    path = video(tmp_path, "v.mp4")
    plan_batch(manifest, [(path, path + ".jsonl")], "h")
    entry = manifest.get(os.path.abspath(path))
    assert entry is not None
    manifest.put(replace(entry, status="done"))
    assert len(plan_batch(manifest, [(path, path + ".jsonl")], "h").run) == 1


def test_other_options_are_refused_unless_forced(manifest: SqliteManifest, tmp_path: Path) -> None:
    path = video(tmp_path, "v.mp4")
    plan_batch(manifest, [(path, "")], "one")
    with pytest.raises(ManifestOptionsError, match="--force"):
        plan_batch(manifest, [(path, "")], "two")
    assert len(plan_batch(manifest, [(path, "")], "two", force=True).run) == 1
    assert manifest.options_hash() == "two"


def test_recorded_marks_running_then_done_or_failed(
    manifest: SqliteManifest, tmp_path: Path
) -> None:
    good, bad = video(tmp_path, "good.mp4"), video(tmp_path, "bad.mp4")
    plan_batch(manifest, [(good, good + ".jsonl"), (bad, bad + ".jsonl")], "h")
    ok = VideoReport(good, "p", None, 5)
    failed = VideoReport(bad, "p", None, 0, error={"type": "VideoReadError", "message": "m"})
    events = iter(
        [VideoStarted(good), VideoStarted(bad), VideoFinished(good, ok), VideoFinished(bad, failed)]
    )
    stream = recorded(manifest, events)
    next(stream)
    running = manifest.get(os.path.abspath(good))
    assert running is not None
    assert (running.status, running.attempts) == ("running", 1)
    list(stream)
    done, broken = manifest.get(os.path.abspath(good)), manifest.get(os.path.abspath(bad))
    assert done is not None
    assert broken is not None
    assert (done.status, done.frames, done.output) == ("done", 5, good + ".jsonl")
    assert (broken.status, broken.output) == ("failed", None)
    assert broken.error == {"type": "VideoReadError", "message": "m"}
    assert done.started is not None
    assert done.ended is not None
    assert done.ended >= done.started
