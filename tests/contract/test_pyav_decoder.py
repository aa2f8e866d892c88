"""The PyAV decoder's own promises, beyond the shared contract.

- Its fast path (strides, ranges that start past 0: a packet index, skipped
  non-reference frames, seeks to keyframes) gives exactly what sequential decoding of
  the same file gives: the same indices, timestamps and pixels, on MP4, Matroska,
  MPEG-TS and variable-frame-rate files with B-frames and several GOP lengths, whatever
  kind of frame a range starts at.
- Whenever its index cannot be trusted it decodes sequentially instead (edit lists
  that discard packets, streams without timestamps, codecs whose packets are not one
  frame each, interlaced video, an index that turns out wrong while decoding).
- Its RGB equals the ffmpeg pipe's for videos tagged BT.601 / BT.709, limited / full
  range, and the colours are the ones that were encoded.
- A strided read leaves nothing behind either.
"""

from __future__ import annotations

import functools
import gc
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from tests.contract.test_frame_source import resources
from videopipe.adapters.decoders import create_frame_source, pyav
from videopipe.adapters.decoders.pyav import PacketIndex, PyAVFrameSource, build_index
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.domain.model import Frame, FrameSelection
from videopipe.testing.media import make_video, read_frame_index

FRAMES = 90
SIZE = {"width": 160, "height": 120}
SEEKABLE: dict[str, dict[str, Any]] = {
    # GOP 10 with B-frames (x264's default of 3, pyramid): seeks and skipped B-frames
    "gop10.mp4": {"gop": 10},
    "gop10.mkv": {"gop": 10},
    "gop10.ts": {"gop": 10},
    "vfr-gop7.mp4": {"gop": 7, "vfr": True},
    "vfr-gop7.mkv": {"gop": 7, "vfr": True},
    # open GOPs: keyframes whose leading B-frames (shown before them) need the group before
    "open-gop12.mkv": {"gop": 12, "output_args": ["-x264-params", "open-gop=1"]},
    "open-gop12.mp4": {"gop": 12, "output_args": ["-x264-params", "open-gop=1"]},
    # one long group (x264's default GOP 250): no seek, skipped non-reference frames
    "long-gop.mp4": {},
    "long-gop.ts": {},
    # every frame a keyframe
    "intra.mkv": {"gop": 1},
    "mjpeg.avi": {"codec": "mjpeg", "pix_fmt": "yuvj420p"},
}
SELECTIONS: list[FrameSelection] = [
    *(FrameSelection(0, None, step) for step in (2, 3, 5, 10, 30)),
    FrameSelection(1, None, 4),
    FrameSelection(10, 25, 1),  # starts at a keyframe (GOP 10)
    FrameSelection(11, 40, 1),  # starts at a B-frame
    FrameSelection(13, 80, 7),
    FrameSelection(37, None, 1),
    FrameSelection(FRAMES - 1, None, 1),  # the last frame
    FrameSelection(FRAMES - 1, FRAMES + 5, 3),
    FrameSelection(FRAMES, None, 1),  # beyond the end: nothing, no error
    FrameSelection(FRAMES + 7, FRAMES + 20, 2),
]


def _id(selection: FrameSelection) -> str:
    return f"{selection.start}:{selection.stop}:{selection.step}"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("pyav-media")

    @functools.cache
    def make(name: str) -> Path:
        return make_video(folder / name, frames=FRAMES, **SIZE, **SEEKABLE[name])

    return make


@functools.cache
def sequential(path: Path) -> tuple[Frame, ...]:
    """Every frame as sequential decoding gives it: the truth the fast path must match."""
    source = create_frame_source("pyav", fast_seek=False)
    with source.open(str(path)) as reader:
        frames = tuple(reader.frames())
    assert [frame.index for frame in frames] == list(range(len(frames)))
    drawn = [read_frame_index(frame.image) for frame in frames]
    assert drawn == list(range(drawn[0], drawn[0] + len(frames)))  # from 0 unless cut
    return frames


def read(
    path: Path, selection: FrameSelection, **options: Any
) -> tuple[list[Frame], pyav.DecodeStats]:
    reader = create_frame_source("pyav", **options).open(str(path))
    assert isinstance(reader, pyav.PyAVVideoReader)
    with reader:
        frames = list(reader.frames(selection))
    assert reader.last_stats is not None
    return frames, reader.last_stats


