"""A batch (``run DIR --output-dir OUT --executor dask``) on clusters started as a user starts them.

The manifest's ``running`` videos are the ones the workers run, frames progress comes
from the workers, a cluster whose workers all leave ends the batch with a typed error
(the finished videos recorded), a worker that cannot run the batch is refused before
any video runs, a lost worker fails only its video, closing the batch stops the
cluster's work, and the outputs equal ``--jobs 1``'s byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.batch.helpers import video_folder
from tests.batch.test_cli_batch import outputs, rows
from tests.cluster.runners import KillOnVideoRunner, MarkingRunner, SlowRunner
from tests.cluster.test_cluster import service, videopipe
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.domain import errors
from videopipe.ports.batch import VideoFinished, VideoProgress, VideoStarted
from videopipe.testing.media import make_video

BOUND = 120.0
"""Seconds a batch whose workers are gone may take to say so (asked: a few seconds)."""


def folder(directory: Path, count: int, frames: int) -> list[Path]:
    """``count`` small videos of ``frames`` frames each (frame i draws i)."""
    directory.mkdir(parents=True, exist_ok=True)
    prototype = make_video(directory.parent / "prototype.mp4", frames=frames, width=64, height=48)
    videos = []
    for number in range(count):
        target = directory / f"clip{number:02d}.mp4"
        target.write_bytes(prototype.read_bytes())
        videos.append(target)
    return videos


def running(out: Path) -> int:
    """Videos the manifest says are running now."""
    with sqlite3.connect(out / "manifest.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM videos WHERE status = 'running'").fetchone()
    return int(count)


def test_running_videos_are_those_the_workers_run_and_frames_progress(
    cluster_address: str, tmp_path: Path
) -> None:
    videos = folder(tmp_path / "videos", count=5, frames=240)
    out = tmp_path / "out"
    with DaskExecutor(scheduler_address=cluster_address, connect_timeout=30) as executor:
        batch = service(SlowRunner(0.01), executor).batch(
            "demo", [tmp_path / "videos"], output_dir=out
        )
        workers = executor.slots()
        events: list[Any] = []
        most = 0
        for event in batch.events():
            events.append(event)
            most = max(most, running(out))
    assert 1 <= most <= workers
    open_now = peak = 0
    for event in events:
        open_now += isinstance(event, VideoStarted) - isinstance(event, VideoFinished)
        peak = max(peak, open_now)
    assert 1 <= peak <= workers
    for video in videos:
        mine = [event for event in events if event.path == str(video)]
        assert isinstance(mine[0], VideoStarted)
        assert isinstance(mine[-1], VideoFinished)
        assert mine[-1].report.ok, mine[-1].report.error
        assert sum(isinstance(event, VideoStarted | VideoFinished) for event in mine) == 2
        frames = [event.frames for event in mine if isinstance(event, VideoProgress)]
        assert len(frames) >= 2, f"{video.name}: progress {frames}"
        assert frames == sorted(frames)
        assert 0 < frames[-1] <= 240
    assert {row["status"] for row in rows(out).values()} == {"done"}


def test_every_worker_gone_mid_batch_is_a_typed_error_with_the_finished_recorded(
    private_cluster: Any, tmp_path: Path
) -> None:
    cluster = private_cluster(2)
    folder(tmp_path / "videos", count=6, frames=100)
    out = tmp_path / "out"
    finished: list[str] = []
    with DaskExecutor(scheduler_address=cluster.address, connect_timeout=3) as executor:
        events = (
            service(SlowRunner(0.02), executor)
            .batch("demo", [tmp_path / "videos"], output_dir=out)
            .events()
        )
        with pytest.raises(errors.ClusterUnavailableError) as caught:
            for event in events:
                if isinstance(event, VideoFinished):
                    finished.append(event.path)
                    if len(finished) == 1:
                        killed = time.monotonic()
                        for process in cluster.processes[1:]:  # the workers, their nannies
                            os.killpg(process.pid, signal.SIGKILL)
        waited = time.monotonic() - killed
    assert waited < BOUND
    message = str(caught.value)
    assert "every worker left" in message
    assert cluster.address in message
    assert "of 6 videos were not run" in message
    table = rows(out)
    assert finished
    assert all(table[path]["status"] == "done" for path in finished)
    assert sum(row["status"] == "done" for row in table.values()) == len(finished) < 6


def test_a_worker_that_cannot_see_the_videos_is_refused_before_any_video_runs(
    isolated_address: str, tmp_path: Path
) -> None:
    folder(tmp_path / "videos", count=3, frames=12)
    marks = tmp_path / "marks"
    marks.mkdir()
    out = tmp_path / "out"
    events: list[Any] = []
    with DaskExecutor(scheduler_address=isolated_address) as executor:
        batch = service(MarkingRunner(str(marks)), executor).batch(
            "demo", [tmp_path / "videos"], output_dir=out
        )
        with pytest.raises(errors.WorkerPreflightError) as caught:
            events.extend(batch.events())
    assert events == []
    assert "cannot be read there" in str(caught.value)
    assert "shared filesystem" in str(caught.value)
    assert list(marks.iterdir()) == []
    assert {row["status"] for row in rows(out).values()} == {"pending"}


def test_a_lost_worker_fails_only_its_video(tmp_path: Path) -> None:
    import dask  # noqa: PLC0415

    videos = folder(tmp_path / "videos", count=6, frames=12)
    doomed = videos[1]
    # One task at a time per worker (the others wait on the scheduler): a worker's death
    # then marks only the task it ran (Dask also counts the tasks queued on a worker).
    with (
        dask.config.set({"distributed.scheduler.worker-saturation": 1.0}),
        DaskExecutor(workers=2, max_retries=0, connect_timeout=30) as executor,
    ):
        reports = list(
            service(KillOnVideoRunner(doomed.name), executor).run_batch(
                "demo", [tmp_path / "videos"], output_dir=tmp_path / "out"
            )
        )
    by_video = {report.video: report for report in reports}
    assert len(by_video) == 6
    error = by_video[str(doomed)].error or {}
    assert error.get("type") == "WorkerLostError", error
    assert str(doomed) in error.get("message", "")
    others = [str(video) for video in videos if video != doomed]
    assert {video: by_video[video].error for video in others} == dict.fromkeys(others)


def test_closing_the_batch_stops_every_task_on_the_cluster(
    cluster_address: str, tmp_path: Path
) -> None:
    import distributed  # noqa: PLC0415

    folder(tmp_path / "videos", count=4, frames=600)
    out = tmp_path / "out"
    with DaskExecutor(scheduler_address=cluster_address, connect_timeout=30) as executor:
        events = (
            service(SlowRunner(0.05), executor)
            .batch("demo", [tmp_path / "videos"], output_dir=out)
            .events()
        )
        for event in events:
            if isinstance(event, VideoProgress):
                break
        events.close()
    staging = out / ".partial"
    with distributed.Client(cluster_address, timeout=30, set_as_default=False) as client:
        deadline = time.monotonic() + 20  # a video alone takes 30 s: it was stopped
        left: list[str] = ["?"]
        while time.monotonic() < deadline:
            left = client.run_on_scheduler(_our_tasks)
            if not left and not (staging.exists() and any(staging.iterdir())):
                break
            time.sleep(0.2)
    assert left == []
    assert not (staging.exists() and any(staging.iterdir()))
    assert outputs(out) == {}
    assert "done" not in {row["status"] for row in rows(out).values()}


def _our_tasks(dask_scheduler: Any) -> list[str]:
    return [str(key) for key in dask_scheduler.tasks if "run_video_task" in str(key)]


def test_a_batch_on_the_cluster_gives_the_outputs_of_jobs_1(
    cluster_address: str, config_file: Any, tmp_path: Path
) -> None:
    _, bads = video_folder(tmp_path / "videos", good=4, corrupt=2)  # a broken one first
    config = str(config_file(cluster_address))
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--output-dir"]
    local = videopipe(*args, str(tmp_path / "local"), "--jobs", "1")
    spread = videopipe(
        *args, str(tmp_path / "dask"), "--executor", "dask", env={"VIDEOPIPE_CONFIG": config}
    )
    assert local.returncode == 3, local.stderr
    assert spread.returncode == 3, spread.stderr
    assert len(outputs(tmp_path / "dask")) == 4
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "local")
    table = rows(tmp_path / "dask")
    for bad in bads:
        assert table[str(bad)]["status"] == "failed"
        assert json.loads(str(table[str(bad)]["error"]))["type"].startswith("Video")
