"""Executors: how one video's frames are scheduled through the runner, by name.

Every executor gives the results of a sequential run, in frame order; they differ in
where the work happens. :data:`EXECUTORS` maps each name to ``"module:Class"`` and is
imported lazily, so a backend's optional dependency is only needed when it is chosen:

- ``sequential``: decode a frame, run it, then the next, on the calling thread.
- ``prefetch``: decode ahead on a background thread (bounded), run on the calling thread.
- ``threads``: decode ahead, call the runner from ``workers`` threads at once.
- ``auto``: the fastest of these that is exact and safe for the runner and pipeline.
- ``segments``: cut each video into segments run by ``workers`` local processes.
- ``dask``: the same segments as tasks on a Dask cluster (``videopipe[dask]``; a
  ``LocalCluster`` of ``workers`` processes, or ``scheduler_address``).
"""

from __future__ import annotations

import pkgutil
from typing import Any

from videopipe.domain.errors import ConfigurationError
from videopipe.ports.executor import Executor

EXECUTORS: dict[str, str] = {
    "auto": "videopipe.adapters.executors.auto:AutoExecutor",
    "sequential": "videopipe.application.sequential:SequentialExecutor",
    "prefetch": "videopipe.adapters.executors.prefetch:PrefetchExecutor",
    "threads": "videopipe.adapters.executors.threads:ThreadsExecutor",
    "segments": "videopipe.adapters.executors.segments:SegmentExecutor",
    "dask": "videopipe.adapters.executors.dask:DaskExecutor",
}
"""Executor name -> ``"module:Class"`` (imported when the executor is created)."""


def executor_class(name: str) -> type[Any]:
    """The class registered as ``name``; an unknown name lists the valid ones."""
    target = EXECUTORS.get(name) if isinstance(name, str) else None
    if target is None:
        raise ConfigurationError(
            f"unknown executor {name!r}; valid executors: {', '.join(EXECUTORS)}"
        )
    found: type[Any] = pkgutil.resolve_name(target)
    return found


def create_executor(name: str, **options: Any) -> Executor:
    """The executor registered as ``name``, built with ``options`` (its keyword arguments).

    ``create_executor("threads", workers=4)``; options a class does not take are an error.
    """
    cls = executor_class(name)
    try:
        executor: Executor = cls(**options)
    except TypeError as exc:
        raise ConfigurationError(f"executor {name!r}: {exc}") from exc
    return executor


__all__ = ["EXECUTORS", "create_executor", "executor_class"]
