"""The ``dask`` executor end to end on clusters started with ``dask scheduler`` / ``dask worker``.

Through the installed ``videopipe`` command and through the library: results equal to
a sequential run, many files spread over the workers, the worker processes set up as
videopipe's own whatever the nanny exported, every wait bounded, and workers that
cannot run a job refused before any segment runs, with the worker, problem and fix.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.cluster.processes import worker_environment
from tests.cluster.runners import (
    IndexRunner,
    KillOnceRunner,
    MarkingRunner,
    SlowRunner,
    worker_state,
)
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors.batch import run_batch
from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.adapters.runners.dag import DagPipelineRunner
from videopipe.api import VideoFilePipelineService
from videopipe.application import SequentialExecutor
from videopipe.domain import errors

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
CLI_TIMEOUT = 300


def service(runner: Any, executor: Any, decoder: str = "pyav") -> VideoFilePipelineService:
    return VideoFilePipelineService(
        runner, frame_source=create_frame_source(decoder), executor=executor
    )


def videopipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed ``videopipe`` command (bounded)."""
    command = shutil.which("videopipe")
    assert command, "videopipe is not installed in this environment"
    return subprocess.run(
        [command, *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        env={**os.environ, "VIDEOPIPE_ENV": "dev", **(env or {})},
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the CLI ---------------------------------------------------------------------------


def test_cli_motion_on_the_cluster_matches_sequential(cluster_address, config_file):
    config = str(config_file(cluster_address))
    args = [str(VTEST), "--pipeline", "motion", "--max-frames", "160"]
    sequential = videopipe("run", *args, "--executor", "sequential")
    clustered = videopipe(
        "run", *args, "--executor", "dask", "--workers", "2", env={"VIDEOPIPE_CONFIG": config}
    )
    assert sequential.returncode == 0, sequential.stderr
    assert clustered.returncode == 0, clustered.stderr
    assert clustered.stdout == sequential.stdout
    assert len(sequential.stdout.splitlines()) == 160


def test_cli_many_files_on_the_cluster_match_sequential(
    cluster_address, config_file, cluster_videos
):
    config = str(config_file(cluster_address))
    paths = [str(path) for path in cluster_videos]
    args = [*paths, paths[0], "--pipeline", "scenes"]
    sequential = videopipe("run", *args, "--executor", "sequential")
    clustered = videopipe("run", *args, "--executor", "dask", env={"VIDEOPIPE_CONFIG": config})
    assert sequential.returncode == 0, sequential.stderr
    assert clustered.returncode == 0, clustered.stderr
    assert clustered.stdout == sequential.stdout
    assert len(clustered.stdout.splitlines()) == 48 + 40 + 32 + 48


def test_cli_without_a_worker_exits_7_naming_the_scheduler(private_cluster, config_file):
    cluster = private_cluster(0)
    config = str(config_file(cluster.address, connect_timeout=2))
    done = videopipe(
        "run", str(VTEST), "-p", "motion", "--executor", "dask", env={"VIDEOPIPE_CONFIG": config}
    )
    assert done.returncode == 7, done.stderr
    assert cluster.address in done.stderr
    assert "a worker to connect" in done.stderr
    assert done.stdout == ""


def test_cli_preflight_error_exits_7_naming_the_worker(isolated_address, config_file, tmp_path):
    video = shutil.copy(VTEST, tmp_path / "here-only.avi")
    config = str(config_file(isolated_address))
    done = videopipe(
        "run", str(video), "-p", "motion", "--executor", "dask", env={"VIDEOPIPE_CONFIG": config}
    )
    assert done.returncode == 7, done.stderr
    assert "cannot be read there" in done.stderr
    assert str(video) in done.stderr
    assert "shared filesystem" in done.stderr
    assert done.stdout == ""


# -- the library -----------------------------------------------------------------------


def test_batch_spreads_the_videos_over_the_workers_in_input_order(
    cluster_address, cluster_videos, tmp_path
):
    marks = tmp_path / "marks"
    marks.mkdir()
    runner = MarkingRunner(str(marks))
    expected = list(run_batch(service(runner, SequentialExecutor()), "demo", cluster_videos))
    for mark in marks.iterdir():
        mark.unlink()
    with DaskExecutor(scheduler_address=cluster_address) as executor:
        got = list(run_batch(service(runner, executor), "demo", cluster_videos))
        pids = {int(mark.name.split("-")[0]) for mark in marks.iterdir()}
    assert got == expected  # same results, by input file then frame
    counts = (48, 40, 32)
    assert [path for path, _ in got] == [
        str(video)
        for video, count in zip(cluster_videos, counts, strict=True)
        for _ in range(count)
    ]
    assert len(pids) == 2, "both workers ran segments"
    assert os.getpid() not in pids


def test_workers_are_set_up_as_videopipes_own_whatever_the_nanny_exported(
    private_cluster, cluster_videos
):
    cluster = private_cluster(1)
    import distributed  # noqa: PLC0415

    with distributed.Client(cluster.address, timeout=30, set_as_default=False) as client:
        before = next(iter(client.run(worker_state).values()))
        assert before["environ"]["MALLOC_TRIM_THRESHOLD_"] == "65536"  # the nanny's
        assert before["environ"]["OMP_NUM_THREADS"] == "1"
        assert before["blas_threads"] == 1
        assert not before["malloc_tuned"]
        expected = service(IndexRunner(), SequentialExecutor()).run_on_file(
            "demo", cluster_videos[2]
        )

        # Opted out: the worker stays as its nanny started it.
        with DaskExecutor(scheduler_address=cluster.address, worker_setup=False) as executor:
            assert service(IndexRunner(), executor).run_on_file("demo", cluster_videos[2]) == (
                expected
            )
        kept = next(iter(client.run(worker_state).values()))
        assert kept["environ"] == before["environ"]
        assert not kept["malloc_tuned"]

        # Default: glibc's thresholds as videopipe's workers, the nanny's variables gone.
        with DaskExecutor(scheduler_address=cluster.address) as executor:
            assert service(IndexRunner(), executor).run_on_file("demo", cluster_videos[2]) == (
                expected
            )
        after = next(iter(client.run(worker_state).values()))
        assert after["environ"] == {}
        assert after["malloc_tuned"]
        assert after["blas_threads"] == len(os.sched_getaffinity(0))
        assert after["pid"] == before["pid"]

        # A value in videopipe's configuration wins.
        with DaskExecutor(scheduler_address=cluster.address, threads=1) as executor:
            service(IndexRunner(), executor).run_on_file("demo", cluster_videos[2])
        user = next(iter(client.run(worker_state).values()))
        assert user["environ"]["OMP_NUM_THREADS"] == "1"
        assert user["blas_threads"] == 1


def test_a_worker_killed_mid_run_has_its_segment_rerun(cluster_address, cluster_videos, tmp_path):
    runner = KillOnceRunner(str(tmp_path), kill_at=30)
    expected = service(IndexRunner(), SequentialExecutor()).run_on_file("demo", cluster_videos[0])
    with DaskExecutor(scheduler_address=cluster_address, connect_timeout=60) as executor:
        got = service(runner, executor).run_on_file("demo", cluster_videos[0])
    assert (tmp_path / "killed-30").exists()
    assert got == expected


def test_scheduler_unreachable_is_a_prompt_typed_error():
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(errors.ClusterUnavailableError) as caught:
        DaskExecutor(scheduler_address=address, connect_timeout=2).client()
    assert time.monotonic() - started < 60  # bounded (2 s asked; generous on a loaded machine)
    assert address in str(caught.value)
    assert "the scheduler" in str(caught.value)


def test_no_worker_within_the_timeout_is_a_typed_error(private_cluster, cluster_videos):
    cluster = private_cluster(0)
    executor = DaskExecutor(scheduler_address=cluster.address, connect_timeout=2)
    with pytest.raises(errors.ClusterUnavailableError) as caught:
        service(IndexRunner(), executor).run_on_file("demo", cluster_videos[0])
    assert isinstance(caught.value, errors.ClusterError)
    assert cluster.address in str(caught.value)
    assert "a worker to connect" in str(caught.value)
    executor.close()


def test_all_workers_gone_is_a_typed_error_after_the_frames_already_given(
    private_cluster, cluster_videos
):
    cluster = private_cluster(1)
    expected = service(IndexRunner(), SequentialExecutor()).run_on_file("demo", cluster_videos[0])
    with DaskExecutor(
        scheduler_address=cluster.address, connect_timeout=3, segments_per_worker=4
    ) as executor:
        results = service(SlowRunner(0.1), executor).iter_results("demo", cluster_videos[0])
        got = [next(results)]
        for process in cluster.processes[1:]:  # the worker and its nanny, not the scheduler
            os.killpg(process.pid, signal.SIGKILL)
        with pytest.raises(errors.ClusterUnavailableError) as caught:
            got.extend(results)
    assert got == expected[: len(got)]
    assert len(got) < len(expected)
    assert "every worker left" in str(caught.value)
    assert cluster.address in str(caught.value)


# -- pre-flight ------------------------------------------------------------------------


def test_a_worker_that_cannot_see_the_file_is_refused_before_any_segment(
    isolated_address, cluster_videos, tmp_path
):
    marks = tmp_path / "marks"
    marks.mkdir()
    with (
        DaskExecutor(scheduler_address=isolated_address) as executor,
        pytest.raises(errors.WorkerPreflightError) as caught,
    ):
        service(MarkingRunner(str(marks)), executor).run_on_file("demo", cluster_videos[0])
    message = str(caught.value)
    (worker,) = caught.value.problems
    assert worker.split()[0] in message
    assert str(cluster_videos[0]) in message
    assert "No such file" in message
    assert "shared filesystem" in message
    assert list(marks.iterdir()) == []


SITE_BLOCK = """
import sys
sys.modules[{module!r}] = None  # as if not installed: import fails, find_spec finds nothing
"""

SITE_VERSION = """
import importlib.metadata
_version = importlib.metadata.version
def version(name):
    return "0.0.1" if name == "videopipe" else _version(name)
importlib.metadata.version = version
"""


def test_broken_workers_are_named_with_problem_and_fix(private_cluster, cluster_videos, tmp_path):
    envs = []
    for name, text in (
        ("no-videopipe", SITE_BLOCK.format(module="videopipe")),
        ("old-videopipe", SITE_VERSION),
        ("no-opencv", SITE_BLOCK.format(module="cv2")),
        ("no-zxing", SITE_BLOCK.format(module="zxingcpp")),
    ):
        site = tmp_path / name
        site.mkdir()
        (site / "sitecustomize.py").write_text(text)
        envs.append(worker_environment(str(site)))
    cluster = private_cluster(4, envs=envs)
    with (
        DaskExecutor(scheduler_address=cluster.address) as executor,
        pytest.raises(errors.WorkerPreflightError) as caught,
    ):
        # The opencv decoder (the opencv extra) and qr_codes' zxing plugin (the qr extra).
        service(DagPipelineRunner(), executor, decoder="opencv").run_on_file(
            "qr_codes", cluster_videos[0]
        )
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert all("127.0.0.1:" in worker and "pid" in worker for worker in problems)
    found = sorted(" fix: ".join(pair) for pairs in problems.values() for pair in pairs)
    assert len(found) == 4, found
    joined = "\n".join(found)
    assert "videopipe cannot be imported there" in joined
    assert 'fix: pip install "videopipe[dask]==' in joined
    assert "videopipe 0.0.1 is installed there, the client runs" in joined
    assert "The OpenCV decoder needs the optional dependency group 'opencv'" in joined
    assert "Pipeline 'qr_codes'" in joined
    assert 'fix: pip install "videopipe[opencv]" on the worker' in joined
    assert 'fix: pip install "videopipe[qr]" on the worker' in joined
    assert all(worker.split()[0] in str(caught.value) for worker in problems)


def test_no_cluster_process_outlives_its_stop(private_cluster):
    cluster = private_cluster(1)
    pids = cluster.pids()
    assert len(pids) >= 3  # scheduler, nanny, worker
    assert cluster.stop() == []
    assert not [pid for pid in pids if psutil.pid_exists(pid) and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
