"""Every decoder hands out luma (``FrameSize(format="gray")``) with the RGB read's frames.

The reference is FFmpeg's own ``gray`` conversion: the bundled ffmpeg piping
``-pix_fmt gray`` (full-range luma). A gray frame brought to full range by its
``luma_range`` must equal it within rounding: pyav hands out the stream's Y plane
(limited range, unconverted; measured equal to FFmpeg's after the range expansion, on
both videos), imageio_ffmpeg is that very conversion (equal). OpenCV cannot hand out
luma without its BGR conversion: its gray is the luma of the clipped, chroma-upsampled
BGR frame, measured a mean of 0.7 (testsrc) and 1.2 (vtest.avi) levels from FFmpeg's,
at most 29 on saturated colour edges.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.domain.model import Frame, FrameSelection, FrameSize
from videopipe.testing.media import make_video

DECODERS = available_decoders()
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
WORST = {"pyav": (0.01, 1), "imageio_ffmpeg": (0.0, 0), "opencv": (1.5, 32)}
"""The mean and largest difference from FFmpeg's gray, in levels (0..255), per decoder."""


@functools.cache
def _video(name: str, directory: Path) -> Path:
    if name == "vtest.avi":
        return VTEST
    options = {
        "testsrc.mp4": {},
        "rot90.mp4": {"rotation": 90},
        "yuvj420p.mp4": {"pix_fmt": "yuvj420p"},
        "yuv420p10.mp4": {"pix_fmt": "yuv420p10le"},
    }[name]
    return make_video(
        directory / name, frames=12, width=640, height=360, content="testsrc", **options
    )


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gray-format")


def _read(decoder: str, path: Path, size: FrameSize | None, count: int) -> list[Frame]:
    source = create_frame_source(decoder)
    with source.open(str(path), size=size) if size else source.open(str(path)) as reader:
        return list(reader.frames(FrameSelection(0, count, 1)))


def _ffmpeg_gray(path: Path, count: int, width: int, height: int) -> np.ndarray:
    command = [bundled_ffmpeg(), "-v", "error", "-i", str(path), "-frames:v", str(count)]
    command += ["-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"]
    raw = subprocess.run(command, check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(count, height, width)


def full_range(frame: Frame) -> np.ndarray:
    """A gray frame's luma on 0..255, as FFmpeg's gray conversion rounds it."""
    black, white = frame.luma_range
    levels = (frame.image.astype(np.float64) - black) * 255.0 / (white - black)
    return np.clip(np.round(levels), 0, 255)


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(
    "video", ["testsrc.mp4", "vtest.avi", "rot90.mp4", "yuvj420p.mp4", "yuv420p10.mp4"]
)
def test_gray_frames_have_the_rgb_reads_indices_and_ffmpegs_gray_levels(
    decoder: str, video: str, media_dir: Path
) -> None:
    path = _video(video, media_dir)
    rgb = _read(decoder, path, None, 12)
    gray = _read(decoder, path, FrameSize(format="gray"), 12)
    assert [(f.index, f.timestamp) for f in gray] == [(f.index, f.timestamp) for f in rgb]
    height, width = rgb[0].image.shape[:2]
    reference = _ffmpeg_gray(path, 12, width, height)
    for frame in gray:
        assert frame.format == "gray"
        assert frame.image.shape == (height, width)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        assert frame.source_size is None
    difference = np.abs(np.stack([full_range(frame) for frame in gray]) - reference)
    mean, worst = WORST[decoder]
    assert difference.mean() <= mean, (decoder, video, difference.mean())
    assert difference.max() <= worst, (decoder, video, difference.max())
    assert all(frame.format == "rgb24" for frame in rgb)


def test_pyav_hands_out_the_limited_range_y_plane_unconverted(media_dir: Path) -> None:
    path = _video("testsrc.mp4", media_dir)
    frames = _read("pyav", path, FrameSize(format="gray"), 3)
    assert {frame.luma_range for frame in frames} == {(16, 235)}
    with av.open(str(path)) as container:
        planes = [frame.to_ndarray()[:360] for frame in container.decode(video=0)][:3]
    for frame, plane in zip(frames, planes, strict=True):
        np.testing.assert_array_equal(frame.image, plane)


@pytest.mark.parametrize("decoder", DECODERS)
def test_gray_and_a_size_together_scale_the_luma(decoder: str, media_dir: Path) -> None:
    path = _video("testsrc.mp4", media_dir)
    small = _read(decoder, path, FrameSize(max_side=320, format="gray"), 4)
    scaled_rgb = _read(decoder, path, FrameSize(max_side=320), 4)
    assert [(f.index, f.timestamp) for f in small] == [(f.index, f.timestamp) for f in scaled_rgb]
    for frame, colour in zip(small, scaled_rgb, strict=True):
        assert frame.image.shape == (180, 320)
        assert frame.source_size == (640, 360)
        assert frame.scale == (2.0, 2.0)
        luma = colour.image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        assert np.abs(full_range(frame) - luma).mean() < 4.0, decoder


@pytest.mark.parametrize(
    ("video", "luma_range"),
    [("rot90.mp4", (16, 235)), ("yuvj420p.mp4", (0, 255)), ("yuv420p10.mp4", (0, 255))],
)
def test_pyav_says_the_range_of_what_it_hands_out(
    video: str, luma_range: tuple[int, int], media_dir: Path
) -> None:
    """Full-range video's Y plane as it is; a 10-bit one through FFmpeg's gray."""
    frames = _read("pyav", _video(video, media_dir), FrameSize(format="gray"), 2)
    assert {frame.luma_range for frame in frames} == {luma_range}
    if video == "rot90.mp4":
        assert frames[0].image.shape == (640, 360)
