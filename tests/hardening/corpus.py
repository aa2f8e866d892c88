"""The hostile-input corpus: files (and non-files) a video service must survive.

Every :class:`Case` builds one input into a folder with the bundled ffmpeg and plain
Python, and says what videopipe must do with it:

- :class:`Frames`: exactly the frames ``0 .. count - 1``, where ``count`` is what PyAV
  decodes from the first video stream that is not an attached picture (the reference);
  never more, never fewer.
- :class:`Error`: no frame, then the typed error (``isinstance``) whose message holds
  ``substring``.
- :class:`Partial`: some frames (``>= 0``) with consecutive indices from 0, then the
  typed error, which carries ``frames_read`` (and ``frames_expected`` equal to
  ``declared`` when the file's index declares a frame count).

:func:`build_corpus` makes every case once into a folder and writes ``manifest.json``
next to them; ``tests/hardening/test_corpus.py`` runs each through
``tests/hardening/run_case.py`` and ``scripts/peer_comparison.py`` compares it with
the raw libraries.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.domain.errors import (
    DecoderTimeoutError,
    FrameTooLargeError,
    NotARegularFileError,
    VideoDecodeError,
    VideoFileNotFoundError,
    VideoReadError,
)
from videopipe.testing import media
from videopipe.testing.media import make_video

DECODERS: tuple[str, ...] = ("imageio_ffmpeg", "opencv", "pyav")
FFMPEG_BINARY_DECODERS: tuple[str, ...] = ("imageio_ffmpeg", "opencv")
"""The decoders that run the ffmpeg binary to probe a file (``ffmpeg_exe`` stalls them)."""
IS_ROOT = os.geteuid() == 0
"""Permission bits do not stop root from reading: the chmod-000 case then expects frames."""

BASE_FRAMES = 48
"""Frames of the videos the truncated and damaged cases are cut from."""
SMALL = {"frames": 24, "width": 160, "height": 120}
NAMED_FRAMES = 12
"""Frames of the video stored under a hostile name; the decoys next to it hold 20."""
DECOY_FRAMES = 20

Builder = Callable[[Path], Path]
"""Makes one input inside the corpus folder it is given and returns its path."""


def plural(count: int | None, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


# -- expectations ----------------------------------------------------------------------


RUN_CASE = Path(__file__).with_name("run_case.py")
"""The worker script that runs one case in a fresh process."""


@dataclass(frozen=True)
class Frames:
    """Every frame, indices ``0 .. count - 1``; ``None``: PyAV's count (else checked)."""

    count: int | None = None
    size: tuple[int, int] | None = None  # (width, height) every image must have

    def describe(self) -> str:
        size = f" of {self.size[0]}x{self.size[1]}" if self.size else ""
        return f"{plural(self.count, 'frame')}{size}"


@dataclass(frozen=True)
class Error:
    """No frame, then this error type (or a subclass) with ``substring`` in its message."""

    type: type[BaseException]
    substring: str = ""
    absent: str | None = None  # a phrase the message must not hold (a misleading cause)

    def describe(self) -> str:
        text = self.type.__name__ + (f" ~ {self.substring!r}" if self.substring else "")
        return text + (f", not {self.absent!r}" if self.absent else "")


@dataclass(frozen=True)
class Partial:
    """Frames ``0 .. k - 1`` (``k >= 0``), then this error carrying ``frames_read``.

    ``declared``: the count the file's index declares, which the error's
    ``frames_expected`` must equal (``None``: the file declares none).
    """

    type: type[BaseException]
    declared: int | None = None
    count: int | None = None
    """When set: exactly this many frames before the error (FFmpeg's own decode's)."""

    def describe(self) -> str:
        detail = f", frames_expected={self.declared}" if self.declared is not None else ""
        frames = "some frames" if self.count is None else plural(self.count, "frame")
        return f"{frames}, then {self.type.__name__}{detail}"


Expectation = Frames | Error | Partial


@dataclass(frozen=True)
class Case:
    """One hostile input: how to build it into a folder and what videopipe must do.

    ``options`` are the frame source's keyword arguments (``{folder}`` in a string is
    the corpus folder), ``decoder_options`` adds per-decoder ones; ``relative`` runs
    the case from the file's folder with its bare name (``-``, ``pipe:0``, ...);
    ``decoders`` limits the decoders it applies to; ``max_seconds`` bounds the time to
    the end or to the error; ``watch_pidfile`` names a file where a grandchild writes
    its pid (it must be gone after the call); ``xfail`` maps a decoder to the reason it
    fails today (a bug in ``src/``, reported).
    """

    name: str
    build: Callable[[Path], Path]
    expect: Expectation
    options: Mapping[str, Any] = field(default_factory=dict)
    decoder_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    relative: bool = False
    decoders: tuple[str, ...] = DECODERS
    max_seconds: float = 15.0
    watch_pidfile: str | None = None
    xfail: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Built:
    """A case built into the corpus folder."""

    case: Case
    folder: Path
    path: Path
    cwd: Path | None
    arg: str
    options: dict[str, dict[str, Any]]  # per decoder
    reference: Reference
    expect: Expectation
    watch_pidfile: str | None

    def worker_command(self, decoder: str) -> list[str]:
        """The command that runs this case on ``decoder`` in a fresh process (run_case.py)."""
        command = [sys.executable, str(RUN_CASE), decoder, str(self.folder), self.case.name]
        command.append(f"--path={self.arg}")
        if self.cwd is not None:
            command.append(f"--cwd={self.cwd}")
        options = self.options[decoder]
        command += [f"--option={key}={json.dumps(value)}" for key, value in options.items()]
        if self.watch_pidfile:
            command.append(f"--watch-pidfile={self.watch_pidfile}")
        return command

    def manifest(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "cwd": None if self.cwd is None else str(self.cwd),
            "arg": self.arg,
            "options": self.options,
            "decoders": list(self.case.decoders),
            "watch_pidfile": self.watch_pidfile,
            "reference": self.reference.describe(),
            "expect": self.expect.describe(),
            "max_seconds": self.case.max_seconds,
        }


# -- the reference: PyAV ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What PyAV decodes from the first non-attached-picture video stream."""

    frames: int | None  # None: PyAV was not asked (not a regular file) or has no stream
    error: str | None = None  # what stopped PyAV, if anything did

    def describe(self) -> str:
        if self.frames is None:
            return self.error or "-"
        if self.error:
            return f"{plural(self.frames, 'frame')}, then {self.error}"
        return plural(self.frames, "frame")


def reference(path: Path) -> Reference:
    """Decode ``path`` with PyAV (regular files only: a FIFO would block)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return Reference(None, f"{type(exc).__name__}: {exc.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return Reference(None, "not a regular file")
    if info.st_size == 0:
        return Reference(None, "empty file")
    try:
        container = av.open("file:" + os.path.abspath(path), timeout=20.0)
    except Exception as exc:
        return Reference(None, f"cannot open: {type(exc).__name__}")
    with container:
        return _decode_first_video_stream(container)


def _decode_first_video_stream(container: Any) -> Reference:
    attached = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if not s.disposition & attached]
    if not streams:
        return Reference(None, "no video stream")
    count = 0
    try:
        for _ in container.decode(streams[0]):
            count += 1
    except Exception as exc:
        return Reference(count, type(exc).__name__)
    return Reference(count)


# -- building blocks -------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg quietly; raise with its message on failure."""
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(args)}: {done.stderr.decode(errors='replace')}")


def base(folder: Path, name: str, **kwargs: Any) -> Path:
    """``make_video(folder/_base/name, **kwargs)``, made once per folder."""
    target = folder / "_base" / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        make_video(target, **kwargs)
    return target


def moov_end(folder: Path) -> Path:
    """48 frames of H.264 in MP4 with the moov atom after the media data (the default)."""
    return base(folder, "moov-end.mp4", frames=BASE_FRAMES, width=160, height=120, gop=12)


def moov_start(folder: Path) -> Path:
    """The same with ``-movflags +faststart``: the index comes first."""
    return base(
        folder,
        "moov-start.mp4",
        frames=BASE_FRAMES,
        width=160,
        height=120,
        gop=12,
        output_args=["-movflags", "+faststart"],
    )


def top_level_boxes(path: Path) -> dict[str, tuple[int, int]]:
    """MP4 top-level boxes: type -> (offset, size)."""
    data = path.read_bytes()
    boxes: dict[str, tuple[int, int]] = {}
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8:
            break
        boxes.setdefault(kind.decode("latin-1"), (offset, size))
        offset += size
    return boxes


def cut(source: Callable[[Path], Path], name: str, where: Callable[[Path], int]) -> Builder:
    """A builder: the first ``where(source)`` bytes of ``source``."""

    def build(folder: Path) -> Path:
        original = source(folder)
        target = folder / "truncated" / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(original.read_bytes()[: where(original)])
        return target

    return build


def first_packet(path: Path) -> tuple[int, int]:
    """(offset, size) of the first video packet, from PyAV's demuxer."""
    with av.open(str(path)) as container:
        for packet in container.demux(container.streams.video[0]):
            if packet.size and packet.pos is not None:
                return packet.pos, packet.size
    raise RuntimeError(f"{path} has no video packet")


def in_first_frame(path: Path) -> int:
    """An offset in the middle of the first frame's data."""
    offset, size = first_packet(path)
    return offset + size // 2


def after_first_frame(fraction: float) -> Callable[[Path], int]:
    """An offset ``fraction`` of the way from the end of the first frame to the end of
    ``mdat``: mid-stream, whatever the encoder made of the first frame."""

    def where(path: Path) -> int:
        offset, size = first_packet(path)
        mdat_offset, mdat_size = top_level_boxes(path)["mdat"]
        start, end = offset + size, mdat_offset + mdat_size
        return start + int((end - start) * fraction)

    return where


def in_box(kind: str, fraction: float = 0.5, delta: int = 0) -> Callable[[Path], int]:
    """An offset inside box ``kind`` (``delta`` added)."""

    def where(path: Path) -> int:
        offset, size = top_level_boxes(path)[kind]
        return offset + int(size * fraction) + delta

    return where


OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
"""Debian's opencv-doc sample videos (real AVI files from other writers)."""


