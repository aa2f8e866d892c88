"""Before any segment of a video runs on a Dask cluster, every worker is checked.

Two checks, each one ``client.run`` on every worker: first :func:`~videopipe.adapters.
executors._dask_probe.probe_worker`, sent by value so that it runs where videopipe is
missing (videopipe's version, the runner's and decoder's packages, the video readable
at its path); then, where that passed, :func:`~videopipe.adapters.executors.
_dask_worker.check_work` rebuilds the work, opens the video with its decoder and loads
its pipeline (the decoder's and the plugins' extras). Every problem found is raised in
one :class:`~videopipe.domain.errors.WorkerPreflightError` naming the workers.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

from videopipe.adapters.executors import _dask_probe
from videopipe.adapters.executors._dask_worker import WorkerSetup, check_work
from videopipe.domain.errors import (
    ClusterUnavailableError,
    MissingDependencyError,
    WorkerPreflightError,
)
from videopipe.ports.work import VideoWork

Problems = dict[str, list[tuple[str, str]]]

_SHARED = (
    "make the video readable at the same path on every worker (a shared filesystem "
    "mounted at the same place), or run with a path every worker can read"
)


def client_version() -> str:
    """The videopipe version this process runs."""
    try:
        return importlib.metadata.version("videopipe")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a source tree
        return "0.0.0"


def packages_of(work: VideoWork) -> list[str]:
    """Top-level packages, other than videopipe's, that the work's objects come from."""
    found: dict[str, None] = {}
    settings = getattr(getattr(work, "order", None), "settings", None)  # a ServiceWork's
    for thing in (getattr(settings, "runner", None), getattr(settings, "frame_source", None)):
        module = type(thing).__module__.partition(".")[0] if thing is not None else ""
        if module and module not in ("videopipe", "builtins", "__main__"):
            found[module] = None
    return list(found)


@contextlib.contextmanager
def _by_value() -> Iterator[None]:
    import cloudpickle  # type: ignore[import-untyped]  # noqa: PLC0415 - with distributed

    cloudpickle.register_pickle_by_value(_dask_probe)
    try:
        yield
    finally:
        cloudpickle.unregister_pickle_by_value(_dask_probe)


def _run(
    client: Any,
    address: str | None,
    timeout: float,
    function: Any,
    *args: Any,
    workers: list[str] | None = None,
) -> Any:
    try:
        return client.run(
            function, *args, workers=workers, on_error="return", callback_timeout=timeout
        )
    except TimeoutError as exc:
        raise ClusterUnavailableError(
            address, "every worker to answer the pre-flight check", timeout, str(exc)
        ) from exc


def _worker_name(address: str, report: dict[str, Any] | None = None) -> str:
    if not report:
        return address
    return f"{address} (host {report.get('host')}, pid {report.get('pid')})"


def environment_problems(
    client: Any, address: str | None, work: VideoWork, timeout: float
) -> tuple[Problems, dict[str, str]]:
    """Problems the by-value probe finds, by worker; and each worker's name for messages."""
    path = work.path
    with _by_value():
        reports = _run(
            client, address, timeout, _dask_probe.probe_worker, [path], packages_of(work)
        )
    ours = client_version()
    problems: Problems = {}
    names: dict[str, str] = {}
    for worker, report in reports.items():
        if isinstance(report, BaseException):
            found = [(f"the check failed there ({type(report).__name__}: {report})", _SHARED)]
            problems[worker] = found
            names[worker] = worker
            continue
        names[worker] = _worker_name(worker, report)
        found = []
        if report["videopipe"] is None:
            found.append(
                (
                    f"videopipe cannot be imported there ({report['videopipe_error']})",
                    f'pip install "videopipe[dask]=={ours}" in the worker\'s environment',
                )
            )
        elif report["videopipe"] != ours:
            found.append(
                (
                    f"videopipe {report['videopipe']} is installed there, the client runs {ours}",
                    f"install videopipe {ours} on every worker (one version everywhere)",
                )
            )
        found.extend(
            (
                f"the package {module!r} (the runner's or decoder's) is not installed there",
                f"install {module!r} on the worker",
            )
            for module in report["missing_modules"]
        )
        for unreadable, reason in report["unreadable"].items():
            detail = f"{unreadable!r} cannot be read there ({reason})"
            fix = _SHARED
            if not os.path.isabs(unreadable):
                detail += f"; a relative path is read from the worker's directory {report['cwd']!r}"
                fix = "give the video's absolute path, on a filesystem every worker shares"
            found.append((detail, fix))
        if found:
            problems[worker] = found
    return problems, names


def preflight(
    client: Any,
    address: str | None,
    work: VideoWork,
    state: bytes,
    *,
    setup: WorkerSetup,
    timeout: float,
) -> None:
    """Raise :class:`WorkerPreflightError` if a worker cannot run ``work``; else return."""
    problems, names = environment_problems(client, address, work, timeout)
    healthy = [worker for worker in names if worker not in problems]
    if healthy:
        local = ""
        try:
            work.history_frames()
        except MissingDependencyError as exc:  # the client lacks it too: as in sequence
            local = str(exc)
        except Exception:
            local = ""
        results = _run(client, address, timeout, check_work, state, setup, workers=healthy)
        for worker, answer in results.items():
            found = answer
            if isinstance(answer, BaseException):
                found = [(f"the check failed there ({type(answer).__name__}: {answer})", _SHARED)]
            kept = [(problem, fix) for problem, fix in found if problem != local]
            if kept:
                problems[worker] = kept
    if problems:
        raise WorkerPreflightError(
            address, {names.get(worker, worker): found for worker, found in problems.items()}
        )


def check_listening(address: str | None, timeout: float) -> None:
    """Fail at once when nothing listens at a ``tcp://host:port`` address (refused, no host).

    Anything else (no answer yet) is left to the client's own bounded connection.
    """
    scheme, _, rest = (address or "").rpartition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "") or not host or not port.isdigit():
        return
    started = time.monotonic()
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise ClusterUnavailableError(
            address,
            "the scheduler to answer",
            round(time.monotonic() - started, 2),
            f"nothing accepts connections at {host}:{port} ({exc}); is 'dask scheduler' "
            "running there?",
        ) from exc
    except OSError:
        return
