"""The FrameSource / VideoReader contract, checked on every decoder.

Every test runs once per decoder. Videos are made once per session with ``make_video``
(frame ``i`` draws ``i``, read back with ``read_frame_index``); PyAV, which decodes every
stored frame and reports its own timestamps, is the reference for counts and times.
"""

from __future__ import annotations

import functools
import gc
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.domain.errors import (
    NotARegularFileError,
    VideoDecodeError,
    VideoFileNotFoundError,
    VideoReadError,
)
from videopipe.domain.model import Frame, FrameSelection, VideoInfo
from videopipe.ports.frames import FrameSource
from videopipe.testing import media
from videopipe.testing.media import make_video, panel_colours, read_frame_index

SMALL = {"frames": 24, "width": 160, "height": 120}
VIDEOS: dict[str, dict[str, Any]] = {
    "h264.mp4": {},
    "h264.mkv": {},
    "h264.ts": {},
    "vp9.webm": {"codec": "libvpx-vp9", "output_args": ["-deadline", "realtime", "-b:v", "1M"]},
    "mjpeg.avi": {"codec": "mjpeg", "pix_fmt": "yuvj420p"},
    # interlaced: ffmpeg describes its output as "rgb24(..., bottom coded first (swapped))"
    "interlaced-mpeg2.ts": {"codec": "mpeg2video", "output_args": ["-flags", "+ilme+ildct"]},
    "vfr.mp4": {"vfr": True},
    "vfr.mkv": {"vfr": True},
    "rot90.mp4": {"rotation": 90},
    "rot180.mp4": {"rotation": 180},
    "rot270.mp4": {"rotation": 270},
    "faststart60.mp4": {
        "frames": 60,
        "width": 320,
        "height": 240,
        "output_args": ["-movflags", "+faststart"],
    },
}
FORMATS = [
    "h264.mp4",
    "h264.mkv",
    "h264.ts",
    "vp9.webm",
    "mjpeg.avi",
    "vfr.mp4",
    "vfr.mkv",
]
RGB = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


@pytest.fixture(params=["imageio_ffmpeg", "opencv", "pyav"])
def source(request: pytest.FixtureRequest) -> FrameSource:
    return create_frame_source(request.param)


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``video(name)``: the session's copy of ``VIDEOS[name]``, made on first use."""
    folder = tmp_path_factory.mktemp("contract-media")

    @functools.cache
    def make(name: str) -> Path:
        return make_video(folder / name, **{**SMALL, **VIDEOS[name]})

    return make


