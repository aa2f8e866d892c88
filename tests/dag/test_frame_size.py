"""A pipeline's ``frame:`` size: parsed, passed to the decoder, boxes back in source pixels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.dag.test_engine import moving_square_video
from tests.unit.fakes import FakeFrameSource
from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.adapters.executors import create_executor
from videopipe.adapters.plugins import PluginRegistry
from videopipe.adapters.runners.dag import DagPipelineRunner, PipelineLibrary
from videopipe.adapters.runners.dag.geometry import scale_output
from videopipe.application import VideoFilePipelineService
from videopipe.domain.errors import PipelineSpecError
from videopipe.domain.model import FrameSize
from videopipe.ports.plugins import FrameContext, HistoryEntry, Param, Plugin
from videopipe.ports.runner import FrameSizeDeclaringRunner

MOTION = (
    "nodes:\n  motion:\n    plugin: motion\n    params: {threshold: 25.0, min_fraction: 0.001}\n"
)


def _library(
    folder: Path, pipelines: Mapping[str, str], registry: PluginRegistry | None = None
) -> PipelineLibrary:
    folder.mkdir(exist_ok=True)
    for name, text in pipelines.items():
        (folder / f"{name}.yaml").write_text(text)
    return PipelineLibrary([folder], registry=registry)


class Spots(Plugin):
    """Reports fixed geometry in image pixels, and the image size it was given."""

    name = "spots"
    outputs: ClassVar[Mapping[str, str]] = {"found": "dicts", "size": "(w, h)", "box": "a box"}
    pixel_outputs = frozenset({"found", "box"})
    params: ClassVar[Mapping[str, Param]] = {"side": Param(int | None, None, "declared max side")}

    @classmethod
    def frame_size(cls, params: Mapping[str, Any]) -> FrameSize | None:
        side = params.get("side")
        return None if side is None else FrameSize(max_side=side)

    def process(
        self, inputs: Mapping[str, Any], context: FrameContext, history: Sequence[HistoryEntry] = ()
    ) -> dict[str, Any]:
        height, width = inputs["image"].shape[:2]
        found = [{"box": [1, 2, 3, 4], "points": [[1, 2], [3.5, 4.5]], "score": 0.5, "label": "x"}]
        return {"found": found, "size": [width, height], "box": [2, 2, 4, 4]}


def _spots_registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry._targets[Spots.name] = "tests.dag.test_frame_size:Spots"
    return registry


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("frame: {max_side: 320}\n", FrameSize(max_side=320)),
        ("frame: {width: 200, height: 100}\n", FrameSize(width=200, height=100)),
        ("frame: {scale: 0.5}\n", FrameSize(scale=0.5)),
        ("frame: {format: gray}\n", FrameSize(format="gray")),
        ("frame: {max_side: 320, format: gray}\n", FrameSize(max_side=320, format="gray")),
        ("frame: {format: rgb24}\n", None),
        ("", None),
    ],
)
def test_the_frame_key_is_the_size_the_runner_declares(
    tmp_path: Path, written: str, expected: FrameSize | None
) -> None:
    runner = DagPipelineRunner(_library(tmp_path / "p", {"sized": MOTION + written}))
    assert isinstance(runner, FrameSizeDeclaringRunner)
    assert runner.frame_size("sized") == expected


@pytest.mark.parametrize(
    "written",
    [
        "frame: {max_side: 1}\n",
        "frame: {scale: 1.5}\n",
        "frame: {scale: 0}\n",
        "frame: {side: 3}\n",
        "frame: {format: yuv420p}\n",
        "frame: {}\n",
    ],
)
def test_a_bad_frame_key_fails_at_load_naming_it(tmp_path: Path, written: str) -> None:
    library = _library(tmp_path / "p", {"bad": MOTION + written})
    with pytest.raises(PipelineSpecError, match="frame"):
        library.load("bad")


def test_a_size_every_image_reader_declares_is_the_pipelines(tmp_path: Path) -> None:
    registry = _spots_registry()
    node = "{plugin: spots, params: {side: 64}}"
    same = f"nodes:\n  a: {node}\n  b: {node}\n"
    differ = "nodes:\n  a: {plugin: spots, params: {side: 64}}\n  b: {plugin: spots}\n"
    library = _library(tmp_path / "p", {"same": same, "differ": differ}, registry)
    runner = DagPipelineRunner(library)
    assert runner.frame_size("same") == FrameSize(max_side=64)
    assert runner.frame_size("differ") is None


def test_declared_pixel_outputs_are_mapped_back_to_source_pixels(tmp_path: Path) -> None:
    library = _library(
        tmp_path / "p",
        {"spots": "nodes:\n  s: {plugin: spots}\nframe: {scale: 0.5}\n"},
        _spots_registry(),
    )
    service = VideoFilePipelineService(DagPipelineRunner(library), frame_source=FakeFrameSource(2))
    results = service.run_on_file("spots", "video.mp4")
    # the fake video is 8x6, decoded at (4, 4): 4x3 with both sides rounded to even
    assert result_size(results) == [4, 4]
    result = results[0]["result"]["s"]
    width, height = result["size"]
    sx, sy = 8 / width, 6 / height
    assert result["box"] == [round(2 * sx), round(2 * sy), round(4 * sx), round(4 * sy)]
    found = result["found"][0]
    assert found["box"] == [round(1 * sx), round(2 * sy), round(3 * sx), round(4 * sy)]
    assert found["points"] == [[round(1 * sx), round(2 * sy)], [3.5 * sx, 4.5 * sy]]
    assert (found["score"], found["label"]) == (0.5, "x")


def result_size(results: list[dict[str, Any]]) -> list[int]:
    size: list[int] = results[0]["result"]["s"]["size"]
    return size


def test_scale_output_keeps_what_is_not_geometry() -> None:
    value = [{"box": [10, 20, 30, 40], "text": "7", "id": 3}, {"corners": [[1.0, 2.0]]}]
    assert scale_output(value, 2.0, 3.0) == [
        {"box": [20, 60, 60, 120], "text": "7", "id": 3},
        {"corners": [[2.0, 6.0]]},
    ]
    assert scale_output(None, 2.0, 2.0) is None
    assert scale_output([], 2.0, 2.0) == []


def test_a_pipeline_without_a_frame_key_opens_the_decoder_as_before(tmp_path: Path) -> None:
    source = FakeFrameSource(3)
    service = VideoFilePipelineService(
        DagPipelineRunner(_library(tmp_path / "p", {"plain": MOTION})), frame_source=source
    )
    service.run_on_file("plain", "video.mp4")
    assert source.sizes == [None]


@pytest.mark.parametrize("decoder", available_decoders())
def test_motion_at_a_quarter_of_the_pixels_finds_the_full_size_boxes(
    tmp_path: Path, decoder: str
) -> None:
    video, _ = moving_square_video(tmp_path / "square.mp4")
    library = _library(
        tmp_path / "p", {"full": MOTION, "small": MOTION + "frame: {max_side: 80}\n"}
    )
    service = VideoFilePipelineService(
        DagPipelineRunner(library), frame_source=create_frame_source(decoder)
    )
    full = [item["result"]["motion"] for item in service.run_on_file("full", video)]
    small = [item["result"]["motion"] for item in service.run_on_file("small", video)]
    assert [item["moving"] for item in small] == [item["moving"] for item in full]
    for index, (big, little) in enumerate(zip(full, small, strict=True)):
        if big["box"] is None:
            assert little["box"] is None, index
            continue
        # 160x120 decoded at 80x60: within the scale (2 px), one scaled pixel of blur
        assert little["box"] == pytest.approx(big["box"], abs=2), index


@pytest.mark.parametrize("executor", ["threads", "segments", "prefetch"])
def test_executors_give_the_sequential_results_at_a_size(tmp_path: Path, executor: str) -> None:
    video, _ = moving_square_video(tmp_path / "square.mp4", frames=30, still_from=24)
    library = _library(tmp_path / "p", {"small": MOTION + "frame: {max_side: 80}\n"})
    reference = VideoFilePipelineService(
        DagPipelineRunner(library), frame_source=create_frame_source("pyav")
    ).run_on_file("small", video)
    options: dict[str, dict[str, Any]] = {
        "threads": {"workers": 2, "chunk_frames": 4},
        "segments": {"workers": 2, "min_segment_frames": 4},
        "prefetch": {},
    }
    service = VideoFilePipelineService(
        DagPipelineRunner(library),
        frame_source=create_frame_source("pyav"),
        executor=create_executor(executor, **options[executor]),
    )
    assert service.run_on_file("small", video) == reference
    assert any(item["result"]["motion"]["box"] for item in reference)


SCENES = (
    "nodes:\n  signature: {plugin: shot_signature}\n"
    "  evidence: {plugin: shot_evidence, inputs: {signature: signature.signature}}\n"
)


@pytest.mark.parametrize(
    ("extra", "written", "expected"),
    [
        ("", "", FrameSize(format="gray")),
        ("", "frame: {max_side: 320}\n", FrameSize(max_side=320, format="gray")),
        ("", "frame: {format: rgb24}\n", None),
        ("  motion: {plugin: motion}\n", "", None),
        ("  motion: {plugin: motion}\n", "frame: {max_side: 320}\n", FrameSize(max_side=320)),
    ],
)
def test_gray_frames_only_when_every_image_reader_asks_for_them(
    tmp_path: Path, extra: str, written: str, expected: FrameSize | None
) -> None:
    runner = DagPipelineRunner(_library(tmp_path / "p", {"shots": SCENES + extra + written}))
    assert runner.frame_size("shots") == expected


def test_the_shipped_scenes_pipeline_works_on_luma() -> None:
    assert DagPipelineRunner().frame_size("scenes") == FrameSize(format="gray")