def assert_same_frames(got: list[Frame], truth: tuple[Frame, ...], selection: FrameSelection):
    expected = [frame for frame in truth if selection.contains(frame.index)]
    assert [frame.index for frame in got] == [frame.index for frame in expected]
    for mine, want in zip(got, expected, strict=True):
        assert mine.timestamp == want.timestamp, (mine.index, mine.timestamp, want.timestamp)
        assert np.array_equal(mine.image, want.image), f"frame {mine.index} differs"
        assert mine.image.flags.c_contiguous


# -- the fast path equals sequential decoding -----------------------------------------


@pytest.mark.parametrize("selection", SELECTIONS, ids=_id)
@pytest.mark.parametrize("name", list(SEEKABLE))
def test_the_fast_path_gives_exactly_what_sequential_decoding_gives(
    media: Callable[[str], Path], name: str, selection: FrameSelection
) -> None:
    path = media(name)
    truth = sequential(path)
    assert len(truth) == FRAMES
    frames, stats = read(path, selection)
    assert stats.path == "indexed", stats  # these files' indexes are trusted
    assert_same_frames(frames, truth, selection)
    assert stats.converted == len(frames)  # unselected frames are never converted


@pytest.mark.parametrize("name", ["gop10.mp4", "gop10.mkv", "gop10.ts", "vfr-gop7.mkv"])
def test_long_strides_seek_and_skip_decoding(media: Callable[[str], Path], name: str) -> None:
    path = media(name)
    selection = FrameSelection(0, None, 30)
    frames, stats = read(path, selection, seek_threshold=0)
    assert_same_frames(frames, sequential(path), selection)
    assert stats.seeks >= 2, stats
    assert stats.packets < FRAMES // 2, stats  # most packets are never even read


def test_short_strides_skip_non_reference_frames(media: Callable[[str], Path]) -> None:
    path = media("long-gop.mp4")
    selection = FrameSelection(0, None, 10)
    frames, stats = read(path, selection)
    assert_same_frames(frames, sequential(path), selection)
    assert stats.seeks == 0  # one group: nothing to seek to
    assert stats.decoded < FRAMES * 3 // 4, stats  # the B-frames nobody needs are skipped


@pytest.mark.parametrize("threshold", [0, 1, 5, 1000])
@pytest.mark.parametrize("name", ["gop10.ts", "open-gop12.mkv", "vfr-gop7.mp4"])
def test_every_seek_threshold_is_exact(
    media: Callable[[str], Path], name: str, threshold: int
) -> None:
    path = media(name)
    truth = sequential(path)
    for selection in (FrameSelection(0, None, 7), FrameSelection(23, 71, 2)):
        frames, stats = read(path, selection, seek_threshold=threshold)
        assert stats.path == "indexed"
        assert_same_frames(frames, truth, selection)


@pytest.mark.parametrize("start", range(24))
def test_a_range_may_start_at_any_frame(media: Callable[[str], Path], start: int) -> None:
    # Every kind of frame of the first groups: keyframe, reference and plain B-frames,
    # open-GOP leading frames; each range is read by a fresh reader, as a segment is.
    for name in ("gop10.mp4", "open-gop12.mkv"):
        path = media(name)
        selection = FrameSelection(start, start + 5, 1)
        frames, stats = read(path, selection, seek_threshold=0)
        assert stats.path == ("indexed" if start else "sequential")  # from 0: no index
        assert_same_frames(frames, sequential(path), selection)


# -- fallbacks -------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    subprocess.run([*command, *args], check=True, capture_output=True)


FALLBACKS: dict[str, Callable[[Path, Callable[[str], Path]], Path]] = {}


def fallback(name: str) -> Callable[[Callable[..., Path]], Callable[..., Path]]:
    def register(build: Callable[..., Path]) -> Callable[..., Path]:
        FALLBACKS[name] = build
        return build

    return register


@fallback("edit-list")
def _edit_list(folder: Path, media: Callable[[str], Path]) -> Path:
    # A stream copy from 1.1 s keeps the group before in the file, hidden by an edit list.
    target = folder / "edit-list.mp4"
    ffmpeg("-ss", "1.1", "-i", str(media("gop10.mp4")), "-c", "copy", str(target))
    return target


@fallback("no-timestamps")
def _raw_h264(folder: Path, media: Callable[[str], Path]) -> Path:
    target = folder / "raw.h264"
    ffmpeg("-i", str(media("gop10.mp4")), "-c", "copy", "-f", "h264", str(target))
    return target


@fallback("unlisted-codec")
def _mpeg4(folder: Path, media: Callable[[str], Path]) -> Path:
    target = folder / "mpeg4.avi"
    ffmpeg("-i", str(media("gop10.mp4")), "-c:v", "mpeg4", "-bf", "2", "-g", "10", str(target))
    return target


