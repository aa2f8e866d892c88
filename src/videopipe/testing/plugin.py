"""pytest fixtures for testing code built on videopipe (registered via ``pytest11``).

- ``videopipe_container``: a container in the ``test`` environment; override its
  ``runner`` or ``frame_source`` providers to swap adapters.
- ``mock_runner``: a fresh :class:`MockDagPipelineService`.
- ``make_test_video``: ``make_test_video(name="clip.mp4", **make_video_options)``
  writes a video with known frame truth into the test's ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from videopipe.adapters.runners.mock import MockDagPipelineService
from videopipe.container import Container, create_container
from videopipe.testing.media import make_video


@pytest.fixture
def videopipe_container() -> Iterator[Container]:
    """A container configured for the ``test`` environment; overrides are reset after."""
    container = create_container("test")
    yield container
    container.unwire()
    container.reset_override()


@pytest.fixture
def mock_runner() -> MockDagPipelineService:
    """A fresh deterministic mock runner (records pixel-free call summaries)."""
    return MockDagPipelineService()


@pytest.fixture
def make_test_video(tmp_path: Path) -> Callable[..., Path]:
    """A factory writing videos with known frame truth into ``tmp_path``."""

    def make(name: str = "clip.mp4", **options: Any) -> Path:
        return make_video(tmp_path / name, **options)

    return make
