"""Run one corpus case through videopipe in a fresh process and print one JSON line.

    python run_case.py <decoder> <case-folder> <case-name> [--path P] [--cwd D]
                       [--option key=json ...] [--watch-pidfile F]

Nothing is built here: the path comes from ``--path`` (as given, relative to ``--cwd``
when that is set) or else from ``<case-folder>/manifest.json`` written by
``tests/hardening/corpus.py``. The case runs as::

    VideoFilePipelineService(MockDagPipelineService(),
                             frame_source=create_frame_source(decoder, **options))
        .iter_results("hostile", path)

collecting the frame indices as they stream. After the call, the child processes
(zombies included), threads and open file descriptors are compared with a baseline
taken after every import and one warm-up read of a tiny valid video, so what the
first use opens lazily is not counted as a leak.

Output keys: indices, shapes (the distinct image shapes, in order), error_type,
error_mro, message, frames_read, frames_expected (and has_frames_read,
has_frames_expected), seconds, leaked_children, leaked_threads, leaked_fds.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av  # noqa: F401 - imported before the baseline: the decoders import it lazily
import numpy  # noqa: F401

from videopipe import VideoFilePipelineService
from videopipe.adapters.decoders import create_frame_source
from videopipe.testing import MockDagPipelineService


def child_processes() -> list[int]:
    """Every process (zombies included) whose parent is this one, read from /proc."""
    found = []
    own = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # it ended while we looked
            continue
        if int(text.rsplit(")", 1)[1].split()[1]) == own:
            found.append(int(entry))
    return sorted(found)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z"


def resources() -> tuple[list[int], int, int]:
    return child_processes(), threading.active_count(), len(os.listdir("/proc/self/fd"))


def parse_option(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def run(decoder: str, arg: str, options: dict[str, Any]) -> dict[str, Any]:
    """Stream the case through the service; record what came out and how it ended."""
    indices: list[int] = []
    error: BaseException | None = None
    runner = MockDagPipelineService()  # records a pixel-free summary of every payload
    started = time.monotonic()
    try:
        service = VideoFilePipelineService(
            runner, frame_source=create_frame_source(decoder, **options)
        )
        results = service.iter_results("hostile", arg)
        try:
            for item in results:
                indices.append(item["frame_index"])
        finally:
            results.close()
    except Exception as exc:
        error = exc
    seconds = time.monotonic() - started
    shapes: list[list[int]] = []
    for call in runner.calls:
        shape = list(call["payload"].get("image_shape", ()))
        if shape not in shapes:
            shapes.append(shape)
    record: dict[str, Any] = {
        "indices": indices,
        "shapes": shapes,
        "error_type": None,
        "error_mro": [],
        "message": None,
        "frames_read": None,
        "frames_expected": None,
        "seconds": round(seconds, 3),
    }
    if error is not None:
        record.update(
            error_type=type(error).__name__,
            error_mro=[cls.__name__ for cls in type(error).__mro__],
            message=str(error),
            frames_read=getattr(error, "frames_read", None),
            frames_expected=getattr(error, "frames_expected", None),
            has_frames_read=hasattr(error, "frames_read"),
            has_frames_expected=hasattr(error, "frames_expected"),
        )
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decoder")
    parser.add_argument("folder", type=Path)
    parser.add_argument("case")
    parser.add_argument("--path", help="the path to open (use --path=VALUE for '-...')")
    parser.add_argument("--cwd", help="run from this folder (for relative, odd names)")
    parser.add_argument("--option", action="append", default=[], help="key=json-value")
    parser.add_argument("--watch-pidfile", help="a pid written here must be gone after")
    args = parser.parse_args(argv)

    manifest_path = args.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    entry = manifest.get("cases", {}).get(args.case, {})
    arg = args.path if args.path is not None else entry["arg"]
    cwd = args.cwd if args.cwd is not None or args.path is not None else entry.get("cwd")
    options = dict(entry.get("options", {}).get(args.decoder, {})) if args.path is None else {}
    options.update(parse_option(text) for text in args.option)
    pidfile = args.watch_pidfile or (entry.get("watch_pidfile") if args.path is None else None)
    warmup = manifest.get("warmup") or str(args.folder / "_warmup.mp4")

    # Baseline after imports and one full read of a tiny valid video with this decoder.
    warm = VideoFilePipelineService(
        MockDagPipelineService(), frame_source=create_frame_source(args.decoder)
    )
    warm.run_on_file("warmup", warmup)
    if cwd:
        os.chdir(cwd)
    if pidfile:
        Path(pidfile).unlink(missing_ok=True)
    gc.collect()
    children_before, threads_before, fds_before = resources()

    record = run(args.decoder, arg, options)

    gc.collect()
    children_after, threads_after, fds_after = resources()
    leaked = sorted(set(children_after) - set(children_before))
    if pidfile and Path(pidfile).exists():
        text = Path(pidfile).read_text().strip()
        if text.isdigit() and process_alive(int(text)):
            leaked.append(int(text))
            # Reported, then ended: it is a grandchild of this run, nobody else's.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(text), signal.SIGKILL)
    record.update(
        leaked_children=leaked,
        leaked_threads=threads_after - threads_before,
        leaked_fds=fds_after - fds_before,
    )
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
