"""Dask clusters started as a user starts them: ``dask scheduler`` and ``dask worker`` processes.

Every process runs in its own session (so that stopping it stops its nanny's worker
processes too), on loopback only, with its output in a log file; every wait is bounded.
``.ci/run`` starts the same processes with the same options before the tests.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
"""Seconds a scheduler gets to write its address, and workers to connect."""
STOP_TIMEOUT = 15.0


def dask_command() -> str:
    """The ``dask`` command of this environment."""
    found = Path(sys.executable).with_name("dask")
    if found.exists():
        return str(found)
    on_path = shutil.which("dask")
    assert on_path, "the dask command is not installed"
    return on_path


def worker_environment(extra_path: str | None = None) -> dict[str, str]:
    """The environment of a worker: the tests' runners importable (``PYTHONPATH``)."""
    env = dict(os.environ)
    paths = [str(REPO)] if extra_path is None else [extra_path, str(REPO)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


@dataclass
class Cluster:
    """A scheduler and the ``dask worker`` processes started for it."""

    directory: Path
    address: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = self.directory / f"{name}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.directory,
                env=env or worker_environment(),
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl only, no locks
            )
        self.processes.append(process)
        self.logs.append(log)

    def start_scheduler(self) -> str:
        """Start ``dask scheduler`` on 127.0.0.1 (any free port); return its address."""
        scheduler_file = self.directory / "scheduler.json"
        command = [dask_command(), "scheduler", "--host", "127.0.0.1", "--port", "0"]
        command += ["--no-dashboard", "--scheduler-file", str(scheduler_file)]
        self._start("scheduler", command)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if scheduler_file.exists():
                try:
                    self.address = json.loads(scheduler_file.read_text())["address"]
                    return self.address
                except (ValueError, KeyError):
                    pass
            if self.processes[-1].poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the scheduler did not start: {self.tail()}")

    def start_worker(
        self,
        name: str,
        *,
        env: dict[str, str] | None = None,
        hide: Path | None = None,
        nanny: bool = True,
    ) -> None:
        """Start ``dask worker ADDRESS --nthreads 1`` (with its nanny).

        ``hide``: the worker runs in its own mount namespace where an empty tmpfs
        covers that directory (it cannot see the files under it).
        """
        command = [dask_command(), "worker", self.address, "--nthreads", "1"]
        command += ["--host", "127.0.0.1", "--no-dashboard", "--name", name]
        command += ["--local-directory", str(self.directory / f"{name}-space")]
        if not nanny:
            command.append("--no-nanny")
        if hide is not None:  # the worker creates its space inside its own tmpfs
            script = 'mount -t tmpfs tmpfs "$0" && exec "$@"'
            unshare = ["unshare", "--mount", "--propagation", "private", "--"]
            command = [*unshare, "sh", "-c", script, str(hide), *command]
        self._start(name, command, env)

    def wait_for_workers(self, count: int) -> None:
        """Wait until ``count`` workers are connected (bounded)."""
        import distributed  # noqa: PLC0415

        with distributed.Client(self.address, timeout=START_TIMEOUT, set_as_default=False) as c:
            try:
                c.wait_for_workers(count, timeout=START_TIMEOUT)
            except TimeoutError:
                raise RuntimeError(f"{count} workers did not connect: {self.tail()}") from None

    def tail(self, lines: int = 15) -> str:
        """The last lines of every log, for a failure message."""
        parts = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            parts.append(f"--- {log.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def pids(self) -> set[int]:
        """Every process of this cluster now (the commands and their children)."""
        found = set()
        for process in self.processes:
            try:
                parent = psutil.Process(process.pid)
                found.add(parent.pid)
                found.update(child.pid for child in parent.children(recursive=True))
            except psutil.Error:
                continue
        return found

    def stop(self) -> list[int]:
        """Stop every process (SIGTERM to its session, then SIGKILL); return survivors."""
        pids = self.pids()
        for process in reversed(self.processes):
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in reversed(self.processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for process in self.processes:
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
        _, alive = psutil.wait_procs(_existing(pids), timeout=5)
        for leftover in alive:
            leftover.kill()
        return [p.pid for p in alive]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies (killed before its finalizers)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG, kept across exec


def _existing(pids: set[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return found


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def start_cluster(
    directory: Path,
    workers: int = 2,
    *,
    hide: Path | None = None,
    envs: list[dict[str, str]] | None = None,
) -> Cluster:
    """A scheduler and ``workers`` workers (``envs``: one environment per worker)."""
    directory.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(directory)
    try:
        cluster.start_scheduler()
        for number in range(workers):
            env = envs[number] if envs else None
            cluster.start_worker(f"worker-{number + 1}", env=env, hide=hide)
        if workers:
            cluster.wait_for_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster
