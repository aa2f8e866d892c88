"""pytest fixtures for testing code built on videopipe (registered via ``pytest11``).

Installed with the package: any pytest run in an environment with videopipe has them.

Media (written into the test's ``tmp_path``):

- ``make_synthetic_video(name="clip.mp4", **options)``: a video with known content
  (``content=`` ``"index"``, ``"solid"``, ``"moving_square"``, ``"qr"``, ``"text"``,
  ``"testsrc"``; size, frame count, fps, codec, ...) returned as a
  :class:`~videopipe.testing.media.SyntheticVideo`: its path and every frame's truth.
  ``content="qr"`` needs the ``testing`` extra (segno).
- ``make_test_video(name="clip.mp4", **options)``: the same, returning only the path.
- ``make_corrupt_video(kind, name=None, **options)``: a corrupt input, ``kind`` one of
  ``"corrupted"`` (the seed's), ``"header_only"``, ``"truncated_header"``,
  ``"truncated"`` (a real video cut at ``fraction=0.5``), ``"random"`` (``size``,
  ``seed``); see :func:`~videopipe.testing.media.write_corrupt_file`.

Wiring and doubles:

- ``videopipe_container``: a container in the ``test`` environment; override its
  ``runner`` or ``frame_source`` providers to swap adapters (reset after the test).
- ``mock_runner``: a fresh :class:`~videopipe.testing.MockDagPipelineService`.
- ``make_mock_runner(fail_mode=None, keep_images=False)``,
  ``make_latency_runner(latency_seconds=0.0, keep_images=False)``,
  ``make_mutation_runner(mutator=None, *, fields=None, keep_images=False)``,
  ``make_failure_runner(**options)``: factories of the seed's doubles and of
  :class:`~videopipe.testing.FailureInjectingRunner`, taking their options.

videopipe itself is imported when a fixture is first used, not when pytest loads the
plugin, so test runs that use none of these fixtures do not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from videopipe.adapters.runners.failure import FailureInjectingRunner
    from videopipe.adapters.runners.mock import (
        FailMode,
        MockDagPipelineService,
        MockDagPipelineServiceWithLatency,
        MockDagPipelineServiceWithMutation,
        Mutator,
    )
    from videopipe.container import Container
    from videopipe.testing.media import SyntheticVideo


@pytest.fixture
def videopipe_container() -> Iterator[Container]:
    """A container configured for the ``test`` environment; overrides are reset after."""
    from videopipe.container import create_container  # noqa: PLC0415 - see module doc

    container = create_container("test")
    yield container
    container.unwire()
    container.reset_override()


@pytest.fixture
def mock_runner() -> MockDagPipelineService:
    """A fresh deterministic mock runner (records pixel-free call summaries)."""
    from videopipe.adapters.runners.mock import MockDagPipelineService  # noqa: PLC0415

    return MockDagPipelineService()


@pytest.fixture
def make_synthetic_video(tmp_path: Path) -> Callable[..., SyntheticVideo]:
    """A factory writing videos with known per-frame truth into ``tmp_path``.

    ``make_synthetic_video(name="clip.mp4", **options)`` takes
    :func:`~videopipe.testing.media.make_synthetic_video`'s options.
    """
    from videopipe.testing.media import make_synthetic_video as make  # noqa: PLC0415

    def factory(name: str = "clip.mp4", **options: Any) -> SyntheticVideo:
        return make(tmp_path / name, **options)

    return factory


@pytest.fixture
def make_test_video(tmp_path: Path) -> Callable[..., Path]:
    """A factory writing videos with known frame truth into ``tmp_path``; returns paths.

    ``make_test_video(name="clip.mp4", **options)`` takes
    :func:`~videopipe.testing.media.make_video`'s options.
    """
    from videopipe.testing.media import make_video  # noqa: PLC0415

    def factory(name: str = "clip.mp4", **options: Any) -> Path:
        return make_video(tmp_path / name, **options)

    return factory


@pytest.fixture
def make_corrupt_video(tmp_path: Path) -> Callable[..., Path]:
    """A factory writing corrupt inputs into ``tmp_path``.

    ``make_corrupt_video(kind, name=None, **options)``: ``kind`` as in
    :func:`~videopipe.testing.media.write_corrupt_file`; ``name`` defaults to
    ``<kind>.mp4``.
    """
    from videopipe.testing.media import write_corrupt_file  # noqa: PLC0415

    def factory(kind: str, name: str | None = None, **options: Any) -> Path:
        return write_corrupt_file(kind, tmp_path / (name or f"{kind}.mp4"), **options)

    return factory


@pytest.fixture
def make_mock_runner() -> Callable[..., MockDagPipelineService]:
    """``make_mock_runner(fail_mode=None, keep_images=False)``: the seed's mock runner."""
    from videopipe.adapters.runners.mock import MockDagPipelineService  # noqa: PLC0415

    def factory(
        fail_mode: FailMode | None = None, *, keep_images: bool = False
    ) -> MockDagPipelineService:
        return MockDagPipelineService(fail_mode=fail_mode, keep_images=keep_images)

    return factory


@pytest.fixture
def make_latency_runner() -> Callable[..., MockDagPipelineServiceWithLatency]:
    """``make_latency_runner(latency_seconds=0.0, keep_images=False)``: a slow mock."""
    from videopipe.adapters.runners.mock import (  # noqa: PLC0415
        MockDagPipelineServiceWithLatency,
    )

    def factory(
        latency_seconds: float = 0.0, *, keep_images: bool = False
    ) -> MockDagPipelineServiceWithLatency:
        return MockDagPipelineServiceWithLatency(
            latency_seconds=latency_seconds, keep_images=keep_images
        )

    return factory


@pytest.fixture
def make_mutation_runner() -> Callable[..., MockDagPipelineServiceWithMutation]:
    """``make_mutation_runner(mutator=None, *, fields=None, keep_images=False)``.

    The mock whose output goes through ``mutator``; ``fields`` instead merges those
    keys into every output (:func:`~videopipe.testing.add_fields`). Exactly one of the
    two is given.
    """
    from videopipe.adapters.runners.mock import (  # noqa: PLC0415
        MockDagPipelineServiceWithMutation,
        add_fields,
    )

    def factory(
        mutator: Mutator | None = None,
        *,
        fields: dict[str, Any] | None = None,
        keep_images: bool = False,
    ) -> MockDagPipelineServiceWithMutation:
        if (mutator is None) == (fields is None):
            raise TypeError("give make_mutation_runner either a mutator or fields=, not both")
        chosen = mutator if mutator is not None else add_fields(fields or {})
        return MockDagPipelineServiceWithMutation(chosen, keep_images=keep_images)

    return factory


@pytest.fixture
def make_failure_runner() -> Callable[..., FailureInjectingRunner]:
    """``make_failure_runner(**options)``: a :class:`FailureInjectingRunner`.

    Options: ``fail_at``, ``every``, ``probability``, ``seed``, ``fail_times``,
    ``exception``, ``message``, ``action`` (``"raise"`` | ``"hang"``),
    ``hang_seconds``, ``keep_images``.
    """
    from videopipe.adapters.runners.failure import FailureInjectingRunner  # noqa: PLC0415

    def factory(**options: Any) -> FailureInjectingRunner:
        return FailureInjectingRunner(**options)

    return factory