def opencv_sample(name: str) -> Builder:
    """A builder: a copy of opencv-doc's sample ``name`` (fails clearly if not installed)."""

    def build(folder: Path) -> Path:
        source = OPENCV_DATA / name
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: apt-get install opencv-doc")
        target = folder / "_base" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        return target

    return build


def avi_base(folder: Path) -> Path:
    """48 frames of MPEG-4 Part 2 in AVI (as Megamind.avi), a keyframe every 12."""
    return base(folder, "damage-base.avi", frames=BASE_FRAMES, gop=12, codec="mpeg4")


def at_avi_chunk(number: int) -> Callable[[Path], int]:
    """The offset where the ``number``-th video chunk (``00dc``) of ``movi`` starts: a cut
    there leaves ``number`` whole chunks and the RIFF chunk claiming the rest."""

    def where(path: Path) -> int:
        data = path.read_bytes()
        offset = data.index(b"movi") + 4
        for _ in range(number):
            tag, length = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
            assert tag.endswith((b"dc", b"db")), f"not a video chunk at {offset}: {tag!r}"
            offset += 8 + length + (length & 1)
        return offset

    return where


def file_fraction(fraction: float, delta: int = 0) -> Callable[[Path], int]:
    def where(path: Path) -> int:
        return int(path.stat().st_size * fraction) + delta

    return where


def garbage(
    source: Callable[[Path], Path], name: str, at: tuple[float, ...], size: int = 256
) -> Builder:
    """``source`` with ``size`` seeded random bytes written over it at each fraction
    of its length (of its ``mdat`` box for an MP4)."""

    def build(folder: Path) -> Path:
        original = source(folder)
        data = bytearray(original.read_bytes())
        start, length = 0, len(data)
        if original.suffix == ".mp4":
            start, length = top_level_boxes(original)["mdat"]
        rng = np.random.default_rng(7)
        for fraction in at:
            offset = start + int(length * fraction)
            data[offset : offset + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        target = folder / "damaged" / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(bytes(data))
        return target

    return build


def video(name: str, **kwargs: Any) -> Builder:
    """A builder: ``make_video(folder/formats/name, **{**SMALL, **kwargs})``."""

    def build(folder: Path) -> Path:
        target = folder / "formats" / name
        target.parent.mkdir(exist_ok=True)
        return make_video(target, **{**SMALL, **kwargs})

    return build


def written(name: str, data: bytes) -> Builder:
    def build(folder: Path) -> Path:
        target = folder / "files" / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        return target

    return build


def random_bytes(name: str, size: int, seed: int) -> Builder:
    def build(folder: Path) -> Path:
        target = folder / "files" / name
        target.parent.mkdir(exist_ok=True)
        return media.write_random_bytes(target, size, seed=seed)

    return build


def audio(name: str) -> Builder:
    def build(folder: Path) -> Path:
        target = folder / "audio" / name
        target.parent.mkdir(exist_ok=True)
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", str(target))
        return target

    return build


def two_video_streams(folder: Path) -> Path:
    """Stream 0: 24 frames 160x120; stream 1: 36 frames 320x240 (bigger, longer)."""
    first = base(folder, "first.mp4", **SMALL)
    second = base(folder, "second.mp4", frames=36, width=320, height=240)
    target = folder / "formats" / "two-video-streams.mp4"
    target.parent.mkdir(exist_ok=True)
    ffmpeg(
        "-i", str(first), "-i", str(second), "-map", "0:v", "-map", "1:v", "-c", "copy", str(target)
    )
    return target


def solid(name: str, width: int, height: int, frames: int = 1) -> Builder:
    """A solid-colour MJPEG AVI of a large size: cheap to encode, small on disk."""

    def build(folder: Path) -> Path:
        target = folder / "huge" / name
        target.parent.mkdir(exist_ok=True)
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"color=c=red:s={width}x{height}:r=25",
            "-frames:v",
            str(frames),
            "-c:v",
            "mjpeg",
            "-pix_fmt",
            "yuvj420p",
            str(target),
        )
        if target.stat().st_size > 4 << 20:
            raise RuntimeError(f"{target} is {target.stat().st_size} bytes: not cheap")
        return target

    return build


def declared_huge(side: int) -> Builder:
    """A 16x16 MJPEG AVI whose AVI headers and JPEG SOF0 claim ``side`` x ``side``."""

    def build(folder: Path) -> Path:
        small = base(
            folder,
            "small-mjpeg.avi",
            frames=3,
            width=16,
            height=16,
            codec="mjpeg",
            pix_fmt="yuvj420p",
        )
        data = bytearray(small.read_bytes())
        # avih: dwWidth, dwHeight at +32/+36 of the chunk payload; strf (BITMAPINFOHEADER):
        # biWidth, biHeight at +4/+8; every JPEG SOF0 (FFC0): height, width at +5/+7.
        avih = data.find(b"avih") + 8
        struct.pack_into("<II", data, avih + 32, side, side)
        strf = data.find(b"strf") + 8
        struct.pack_into("<ii", data, strf + 4, side, side)
        position = 0
        while (position := data.find(b"\xff\xc0", position)) != -1:
            struct.pack_into(">HH", data, position + 5, side, side)
            position += 2
        target = folder / "huge" / f"declared-{side}x{side}.avi"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(bytes(data))
        return target

    return build


