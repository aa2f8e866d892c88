"""The reference every decoder is held to: the ffmpeg command line's own decode of a file.

``ffmpeg -i FILE -map 0:V:0 -vf showinfo -fps_mode passthrough -f rawvideo -pix_fmt
rgb24``: every frame the CLI's decoder outputs, none dropped or duplicated, in output
order; each frame's timestamp is the pts showinfo prints (the CLI sets a decoded
frame's pts to libavcodec's best-effort timestamp), in seconds from the first frame.
The frames go to a file on disk (read back as a memory map), so a long sample costs
no memory.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tests.conformance.quirks import FFMPEG

_FRAME = re.compile(r"\bn:\s*(\d+) pts:\s*(-?\d+|NOPTS)\b.*?\bs:(\d+)x(\d+)\b")
_TIME_BASE = re.compile(r"config in time_base: (\d+)/(\d+)")
_LEVEL = re.compile(r"\[(error|fatal|panic)\] ")


@dataclass(frozen=True)
class Reference:
    """What the ffmpeg CLI decodes from one file."""

    path: Path
    pts: tuple[int, ...]
    time_base: Fraction
    width: int
    height: int
    digests: tuple[str, ...]
    raw: Path
    returncode: int
    errors: tuple[str, ...]

    @property
    def count(self) -> int:
        """Frames the CLI decoded."""
        return len(self.pts)

    @property
    def timestamps(self) -> tuple[float, ...]:
        """Each frame's best-effort pts in seconds from the first frame."""
        first = self.pts[0] if self.pts else 0
        return tuple(float((value - first) * self.time_base) for value in self.pts)

    @property
    def strictly_increasing(self) -> bool:
        """Whether every frame's timestamp is after the previous frame's."""
        return all(b > a for a, b in zip(self.pts, self.pts[1:], strict=False))

    def frames(self) -> npt.NDArray[np.uint8]:
        """Every frame, (count, height, width, 3), memory-mapped from disk."""
        shape = (self.count, self.height, self.width, 3)
        return np.memmap(self.raw, dtype=np.uint8, mode="r", shape=shape)


def digest(image: npt.NDArray[np.uint8]) -> str:
    """A frame's pixel digest (its shape is part of it)."""
    image = np.ascontiguousarray(image)
    return hashlib.blake2b(repr(image.shape).encode() + image.tobytes(), digest_size=16).hexdigest()


def decode_with_cli(path: Path, workdir: Path) -> Reference:
    """Decode ``path`` with the bundled ffmpeg CLI; see the module docstring."""
    raw = workdir / (path.name + ".rgb")
    command = [FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info"]
    command += ["-i", f"file:{path}", "-map", "0:V:0", "-an", "-sn", "-dn"]
    command += ["-vf", "showinfo=checksum=0", "-fps_mode", "passthrough"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-y", str(raw)]
    done = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    pts: list[int] = []
    size = (0, 0)
    time_base = Fraction(1)
    errors = []
    for line in done.stderr.splitlines():
        if match := _FRAME.search(line):
            if match.group(2) == "NOPTS":
                raise AssertionError(f"{path.name}: ffmpeg gave frame {match.group(1)} no pts")
            pts.append(int(match.group(2)))
            size = (int(match.group(3)), int(match.group(4)))
        elif match := _TIME_BASE.search(line):
            time_base = Fraction(int(match.group(1)), int(match.group(2)))
        elif _LEVEL.search(line):
            errors.append(line)
    width, height = size
    frame_bytes = width * height * 3
    data = np.memmap(raw, dtype=np.uint8, mode="r") if raw.stat().st_size else np.zeros(0, np.uint8)
    if len(data) != frame_bytes * len(pts):
        raise AssertionError(f"{path.name}: {len(data)} bytes for {len(pts)} frames")
    digests = tuple(
        digest(np.asarray(data[i * frame_bytes : (i + 1) * frame_bytes]).reshape(height, width, 3))
        for i in range(len(pts))
    )
    del data
    return Reference(
        path, tuple(pts), time_base, width, height, digests, raw, done.returncode, tuple(errors)
    )
