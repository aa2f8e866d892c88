"""Fixtures shared by the test suite: small videos whose truth is known."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from videopipe.testing.media import make_video


def write_mp4v(path: Path, frame_count: int, width: int = 320, height: int = 240) -> Path:
    """The seed's way of making a video: OpenCV's mp4v writer, black frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (width, height))
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    for _ in range(frame_count):
        writer.write(frame)
    writer.release()
    return path


def write_h264(path: Path, frame_count: int, width: int = 320, height: int = 240) -> Path:
    """An H.264 MP4 made with the bundled ffmpeg; frame i carries index i."""
    return make_video(path, frames=frame_count, width=width, height=height)


VIDEO_MAKERS: dict[str, Callable[[Path, int], Path]] = {"mp4v": write_mp4v, "h264": write_h264}


@pytest.fixture(params=sorted(VIDEO_MAKERS))
def make_mp4(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Path]:
    """Make ``name`` with ``frame_count`` frames, once with cv2's mp4v and once with H.264."""
    maker = VIDEO_MAKERS[request.param]

    def make(name: str, frame_count: int) -> Path:
        return maker(tmp_path / name, frame_count)

    return make


@pytest.fixture(scope="session")
def indexed_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30-frame 160x120 H.264 MP4 whose frame i carries index i."""
    return make_video(
        tmp_path_factory.mktemp("media") / "indexed.mp4", frames=30, width=160, height=120
    )