def damage_base(suffix: str) -> Builder:
    """48 frames of 320x240 H.264, a keyframe every 12: the file garbage is written into."""

    def build(folder: Path) -> Path:
        extra = ["-movflags", "+faststart"] if suffix == ".mp4" else []
        return base(folder, f"damage-base{suffix}", frames=BASE_FRAMES, gop=12, output_args=extra)

    return build


def edit_list(folder: Path) -> Path:
    """A stream copy from 0.5 s: the MP4 keeps the packets from the keyframe before and
    an edit list that hides them (the index declares more frames than are shown)."""
    target = folder / "formats" / "edit-list.mp4"
    target.parent.mkdir(exist_ok=True)
    ffmpeg("-ss", "0.5", "-i", str(base(folder, "first.mp4", **SMALL)), "-c", "copy", str(target))
    return target


def cover_art(folder: Path) -> Path:
    """24 frames plus a PNG cover (an attached-picture video stream)."""
    cover = base(folder, "cover.png", frames=1, width=64, height=64, codec="png", pix_fmt="rgb24")
    target = folder / "formats" / "cover-art.mp4"
    target.parent.mkdir(exist_ok=True)
    ffmpeg(
        "-i",
        str(base(folder, "first.mp4", **SMALL)),
        "-i",
        str(cover),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-disposition:v:1",
        "attached_pic",
        str(target),
    )
    return target


