"""``videopipe run DIR --output-dir OUT --executor dask``: the videos spread over a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.batch.helpers import video_folder
from tests.batch.test_cli_batch import outputs, rows
from tests.e2e.helpers import videopipe

pytest.importorskip("distributed", reason="the dask executor needs videopipe[dask]")


def test_a_batch_on_a_local_dask_cluster_gives_the_outputs_of_jobs_1(tmp_path: Path) -> None:
    _, bads = video_folder(tmp_path / "videos", good=4, corrupt=2)
    args = ["run", str(tmp_path / "videos"), "-p", "motion", "--env", "dev", "--output-dir"]
    local = videopipe(*args, str(tmp_path / "local"))
    assert local.returncode == 3, local.stderr
    spread = videopipe(*args, str(tmp_path / "dask"), "--executor", "dask", "--workers", "2")
    assert spread.returncode == 3, spread.stderr
    assert outputs(tmp_path / "dask") == outputs(tmp_path / "local")
    assert len(outputs(tmp_path / "dask")) == 4
    table = rows(tmp_path / "dask")
    for bad in bads:
        assert table[str(bad)]["status"] == "failed"
        assert json.loads(str(table[str(bad)]["error"]))["type"].startswith("Video")


def test_the_dask_executor_gives_batches_the_dask_pool() -> None:
    from videopipe.container import create_container  # noqa: PLC0415

    service = create_container("dev", overrides={"executor": "dask"}).video_service()
    assert service.video_pool(1).name == "dask"
    plain = create_container("dev", overrides={"executor": "sequential"}).video_service()
    assert plain.video_pool(1).name == "in-process"
    assert plain.video_pool(2).name == "processes"
