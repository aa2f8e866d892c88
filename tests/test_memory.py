"""Memory stays flat however long the video is: frames are streamed, never collected."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from videopipe import VideoFilePipelineService
from videopipe.adapters.decoders import create_frame_source
from videopipe.testing import MockDagPipelineService, make_video

WIDTH, HEIGHT = 640, 480
FRAME_BYTES = WIDTH * HEIGHT * 3


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("long")
    return make_video(
        folder / "long.mp4", frames=300, width=WIDTH, height=HEIGHT, content="testsrc"
    )


@pytest.mark.parametrize("decoder", ["imageio_ffmpeg", "opencv", "pyav"])
def test_a_300_frame_run_holds_only_a_few_frames_at_a_time(long_video: Path, decoder: str) -> None:
    runner = MockDagPipelineService()
    service = VideoFilePipelineService(runner, frame_source=create_frame_source(decoder))
    tracemalloc.start()
    try:
        count = sum(1 for _ in service.iter_results("demo", long_video))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 300
    assert len(runner.calls) == 300
    # 300 frames would be 276 MB; a streaming run peaks at a handful of frames.
    assert peak < 6 * FRAME_BYTES, f"peak {peak / 1e6:.1f} MB for {FRAME_BYTES / 1e6:.1f} MB frames"
