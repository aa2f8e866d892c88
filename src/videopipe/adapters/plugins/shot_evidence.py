"""The evidence of a shot boundary ending on a frame, from the signatures of the frames before.

Everything here is a function of a window of :class:`Signature` values (oldest first,
the frame being judged last), so a detector built on it needs no state of its own:

- **content distance** ``1 - NCC`` of two luma grids, ignoring saturated cells: 0 for
  the same picture under any brightness and contrast (a flash, a fade), about 1 for
  unrelated pictures;
- **hard cut**: a large distance to the previous frame, also once a camera move of a
  few grid cells is undone, that is not an interruption (the frame matches one a few
  frames back: a flash or a strobe ended), not a flash starting (everything brighter,
  nothing darker: judged one frame later), and not a partial change (much of the
  textured picture kept: a damaged frame, an overlay);
- **fade**: the first frame with content after flat ones (black, white), differing
  from the last one with content before them (a cut to a plain grey frame is told by
  its level);
- **dissolve**: the frames between an earlier anchor and this one are blends of the
  two (twin comparison tightened: a small residual, blend weights rising without a jump).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from videopipe.adapters.plugins.shot_features import SATURATED, Signature

FLAT_SPREAD = 6.0
"""A frame whose luma grid varies less than this (std) is flat: black, white or a wash."""
DARK_LEVEL = 24.0
"""Frames darker than this before a new shot make it a fade (else a cut past a flat frame)."""
RETURN_LAGS = (2, 3, 4)
"""How far back a frame may match to make the frames in between an interruption."""
FLASH_DARKER = 0.03
"""A flash darkens at most this fraction of the grid cells (a cut darkens more)."""
ANCHOR_SPREAD = 8.0
"""A dissolve's first and last frames vary at least this much (dim frames are too noisy)."""
GREY_LEVEL, GREY_JUMP = 160.0, 32.0
"""A featureless frame up to ``GREY_LEVEL`` whose level differs by ``GREY_JUMP`` from the
frame before starts a new shot (brighter ones may be a flash, darker ones a fade)."""
UNCHANGED, KEPT_LEVELS = 0.3, 8.0
"""A step is no cut when this share of the lit cells changed by less than ``KEPT_LEVELS``."""
PREFILTER = 0.7
"""A dissolve's anchors are looked at only when their plain distance exceeds this share
of the threshold (saturation can raise the exact one above the plain one, not much)."""
FLASH_RISE = 20.0
"""A flash brightens the frame's mean luma by more than this."""

