"""The AVI cut-short check (:mod:`videopipe.adapters.ffmpeg.riff`): no false alarm on a
complete file, a cut anywhere (also exactly between chunks or RIFF chunks) found."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from videopipe.adapters.ffmpeg.riff import avi_layout, check_avi_complete
from videopipe.domain.errors import VideoDecodeError
from videopipe.testing.media import make_video

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def chunk(tag: bytes, payload: bytes) -> bytes:
    """A RIFF chunk, padded to an even size."""
    return tag + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def riff(form: bytes, payload: bytes) -> bytes:
    return chunk(b"RIFF", form + payload)


def hdrl(frames: int, extra: bytes = b"") -> bytes:
    avih = chunk(b"avih", struct.pack("<14I", 40000, 0, 0, 0, frames, 0, 1, 0, 8, 8, 0, 0, 0, 0))
    strh = chunk(
        b"strh", b"vids" + b"DIVX" + struct.pack("<IHHIIIII", 0, 0, 0, 0, 1, 25, 0, frames)
    )
    strl = chunk(b"LIST", b"strl" + strh + extra)
    return chunk(b"LIST", b"hdrl" + avih + strl)


def movi(count: int, size: int = 5) -> bytes:
    return chunk(b"LIST", b"movi" + b"".join(chunk(b"00dc", b"x" * size) for _ in range(count)))


def write(tmp_path: Path, data: bytes, name: str = "v.avi") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name", ["vtest.avi", "Megamind.avi", "Megamind_bugy.avi", "tree.avi"])
def test_opencv_samples_are_complete(name: str) -> None:
    path = OPENCV_DATA / name
    assert path.is_file(), f"{path} is missing: apt-get install opencv-doc"
    layout = avi_layout(str(path))
    assert layout is not None
    assert not layout.cut_short
    check_avi_complete(str(path), str(path), 1)


@pytest.mark.parametrize("codec", ["mpeg4", "mjpeg", "libx264"])
def test_media_helper_avis_are_complete(tmp_path: Path, codec: str) -> None:
    path = make_video(
        tmp_path / f"{codec}.avi",
        frames=12,
        codec=codec,
        pix_fmt="yuvj420p" if codec == "mjpeg" else "yuv420p",
    )
    layout = avi_layout(str(path))
    assert layout is not None
    assert not layout.cut_short
    assert layout.header_frames == 12


def test_megamind_cut_short(tmp_path: Path) -> None:
    data = (OPENCV_DATA / "Megamind.avi").read_bytes()
    path = write(tmp_path, data[:100_000])
    layout = avi_layout(path)
    assert layout is not None
    assert layout.cut_short
    assert (layout.claimed_bytes, layout.file_bytes, layout.header_frames) == (
        len(data),
        100_000,
        270,
    )
    with pytest.raises(VideoDecodeError, match="cut short") as caught:
        check_avi_complete(path, path, 14)
    assert (caught.value.frames_read, caught.value.frames_expected) == (14, 270)


def test_expected_only_when_larger_than_read(tmp_path: Path) -> None:
    data = riff(b"AVI ", hdrl(3) + movi(5))
    path = write(tmp_path, data[:-10])
    with pytest.raises(VideoDecodeError) as caught:
        check_avi_complete(path, path, 4)
    assert caught.value.frames_expected is None


def test_odd_sized_last_chunk_without_its_pad_byte_is_complete(tmp_path: Path) -> None:
    body = b"AVI " + hdrl(2) + movi(2) + b"x"
    data = b"RIFF" + struct.pack("<I", len(body)) + body  # odd size, pad byte missing
    assert len(body) % 2 == 1
    layout = avi_layout(write(tmp_path, data))
    assert layout is not None
    assert not layout.cut_short


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_a_size_never_written_makes_no_claim(tmp_path: Path, size: int) -> None:
    body = b"AVI " + hdrl(0) + movi(3)
    data = b"RIFF" + struct.pack("<I", size) + body
    layout = avi_layout(write(tmp_path, data[:-7]))
    assert layout is not None
    assert not layout.cut_short


def test_opendml_cut_between_riff_chunks(tmp_path: Path) -> None:
    """Cut exactly after ``RIFF AVI``: the super index names an ``ix00`` past the end."""
    first_without_index = riff(b"AVI ", hdrl(10, chunk(b"indx", b"\0" * 40)) + movi(5))
    second = riff(b"AVIX", movi(5) + chunk(b"ix00", b"\0" * 32))
    ix_offset = len(first_without_index) + len(second) - 40
    indx = struct.pack("<HBBI4s3I", 4, 0, 0, 1, b"00dc", 0, 0, 0)
    indx += struct.pack("<QII", ix_offset, 40, 5)
    whole = riff(b"AVI ", hdrl(10, chunk(b"indx", indx)) + movi(5)) + second
    assert len(indx) == 40
    complete = avi_layout(write(tmp_path, whole, "whole.avi"))
    assert complete is not None
    assert not complete.cut_short
    first = len(first_without_index)
    layout = avi_layout(write(tmp_path, whole[:first], "first.avi"))
    assert layout is not None
    assert layout.cut_short
    assert layout.claimed_bytes == ix_offset + 40
    cut_header = avi_layout(write(tmp_path, whole[: first + 4], "header.avi"))
    assert cut_header is not None
    assert cut_header.cut_short


def test_not_an_avi(tmp_path: Path) -> None:
    assert avi_layout(write(tmp_path, riff(b"WAVE", chunk(b"data", b"xx")), "a.wav")) is None
    assert avi_layout(write(tmp_path, b"\0\0\0\x18ftypmp42", "a.mp4")) is None
    check_avi_complete("a.mp4", str(tmp_path / "a.mp4"), 0)