@functools.cache
def reference_timestamps(path: str) -> tuple[float, ...]:
    """PyAV: the timestamp of every frame of the first video stream, from the first one."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        pts = [frame.pts for frame in container.decode(stream)]
        time_base = stream.time_base
    return tuple(round(float((p - pts[0]) * time_base), 6) for p in pts)


def read_all(
    source: FrameSource, path: str | Path, selection: FrameSelection | None = None
) -> tuple[VideoInfo, list[Frame]]:
    with source.open(str(path)) as reader:
        return reader.info, list(reader.frames(selection))


def drawn_indices(frames: list[Frame]) -> list[int]:
    return [read_frame_index(frame.image) for frame in frames]


def assert_close_colours(seen: list[tuple[int, int, int]], tolerance: int = 12) -> None:
    for got, want in zip(seen, RGB, strict=True):
        assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= tolerance, (seen, RGB)


# -- every frame, once, in order -------------------------------------------------------


def test_interlaced_video_gives_its_frames_or_a_typed_refusal_never_broken_frames(
    source: FrameSource, video: Callable[[str], Path]
) -> None:
    path = video("interlaced-mpeg2.ts")
    refused: VideoReadError | None = None
    frames: list[Frame] = []
    try:
        _, frames = read_all(source, path)
    except VideoReadError as error:
        refused = error
    if refused is not None:
        # OpenCV builds on FFmpeg 8 cannot convert interlaced frames (black or stale ones)
        assert source.name == "opencv"
        assert "interlaced" in str(refused)
        return
    assert drawn_indices(frames) == list(range(SMALL["frames"]))
    assert_close_colours(panel_colours(frames[0].image))


@pytest.mark.parametrize("name", FORMATS)
def test_every_stored_frame_is_yielded_once_in_order(
    source: FrameSource, video: Callable[[str], Path], name: str
) -> None:
    path = video(name)
    _, frames = read_all(source, path)
    count = len(reference_timestamps(str(path)))
    assert count == SMALL["frames"]  # the reference agrees with what was encoded
    assert [frame.index for frame in frames] == list(range(count))
    assert drawn_indices(frames) == list(range(count))


@pytest.mark.parametrize("name", FORMATS)
def test_timestamps_are_the_streams_own_from_its_first_frame(
    source: FrameSource, video: Callable[[str], Path], name: str
) -> None:
    path = video(name)
    _, frames = read_all(source, path)
    expected = reference_timestamps(str(path))
    assert len(frames) == len(expected)
    for frame, want in zip(frames, expected, strict=True):
        assert abs(frame.timestamp - want) <= 1e-6, (frame.index, frame.timestamp, want)


@pytest.mark.parametrize("name", FORMATS)
def test_images_are_rgb_uint8_contiguous_and_sized_as_the_info_says(
    source: FrameSource, video: Callable[[str], Path], name: str
) -> None:
    info, frames = read_all(source, video(name))
    assert (info.width, info.height) == (SMALL["width"], SMALL["height"])
    for frame in frames:
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
        assert frame.image.shape == (info.height, info.width, 3)
    assert_close_colours(panel_colours(frames[0].image))


# -- rotation --------------------------------------------------------------------------


UNDO_ROTATION = {90: 3, 180: 2, 270: 1}
"""``np.rot90(image, k)`` that turns a decoded (displayed) frame back into the drawn one."""


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_videos_are_turned_upright_and_the_info_agrees(
    source: FrameSource, video: Callable[[str], Path], rotation: int
) -> None:
    info, frames = read_all(source, video(f"rot{rotation}.mp4"))
    width, height = SMALL["width"], SMALL["height"]
    if rotation % 180:
        width, height = height, width
    assert (info.width, info.height) == (width, height)
    assert info.rotation != 0
    assert info.rotation % 180 == rotation % 180  # whatever the sign convention
    assert all(frame.image.shape == (height, width, 3) for frame in frames)
    assert [frame.index for frame in frames] == list(range(SMALL["frames"]))
    # Turning each image back by the stored rotation must give the drawn picture.
    upright = [np.rot90(frame.image, k=UNDO_ROTATION[rotation]) for frame in frames]
    assert [read_frame_index(image) for image in upright] == list(range(SMALL["frames"]))
    assert_close_colours(panel_colours(upright[0]))


# -- frame selection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (FrameSelection(start=0, stop=None, step=3), list(range(0, SMALL["frames"], 3))),
        (FrameSelection.every(3, max_count=2), [0, 3]),
        (FrameSelection(start=4, stop=9, step=2), [4, 6, 8]),
    ],
    ids=["every-third", "every-third-at-most-two", "slice-4-9-by-2"],
)
@pytest.mark.parametrize("name", ["h264.mp4", "vfr.mkv"])
def test_a_selection_yields_exactly_its_frames_with_their_stream_timestamps(
    source: FrameSource,
    video: Callable[[str], Path],
    name: str,
    selection: FrameSelection,
    expected: list[int],
) -> None:
    path = video(name)
    _, frames = read_all(source, path, selection)
    assert [frame.index for frame in frames] == expected
    assert drawn_indices(frames) == expected
    times = reference_timestamps(str(path))
    assert all(abs(frame.timestamp - times[frame.index]) <= 1e-6 for frame in frames)


# -- errors ----------------------------------------------------------------------------


def test_a_missing_path_raises_video_file_not_found(source: FrameSource, tmp_path: Path) -> None:
    path = str(tmp_path / "missing.mp4")
    with pytest.raises(VideoFileNotFoundError) as caught:
        source.open(path)
    assert isinstance(caught.value, FileNotFoundError)
    assert path in str(caught.value)


def test_a_directory_is_not_a_regular_file(source: FrameSource, tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError) as caught:
        source.open(str(tmp_path))
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("Unable to read video file")
    assert str(tmp_path) in str(caught.value)


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_promptly_without_being_opened(
    source: FrameSource, tmp_path: Path
) -> None:
    fifo = tmp_path / "clip.mp4"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError) as caught:
        source.open(str(fifo))
    assert str(caught.value).startswith("Unable to read video file")


UNREADABLE: dict[str, Callable[[Path], Path]] = {
    "empty": lambda folder: _written(folder / "empty.mp4", b""),
    "seed-corrupted": lambda folder: media.write_corrupted_mp4(folder / "corrupted.mp4"),
    "header-only": lambda folder: media.write_header_only_mp4(folder / "header.mp4"),
    "seed-truncated": lambda folder: media.write_truncated_mp4(folder / "truncated.mp4"),
    "random-bytes": lambda folder: media.write_random_bytes(folder / "random.mp4", 4096),
    "text-file": lambda folder: _written(folder / "notes.txt", b"not a video\n" * 50),
    "text-as-mp4": lambda folder: _written(folder / "notes.mp4", b"not a video\n" * 50),
    "ansi-art": lambda folder: _written(folder / "banner.ans", b"\x1b[31mred text\x1b[0m\n"),
    "nfo-file": lambda folder: _written(folder / "release.nfo", b"some release notes\n" * 20),
}


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_a_file_holding_no_readable_video_raises_video_read_error_naming_it(
    source: FrameSource, tmp_path: Path, kind: str
) -> None:
    path = UNREADABLE[kind](tmp_path)
    with pytest.raises(VideoReadError) as caught:
        read_all(source, path)
    assert str(caught.value).startswith("Unable to read video file")
    assert str(path) in str(caught.value)


def test_an_audio_only_file_has_no_video_stream(source: FrameSource, tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    command = [bundled_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin"]
    subprocess.run([*command, "-f", "lavfi", "-i", "sine=duration=1", str(path)], check=True)
    with pytest.raises(VideoReadError) as caught:
        read_all(source, path)
    assert str(caught.value).startswith("Unable to read video file")
    assert str(path) in str(caught.value)
    assert "no video stream" in str(caught.value)


def test_a_file_cut_in_half_yields_its_frames_then_raises_decode_error(
    source: FrameSource, video: Callable[[str], Path], tmp_path: Path
) -> None:
    path = media.write_truncated_copy(video("faststart60.mp4"), tmp_path / "half.mp4", 0.5)
    frames: list[Frame] = []
    with pytest.raises(VideoDecodeError) as caught, source.open(str(path)) as reader:
        frames.extend(reader.frames())  # keeps each frame yielded before the error
    assert 0 < len(frames) < 60
    assert [frame.index for frame in frames] == list(range(len(frames)))
    assert drawn_indices(frames) == list(range(len(frames)))
    assert str(path) in str(caught.value)


# -- names that look like ffmpeg protocols are plain local files ----------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["concat:a.mp4|b.mp4", "-", "pipe:0", "http:x.mp4", "file:x"])
def test_protocol_looking_names_are_read_as_local_files(
    source: FrameSource,
    video: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for part in ("a.mp4", "b.mp4", "x.mp4", "x"):  # what the protocol would read instead
        shutil.copyfile(video("vfr.mp4"), part)
    try:
        shutil.copyfile(video("mjpeg.avi"), name)
    except OSError as exc:
        pytest.skip(f"this filesystem refuses the name {name!r}: {exc}")
    info, frames = read_all(source, name)
    assert info.codec == "mjpeg"
    assert [frame.index for frame in frames] == list(range(SMALL["frames"]))
    assert drawn_indices(frames) == list(range(SMALL["frames"]))


def test_a_missing_protocol_looking_name_is_a_missing_file(
    source: FrameSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(VideoFileNotFoundError):
        source.open("concat:x|y")


# -- nothing is left behind ------------------------------------------------------------


def child_processes() -> list[int]:
    """Every process (zombies included) whose parent is this one, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # it ended while we looked
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(int(entry))
    return sorted(found)


