"""``videopipe run --annotate``: the annotated video's frames, size, rate and drawings."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.e2e.helpers import videopipe
from videopipe.adapters.annotate import AnnotatedVideoWriter, draw_result, drawable_items
from videopipe.cli.annotation import Annotation
from videopipe.container import create_container
from videopipe.testing.media import make_video, read_frame_index


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def stream_facts(path: Path) -> tuple[int, int, int, Fraction]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(video=0))
        return count, stream.width, stream.height, Fraction(stream.average_rate)


@pytest.mark.parametrize(
    ("width", "height", "pix_fmt", "stride"),
    [(160, 120, "yuv420p", 1), (161, 121, "yuv444p", 3)],
    ids=["even-size", "odd-size-stride-3"],
)
def test_the_annotated_video_has_the_processed_frames_with_the_boxes_drawn(
    tmp_path: Path, width: int, height: int, pix_fmt: str, stride: int
) -> None:
    source = make_video(
        tmp_path / "source.mp4", frames=20, width=width, height=height, pix_fmt=pix_fmt
    )
    annotated = tmp_path / "annotated.mp4"
    done = videopipe(
        "run", str(source), "-p", "motion", "--stride", str(stride), "--annotate", str(annotated)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["frame_index"] for line in lines] == list(range(0, 20, stride))

    count, out_width, out_height, rate = stream_facts(annotated)
    assert (count, out_width, out_height) == (len(lines), width, height)
    assert rate == Fraction(25, stride)

    sources = decoded(source)
    frames = decoded(annotated)
    boxes = 0
    for line, frame in zip(lines, frames, strict=True):
        original = sources[line["frame_index"]]
        expected = draw_result(original, line["result"])
        # Lossy H.264 at high quality: the frame is the source with the results drawn.
        assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 4
        items = drawable_items(line["result"])
        if not line["result"]["motion"]["moving"]:
            assert items == []
            assert np.abs(frame.astype(int) - original.astype(int)).mean() < 4
            continue
        (item,) = items
        assert item["label"] == "motion"
        x1, y1, x2, y2 = item["box"]
        # The box's left and right edges, half-way down, are drawn over the source.
        middle = (y1 + y2) // 2
        for x in (x1, x2 - 1):
            drawn = frame[middle, x].astype(int)
            assert np.abs(drawn - expected[middle, x].astype(int)).max() < 60
            assert (
                np.abs(expected[middle, x].astype(int) - original[middle, x].astype(int)).max() > 60
            )
        boxes += 1
    assert boxes >= len(lines) - 2  # every frame after the first moves


def test_annotate_takes_one_video(tmp_path: Path, indexed_video: Path) -> None:
    done = videopipe(
        "run",
        str(indexed_video),
        str(indexed_video),
        "-p",
        "motion",
        "--annotate",
        str(tmp_path / "out.mp4"),
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "videopipe: error: --annotate takes one video; run each video with its own --annotate"
    ]
    assert not (tmp_path / "out.mp4").exists()


def test_an_annotated_video_that_cannot_be_written_exits_6(indexed_video: Path) -> None:
    done = videopipe(
        "run", str(indexed_video), "-p", "motion", "--annotate", "/nonexistent/dir/out.mp4"
    )
    assert done.returncode == 6
    assert done.stderr.splitlines() == [
        "videopipe: error: Unable to write annotated video '/nonexistent/dir/out.mp4': "
        "no directory '/nonexistent/dir'"
    ]
    assert done.stdout == ""


def test_frames_the_runner_did_not_see_here_are_decoded_in_step(
    tmp_path: Path, indexed_video: Path
) -> None:
    """A runner in another process (a process executor) leaves no image to tap."""
    service = create_container("test", overrides={"frame_stride": 3}).video_service()
    with AnnotatedVideoWriter(tmp_path / "out.mp4", 160, 120, Fraction(25, 3)) as writer:
        annotation = Annotation(service, str(indexed_video), writer)
        try:
            tapped = np.zeros((120, 160, 3), np.uint8)
            annotation.tap.run_pipeline(
                "demo", {"frame_index": 0, "image": tapped, "image_bytes": b""}
            )
            assert annotation.image(0) is tapped
            for index in (3, 9, 27):
                assert read_frame_index(annotation.image(index)) == index
            with pytest.raises(RuntimeError, match="frame 28 of"):
                annotation.image(28)  # not a selected frame
        finally:
            annotation.close()


def test_a_pipeline_decoded_smaller_is_annotated_at_the_source_size(tmp_path: Path) -> None:
    source = make_video(tmp_path / "source.mp4", frames=12, width=160, height=120)
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    (pipelines / "small_motion.yaml").write_text(
        "nodes:\n  motion:\n    plugin: motion\nframe: {max_side: 80}\n"
    )
    env = {"VIDEOPIPE_PIPELINE_PATH": str(pipelines)}
    annotated = tmp_path / "annotated.mp4"
    small = videopipe(
        "run", str(source), "-p", "small_motion", "--annotate", str(annotated), env=env
    )
    full = videopipe("run", str(source), "-p", "motion", env=env)
    assert small.returncode == 0, small.stderr
    assert full.returncode == 0, full.stderr
    count, out_width, out_height, _ = stream_facts(annotated)
    assert (count, out_width, out_height) == (12, 160, 120)
    small_lines = [json.loads(line) for line in small.stdout.splitlines()]
    full_lines = [json.loads(line) for line in full.stdout.splitlines()]
    moving = 0
    for mine, reference, frame in zip(small_lines, full_lines, decoded(annotated), strict=True):
        box, expected = mine["result"]["motion"]["box"], reference["result"]["motion"]["box"]
        if expected is None:
            continue
        moving += 1
        assert box == pytest.approx(expected, abs=2)  # source pixels, within the scale
        drawn = draw_result(decoded(source)[mine["frame_index"]], mine["result"])
        assert np.abs(frame.astype(int) - drawn.astype(int)).mean() < 4
    assert moving >= 5


def test_a_pipeline_on_luma_frames_is_annotated_in_colour(tmp_path: Path) -> None:
    source = make_video(tmp_path / "source.mp4", frames=8, width=160, height=120)
    annotated = tmp_path / "annotated.mp4"
    done = videopipe("run", str(source), "-p", "scenes", "--annotate", str(annotated))
    assert done.returncode == 0, done.stderr
    assert stream_facts(annotated)[:3] == (8, 160, 120)
    for frame, original in zip(decoded(annotated), decoded(source), strict=True):
        assert frame.shape == (120, 160, 3)
        assert np.abs(frame.astype(int) - original.astype(int)).mean() < 4  # nothing drawn
