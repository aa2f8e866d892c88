"""Run a command with a hard deadline and leave nothing of it behind.

The command runs in its own session; when the deadline passes, it and every process
it started (found by walking ``/proc`` parent links, so a grandchild that moved to
its own process group, as imageio-ffmpeg's ffmpeg does, is found too) are killed by
pid. Only processes this helper started are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def parent_of(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` in the process tree."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (ppid := parent_of(int(entry))) is not None:
            parents[int(entry)] = ppid
    found: list[int] = []
    frontier = [root]
    while frontier:
        current = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == current]
        found.extend(children)
        frontier.extend(children)
    return found


@dataclass(frozen=True)
class Completed:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool


def run_with_deadline(command: list[str], *, deadline: float, cwd: str | None = None) -> Completed:
    """Run ``command``; after ``deadline`` seconds kill it and all it started."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=deadline)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        for pid in [*descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    return Completed(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        seconds=time.monotonic() - started,
        timed_out=timed_out,
    )


def last_json_line(text: str) -> str | None:
    """The last line of ``text`` that looks like a JSON object."""
    for line in reversed(text.splitlines()):
        if line.startswith("{") and line.rstrip().endswith("}"):
            return line
    return None
