"""The dask executor's settings: from the configuration, checked, and the allocator override."""

from __future__ import annotations

import subprocess
import sys

import pytest

from videopipe.adapters.executors.dask import DaskExecutor
from videopipe.container import create_container
from videopipe.domain import errors


def test_the_configuration_reaches_the_executor():
    container = create_container(
        "test",
        overrides={
            "executor": "dask",
            "scheduler_address": "tcp://127.0.0.1:1",
            "executors.dask.connect_timeout": 3,
            "executors.dask.preflight": False,
            "executors.dask.worker_setup": True,
            "executors.dask.tune_malloc": False,
            "executors.dask.threads": 2,
        },
    )
    executor = container.executor()
    assert isinstance(executor, DaskExecutor)
    assert executor.connect_timeout == 3.0
    assert executor.preflight is False
    assert (executor.setup.enabled, executor.setup.tune_malloc, executor.setup.threads) == (
        True,
        False,
        2,
    )


@pytest.mark.parametrize("value", [0, -1, "soon", True])
def test_a_connect_timeout_that_is_not_seconds_is_refused(value):
    with pytest.raises(errors.ConfigurationError, match=r"executors\.dask\.connect_timeout"):
        create_container("test", overrides={"executors.dask.connect_timeout": value})
    with pytest.raises(errors.ConfigurationError, match="connect_timeout"):
        DaskExecutor(1, connect_timeout=value)


_MALLOC = """
import os
from videopipe.adapters import _malloc
assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"
print(_malloc.tune_glibc_malloc(), _malloc.set_glibc_thresholds())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_allocator_override_applies_where_a_nanny_set_malloc_variables():
    done = subprocess.run(
        [sys.executable, "-c", _MALLOC],
        env={"MALLOC_TRIM_THRESHOLD_": "65536", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["False", "True"]  # left alone, then overridden


def test_cluster_errors_are_typed_and_pickle():
    import pickle  # noqa: PLC0415

    error = errors.WorkerPreflightError("tcp://h:1", {"tcp://w:2": [("gone", "mount it")]})
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, errors.ClusterError)
    assert isinstance(copy, RuntimeError)
    assert copy.problems == {"tcp://w:2": [("gone", "mount it")]}
    assert "worker tcp://w:2: gone; fix: mount it" in str(copy)
    assert "tcp://h:1" in str(copy)
