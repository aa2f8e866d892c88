"""Media with known truth, made with the bundled ffmpeg: for tests and benchmarks.

:func:`make_video` writes a video whose frame ``i`` carries ``i`` in a band of
black/white blocks (:func:`read_frame_index` reads it back through lossy coding) over
three solid colour panels (red, green, blue, left to right) that reveal a swapped
channel order. The corrupt-file writers reproduce the seed contract's inputs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from videopipe.adapters.decoders.imageio_ffmpeg import bundled_ffmpeg

INDEX_BITS = 10
PANEL_COLOURS: tuple[tuple[int, int, int], ...] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def frame_pattern(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The RGB image of frame ``index``: index band on top, colour panels below."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    band = max(1, height // 3)
    for bit in range(INDEX_BITS):
        if (index >> bit) & 1:
            x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
            image[:band, x0:x1] = 255
    for panel, colour in enumerate(PANEL_COLOURS):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        image[band:, x0:x1] = colour
    return image


def read_frame_index(image: npt.NDArray[np.uint8]) -> int:
    """The index :func:`frame_pattern` drew into ``image`` (tolerates lossy coding)."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    index = 0
    for bit in range(INDEX_BITS):
        x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
        margin_x, margin_y = max(0, (x1 - x0) // 4), max(0, band // 4)
        cell = image[margin_y : band - margin_y, x0 + margin_x : x1 - margin_x]
        if cell.size and float(cell.mean()) > 127:
            index |= 1 << bit
    return index


def panel_colours(image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int]]:
    """The mean colour of each of the three panels, rounded."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    colours = []
    for panel in range(3):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        margin = max(1, (x1 - x0) // 4)
        cell = image[
            band + (height - band) // 4 : height - (height - band) // 4, x0 + margin : x1 - margin
        ]
        mean = cell.reshape(-1, 3).mean(axis=0)
        colours.append((round(mean[0]), round(mean[1]), round(mean[2])))
    return colours


def make_video(
    path: str | os.PathLike[str],
    *,
    frames: int = 10,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    rotation: int | None = None,
    vfr: bool = False,
    content: str = "index",
    output_args: Sequence[str] = (),
) -> Path:
    """Encode a video of ``frames`` frames and return its path.

    ``content="index"`` draws :func:`frame_pattern` (frame truth readable back);
    ``content="testsrc"`` uses ffmpeg's moving ``testsrc2`` pattern (fast to make,
    for benchmarks). ``vfr=True`` gives frame ``i`` the timestamp
    ``(i + (i // 3) / 2) / fps`` (irregular gaps). ``rotation`` stores a display
    rotation in the metadata. The container follows the file extension.
    """
    target = Path(path)
    ffmpeg = bundled_ffmpeg()
    command = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if content == "index":
        command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
        command += ["-r", str(fps), "-i", "pipe:0"]
    elif content == "testsrc":
        command += ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
    else:
        raise ValueError(f"content must be 'index' or 'testsrc', got {content!r}")
    if content == "testsrc":
        command += ["-frames:v", str(frames)]
    if vfr:
        command += ["-vf", f"setpts='(N+floor(N/3)/2)/({fps}*TB)'", "-fps_mode", "passthrough"]
    command += ["-c:v", codec]
    if pix_fmt:
        command += ["-pix_fmt", pix_fmt]
    if gop is not None:
        command += ["-g", str(gop)]
    command += list(output_args)
    command.append(str(target))
    stdin = subprocess.PIPE if content == "index" else subprocess.DEVNULL
    with subprocess.Popen(command, stdin=stdin, stderr=subprocess.PIPE) as process:
        if process.stdin is not None:
            try:
                for index in range(frames):
                    process.stdin.write(frame_pattern(index, width, height).tobytes())
            finally:
                process.stdin.close()
        assert process.stderr is not None
        errors = process.stderr.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {target}: {errors.strip()}")
    if rotation is not None:
        _set_display_rotation(target, rotation)
    return target


def _set_display_rotation(path: Path, rotation: int) -> None:
    """Rewrite ``path`` with a display-matrix rotation (stream copy, no re-encode)."""
    rotated = path.with_name(path.stem + ".rotating" + path.suffix)
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += ["-display_rotation", str(rotation), "-i", str(path), "-c", "copy", str(rotated)]
    subprocess.run(command, check=True, capture_output=True)
    rotated.replace(path)


def write_corrupted_mp4(path: str | os.PathLike[str]) -> Path:
    """The seed's corrupted MP4: an ``ftyp`` header followed by garbage."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42mp41BADBADBADBAD")
    return target


def write_header_only_mp4(path: str | os.PathLike[str]) -> Path:
    """An MP4 ``ftyp`` box and nothing else."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42mp41")
    return target


def write_truncated_mp4(path: str | os.PathLike[str]) -> Path:
    """The seed's truncated MP4 header."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42TRUNCATED")
    return target


def write_random_bytes(path: str | os.PathLike[str], size: int, *, seed: int = 0) -> Path:
    """``size`` seeded random bytes (deterministic for a seed)."""
    target = Path(path)
    target.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return target


def write_truncated_copy(
    source: str | os.PathLike[str], path: str | os.PathLike[str], fraction: float
) -> Path:
    """The first ``fraction`` of ``source``'s bytes, as a new file."""
    data = Path(source).read_bytes()
    target = Path(path)
    target.write_bytes(data[: int(len(data) * fraction)])
    return target