def no_tracks(folder: Path) -> Path:
    """A well-formed MP4 with no track at all (ffmpeg asked for zero frames)."""
    target = folder / "formats" / "no-tracks.mp4"
    target.parent.mkdir(exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", "color=s=64x48", "-frames:v", "0", "-c:v", "libx264", str(target))
    return target


# -- paths that are not regular files --------------------------------------------------


def special(folder: Path) -> Path:
    target = folder / "special"
    target.mkdir(exist_ok=True)
    return target


def directory(folder: Path) -> Path:
    target = special(folder) / "a-directory.mp4"
    target.mkdir(exist_ok=True)
    return target


def fifo(folder: Path) -> Path:
    target = special(folder) / "a-fifo.mp4"
    if not target.exists():
        os.mkfifo(target)
    return target


def missing(folder: Path) -> Path:
    return special(folder) / "missing.mp4"


def unreadable(folder: Path) -> Path:
    target = special(folder) / "chmod-000.mp4"
    if not target.exists():
        make_video(target, **SMALL)
    target.chmod(0)
    return target


def symlink_loop(folder: Path) -> Path:
    first, second = special(folder) / "loop-a.mp4", special(folder) / "loop-b.mp4"
    if not first.is_symlink():
        first.symlink_to(second.name)
        second.symlink_to(first.name)
    return first


def dangling(folder: Path) -> Path:
    target = special(folder) / "dangling.mp4"
    if not target.is_symlink():
        target.symlink_to("nowhere.mp4")
    return target


# -- names -----------------------------------------------------------------------------


def named(name: str) -> Builder:
    """A 12-frame MJPEG AVI stored under ``name``, next to 20-frame decoys ``a.mp4``,
    ``b.mp4``, ``x.mp4``, ``x``: reading a decoy instead shows in the frame count."""

    def build(folder: Path) -> Path:
        target_folder = folder / "names"
        target_folder.mkdir(exist_ok=True)
        decoy = base(folder, "decoy.mp4", frames=DECOY_FRAMES, width=96, height=64)
        for part in ("a.mp4", "b.mp4", "x.mp4", "x", "0"):
            if not (target_folder / part).exists():
                (target_folder / part).write_bytes(decoy.read_bytes())
        source = base(
            folder,
            "named.avi",
            frames=NAMED_FRAMES,
            width=96,
            height=64,
            codec="mjpeg",
            pix_fmt="yuvj420p",
        )
        target = target_folder / name
        target.write_bytes(source.read_bytes())
        return target

    return build


# -- a decoder that stalls -------------------------------------------------------------

STALL_WRAPPERS = {
    # The real ffmpeg for the probe; for the decode (the command writing to pipe:1) a
    # 'sleep 600' that writes nothing.
    "decode": """for arg in "$@"; do
  if [ "$arg" = "pipe:1" ]; then
    sleep 600 &
    echo $! > '{pidfile}'
    wait
    exit 0
  fi
done
exec '{ffmpeg}' "$@"
""",
    # Every call stalls, the probe included.
    "probe": """sleep 600 &
echo $! > '{pidfile}'
wait
""",
    # The real decode, then the pipes stay open (held by 'sleep 600') after the last frame.
    "after-frames": """for arg in "$@"; do
  if [ "$arg" = "pipe:1" ]; then
    '{ffmpeg}' "$@"
    sleep 600 &
    echo $! > '{pidfile}'
    wait
    exit 0
  fi
done
exec '{ffmpeg}' "$@"
""",
}


def stall_paths(mode: str) -> tuple[str, str]:
    """The ``ffmpeg_exe`` wrapper and the file its 'sleep' pid goes to (with {folder})."""
    return f"{{folder}}/stall/ffmpeg-stalls-{mode}.sh", f"{{folder}}/stall/sleep-{mode}.pid"


def stalling(mode: str) -> Builder:
    """A valid video, and next to it a shell-script ffmpeg that stalls as ``mode`` says."""

    def build(folder: Path) -> Path:
        target_folder = folder / "stall"
        target_folder.mkdir(exist_ok=True)
        wrapper, pidfile = (Path(_fill(p, folder)) for p in stall_paths(mode))
        body = STALL_WRAPPERS[mode].format(pidfile=pidfile, ffmpeg=bundled_ffmpeg())
        wrapper.write_text("#!/bin/sh\n" + body)
        wrapper.chmod(0o755)
        target = target_folder / "valid.mp4"
        if not target.exists():
            make_video(target, **SMALL)
        return target

    return build


# -- the cases -------------------------------------------------------------------------

ANY_READ_ERROR = Error(VideoReadError, "Unable to read video file")

# Bugs found in src/ (reported; the cases stay visible as strict xfails). Fixed since:
# 0 of a declared count, probe timeouts leaking, names injected into ffmpeg's log (the
# file now reaches ffmpeg as an inherited descriptor) and a misleading "no video stream".
TRUNCATED_MID_STREAM = Partial(VideoDecodeError, declared=BASE_FRAMES)


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # Truncated, index (moov) first: the frames before the cut, then VideoDecodeError.
    add(Case("trunc-moovstart-in-ftyp", cut(moov_start, "ms-16.mp4", lambda _: 16), ANY_READ_ERROR))
    add(
        Case(
            "trunc-moovstart-in-moov",
            cut(moov_start, "ms-moov.mp4", in_box("moov")),
            ANY_READ_ERROR,
        )
    )
    add(
        Case(
            "trunc-moovstart-mdat-header",
            cut(moov_start, "ms-mdat8.mp4", in_box("mdat", 0.0, 8)),
            ANY_READ_ERROR,
            note="the index is whole, no frame data: nothing to stream",
        )
    )
    add(
        Case(
            "trunc-moovstart-in-first-frame",
            cut(moov_start, "ms-first-frame.mp4", in_first_frame),
            TRUNCATED_MID_STREAM,
            note="index whole, first frame cut: 0 of 48 frames",
        )
    )
    for percent in (10, 25, 50, 75, 90):
        add(
            Case(
                f"trunc-moovstart-mid-{percent}pct",
                cut(moov_start, f"ms-mid{percent}.mp4", after_first_frame(percent / 100)),
                TRUNCATED_MID_STREAM,
                note=f"cut {percent} % of the way from the end of the first frame to the end",
            )
        )
    add(
        Case(
            "trunc-moovstart-last-byte",
            cut(moov_start, "ms-minus1.mp4", file_fraction(1.0, -1)),
            TRUNCATED_MID_STREAM,
        )
    )
    # Truncated, index (moov) last: nothing can be read without the index.
    add(Case("trunc-moovend-8-bytes", cut(moov_end, "me-8.mp4", lambda _: 8), ANY_READ_ERROR))
    for percent in (25, 50, 75):
        add(
            Case(
                f"trunc-moovend-{percent}pct",
                cut(moov_end, f"me-{percent}.mp4", file_fraction(percent / 100)),
                ANY_READ_ERROR,
            )
        )
    add(
        Case(
            "trunc-moovend-before-moov",
            cut(moov_end, "me-nomoov.mp4", in_box("moov", 0.0)),
            ANY_READ_ERROR,
        )
    )
    add(
        Case(
            "trunc-moovend-in-moov",
            cut(moov_end, "me-halfmoov.mp4", in_box("moov")),
            ANY_READ_ERROR,
        )
    )
    add(
        Case(
            "trunc-moovend-last-byte",
            cut(moov_end, "me-minus1.mp4", file_fraction(1.0, -1)),
            Frames(BASE_FRAMES),
            note="the byte lost is the end of the metadata (udta): every frame is intact",
        )
    )

    # Truncated containers that declare no frame count: the damage must still show.
    add(
        Case(
            "trunc-mkv-50pct",
            cut(damage_base(".mkv"), "half.mkv", file_fraction(0.5)),
            Partial(VideoDecodeError),
            note="Matroska declares its size and duration: the cut shows",
        )
    )
    # AVI: FFmpeg reads a cut AVI as a shorter one and says nothing; the RIFF chunk's
    # size claims the bytes that are missing (the header's count is what is expected).
    for fraction in (0.5, 0.75, 0.9):  # its headers fill the first 5.6 of 18 KB
        add(
            Case(
                f"trunc-avi-{int(fraction * 100)}pct",
                cut(avi_base, f"half-{fraction}.avi", file_fraction(fraction)),
                Partial(VideoDecodeError, declared=BASE_FRAMES),
                note="the RIFF chunk claims more bytes than the file holds",
            )
        )
    add(
        Case(
            "trunc-avi-chunk-boundary",
            cut(avi_base, "boundary.avi", at_avi_chunk(20)),
            Partial(VideoDecodeError, declared=BASE_FRAMES, count=20),
            note="cut exactly between two chunks: every chunk left is whole",
        )
    )
    for fraction, frames in ((0.1, 18), (0.25, 62), (0.5, 128)):
        add(
            Case(
                f"trunc-megamind-avi-{int(fraction * 100)}pct",
                cut(
                    opencv_sample("Megamind.avi"),
                    f"megamind-{fraction}.avi",
                    file_fraction(fraction),
                ),
                Partial(VideoDecodeError, declared=270, count=frames),
                note="opencv-doc's Megamind.avi cut: FFmpeg's CLI decodes the same frames",
            )
        )
    for name, frames in (("Megamind.avi", 270), ("tree.avi", 68), ("Megamind_bugy.avi", 270)):
        add(
            Case(
                f"complete-{name}",
                opencv_sample(name),
                Frames(frames),
                note="a complete AVI is no cut (tree.avi's header counts 444 ticks for 68 frames)",
            )
        )
    add(
        Case(
            "trunc-mpegts-50pct",
            cut(damage_base(".ts"), "half.ts", file_fraction(0.5)),
            Frames(),
            note="MPEG-TS declares no length: a cut stream is a valid shorter one (PyAV agrees)",
        )
    )

    # Not a video at all.
    add(Case("zero-length", written("empty.mp4", b""), Error(VideoReadError, "empty")))
    add(
        Case(
            "header-only-ftyp",
            lambda f: media.write_header_only_mp4(f / "header-only.mp4"),
            ANY_READ_ERROR,
        )
    )
    add(Case("random-bytes.mp4", random_bytes("random.mp4", 64 << 10, 1), ANY_READ_ERROR))
    add(Case("random-bytes.mkv", random_bytes("random.mkv", 64 << 10, 2), ANY_READ_ERROR))
    add(
        Case(
            "text.txt",
            written("notes.txt", b"not a video, just notes\n" * 40),
            ANY_READ_ERROR,
            note="ffmpeg would render it as ANSI art by its extension; read from a descriptor "
            "it is probed by content and refused",
        )
    )
    add(
        Case(
            "text.nfo",
            written("release.nfo", b"Release notes\n=============\n" * 30),
            ANY_READ_ERROR,
            note="ffmpeg would render it as ANSI art by its extension; read from a descriptor "
            "it is probed by content and refused",
        )
    )
    add(Case("audio-only.m4a", audio("tone.m4a"), Error(VideoReadError, "no video stream")))
    add(Case("audio-only.wav", audio("tone.wav"), Error(VideoReadError, "no video stream")))

    # Damaged inside: 256 bytes of garbage written over two places of a valid stream.
    add(
        Case(
            "garbage-in-mp4",
            garbage(damage_base(".mp4"), "garbage.mp4", (0.55, 0.8)),
            TRUNCATED_MID_STREAM,
        )
    )
    add(
        Case(
            "garbage-in-mkv",
            garbage(damage_base(".mkv"), "garbage.mkv", (0.55, 0.8)),
            Partial(VideoDecodeError),
        )
    )
    add(
        Case(
            "garbage-in-mpegts",
            garbage(damage_base(".ts"), "garbage.ts", (0.55, 0.8)),
            Partial(VideoDecodeError),
            decoders=("imageio_ffmpeg", "pyav"),
            note="ffmpeg reports the damaged packets' decoding errors; PyAV flags the frames "
            "its decoder concealed errors in",
        )
    )
    add(
        Case(
            "garbage-in-mpegts-opencv",
            garbage(damage_base(".ts"), "garbage.ts", (0.55, 0.8)),
            Frames(),
            decoders=("opencv",),
            note="OpenCV reports no decoding error and MPEG-TS declares no frame count: it "
            "yields exactly the frames the careful reference (PyAV) decodes, never more "
            "(a documented limitation of this decoder)",
        )
    )

    # Unusual but valid: every frame, exactly as PyAV decodes them.
    add(Case("vfr.mp4", video("vfr.mp4", vfr=True), Frames(24)))
    for degrees in (90, 180, 270):
        size = (120, 160) if degrees % 180 else (160, 120)
        add(
            Case(
                f"rotated-{degrees}", video(f"rot{degrees}.mp4", rotation=degrees), Frames(24, size)
            )
        )
    add(
        Case(
            "size-1x1-ffv1",
            video("1x1.mkv", width=1, height=1, codec="ffv1", pix_fmt="yuv444p"),
            Frames(24, (1, 1)),
        )
    )
    add(
        Case(
            "size-161x121-yuv444p",
            video("161x121.mp4", width=161, height=121, pix_fmt="yuv444p"),
            Frames(24, (161, 121)),
        )
    )
    add(Case("size-4000x16", video("4000x16.mp4", width=4000, height=16), Frames(24, (4000, 16))))
    add(Case("size-16x4000", video("16x4000.mp4", width=16, height=4000), Frames(24, (16, 4000))))
    add(Case("10-bit-yuv420p10le", video("10bit.mp4", pix_fmt="yuv420p10le"), Frames(24)))
    add(Case("yuv444p", video("444.mp4", pix_fmt="yuv444p"), Frames(24)))
    add(
        Case(
            "two-video-streams",
            two_video_streams,
            Frames(24, (160, 120)),
            note="the FIRST video stream",
        )
    )
    add(
        Case(
            "vp9.webm",
            video(
                "vp9.webm", codec="libvpx-vp9", output_args=["-deadline", "realtime", "-b:v", "1M"]
            ),
            Frames(24),
        )
    )
    add(Case("h264.mkv", video("h264.mkv"), Frames(24)))
    add(Case("mpeg2.ts", video("mpeg2.ts", codec="mpeg2video"), Frames(24)))
    add(Case("mjpeg.avi", video("mjpeg.avi", codec="mjpeg", pix_fmt="yuvj420p"), Frames(24)))
    add(
        Case(
            "edit-list.mp4",
            edit_list,
            Frames(),
            note="stream copy from 0.5 s: an edit list hides frames",
        )
    )
    add(
        Case(
            "cover-art.mp4",
            cover_art,
            Frames(24, (160, 120)),
            note="an attached picture is no video",
        )
    )
    add(Case("mp4-without-tracks", no_tracks, Error(VideoReadError, "no video stream")))
    add(Case("animated.gif", video("animated.gif", frames=12, codec="gif", pix_fmt=""), Frames()))
    add(Case("still.png", video("still.png", frames=1, codec="png", pix_fmt="rgb24"), Frames()))

    # Frames too large: refused from the header, before a frame buffer exists.
    add(
        Case(
            "huge-9000x9000-limit-1Mpx",
            solid("9000x9000.avi", 9000, 9000),
            Error(FrameTooLargeError, "over the limit of 1000000 pixels"),
            options={"max_frame_pixels": 1_000_000},
        )
    )
    add(
        Case(
            "huge-12000x12000-default-limit",
            solid("12000x12000.avi", 12000, 12000),
            Error(FrameTooLargeError, "over the limit of 67108864 pixels"),
        )
    )
    add(
        Case(
            "huge-declared-16000x16000",
            declared_huge(16000),
            Error(FrameTooLargeError, "16000x16000"),
            note="a 16x16 MJPEG whose headers claim 16000x16000: refused from the header",
        )
    )
    add(
        Case(
            "huge-declared-20000x20000",
            declared_huge(20000),
            Error(VideoReadError, "Unable to read video file", absent="no video stream"),
            note="ffmpeg itself rejects a 20000x20000 picture: a video stream of no usable size",
        )
    )

    # Paths that are not readable regular files.
    add(Case("directory", directory, Error(NotARegularFileError, "directory"), max_seconds=5))
    add(Case("fifo", fifo, Error(NotARegularFileError, "FIFO"), max_seconds=5))
    add(Case("missing", missing, Error(VideoFileNotFoundError, "not found"), max_seconds=5))
    if IS_ROOT:
        # Root reads a chmod-000 file anyway: the case then expects every frame.
        add(Case("unreadable-chmod000-as-root-reads", unreadable, Frames(24)))
    else:
        add(Case("unreadable-chmod000", unreadable, Error(VideoReadError, "Permission denied")))
    add(Case("symlink-loop", symlink_loop, Error(VideoReadError, "symbolic links"), max_seconds=5))
    add(
        Case(
            "dangling-symlink", dangling, Error(VideoFileNotFoundError, "not found"), max_seconds=5
        )
    )

    # Names: each holds a 12-frame 96x64 video; the 20-frame decoys catch a name read as
    # a protocol, and the fake log lines a name read as part of ffmpeg's log.
    named_size = (96, 64)
    for label, name, xfail in (
        ("name-spaces", "a name with  spaces .mp4", {}),
        ("name-unicode", "vidéo ünïcødé 日本語 🎬.mp4", {}),
        ("name-leading-dash", "-leading-dash.mp4", {}),
        ("name-concat", "concat:a.mp4|b.mp4", {}),
        ("name-pipe0", "pipe:0", {}),
        ("name-dash", "-", {}),
        ("name-http", "http:x.mp4", {}),
        ("name-file-scheme", "file:x.mp4", {}),
        ("name-subfile", "subfile,,start,0,end,0,,:x.mp4", {}),
        ("name-newline", "two\nlines.mp4", {}),
        (
            "name-newline-fake-stream-line",
            "evil\n  Stream #0:0: Video: h264, yuv420p, 20000x10000, 25 fps\n.mp4",
            {},
        ),
        (
            "name-newline-fake-output-size",
            "evil\nVideo: rawvideo (RGB[24]), rgb24, 4x4.mp4",
            {},
        ),
        (
            "name-newline-fake-showinfo",
            "evil\n[Parsed_showinfo_0 @ 0x1] n: 999 pts: 0\n.mp4",
            {},
        ),
    ):
        add(
            Case(
                label,
                named(name),
                Frames(NAMED_FRAMES, named_size),
                relative=True,
                # A misread frame size stalls the pipe: a short stall_timeout keeps it quick.
                decoder_options={"imageio_ffmpeg": {"stall_timeout": 5}},
                xfail=xfail,
            )
        )

    # Decoders that stall: killed after the timeout, nothing they started left running.
    wrapper, pidfile = stall_paths("decode")
    add(
        Case(
            "decoder-stalls",
            stalling("decode"),
            Error(DecoderTimeoutError, "stalled"),
            options={"ffmpeg_exe": wrapper, "stall_timeout": 2},
            decoders=("imageio_ffmpeg",),
            max_seconds=10,
            watch_pidfile=pidfile,
        )
    )
    wrapper, pidfile = stall_paths("after-frames")
    add(
        Case(
            "decoder-stalls-after-last-frame",
            stalling("after-frames"),
            Partial(DecoderTimeoutError),
            options={"ffmpeg_exe": wrapper, "stall_timeout": 2},
            decoders=("imageio_ffmpeg",),
            max_seconds=10,
            watch_pidfile=pidfile,
            note="every frame arrives, then the output never ends",
        )
    )
    wrapper, pidfile = stall_paths("probe")
    add(
        Case(
            "probe-stalls",
            stalling("probe"),
            Error(DecoderTimeoutError, "stalled"),
            options={"ffmpeg_exe": wrapper},
            decoder_options={"imageio_ffmpeg": {"probe_timeout": 2}, "opencv": {"timeout": 2}},
            decoders=FFMPEG_BINARY_DECODERS,
            max_seconds=10,
            watch_pidfile=pidfile,
        )
    )
    return cases


CASES: list[Case] = _cases()
CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"

WARMUP = "_warmup.mp4"


def build_corpus(folder: Path, names: list[str] | None = None) -> dict[str, Built]:
    """Build every case (or those named) into ``folder``; write ``manifest.json``."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / WARMUP).exists():
        make_video(folder / WARMUP, frames=4, width=64, height=48)
    built: dict[str, Built] = {}
    for case in CASES:
        if names is not None and case.name not in names:
            continue
        built[case.name] = _build_one(case, folder)
    manifest = {
        "folder": str(folder),
        "warmup": str(folder / WARMUP),
        "cases": {name: item.manifest() for name, item in built.items()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return built


def _fill(value: Any, folder: Path) -> Any:
    return value.replace("{folder}", str(folder)) if isinstance(value, str) else value


def _build_one(case: Case, folder: Path) -> Built:
    path = case.build(folder)
    ref = reference(path)
    expect = case.expect
    if isinstance(expect, Frames):
        if ref.frames is None or ref.error is not None:
            raise RuntimeError(f"case {case.name}: PyAV cannot decode {path}: {ref.describe()}")
        if expect.count is not None and expect.count != ref.frames:
            raise RuntimeError(
                f"case {case.name}: PyAV decodes {ref.frames} frames, the case says {expect.count}"
            )
        expect = Frames(ref.frames, expect.size)
    cwd, arg = (path.parent, path.name) if case.relative else (None, str(path))
    return Built(
        case=case,
        folder=folder,
        path=path,
        cwd=cwd,
        arg=arg,
        options={
            decoder: {
                key: _fill(value, folder)
                for key, value in {**case.options, **case.decoder_options.get(decoder, {})}.items()
            }
            for decoder in case.decoders
        },
        reference=ref,
        expect=expect,
        watch_pidfile=_fill(case.watch_pidfile, folder) if case.watch_pidfile else None,
    )


# -- checking a run against its case ---------------------------------------------------


def check_result(result: dict[str, Any], built: Built) -> None:
    """Assert that ``result`` (one run_case.py line) meets ``built``'s expectation."""
    expect = built.expect
    indices = result["indices"]
    count = len(indices)
    summary = (
        f"{count} frames, error {result['error_type']}: {result['message']}"
        if result["error_type"]
        else f"{count} frames, no error"
    )
    if result["error_type"] is None:
        assert indices == list(range(count)), f"indices are not 0..{count - 1}: {indices}"
    else:  # a frame lost to the damage leaves a gap: an index is a position in the stream
        assert indices == sorted(set(indices)), f"indices do not increase: {indices}"
    if isinstance(expect, Frames):
        assert result["error_type"] is None, f"expected {expect.describe()}, got {summary}"
        assert count == expect.count, f"expected exactly {expect.count} frames, got {summary}"
        assert len(result["shapes"]) == 1, f"images of several shapes: {result['shapes']}"
        if expect.size is not None:
            width, height = expect.size
            assert result["shapes"] == [[height, width, 3]], f"images: {result['shapes']}"
        return

    assert result["error_type"] is not None, f"expected {expect.describe()}, got {summary}"
    mro, message = result["error_mro"], result["message"]
    assert "VideoPipeError" in mro, f"untyped error: {mro}"
    assert expect.type.__name__ in mro, f"expected {expect.describe()}, got {summary}"
    if "VideoReadError" in mro:
        assert message.startswith("Unable to read video file"), message
        assert repr(built.arg) in message, f"the message does not name {built.arg!r}: {message}"
    if isinstance(expect, Error):
        assert count == 0, f"expected no frame before the error, got {summary}"
        assert expect.substring in message, f"{expect.substring!r} not in {message!r}"
        if expect.absent:
            assert expect.absent not in message, f"misleading message: {message!r}"
    elif isinstance(expect, Partial):
        assert result.get("has_frames_read"), f"{result['error_type']} has no frames_read"
        assert result["frames_read"] == count, f"frames_read says {result['frames_read']}"
        assert result["frames_expected"] == expect.declared, (
            f"frames_expected is {result['frames_expected']}, the index declares {expect.declared}"
        )
        if expect.count is not None:
            assert count == expect.count, f"expected {expect.describe()}, got {summary}"
        if expect.declared is not None:
            assert count <= expect.declared, f"more frames than declared: {summary}"
