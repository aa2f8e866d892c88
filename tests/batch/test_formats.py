"""``--output-dir`` honours ``--format``: CSV (with its metadata) and Parquet per video."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.batch.helpers import nap_site, video_folder
from tests.batch.test_cli_batch import done_count, rows
from tests.e2e.helpers import clean_env, script, videopipe, wait_for
from videopipe import results


def files(out: Path, suffix: str) -> dict[str, Path]:
    return {path.name: path for path in sorted(out.iterdir()) if path.name.endswith(suffix)}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_each_format_holds_the_frames_of_the_json_lines(tmp_path: Path, kind: str) -> None:
    video_folder(tmp_path / "videos", good=3, corrupt=1)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "-j", "2"]
    assert videopipe(*args, "--output-dir", str(tmp_path / "jsonl")).returncode == 3
    done = videopipe(*args, "--output-dir", str(tmp_path / kind), "--format", kind)
    assert done.returncode == 3, done.stderr
    lines = files(tmp_path / "jsonl", ".jsonl")
    written = files(tmp_path / kind, f".{kind}")
    assert len(written) == 3
    assert [name.rsplit(".", 1)[0] for name in written] == [
        name.rsplit(".", 1)[0] for name in lines
    ]
    for (name, path), expected in zip(written.items(), lines.values(), strict=True):
        assert list(results.read_frames(str(path))) == list(results.read_frames(str(expected)))
        if kind == "csv":
            metadata = json.loads((tmp_path / kind / f"{name}-metadata.json").read_text())
            assert metadata["url"] == name
    assert not (tmp_path / kind / ".partial").exists() or not any(
        (tmp_path / kind / ".partial").iterdir()
    )
    for row in rows(tmp_path / kind).values():
        assert row["output"] is None or str(row["output"]).endswith(f".{kind}")


def test_another_format_is_other_options(tmp_path: Path) -> None:
    video_folder(tmp_path / "videos", good=1)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir"]
    assert videopipe(*args, str(tmp_path / "out")).returncode == 0
    refused = videopipe(*args, str(tmp_path / "out"), "--format", "parquet")
    assert refused.returncode == 2
    assert "--force" in refused.stderr


def test_a_killed_parquet_batch_rerun_matches_an_uninterrupted_one(tmp_path: Path) -> None:
    env = nap_site(tmp_path, seconds=0.03)
    video_folder(tmp_path / "videos", good=10, frames=10)
    args = ["run", str(tmp_path / "videos"), "-p", "napping", "-j", "2", "--format", "parquet"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert videopipe(*args, "--output-dir", str(whole), env=env).returncode == 0
    with subprocess.Popen(
        [script(), *args, "--output-dir", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=clean_env(env),
        start_new_session=True,
    ) as process:
        try:
            wait_for(lambda: done_count(killed) >= 2, what="2 videos done")
        finally:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert done_count(killed) < 10, "killed too late"
    for path in files(killed, ".parquet").values():  # every file there is whole
        assert len(list(results.read_frames(str(path)))) == 10
    assert videopipe(*args, "--output-dir", str(killed), env=env).returncode == 0
    finished = files(killed, ".parquet")
    assert list(finished) == list(files(whole, ".parquet"))
    for name, path in finished.items():
        assert list(results.read_frames(str(path))) == list(results.read_frames(str(whole / name)))
