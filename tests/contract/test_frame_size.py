"""Every decoder scales frames down to a requested size in its own colour conversion.

Tolerances (measured on these videos, 0..255 per channel): against a reference made by
``cv2.resize(INTER_AREA)`` of the decoder's own full-size frame, swscale's bilinear
scaler (pyav, imageio_ffmpeg: scaled in the stream's YUV, then converted to RGB) differs
by a mean of 3.8 to 6.2 on ``testsrc2`` (sharp colour edges, the worst case) and 3.9 to
11.0 on the same pattern rotated by 90 degrees; OpenCV's own ``INTER_AREA`` equals the
reference exactly. pyav and imageio_ffmpeg give identical pixels on a video without
colour tags (OpenCV's ``vtest.avi``) and differ by a mean of 0.8 to 2.2 on H.264 from
libx264, 0.9 to 3.9 rotated (ffmpeg's ``scale`` filter places the chroma samples where
the stream says, PyAV's swscale context does not).
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pytest

from videopipe.adapters.decoders import available_decoders, create_frame_source
from videopipe.domain.model import Frame, FrameSelection, FrameSize
from videopipe.testing.media import make_video

DECODERS = available_decoders()
SIZES = {
    "half": FrameSize(scale=0.5),
    "quarter": FrameSize(scale=0.25),
    "max_side_200": FrameSize(max_side=200),
}
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@functools.cache
def _video(name: str, directory: Path) -> Path:
    if name == "testsrc.mp4":
        return make_video(directory / name, frames=12, width=640, height=360, content="testsrc")
    return make_video(
        directory / name, frames=12, width=320, height=240, content="testsrc", rotation=90
    )


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frame-size")


def _read(
    decoder: str, path: Path, size: FrameSize | None, selection: FrameSelection
) -> list[Frame]:
    source = create_frame_source(decoder)
    with source.open(str(path), size=size) if size else source.open(str(path)) as reader:
        return list(reader.frames(selection))


def _mean_difference(first: list[Frame], second: list[np.ndarray]) -> float:
    got = np.stack([frame.image for frame in first]).astype(np.int16)
    return float(np.abs(got - np.stack(second).astype(np.int16)).mean())


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("size_name", sorted(SIZES))
@pytest.mark.parametrize(("video", "tolerance"), [("testsrc.mp4", 8.0), ("rot90.mp4", 13.0)])
def test_every_decoder_gives_the_requested_size_close_to_a_resize_of_the_full_frame(
    decoder: str, size_name: str, video: str, tolerance: float, media_dir: Path
) -> None:
    path = _video(video, media_dir)
    size = SIZES[size_name]
    selection = FrameSelection(0, 12, 1)
    full = _read(decoder, path, None, selection)
    small = _read(decoder, path, size, selection)
    source_height, source_width = full[0].image.shape[:2]
    width, height = size.output_size(source_width, source_height)
    assert [(f.index, f.timestamp) for f in small] == [(f.index, f.timestamp) for f in full]
    for frame in small:
        assert frame.image.shape == (height, width, 3)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        assert frame.source_size == (source_width, source_height)
        assert frame.scale == (source_width / width, source_height / height)
    reference = [
        cv2.resize(frame.image, (width, height), interpolation=cv2.INTER_AREA) for frame in full
    ]
    difference = _mean_difference(small, reference)
    if decoder == "opencv":
        assert difference == 0.0  # its own INTER_AREA is the reference
    else:
        assert difference < tolerance


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_strided_read_at_a_size_gives_the_frames_of_a_full_read(
    decoder: str, media_dir: Path
) -> None:
    path = _video("testsrc.mp4", media_dir)
    selection = FrameSelection(1, 12, 4)  # the indexed fast path on pyav
    full = _read(decoder, path, FrameSize(max_side=320), FrameSelection(0, 12, 1))
    strided = _read(decoder, path, FrameSize(max_side=320), selection)
    assert [f.index for f in strided] == [1, 5, 9]
    for frame in strided:
        np.testing.assert_array_equal(frame.image, full[frame.index].image)
        assert frame.timestamp == full[frame.index].timestamp


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_size_the_video_already_fits_changes_nothing(decoder: str, media_dir: Path) -> None:
    path = _video("testsrc.mp4", media_dir)
    selection = FrameSelection(0, 6, 1)
    plain = _read(decoder, path, None, selection)
    fitting = _read(decoder, path, FrameSize(max_side=640, scale=1.0), selection)
    assert all(frame.source_size is None and frame.scale == (1.0, 1.0) for frame in fitting)
    for first, second in zip(plain, fitting, strict=True):
        assert (first.index, first.timestamp) == (second.index, second.timestamp)
        np.testing.assert_array_equal(first.image, second.image)


def test_pyav_and_the_ffmpeg_pipe_scale_to_the_same_pixels(media_dir: Path) -> None:
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: install Debian's opencv-doc")
    selection = FrameSelection(0, 20, 3)
    for size in SIZES.values():
        pyav = _read("pyav", VTEST, size, selection)
        pipe = _read("imageio_ffmpeg", VTEST, size, selection)
        assert _mean_difference(pyav, [frame.image for frame in pipe]) == 0.0
    h264 = _video("testsrc.mp4", media_dir)
    pyav = _read("pyav", h264, SIZES["half"], FrameSelection(0, 12, 1))
    pipe = _read("imageio_ffmpeg", h264, SIZES["half"], FrameSelection(0, 12, 1))
    assert _mean_difference(pyav, [frame.image for frame in pipe]) < 1.5
