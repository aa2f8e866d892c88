"""Quirk files: small videos made with the bundled ffmpeg, one per class real tools produce.

Each maker writes one file of a class the issue names (a camera's, a capture tool's, a
broadcast recorder's habit) from ffmpeg's ``testsrc2`` pattern, at most ~100 frames and
small sizes, so the whole suite decodes each in well under a second.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
"""The ffmpeg binary imageio-ffmpeg bundles: the maker of every quirk file and the reference."""

_SOURCE = ["-f", "lavfi", "-i"]


def ffmpeg(*arguments: str, stdout: Path | None = None) -> None:
    """Run the bundled ffmpeg quietly; raise with its log when it fails."""
    command = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *arguments]
    if stdout is None:
        subprocess.run(command, check=True, capture_output=True)
        return
    with stdout.open("wb") as handle:
        subprocess.run(command, check=True, stdout=handle, stderr=subprocess.PIPE)


def _args(text: str) -> list[str]:
    """Arguments written as one string (none of them holds a space)."""
    return text.split()


def _pattern(frames: int, size: str = "160x120", rate: int = 25) -> list[str]:
    return [*_SOURCE, f"testsrc2=size={size}:rate={rate}:duration={frames / rate}"]


def packed_b_frames_avi(path: Path) -> Path:
    """MPEG-4 Part 2 from libxvid with B-frames: AVI stores them packed (DivX/Xvid style)."""
    ffmpeg(*_pattern(60), "-c:v", "libxvid", "-bf", "2", "-g", "24", "-q:v", "4", str(path))
    return path


def avi_with_dropped_frames(path: Path) -> Path:
    """A capture tool's variable-rate AVI: index gaps (empty chunks) where frames were dropped.

    Frames arrive on an irregular clock (a 1/15 s grid with frames missing); the AVI muxer
    fills each gap with an empty placeholder chunk, and the header counts ticks.
    """
    keep = "not(eq(mod(n\\,5)\\,1))*not(eq(mod(n\\,7)\\,3))"
    ffmpeg(
        *_pattern(90, rate=15),
        "-vf",
        f"select='{keep}'",
        *_args("-fps_mode passthrough -c:v mjpeg -q:v 5"),
        str(path),
    )
    return path


def phone_mov(path: Path) -> Path:
    """A phone's MOV: 90-degree display matrix, an edit list (B-frame delay), VFR at 1/600 s."""
    jitter = "N/30+0.011*sin(N)"  # irregular, increasing (1/30 > 2 * 0.011)
    ffmpeg(
        "-display_rotation",
        "90",
        *_pattern(60, size="160x96", rate=30),
        "-vf",
        f"settb=1/600,setpts='({jitter})/TB'",
        *_args("-fps_mode passthrough -enc_time_base 1/600 -c:v libx264 -bf 2 -g 30"),
        *_args("-pix_fmt yuv420p -video_track_timescale 600 -f mov"),
        str(path),
    )
    return path


WRAP_SECONDS = (1 << 33) / 90_000
"""MPEG-TS clocks count 33 bits of 90 kHz ticks: they wrap to 0 after ~26.5 hours."""


def ts_across_the_wrap(path: Path) -> Path:
    """MPEG-TS starting 1 s before its 33-bit clock wraps (a long-running broadcast recorder)."""
    ffmpeg(
        *_pattern(60),
        *_args("-c:v libx264 -bf 2 -g 25 -output_ts_offset"),
        f"{WRAP_SECONDS - 1.0:.6f}",
        *_args("-f mpegts"),
        str(path),
    )
    return path


def open_gop_mpeg2(path: Path) -> Path:
    """Open-GOP MPEG-2 in MPEG-TS, recorded from the middle: it starts inside a GOP.

    The leading B-frames of the first whole GOP refer to a picture the file does not
    hold, as in a recording of a broadcast that began mid-stream.
    """
    whole = path.with_suffix(".whole.ts")
    ffmpeg(
        *_pattern(90),
        *_args("-c:v mpeg2video -g 12 -bf 2 -flags -cgop -q:v 4 -f mpegts"),
        str(whole),
    )
    data = whole.read_bytes()
    whole.unlink()
    cut = (len(data) // 3) // 188 * 188  # a recording starting a third of the way in
    path.write_bytes(data[cut:])
    return path


def negative_cts_mp4(path: Path) -> Path:
    """H.264 with B-pyramids in MP4 with negative composition offsets (ctts version 1)."""
    ffmpeg(
        *_pattern(50),
        *_args("-c:v libx264 -bf 3 -x264-params b-pyramid=normal"),
        *_args("-movflags +negative_cts_offsets -use_editlist 0"),
        str(path),
    )
    return path


def concatenated_ts(path: Path) -> Path:
    """Two MPEG-TS recordings joined byte for byte: the second's clock restarts (jumps back)."""
    parts = []
    for number, offset in enumerate(("10", "2")):
        part = path.with_suffix(f".part{number}.ts")
        ffmpeg(
            *_pattern(30),
            *_args("-c:v libx264 -bf 2 -g 15 -output_ts_offset"),
            offset,
            *_args("-f mpegts"),
            str(part),
        )
        parts.append(part)
    path.write_bytes(b"".join(part.read_bytes() for part in parts))
    for part in parts:
        part.unlink()
    return path


def mkv_without_cues(path: Path) -> Path:
    """Matroska written to a pipe (a live recorder): no cues, no duration, no seek head."""
    ffmpeg(*_pattern(50), *_args("-c:v libx264 -g 10 -f matroska pipe:1"), stdout=path)
    return path


def webm_without_durations(path: Path) -> Path:
    """WebM (VP8 with hidden alt-ref frames) written to a pipe: no durations, no cues."""
    ffmpeg(
        *_pattern(50),
        *_args("-c:v libvpx -auto-alt-ref 1 -lag-in-frames 16 -b:v 300k -f webm pipe:1"),
        stdout=path,
    )
    return path


def _patch_boxes(data: bytearray, kind: bytes, patch: Callable[[bytearray, int, int], None]) -> int:
    """Call ``patch(data, start, end)`` on the body of every ``kind`` box; return how many."""
    found = 0
    position = data.find(kind)
    while position >= 4:
        size = struct.unpack(">I", data[position - 4 : position])[0]
        patch(data, position + 4, position - 4 + size)
        found += 1
        position = data.find(kind, position + 4)
    return found


def _tkhd_size(data: bytearray, start: int, end: int) -> None:
    data[end - 8 : end] = struct.pack(">II", 0xFFFF << 16, 0xFFFF << 16)


def _avc1_size(data: bytearray, start: int, end: int) -> None:
    data[start + 24 : start + 28] = struct.pack(">HH", 0xFFFF, 0xFFFF)


def oversized_header_mp4(path: Path) -> Path:
    """An MP4 whose track header and sample entry say 65535x65535; the SPS says 320x240."""
    ffmpeg(*_pattern(30, size="320x240"), "-c:v", "libx264", str(path))
    data = bytearray(path.read_bytes())
    if not (_patch_boxes(data, b"tkhd", _tkhd_size) and _patch_boxes(data, b"avc1", _avc1_size)):
        raise AssertionError("no tkhd or avc1 box to patch")
    path.write_bytes(bytes(data))
    return path


TRUNCATED_FRACTION = 0.46


def truncated_faststart_mp4(path: Path) -> Path:
    """A moov-first MP4 (``+faststart``) cut at 46 %: the index declares frames not stored.

    The frame whose packet is cut is lost before a frame shown after it.
    """
    whole = path.with_suffix(".whole.mp4")
    ffmpeg(*_pattern(100), *_args("-c:v libx264 -bf 2 -g 25 -movflags +faststart"), str(whole))
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: int(len(data) * TRUNCATED_FRACTION)])
    return path


QUIRKS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "packed_b_avi": ("packed_b.avi", packed_b_frames_avi),
    "avi_index_gaps": ("dropped.avi", avi_with_dropped_frames),
    "phone_mov": ("phone.mov", phone_mov),
    "ts_wrap": ("wrap.ts", ts_across_the_wrap),
    "open_gop_mpeg2": ("open_gop.ts", open_gop_mpeg2),
    "negative_cts": ("negative_cts.mp4", negative_cts_mp4),
    "concatenated_ts": ("concatenated.ts", concatenated_ts),
    "mkv_no_cues": ("no_cues.mkv", mkv_without_cues),
    "webm_no_durations": ("no_durations.webm", webm_without_durations),
    "oversized_header": ("oversized_header.mp4", oversized_header_mp4),
    "truncated_faststart": ("truncated_faststart.mp4", truncated_faststart_mp4),
}
"""Quirk class -> (file name, maker)."""
