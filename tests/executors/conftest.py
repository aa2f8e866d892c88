"""Media and helpers shared by the executor tests: videos in every container the issue names.

Each video is made once per test session, when a test first asks for it. Every video
has ``FRAMES`` frames of a square moving over a background (so motion and scene scores
change from frame to frame) at 160x120; ``vfr`` has irregular timestamps.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.procs import descendants
from videopipe.adapters.decoders import available_decoders
from videopipe.testing.media import make_video

FRAMES = 41
"""Frames per equivalence video: not a multiple of any chunk size, so a chunk is short."""

MEDIA: dict[str, dict[str, Any]] = {
    "mp4": {"name": "square.mp4", "codec": "libx264", "gop": 12},
    "mkv": {"name": "square.mkv", "codec": "libx264", "gop": 12},
    "mpegts": {"name": "square.ts", "codec": "libx264", "gop": 12},
    "vfr": {"name": "square_vfr.mp4", "codec": "libx264", "vfr": True},
}
"""Equivalence videos by id: H.264 in MP4, Matroska and MPEG-TS, and a VFR MP4."""

DECODERS: list[str] = available_decoders()
"""Every decoder installed here: equivalence runs on each of them."""


@pytest.fixture(scope="session")
def executor_media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's directory for executor test videos."""
    return tmp_path_factory.mktemp("executor-media")


@pytest.fixture(scope="session")
def executor_video(executor_media_dir: Path) -> Callable[[str], Path]:
    """``executor_video(kind)``: the session's video of that kind (see :data:`MEDIA`)."""
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            options = dict(MEDIA[kind])
            name = options.pop("name")
            made[kind] = make_video(
                executor_media_dir / name,
                frames=FRAMES,
                width=160,
                height=120,
                content="moving_square",
                **options,
            )
        return made[kind]

    return get


@dataclass(frozen=True)
class Resources:
    """What this process holds: threads, child processes, open file descriptors."""

    threads: frozenset[int]
    children: frozenset[int]
    fds: int

    @classmethod
    def now(cls) -> Resources:
        """A snapshot of the current process."""
        return cls(
            frozenset(thread.ident or 0 for thread in threading.enumerate()),
            frozenset(descendants(os.getpid())),
            len(os.listdir("/proc/self/fd")),
        )

    def leaked_since(self, before: Resources) -> list[str]:
        """What is held now that was not before (threads by name)."""
        leaks = [
            f"thread {thread.name}"
            for thread in threading.enumerate()
            if (thread.ident or 0) not in before.threads
        ]
        leaks += [f"process {pid}" for pid in self.children - before.children]
        if self.fds > before.fds:
            leaks.append(f"{self.fds - before.fds} file descriptor(s)")
        return leaks


@pytest.fixture
def no_leaks() -> Callable[[], None]:
    """``check()`` asserts nothing is held that was not held when the test started."""
    before = Resources.now()

    def check() -> None:
        leaks = Resources.now().leaked_since(before)
        assert not leaks, f"left behind: {', '.join(leaks)}"

    return check
