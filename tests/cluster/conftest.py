"""The clusters the scale-out tests run on, started as a user starts them.

``VIDEOPIPE_TEST_SCHEDULER`` (set by ``.ci/run``): the address of a running cluster of
two single-threaded ``dask worker`` processes with their nanny; unset, the session
starts one itself. ``VIDEOPIPE_TEST_ISOLATED_SCHEDULER``: a cluster whose one worker
lives in its own mount namespace, where an empty tmpfs covers the tests' temporary
directory (it cannot see the test videos); unset, the session starts it. Clusters a
test needs for itself (no worker, workers that leave, broken workers) come from
``private_cluster``. Every process is stopped at the end and checked gone (psutil).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.processes import Cluster, start_cluster
from videopipe.testing.media import make_video

FRAMES = 48


def _own(request: pytest.FixtureRequest, directory: Path, workers: int, **options: Any) -> Cluster:
    cluster = start_cluster(directory, workers, **options)

    def stop() -> None:
        survivors = cluster.stop()
        assert not survivors, f"cluster processes left running: {survivors}"

    request.addfinalizer(stop)
    return cluster


@pytest.fixture(scope="session")
def cluster_address(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A scheduler with two ``dask worker --nthreads 1`` processes (nanny) on loopback."""
    address = os.environ.get("VIDEOPIPE_TEST_SCHEDULER")
    if address:
        return address
    return _own(request, tmp_path_factory.mktemp("cluster"), 2).address


@pytest.fixture(scope="session")
def isolated_address(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A cluster whose worker cannot see the tests' temporary directory."""
    address = os.environ.get("VIDEOPIPE_TEST_ISOLATED_SCHEDULER")
    if address:
        return address
    directory = tmp_path_factory.mktemp("isolated")
    return _own(request, directory, 1, hide=tmp_path_factory.getbasetemp()).address


@pytest.fixture
def private_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Cluster]:
    """``private_cluster(workers, envs=...)``: a cluster of this test's own."""
    count = [0]

    def start(workers: int = 1, **options: Any) -> Cluster:
        count[0] += 1
        return _own(request, tmp_path / f"cluster-{count[0]}", workers, **options)

    return start


@pytest.fixture(scope="session")
def cluster_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three short H.264 videos whose frame i draws i (48, 40 and 32 frames)."""
    directory = tmp_path_factory.mktemp("cluster-videos")
    return [
        make_video(directory / f"v{n}.mp4", frames=frames, width=160, height=120, gop=12)
        for n, frames in enumerate((FRAMES, 40, 32))
    ]


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[..., Path]:
    """``config_file(address, **dask_keys)``: a videopipe configuration file for a cluster."""

    def write(address: str, **keys: Any) -> Path:
        lines = [f"scheduler_address: {address}"]
        if keys:
            lines += ["executors:", "  dask:"]
            lines += [f"    {key}: {value}" for key, value in keys.items()]
        path = tmp_path / "cluster.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
