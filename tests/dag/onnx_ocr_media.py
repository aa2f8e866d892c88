"""Frames with rendered words whose place is known, and an H.264 video of them."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg

INK_BELOW = 90
"""A pixel is ink when its channel mean is under this (black text on white)."""


@dataclass(frozen=True)
class Word:
    """A word drawn at ``origin`` (Pillow's text anchor) and the box of its ink."""

    text: str
    origin: tuple[int, int]
    ink: tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive), frame pixels


def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font (Pillow >= 10.1 with FreeType), else skip the test."""
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        pytest.skip("Pillow was built without FreeType: no scalable font to render words")
    return loaded


def ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding box of the dark pixels of ``image`` (exclusive far edges)."""
    ink = image.mean(axis=2) < INK_BELOW
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def render_words(
    placed: list[tuple[str, tuple[int, int]]],
    *,
    size: tuple[int, int] = (320, 240),
    font_size: int = 32,
) -> tuple[np.ndarray, list[Word]]:
    """A white RGB frame with each word drawn in black at its origin, and the words' ink."""
    typeface = font(font_size)
    canvas = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    words = []
    for text, origin in placed:
        alone = Image.new("RGB", size, (255, 255, 255))
        ImageDraw.Draw(alone).text(origin, text, font=typeface, fill=(0, 0, 0))
        words.append(Word(text, origin, ink_box(np.asarray(alone))))
        draw.text(origin, text, font=typeface, fill=(0, 0, 0))
    return np.asarray(canvas), words


def write_h264(path: Path, frames: list[np.ndarray], *, fps: int = 5) -> Path:
    """Encode RGB ``frames`` as an H.264 (yuv420p) video with the bundled ffmpeg."""
    height, width = frames[0].shape[:2]
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    command += ["-r", str(fps), "-i", "pipe:0", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    command.append(str(path))
    data = b"".join(np.ascontiguousarray(frame, dtype=np.uint8).tobytes() for frame in frames)
    subprocess.run(command, input=data, check=True, capture_output=True)
    return path


def normalise(text: str) -> str:
    """Case and whitespace folded: how recognised words are compared with the truth."""
    return "".join(text.split()).casefold()