SHIFTS = (4, 2)
"""How far (grid cells: columns, rows) a camera move between two frames is undone."""
_SHIFT_ORDER = sorted(
    (
        (dx, dy)
        for dx in range(-SHIFTS[0], SHIFTS[0] + 1)
        for dy in range(-SHIFTS[1], SHIFTS[1] + 1)
    ),
    key=lambda shift: abs(shift[0]) + abs(shift[1]),
)

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one frame shows: ``kind`` of a boundary ending here (or None) and its score."""

    kind: str | None
    score: float
    distance: float


def change(first: Signature, second: Signature) -> float:
    """The content distance of two frames: by their pictures when their bars agree.

    Without clipped pixels it is the plain correlation of the two patterns (the same
    value as :func:`distance`, one dot product).
    """
    same = first.area == second.area
    if first.saturated or second.saturated:
        if same:
            return distance(first.grid, second.grid)
        return distance(first.whole, second.whole)
    one, two = (
        (first.pattern, second.pattern) if same else (first.whole_pattern, second.whole_pattern)
    )
    norm = float(np.sqrt(float(one @ one) * float(two @ two)))
    if norm < 1e-3:
        return distance(first.grid, second.grid) if same else distance(first.whole, second.whole)
    return 1.0 - float(one @ two) / norm


def partial(first: Signature, second: Signature) -> bool:
    """Whether :data:`UNCHANGED` or more of the lit, textured grid cells kept their value.

    A new shot leaves almost none as they were (at most 0.16 on the evaluation set); a
    damaged frame (a band lost in decoding) or an overlay leaves much of the picture
    (0.37-0.39 on ``Megamind_bugy.avi``). Plain cells (a sky, a wall) are not counted:
    two shots may share one.
    """
    same = first.area == second.area
    one, two = (first.grid, second.grid) if same else (first.whole, second.whole)
    counted = ((one > DARK_LEVEL) | (two > DARK_LEVEL)) & (_textured(one) | _textured(two))
    count = int(counted.sum())
    if count < counted.size // 4:
        return False
    kept = int((counted & (np.abs(one - two) < KEPT_LEVELS)).sum())
    return kept >= UNCHANGED * count


def _textured(grid: Floats) -> npt.NDArray[np.bool_]:
    """Cells that differ from a neighbour by more than :data:`KEPT_LEVELS` (not plain)."""
    across = np.abs(np.diff(grid, axis=1)) > KEPT_LEVELS
    down = np.abs(np.diff(grid, axis=0)) > KEPT_LEVELS
    textured = np.zeros(grid.shape, bool)
    textured[:, 1:] |= across
    textured[:, :-1] |= across
    textured[1:] |= down
    textured[:-1] |= down
    return textured


def moved(first: Signature, second: Signature, below: float) -> float:
    """The content distance once the camera's move (a pan, a shake) is undone.

    The least over shifts of up to :data:`SHIFTS` grid cells of the distance between
    the overlapping parts, over their textured cells (a plain sky or wall that two
    shots share would line up for some shift); stops at the first shift under ``below``.
    """
    same = first.area == second.area
    one, two = (first.grid, second.grid) if same else (first.whole, second.whole)
    texture_one, texture_two = _textured(one), _textured(two)
    rows, cols = one.shape
    best = 2.0
    for dx, dy in _SHIFT_ORDER:
        a_part = max(0, dy), rows + min(0, dy), max(0, dx), cols + min(0, dx)
        b_part = max(0, -dy), rows + min(0, -dy), max(0, -dx), cols + min(0, -dx)
        a = one[a_part[0] : a_part[1], a_part[2] : a_part[3]]
        b = two[b_part[0] : b_part[1], b_part[2] : b_part[3]]
        textured = (
            texture_one[a_part[0] : a_part[1], a_part[2] : a_part[3]]
            | texture_two[b_part[0] : b_part[1], b_part[2] : b_part[3]]
        )
        best = min(best, distance(a, b, textured))
        if best < below:
            break
    return best


def distance(first: Floats, second: Floats, among: npt.NDArray[np.bool_] | None = None) -> float:
    """``1 - NCC`` of two luma grids over the cells saturated in neither (0 .. 2).

    ``among`` narrows the cells further (when at least a quarter of them remain).
    """
    keep = (first < SATURATED) & (second < SATURATED)
    if among is not None and (keep & among).sum() >= keep.size // 4:
        keep &= among
    if keep.sum() < keep.size // 4:
        keep = np.ones_like(keep)
    a = first[keep] - first[keep].mean()
    b = second[keep] - second[keep].mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if norm < 1e-3:
        return 0.0 if float(np.abs(a - b).max(initial=0.0)) < 1.0 else 1.0
    return 1.0 - float((a * b).sum()) / norm


def unlit(value: Signature) -> bool:
    """Flat (black, white, a wash): no content to compare."""
    return value.spread < FLAT_SPREAD


def flash_onset(before: Signature, after: Signature) -> bool:
    """``after`` is ``before`` lit up: much brighter on average, darker almost nowhere.

    Not after a dark frame: a cut from a dark shot to a bright one looks the same, and
    is more common than a flash that changes a dark picture's structure.
    """
    if after.level - before.level <= FLASH_RISE or before.level < DARK_LEVEL:
        return False
    darker = float(np.mean(after.grid < before.grid - 8.0))
    return darker < FLASH_DARKER


def _returned(window: Sequence[Signature], threshold: float) -> bool:
    """The newest frame matches a lit frame 2..4 back: what came between interrupted."""
    newest = window[-1]
    return any(
        lag < len(window)
        and not unlit(window[-1 - lag])
        and change(window[-1 - lag], newest) < threshold / 2
        for lag in RETURN_LAGS
    )


def hard_cut(window: Sequence[Signature], threshold: float) -> Evidence:
    """A cut ending on the newest frame (or just before it, after a flash-like onset)."""
    newest, previous = window[-1], window[-2]
    if unlit(previous) or unlit(newest):
        grey = not unlit(previous) and grey_cut(previous, newest)
        return Evidence("cut", 1.0, 1.0) if grey else Evidence(None, 0.0, 0.0)
    step = change(previous, newest)
    if step > threshold and not partial(previous, newest):
        step = min(step, moved(previous, newest, threshold))
    elif step > threshold:
        step = threshold  # much of the picture stayed: damage, an overlay, not a new shot
    if step > threshold and not _returned(window, threshold):
        if not flash_onset(previous, newest):
            return Evidence("cut", step, step)
        return Evidence(None, step, step)  # judged on the next frame
    if len(window) >= 3 and not unlit(window[-3]) and flash_onset(window[-3], previous):
        # the previous frame lit up: a cut if it stayed, a flash if it went back
        late = change(window[-3], previous)
        stayed = step <= threshold and change(window[-3], newest) > threshold / 2
        if late > threshold and stayed:
            return Evidence("cut", late, step)
    return Evidence(None, step, step)


def grey_cut(before: Signature, after: Signature) -> bool:
    """A cut to a featureless frame, neither black (a fade) nor bright (a flash).

    Told by the level alone: it jumps by more than :data:`GREY_JUMP`.
    """
    return DARK_LEVEL <= after.level <= GREY_LEVEL and abs(after.level - before.level) > GREY_JUMP


def fade(window: Sequence[Signature], threshold: float, full: bool) -> Evidence:
    """The first lit frame after unlit ones, showing other content than the last lit one.

    With no lit frame before the dark ones in the window, the window must be ``full``
    (not the start of the video) for the frame to start a new shot.
    """
    newest = window[-1]
    if unlit(newest) or not unlit(window[-2]):
        return Evidence(None, 0.0, 0.0)
    lit = [position for position, value in enumerate(window[:-2]) if not unlit(value)]
    if not lit:
        return Evidence("fade", 1.0, 1.0) if full else Evidence(None, 0.0, 0.0)
    before = window[lit[-1]]
    if grey_cut(before, window[lit[-1] + 1]):  # the cut was reported when the run began
        return Evidence(None, 0.0, 0.0)
    change_ = change(before, newest)
    if change_ > threshold:
        dark = any(value.level < DARK_LEVEL for value in window[:-1])
        return Evidence("fade" if dark else "cut", change_, change_)
    return Evidence(None, change_, change_)


def dissolve(
    window: Sequence[Signature], lags: Sequence[int], threshold: float, residual: float
) -> Evidence:
    """A dissolve from a frame ``lag`` back to the newest one, for the first lag that fits.

    The frames in between must be blends of the two anchors (each within ``residual``
    of the line between them, relative to the anchors' difference, brightness and
    contrast removed), with blend weights that rise without a jump (a hard cut between
    the anchors is a jump). Anchors must have content (``ANCHOR_SPREAD``).
    """
    newest = window[-1]
    count = len(window)
    if newest.spread < ANCHOR_SPREAD or count < 3:
        return Evidence(None, 0.0, 0.0)
    whole = any(value.area != newest.area for value in window)
    patterns = np.stack([value.whole_pattern if whole else value.pattern for value in window])
    # every projection below is a combination of dot products (matrix-vector products:
    # a matrix-matrix one starts BLAS threads, slower at this size)
    last = count - 1
    to_last = patterns @ patterns[last]
    # a cheap first look: the plain correlation with the newest frame; a lag goes on to
    # the exact (saturation-aware) distance and the blend fit only if it is far enough
    energy = np.einsum("ij,ij->i", patterns, patterns)
    plain = 1.0 - to_last / np.sqrt(np.maximum(energy * energy[last], 1e-6))
    lit = [not unlit(value) for value in window]
    for lag in lags:
        if lag >= count:
            break
        first = last - lag
        if plain[first] <= PREFILTER * threshold:
            continue
        if window[first].spread < ANCHOR_SPREAD or not all(lit[first:]):
            continue
        between = change(window[first], newest)
        if between <= threshold:
            continue
        to_first = patterns[first + 1 : last] @ patterns[first]
        power = energy[last] + energy[first] - 2 * to_last[first]
        along = to_last[first + 1 : last] - to_first - to_last[first] + energy[first]
        weights = along / power
        squared = energy[first + 1 : last] + energy[first] - 2 * to_first
        worst = float(np.sqrt(max(0.0, float((squared - weights * along).max())) / power))
        steps = np.diff(np.concatenate(([0.0], weights, [1.0])))
        if worst < residual and steps.max() < 0.5 and steps.min() > -0.15:
            return Evidence("dissolve", between, between)
    return Evidence(None, 0.0, 0.0)
