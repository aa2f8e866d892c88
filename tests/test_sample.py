"""The shipped sample video (examples/sample.mp4) is what scripts/make_sample.py draws.

Checked through the decoder against the script's own images and truth, and through the
shipped ``motion`` and ``qr_codes`` pipelines (what the README's first command shows).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from videopipe.adapters.decoders import create_frame_source
from videopipe.container import create_container

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "examples" / "sample.mp4"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "scripts/make_sample.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_sample"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["make_sample"]
    return module


def run(pipeline_id: str) -> list[dict[str, Any]]:
    container = create_container("test", overrides={"runner": "dag"})
    return container.video_service().run_on_file(pipeline_id, SAMPLE)


def test_the_sample_is_small_and_holds_the_script_s_frames(script: ModuleType) -> None:
    assert SAMPLE.stat().st_size < 1_000_000
    with create_frame_source("imageio_ffmpeg").open(str(SAMPLE)) as reader:
        assert (reader.info.width, reader.info.height) == (320, 240)
        count = 0
        for frame, drawn in zip(reader.frames(), script.images(), strict=True):
            assert frame.index == count
            assert frame.timestamp == round(count / 25, 6)
            error = np.abs(frame.image.astype(np.int16) - drawn.astype(np.int16)).mean()
            assert error < 3.0, (frame.index, error)
            count += 1
    assert count == script.FRAMES == 100


def test_qr_codes_are_read_where_they_were_drawn(script: ModuleType) -> None:
    pytest.importorskip("zxingcpp", reason="the qr extra (zxing-cpp) is not installed")
    results = run("qr_codes")
    truth = script.truth()
    assert [item["frame_index"] for item in results] == list(range(100))
    read = [[code["text"] for code in item["result"]["codes"]["codes"]] for item in results]
    assert read == [[frame.qr] if frame.qr else [] for frame in truth]
    assert {frame.qr for frame in truth} == {
        "videopipe-sample-0",
        "videopipe-sample-1",
        "videopipe-sample-2",
        None,
    }


def test_motion_follows_the_square(script: ModuleType) -> None:
    """Frame i's box is the square's at i - 1 and i together (the pixels that changed).

    For 3 frames after the code appears or changes, H.264 still refines the code's
    pixels: the box then also covers part of the code.
    """
    results = run("motion")
    truth = script.truth()
    assert results[0]["result"]["motion"] == {"score": 0.0, "moving": False, "box": None}
    for item in results[1:]:
        index = item["frame_index"]
        motion = item["result"]["motion"]
        assert motion["moving"], index
        before, now = truth[index - 1].square, truth[index].square
        union = [min(before[0], now[0]), min(before[1], now[1])]
        union += [max(before[2], now[2]), max(before[3], now[3])]
        settled = index > 3 and len({frame.qr for frame in truth[index - 4 : index + 1]}) == 1
        if settled:
            assert max(abs(a - b) for a, b in zip(motion["box"], union, strict=True)) <= 2, index
        else:
            x1, y1, x2, y2 = motion["box"]
            assert x1 <= union[0] + 1, index
            assert y1 <= union[1] + 1, index
            assert x2 >= union[2] - 1, index
            assert y2 >= union[3] - 1, index
