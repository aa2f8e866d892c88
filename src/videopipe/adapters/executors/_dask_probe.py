"""What a Dask worker reports about itself before a job: standard library only.

:func:`probe_worker` is sent to the workers *by value* (see
:func:`videopipe.adapters.executors._dask_preflight.environment_problems`), so it runs
on a worker that cannot import videopipe, or imports another version of it: that is
one of the things it reports. Nothing here may import videopipe or a third-party module
at module level.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import platform
import socket
from typing import Any


def _readable(path: str) -> str | None:
    """Why ``path`` cannot be read here (``None``: it can)."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def probe_worker(paths: list[str], modules: list[str]) -> dict[str, Any]:
    """The host, videopipe version, missing ``modules`` and unreadable ``paths``.

    ``videopipe`` is ``None`` when videopipe cannot be imported here (the reason in
    ``videopipe_error``). A relative path is read from the worker's working directory
    (``cwd``), as the decoder would.
    """
    report: dict[str, Any] = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": platform.python_version(),
        "cwd": os.getcwd(),
        "videopipe": None,
        "videopipe_error": None,
        "missing_modules": [],
        "unreadable": {},
    }
    try:
        importlib.import_module("videopipe")
        report["videopipe"] = importlib.metadata.version("videopipe")
    except Exception as exc:
        report["videopipe_error"] = f"{type(exc).__name__}: {exc}"
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            report["missing_modules"].append(module)
    for path in paths:
        reason = _readable(path)
        if reason is not None:
            report["unreadable"][path] = reason
    return report
