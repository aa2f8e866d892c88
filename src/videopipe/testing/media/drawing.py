"""Drawing the contents: the moving square, QR codes and text, each with the box it covers."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from videopipe.domain.errors import MissingDependencyError
from videopipe.testing.media.truth import RGB, Box

Image_ = npt.NDArray[np.uint8]


def _bounce(position: int, span: int) -> int:
    """``position`` folded into ``0 .. span`` (a triangle wave: there and back)."""
    if span <= 0:
        return 0
    position %= 2 * span
    return position if position <= span else 2 * span - position


def square_box(index: int, width: int, height: int, size: int) -> Box:
    """Where ``moving_square`` draws its ``size``-pixel square on frame ``index``.

    It moves 4 px right and 3 px down per frame and bounces off the frame's edges, so
    consecutive frames differ whenever the square is smaller than the frame.
    """
    x = _bounce(4 * index, width - size)
    y = _bounce(3 * index, height - size)
    return x, y, x + min(size, width), y + min(size, height)


def draw_box(image: Image_, box: Box, colour: RGB) -> Box:
    """Fill ``box`` of ``image`` (in place) with ``colour``; returns ``box``."""
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = colour
    return box


def _require_segno() -> Any:
    try:
        import segno  # noqa: PLC0415 - optional: the ``testing`` extra
    except ImportError as error:
        raise MissingDependencyError("Drawing QR codes (content='qr')", "testing") from error
    return segno


def qr_modules(payload: str, *, border: int = 4) -> npt.NDArray[np.bool_]:
    """The QR code of ``payload`` (error level M) as modules, ``True`` = dark.

    ``border`` modules of quiet zone surround the symbol. Needs ``segno`` (the
    ``testing`` extra), else :class:`MissingDependencyError`.
    """
    code = _require_segno().make_qr(payload, error="m")
    rows = code.matrix_iter(scale=1, border=border)
    return np.array([[bool(cell) for cell in row] for row in rows], dtype=bool)


def draw_qr(image: Image_, payload: str, *, at: tuple[int, int] = (0, 0), module: int = 4) -> Box:
    """Draw the QR code of ``payload`` (in place) with its top-left quiet zone at ``at``.

    Every module is ``module`` pixels square; the 4-module quiet zone is white. Returns
    the symbol's box (without the quiet zone). The code must fit inside the image.
    """
    modules = qr_modules(payload)
    pixels = np.where(np.kron(modules, np.ones((module, module), dtype=bool)), 0, 255)
    x, y = at
    side = pixels.shape[0]
    if x < 0 or y < 0 or x + side > image.shape[1] or y + side > image.shape[0]:
        raise ValueError(
            f"a QR code of {side}x{side} px at {at} does not fit a "
            f"{image.shape[1]}x{image.shape[0]} frame"
        )
    image[y : y + side, x : x + side] = pixels[..., None].astype(np.uint8)
    quiet = 4 * module
    return x + quiet, y + quiet, x + side - quiet, y + side - quiet


def qr_side(payload: str, module: int) -> int:
    """The side in pixels of :func:`draw_qr`'s code for ``payload`` (quiet zone included)."""
    return int(qr_modules(payload).shape[0]) * module


@lru_cache(maxsize=8)
def text_font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font at ``size`` px (ships with Pillow >= 10.1)."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("this Pillow was built without FreeType: no scalable font for text")
    return font


def draw_text(
    image: Image_,
    text: str,
    *,
    at: tuple[int, int] = (0, 0),
    size: int = 24,
    colour: RGB = (0, 0, 0),
) -> Box:
    """Draw ``text`` (in place) with its top-left at ``at``; returns the box of its ink."""
    font = text_font(size)
    alone = Image.new("L", (image.shape[1], image.shape[0]), 0)
    draw = ImageDraw.Draw(alone)
    left, top, right, bottom = draw.textbbox(at, text, font=font)
    if left < 0 or top < 0 or right > image.shape[1] or bottom > image.shape[0]:
        raise ValueError(
            f"text {text!r} at {at} in {size} px ({right - left}x{bottom - top} px) does not "
            f"fit a {image.shape[1]}x{image.shape[0]} frame"
        )
    draw.text(at, text, font=font, fill=255)
    coverage = np.asarray(alone, dtype=np.uint16)
    ink = coverage > 0
    if not ink.any():
        raise ValueError(f"text {text!r} draws no ink")
    colour_array = np.array(colour, dtype=np.uint16)
    blended = (image * (255 - coverage[..., None]) + colour_array * coverage[..., None]) // 255
    image[...] = blended.astype(np.uint8)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1