@fallback("interlaced")
def _interlaced(folder: Path, media: Callable[[str], Path]) -> Path:
    return make_video(
        folder / "interlaced.ts",
        frames=40,
        **SIZE,
        codec="mpeg2video",
        gop=8,
        output_args=["-flags", "+ilme+ildct"],
    )


REASONS = {
    "edit-list": "discarded",
    "no-timestamps": "without a timestamp",
    "unlisted-codec": "not indexed",
    "interlaced": "interlaced",
}


@pytest.mark.parametrize("kind", list(FALLBACKS))
def test_an_untrusted_index_falls_back_to_sequential_decoding(
    media: Callable[[str], Path], tmp_path: Path, kind: str
) -> None:
    path = FALLBACKS[kind](tmp_path, media)
    truth = sequential(path)
    assert len(truth) > 10
    for selection in (FrameSelection(0, None, 4), FrameSelection(7, 30, 3)):
        frames, stats = read(path, selection)
        assert stats.path == "fallback", stats
        assert stats.untrusted is not None
        assert REASONS[kind] in stats.untrusted
        assert_same_frames(frames, truth, selection)


def _lying(build: Callable[..., Any], lie: Callable[[PacketIndex], PacketIndex]) -> Any:
    def build_and_lie(*args: Any) -> Any:
        index = build(*args)
        assert isinstance(index, PacketIndex)
        return lie(index)

    return build_and_lie


def _shifted(index: PacketIndex) -> PacketIndex:
    """Every timestamp one tick late: no decoded frame is where the index says."""
    return PacketIndex(
        index.pts + 1,
        index.sorted_pts + 1,
        index.index_of_packet,
        index.packet_of_index,
        index.keyframes,
    )


def _all_keyframes(index: PacketIndex) -> PacketIndex:
    """Every packet called a keyframe: seeks land on the real keyframe before."""
    every = np.arange(index.count, dtype=np.int64)
    return PacketIndex(
        index.pts, index.sorted_pts, index.index_of_packet, index.packet_of_index, every
    )