Resources = tuple[list[int], int, int]


def resources() -> Resources:
    return child_processes(), threading.active_count(), len(os.listdir("/proc/self/fd"))


class ConsumerError(Exception):
    pass


def full_read(source: FrameSource, path: str, _: Resources) -> None:
    read_all(source, path)


def consumer_raises(source: FrameSource, path: str, _: Resources) -> None:
    with pytest.raises(ConsumerError), source.open(path) as reader:
        for frame in reader.frames():
            if frame.index == 2:
                raise ConsumerError


def generator_closed_early(source: FrameSource, path: str, _: Resources) -> None:
    with source.open(path) as reader:
        frames = reader.frames()
        next(frames)
        next(frames)
        frames.close()


def reader_closed_mid_iteration(source: FrameSource, path: str, before: Resources) -> None:
    reader = source.open(path)
    frames = reader.frames()
    next(frames)
    next(frames)
    if source.name == "imageio_ffmpeg":
        assert child_processes(), "the leak check must see ffmpeg while it runs"
    reader.close()
    reader.close()  # idempotent
    assert resources() == before  # nothing left, though the generator is still alive
    frames.close()


SCENARIOS: dict[str, Callable[[FrameSource, str, Resources], None]] = {
    "full-read": full_read,
    "consumer-raises": consumer_raises,
    "generator-closed-early": generator_closed_early,
    "reader-closed-mid-iteration": reader_closed_mid_iteration,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_process_thread_or_descriptor_outlives_the_reader(
    source: FrameSource, video: Callable[[str], Path], scenario: str
) -> None:
    path = str(video("h264.mp4"))
    read_all(source, path)  # warm up: imports and one-off allocations are not leaks
    gc.collect()
    before = resources()
    SCENARIOS[scenario](source, path, before)
    assert resources() == before
