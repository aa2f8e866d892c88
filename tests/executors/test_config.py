"""Choosing an executor: the configuration key, the environment variables, validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.executors.conftest import FRAMES
from videopipe.adapters.executors.auto import AutoExecutor
from videopipe.adapters.executors.prefetch import PrefetchExecutor
from videopipe.adapters.executors.threads import ThreadsExecutor
from videopipe.application import SequentialExecutor
from videopipe.container import create_container
from videopipe.domain.errors import ConfigurationError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("VIDEOPIPE_EXECUTOR", "VIDEOPIPE_WORKERS", "VIDEOPIPE_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


def test_tests_run_sequentially_and_other_environments_pick_automatically() -> None:
    assert isinstance(create_container("test").video_service().executor, SequentialExecutor)
    assert isinstance(create_container("bench").video_service().executor, SequentialExecutor)
    for env in ("dev", "prod"):
        assert isinstance(create_container(env).video_service().executor, AutoExecutor)


def test_the_key_and_its_options_build_the_executor() -> None:
    overrides = {
        "executor": "threads",
        "workers": 3,
        "executors.threads.chunk_frames": 16,
        "executors.prefetch.depth": 2,
    }
    executor = create_container("test", overrides=overrides).video_service().executor
    assert isinstance(executor, ThreadsExecutor)
    assert (executor.workers, executor.chunk_frames, executor.depth) == (3, 16, 2)
    prefetch = create_container("test", overrides={"executor": "prefetch"}).executor()
    assert isinstance(prefetch, PrefetchExecutor)
    assert prefetch.depth == 4


def test_the_environment_variables_choose_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOPIPE_EXECUTOR", "threads")
    monkeypatch.setenv("VIDEOPIPE_WORKERS", "2")
    executor = create_container("test").video_service().executor
    assert isinstance(executor, ThreadsExecutor)
    assert executor.workers == 2
    monkeypatch.setenv("VIDEOPIPE_WORKERS", "null")
    executor = create_container("test").video_service().executor
    assert isinstance(executor, ThreadsExecutor)
    assert executor.workers >= 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"executor": "turbo"}, "executor='turbo'.*valid values: auto, sequential"),
        ({"workers": 0}, "workers=0"),
        ({"workers": "two"}, "workers='two'"),
        ({"executors.prefetch.depth": 0}, "executors.prefetch.depth=0"),
        ({"executors.threads.chunk_frames": -4}, "chunk_frames=-4"),
        ({"scheduler_address": ""}, "scheduler_address"),
    ],
)
def test_invalid_values_are_configuration_errors(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_container("test", overrides=overrides)


def test_a_bad_workers_variable_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDEOPIPE_WORKERS", "many")
    with pytest.raises(ConfigurationError, match="VIDEOPIPE_WORKERS"):
        create_container("test")
    monkeypatch.setenv("VIDEOPIPE_WORKERS", "-1")
    with pytest.raises(ConfigurationError, match="workers=-1"):
        create_container("test")


@pytest.mark.parametrize("name", ["auto", "prefetch", "threads"])
def test_a_configured_service_runs_with_each_executor(
    executor_video: Callable[[str], Path], name: str
) -> None:
    service = create_container(
        "test", overrides={"executor": name, "runner": "dag", "workers": 2}
    ).video_service()
    expected = create_container("test", overrides={"runner": "dag"}).video_service()
    path = executor_video("mp4")
    assert service.run_on_file("motion", path) == expected.run_on_file("motion", path)
    assert len(service.run_on_file("motion", path)) == FRAMES