def _one_packet_missing(index: PacketIndex) -> PacketIndex:
    """A packet in the middle missing: frames after it are not where the index says."""
    keep = np.delete(index.pts, index.count // 2)
    order = np.argsort(keep, kind="stable")
    inverse = np.empty(len(keep), dtype=np.int64)
    inverse[order] = np.arange(len(keep))
    keys = index.keyframes[index.keyframes < len(keep)]
    return PacketIndex(keep, keep[order], inverse, order, keys)


@pytest.mark.parametrize(
    ("lie", "path_taken"),
    [(_shifted, "fallback"), (_all_keyframes, "indexed"), (_one_packet_missing, "fallback")],
    ids=["shifted-timestamps", "every-packet-a-keyframe", "one-packet-missing"],
)
def test_an_index_proved_wrong_while_decoding_is_caught(
    media: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    lie: Callable[[PacketIndex], PacketIndex],
    path_taken: str,
) -> None:
    path = media("gop10.mkv")
    truth = sequential(path)
    monkeypatch.setattr(pyav.indexed, "build_index", _lying(build_index, lie))
    selection = FrameSelection(0, None, 9)
    frames, stats = read(path, selection, seek_threshold=0)
    assert stats.path == path_taken, stats
    assert_same_frames(frames, truth, selection)


def _packets(*packets: tuple[int | None, bool]) -> Iterator[Any]:
    for pts, key in packets:
        yield SimpleNamespace(
            size=100, pts=pts, dts=None, is_keyframe=key, is_discard=False, is_corrupt=False
        )
    yield SimpleNamespace(
        size=0, pts=None, dts=None, is_keyframe=False, is_discard=False, is_corrupt=False
    )


def _fake(codec: str, packets: list[tuple[int | None, bool]], field_order: int = 1) -> Any:
    codec_context = SimpleNamespace(name=codec, field_order=field_order, has_b_frames=True)
    stream = SimpleNamespace(codec_context=codec_context)
    container = SimpleNamespace(demux=lambda _stream: _packets(*packets))
    return container, stream


GOOD = [(0, True), (3, False), (1, False), (2, False), (6, False), (4, False), (5, False)]


@pytest.mark.parametrize(
    ("packets", "declared", "reason"),
    [
        ([(0, True), (None, False), (1, False)], None, "without a timestamp"),
        ([(0, True), (1, False), (1, False)], None, "duplicate"),
        ([(1, False), (0, True)], None, "not a keyframe"),
        ([(5, True), (3, False), (4, False), (6, False)], None, "shown before"),
        (
            [(0, True), *((i, False) for i in range(40, 60)), *((i, False) for i in range(1, 40))],
            None,
            "out of decode order",
        ),
        (GOOD, 9, "declares 9"),
    ],
    ids=["missing-pts", "duplicate-pts", "no-first-keyframe", "open-gop-start", "jump", "count"],
)
def test_build_index_refuses_what_it_cannot_trust(
    packets: list[tuple[int | None, bool]], declared: int | None, reason: str
) -> None:
    container, stream = _fake("h264", packets)
    refusal = build_index(container, stream, declared)
    assert isinstance(refusal, str)
    assert reason in refusal


def test_build_index_maps_timestamps_to_presentation_order() -> None:
    container, stream = _fake("h264", GOOD)
    index = build_index(container, stream, len(GOOD))
    assert isinstance(index, PacketIndex)
    assert index.count == 7
    assert [index.frame_index(pts) for pts in (0, 1, 2, 3, 4, 5, 6)] == list(range(7))
    assert index.frame_index(7) is None
    assert index.frame_index(None) is None
    assert list(index.index_of_packet) == [0, 3, 1, 2, 6, 4, 5]
    assert index.seek_point(5) == 0


# -- colours ---------------------------------------------------------------------------


COLOUR = (0x33, 0x66, 0x99)
TAGS: dict[str, list[str]] = {
    "bt601-limited": ["-pix_fmt", "yuv420p", "-colorspace", "smpte170m", "-color_range", "tv"],
    "bt601-full": ["-pix_fmt", "yuv420p", "-colorspace", "smpte170m", "-color_range", "pc"],
    "bt709-limited": ["-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_range", "tv"],
    "bt709-full": ["-pix_fmt", "yuvj420p", "-colorspace", "bt709", "-color_range", "pc"],
    "untagged": ["-pix_fmt", "yuv420p"],
    "untagged-yuv444p": ["-pix_fmt", "yuv444p"],
    "bt709-10bit": ["-pix_fmt", "yuv420p10le", "-colorspace", "bt709", "-color_range", "tv"],
    "odd-size": ["-pix_fmt", "yuv444p", "-vf", "crop=63:47:0:0"],
}
PIPE_TOLERANCE = 0
"""Largest difference (0..255) from the ffmpeg pipe's RGB: both run swscale on the same
frame with the same colour matrix and range, so none is expected."""


@pytest.mark.parametrize("tag", list(TAGS))
def test_rgb_equals_the_ffmpeg_pipe_and_honours_the_colour_matrix_and_range(
    tmp_path: Path, tag: str
) -> None:
    path = tmp_path / f"{tag}.mp4"
    colour = "0x{:02x}{:02x}{:02x}".format(*COLOUR)
    # Drawn in RGB, so the encoder's conversion to YUV follows the tags it writes.
    source = f"color=c={colour}:s=64x48:r=25:d=0.4,format=rgb24"
    ffmpeg("-f", "lavfi", "-i", source, *TAGS[tag], str(path))
    with create_frame_source("pyav").open(str(path)) as reader:
        mine = [frame.image for frame in reader.frames()]
    with create_frame_source("imageio_ffmpeg").open(str(path)) as reader:
        pipe = [frame.image for frame in reader.frames()]
    assert len(mine) == len(pipe) == 10
    for got, want in zip(mine, pipe, strict=True):
        assert got.shape == want.shape
        assert int(np.abs(got.astype(int) - want).max()) <= PIPE_TOLERANCE
    # The encoded colour comes back: a wrong matrix is ~20 off, a wrong range ~8 off.
    mean = mine[0].reshape(-1, 3).mean(axis=0)
    assert np.abs(mean - COLOUR).max() <= 3, (tag, mean)


# -- nothing left behind on the fast path ----------------------------------------------


class ConsumerError(Exception):
    pass


def test_a_strided_read_leaves_nothing_behind(media: Callable[[str], Path]) -> None:
    path = str(media("gop10.mkv"))
    source = PyAVFrameSource()
    selection = FrameSelection(3, None, 7)
    with source.open(path) as reader:
        list(reader.frames(selection))  # warm up
    gc.collect()
    before = resources()
    with source.open(path) as reader:
        assert len(list(reader.frames(selection))) == 13
    with pytest.raises(ConsumerError), source.open(path) as reader:
        for frame in reader.frames(selection):
            if frame.index > 20:
                raise ConsumerError
    with source.open(path) as reader:
        frames = reader.frames(selection)
        next(frames)
        frames.close()
    reader = source.open(path)
    frames = reader.frames(selection)
    next(frames)
    reader.close()
    with pytest.raises(ValueError, match="closed"):
        next(frames)
    gc.collect()
    assert resources() == before
