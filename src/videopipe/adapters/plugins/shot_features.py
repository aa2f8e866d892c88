"""A frame's shot signature: a small luma grid of its picture area.

Cheap by design (well under a millisecond at 1080p): the frame is sampled with a
stride, never converted whole, so a frame that arrives already small is not shrunk
again. It reads an RGB frame or, cheaper, a luma (gray) one: the video's own Y plane
with its black and white levels, which the decoder hands out without an RGB
conversion. Black letterbox or pillarbox bars are cut off before the grid is sampled,
so two letterboxed shots compare by their pictures, not by their shared bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

GRID = (18, 32)
"""Rows and columns of the luma grid every signature has, whatever the frame size."""
BAR_LEVEL = 16
"""A row or column of the sampled frame is a letterbox bar when its brightest value is below."""
LIT_LEVEL = 48
"""Bars are cut only when what remains is this bright on average: in a dark frame, black
rows are more likely the picture's own shadows."""

SATURATED = 250.0
"""Luma at which a sampled pixel counts as clipped (a flash): compared without it."""
LUMA = np.array([0.299, 0.587, 0.114], np.float32)

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Signature:
    """What the boundary detector compares between frames.

    ``grid``: luma (0..255) sampled on :data:`GRID` over the picture area;
    ``whole``: the same over the whole frame (to compare frames whose bars differ);
    ``area``: the picture area (top, bottom, left, right) in sampled pixels;
    ``pattern``, ``whole_pattern``: ``grid`` and ``whole`` flattened to zero mean and
    unit spread (brightness and contrast removed);
    ``level``, ``spread``: the mean and standard deviation of ``grid``;
    ``saturated``: some sampled pixel is at :data:`SATURATED` or above.
    """

    grid: Floats
    whole: Floats
    area: tuple[int, int, int, int]
    pattern: Floats
    whole_pattern: Floats
    level: float
    spread: float
    saturated: bool


def sample(
    image: npt.NDArray[np.uint8], rows: int, luma_range: tuple[int, int] = (0, 255)
) -> Floats:
    """The luma of ``image`` sampled down to about ``rows``..``2*rows`` rows (float32, 0..255).

    ``image`` is RGB ``(H, W, 3)`` or luma ``(H, W)`` whose black and white are
    ``luma_range`` (limited-range video: 16 and 235), brought to 0..255 as an RGB
    conversion would. A stride picks one pixel of each ``s x s`` block, then
    neighbouring 2x2 samples are averaged (a frame smaller than ``2*rows`` rows is used
    as it is: no second shrink).
    """
    height, width = image.shape[:2]
    stride = max(1, min(height, width) // (2 * rows))
    strided = image[::stride, ::stride]
    picked: Floats = strided.astype(np.float32) if image.ndim == 2 else strided @ LUMA
    if stride > 1 or min(height, width) >= 2 * rows:
        even_h, even_w = picked.shape[0] // 2 * 2, picked.shape[1] // 2 * 2
        blocks = picked[:even_h, :even_w].reshape(even_h // 2, 2, even_w // 2, 2)
        picked = blocks.mean(axis=(1, 3), dtype=np.float32)
    if image.ndim == 2 and tuple(luma_range) != (0, 255):
        black, white = luma_range
        picked = np.clip((picked - black) * (255.0 / (white - black)), 0.0, 255.0)
    return picked


def picture_area(small: Floats) -> tuple[slice, slice]:
    """The rows and columns of a luma image left once black bars at the edges are cut off.

    Bars are cut only when at least a third of the rows (columns) stay and the rest is
    lit (:data:`LIT_LEVEL`); otherwise the whole frame is the picture.
    """
    full = slice(0, small.shape[0]), slice(0, small.shape[1])
    row_peaks, col_peaks = small.max(axis=1), small.max(axis=0)
    if min(row_peaks[0], row_peaks[-1], col_peaks[0], col_peaks[-1]) >= BAR_LEVEL:
        return full  # lit to every edge: no bars (the common case, checked first)
    bright_rows = np.flatnonzero(row_peaks >= BAR_LEVEL)
    bright_cols = np.flatnonzero(col_peaks >= BAR_LEVEL)
    rows, cols = full
    if bright_rows.size * 3 >= small.shape[0]:
        rows = slice(int(bright_rows[0]), int(bright_rows[-1]) + 1)
    if bright_cols.size * 3 >= small.shape[1]:
        cols = slice(int(bright_cols[0]), int(bright_cols[-1]) + 1)
    if (rows, cols) != full and small[rows, cols].mean() < LIT_LEVEL:
        return full
    return rows, cols


def signature(
    image: npt.NDArray[np.uint8], rows: int = GRID[0], luma_range: tuple[int, int] = (0, 255)
) -> Signature:
    """The :class:`Signature` of an RGB or luma uint8 frame (see :func:`sample`)."""
    small = sample(image, rows, luma_range)
    area_rows, area_cols = picture_area(small)
    whole = _grid(small)
    area = (area_rows.start, area_rows.stop, area_cols.start, area_cols.stop)
    if area == (0, small.shape[0], 0, small.shape[1]):
        grid = whole
    else:
        grid = _grid(small[area_rows, area_cols])
    pattern, level, spread = _pattern(grid)
    whole_pattern = pattern if grid is whole else _pattern(whole)[0]
    saturated = bool(small.max() >= SATURATED)
    return Signature(grid, whole, area, pattern, whole_pattern, level, spread, saturated)


def _pattern(grid: Floats) -> tuple[Floats, float, float]:
    """``grid`` flattened to zero mean and unit spread (a flat grid: zeros), mean, spread."""
    level = float(grid.mean())
    flat = grid.ravel() - level
    spread = float(np.sqrt(float(flat @ flat) / flat.size))
    pattern: Floats = flat / max(spread, 1.0)
    return pattern, level, spread


def _grid(picture: Floats) -> Floats:
    """``picture`` sampled on :data:`GRID` cell centres (itself when it has that size)."""
    if picture.shape == GRID:
        return picture
    grid: Floats = picture[_positions(picture.shape[0], GRID[0])[:, None], _columns(picture)]
    return grid


def _columns(picture: Floats) -> npt.NDArray[np.intp]:
    return _positions(picture.shape[1], GRID[1])[None, :]


@lru_cache(maxsize=64)
def _positions(length: int, count: int) -> npt.NDArray[np.intp]:
    """``count`` evenly spread indices into ``length`` (cell centres)."""
    return ((np.arange(count) + 0.5) * length / count).astype(np.intp)
