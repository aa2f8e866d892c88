"""A message ffmpeg logs from another thread inside a ``showinfo`` line is not lost.

ffmpeg's demuxer logs from its own thread; showinfo writes each line in several calls.
About one read in a hundred of ``garbage-in-mkv`` (under load) printed the demuxer's
``[error]``, the only evidence that the file is damaged, inside showinfo's line for a
frame, without its prefix and level; the imageio_ffmpeg decoder then ended with 17
frames and no error. These tests make that interleaving happen on every read.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.corpus import damage_base, garbage
from videopipe.adapters.decoders import imageio_ffmpeg
from videopipe.adapters.ffmpeg import log
from videopipe.adapters.ffmpeg.binary import LOG_ARGUMENTS, bundled_ffmpeg
from videopipe.domain.errors import VideoDecodeError
from videopipe.testing.media import make_video

DEMUXER_ERROR = b"exceeds containing master element"
"""What the matroska demuxer says at the garbage in ``garbage.mkv``."""

SPLICED_FRAME = (
    b"[Parsed_showinfo_0 @ 0x7fecb8001b80] [info] n:   1 pts:     40 pts_time:0.04    "
    b"duration:     40 duration_time:0.04    fmt:yuv420p cl:left sar:0/1 s:320x240 i:P "
    b"iskey:0 type:P Element at 0xa4b ending at 0x2945f60e5 exceeds containing master "
    b"element ending at 0x1246"
)
"""A line seen in a failing read (the demuxer's message after the frame's fields)."""


def _splice_demuxer_errors(run: imageio_ffmpeg._DecodeRun, raw: bytes) -> bytes | None:
    """Hold a demuxer error line back and print it into the next showinfo frame line."""
    held: list[bytes] = run.__dict__.setdefault("_test_held", [])
    if DEMUXER_ERROR in raw and b"[error] " in raw:
        held.append(raw.split(b"[error] ", 1)[1])  # as ffmpeg prints it: no prefix
        return None
    if held and log.SHOWINFO_FRAME_BYTES.search(raw) and b"Parsed_showinfo" in raw:
        return raw + held.pop()
    return raw


@pytest.fixture
def garbage_mkv(tmp_path: Path) -> Path:
    return garbage(damage_base(".mkv"), "garbage.mkv", (0.55, 0.8))(tmp_path)


def _read_all(path: Path) -> int:
    reader = imageio_ffmpeg.ImageioFfmpegFrameSource().open(str(path))
    count = 0
    try:
        for _ in reader.frames():
            count += 1
    finally:
        reader.close()
    return count


def test_a_demuxer_error_printed_inside_a_showinfo_line_still_fails_the_read(
    garbage_mkv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    take: Callable[[imageio_ffmpeg._DecodeRun, bytes], None] = imageio_ffmpeg._DecodeRun._take_line
    spliced = []

    def take_spliced(self: imageio_ffmpeg._DecodeRun, raw: bytes) -> None:
        changed = _splice_demuxer_errors(self, raw)
        if changed is not None:
            # ffmpeg itself splices about one read in a hundred: count what was taken.
            spliced.append(DEMUXER_ERROR in changed and b"Parsed_showinfo" in changed)
            take(self, changed)

    monkeypatch.setattr(imageio_ffmpeg._DecodeRun, "_take_line", take_spliced)
    with pytest.raises(VideoDecodeError, match=DEMUXER_ERROR.decode()) as caught:
        _read_all(garbage_mkv)
    assert any(spliced), "the demuxer's error was not spliced: the test tests nothing"
    assert caught.value.frames_read == 17


def test_garbage_mkv_fails_on_every_read(garbage_mkv: Path) -> None:
    """Repeated reads of one file: each gives the typed error (1 in ~100 did not)."""
    for _ in range(20):
        with pytest.raises(VideoDecodeError, match=DEMUXER_ERROR.decode()):
            _read_all(garbage_mkv)


def test_the_observed_splice_is_recognised() -> None:
    match = log.SHOWINFO_FRAME_BYTES.search(SPLICED_FRAME)
    assert log.spliced_into_showinfo(SPLICED_FRAME, match)
    whole = SPLICED_FRAME.split(b"Element at")[0]
    assert not log.spliced_into_showinfo(whole, log.SHOWINFO_FRAME_BYTES.search(whole))
    colors = b"[Parsed_showinfo_0 @ 0x1] [info] color_range:unknown color_space:unknown"
    assert not log.spliced_into_showinfo(colors + b" color_trc:bt709 ", None)
    assert log.spliced_into_showinfo(colors + b"Element at 0xa4b ending at 0x29", None)


def test_no_line_of_a_healthy_decode_looks_spliced(tmp_path: Path) -> None:
    """The fallback (a second, demux-only ffmpeg run) stays off for healthy files."""
    video = make_video(tmp_path / "healthy.mp4", frames=12, width=96, height=64)
    command = [bundled_ffmpeg(), *LOG_ARGUMENTS, "-i", str(video), "-map", "0:V:0"]
    command += ["-vf", "showinfo=checksum=0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    done = subprocess.run(command, capture_output=True, check=True, timeout=60)
    lines = [line for line in done.stderr.split(b"\n") if b"Parsed_showinfo" in line]
    frames = [line for line in lines if log.SHOWINFO_FRAME_BYTES.search(line)]
    assert len(frames) == 12
    assert any(b"color_range:" in line for line in lines)
    flagged = [
        line
        for line in lines
        if log.spliced_into_showinfo(line, log.SHOWINFO_FRAME_BYTES.search(line))
    ]
    assert flagged == []
