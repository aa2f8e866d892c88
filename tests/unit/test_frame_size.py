"""FrameSize's arithmetic, and what the service does with a size the runner declares."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.fakes import FakeFrameSource
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import FrameSize


@pytest.mark.parametrize(
    ("size", "source", "expected"),
    [
        (FrameSize(max_side=320), (1920, 1080), (320, 180)),
        (FrameSize(max_side=320), (1080, 1920), (180, 320)),
        (FrameSize(max_side=320), (1280, 720), (320, 180)),
        (FrameSize(scale=0.5), (1280, 720), (640, 360)),
        (FrameSize(scale=0.25), (1920, 1080), (480, 270)),
        (FrameSize(max_side=300), (640, 360), (300, 168)),  # 168.75 -> even
        (FrameSize(width=200, height=200), (640, 360), (200, 112)),  # the box's width binds
        (FrameSize(height=90, scale=0.5), (640, 360), (160, 90)),  # the smaller factor wins
        (FrameSize(max_side=4000), (1920, 1080), (1920, 1080)),  # never enlarged
        (FrameSize(scale=1.0), (321, 241), (321, 241)),  # odd sides stay when unscaled
        (FrameSize(max_side=2), (640, 360), (2, 2)),  # at least 2 px a side
        (FrameSize(max_side=303), (640, 480), (302, 226)),  # 304 x 228 would break the bound
        (FrameSize(width=99), (1000, 1000), (98, 98)),  # not 98 x 100
    ],
)
def test_output_size_keeps_the_aspect_with_even_sides_and_never_enlarges(
    size: FrameSize, source: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert size.output_size(*source) == expected


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"max_side": 1},
        {"width": 0},
        {"scale": 0.0},
        {"scale": 1.5},
        {"height": True},
        {"format": "rgb24"},
        {"format": "bgr24"},
        {"max_side": 64, "format": "yuv"},
    ],
)
def test_a_size_that_bounds_nothing_or_nonsense_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="frame"):
        FrameSize(**options)


class SizedRunner:
    """Declares ``size`` for every pipeline and records each payload."""

    def __init__(self, size: Any) -> None:
        self.size = size
        self.payloads: list[dict[str, Any]] = []

    def frame_size(self, pipeline_id: str) -> Any:
        return self.size

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.payloads.append(payload)
        return {"ok": True}


def test_the_declared_size_reaches_the_decoder_and_the_payload_says_the_scale() -> None:
    source = FakeFrameSource(4)
    runner = SizedRunner(FrameSize(scale=0.5))
    results = VideoFilePipelineService(runner, frame_source=source).run_on_file("p", "v.mp4")
    assert [item["frame_index"] for item in results] == [0, 1, 2, 3]
    assert source.sizes == [FrameSize(scale=0.5)]
    payload = runner.payloads[0]
    assert payload["image"].shape == (4, 4, 3)  # 8x6 at half: 4x3, sides rounded to even
    assert (payload["width"], payload["height"]) == (4, 4)
    assert (payload["source_width"], payload["source_height"]) == (8, 6)
    assert payload["scale"] == (2.0, 1.5)
    assert len(payload["image_bytes"]) == 4 * 4 * 3


def test_without_a_declared_size_the_payload_is_at_source_size() -> None:
    source = FakeFrameSource(2)
    runner = SizedRunner(None)
    VideoFilePipelineService(runner, frame_source=source).run_on_file("p", "v.mp4")
    assert source.sizes == [None]
    payload = runner.payloads[0]
    assert payload["image"].shape == (6, 8, 3)
    assert (payload["source_width"], payload["source_height"], payload["scale"]) == (
        8,
        6,
        (1.0, 1.0),
    )


def test_a_runner_declaring_something_else_than_a_size_is_a_configuration_error() -> None:
    service = VideoFilePipelineService(
        SizedRunner({"max_side": 3}), frame_source=FakeFrameSource(2)
    )
    with pytest.raises(ConfigurationError, match="frame_size"):
        service.run_on_file("p", "v.mp4")


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(2, 8000),
    height=st.integers(2, 8000),
    max_side=st.none() | st.integers(2, 4000),
    scale=st.none() | st.floats(0.01, 1.0),
)
def test_output_size_never_enlarges_keeps_even_sides_and_the_aspect(
    width: int, height: int, max_side: int | None, scale: float | None
) -> None:
    if max_side is None and scale is None:
        return
    out_width, out_height = FrameSize(max_side=max_side, scale=scale).output_size(width, height)
    assert out_width <= width
    assert out_height <= height
    if (out_width, out_height) == (width, height):
        return
    assert out_width % 2 == 0
    assert out_height % 2 == 0
    if max_side is not None:
        assert max(out_width, out_height) <= max(max_side, 2)
    # each side is its exact scaled length rounded to an even number (or 2)
    factor = min(
        1.0 if scale is None else scale,
        1.0 if max_side is None else max_side / max(width, height),
    )
    assert abs(out_width - width * factor) < 2 or out_width == 2
    assert abs(out_height - height * factor) < 2 or out_height == 2


class UnsureRunner(SizedRunner):
    """Cannot say its size (as a DAG runner asked about an unknown pipeline)."""

    def frame_size(self, pipeline_id: str) -> Any:
        raise LookupError(pipeline_id)

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        raise LookupError(pipeline_id)


def test_a_runner_failing_to_say_its_size_fails_frame_by_frame_as_before() -> None:
    source = FakeFrameSource(3)
    service = VideoFilePipelineService(UnsureRunner(None), frame_source=source, on_error="skip")
    results = service.run_on_file("unknown", "v.mp4")
    assert [item["error"]["type"] for item in results] == ["LookupError"] * 3
    assert source.sizes == [None]


def test_a_gray_format_alone_keeps_the_videos_size() -> None:
    size = FrameSize(format="gray")
    assert size.output_size(640, 360) == (640, 360)
    assert FrameSize(max_side=320, format="gray").output_size(640, 360) == (320, 180)


def test_a_payload_says_its_format_and_luma_range() -> None:
    runner = SizedRunner(None)
    VideoFilePipelineService(runner, frame_source=FakeFrameSource(1)).run_on_file("p", "v.mp4")
    assert (runner.payloads[0]["format"], runner.payloads[0]["luma_range"]) == ("rgb24", (0, 255))
