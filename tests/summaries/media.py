"""Videos whose summaries are known: QR payloads shown on known frames, a square that
moves on known frames, shots cut on known frames; and the truth computed from the plan.

:func:`intervals` is the reference: a plain, list-based computation of the intervals a
set of frames gives over the processed frames (what the streaming reducers must match).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videopipe.testing.media import draw_qr, frame_timestamp, qr_side, write_frames

FPS = 25
FRAMES = 40

QR_SHOWN = {
    "alpha": frozenset([*range(4, 12), *range(13, 20)]),  # one frame's gap, at 12
    "beta": frozenset(range(10, 30)),
}
"""Payload -> the frames it is drawn on."""

MOVES = frozenset([*range(10, 20), *range(30, 35)])
"""The frames on which the square has moved since the frame before (motion)."""

CUTS = (12, 27)
"""The frames that start a new shot (after frame 0)."""


@dataclass(frozen=True)
class Made:
    """A made video: its path and every frame's timestamp."""

    path: Path
    timestamps: tuple[float, ...]


def _write(path: Path, frames: Iterable[np.ndarray], width: int, height: int) -> Made:
    write_frames(path, frames, width=width, height=height, fps=FPS, gop=8)
    return Made(path, tuple(frame_timestamp(i, FPS) for i in range(FRAMES)))


def qr_video(path: Path) -> Made:
    """256x128: ``alpha`` at the left and ``beta`` at the right, on :data:`QR_SHOWN`."""
    width, height, module = 256, 128, 4

    def frames() -> Iterable[np.ndarray]:
        for index in range(FRAMES):
            image = np.full((height, width, 3), 255, dtype=np.uint8)
            for slot, (payload, shown) in enumerate(QR_SHOWN.items()):
                if index in shown:
                    top = (height - qr_side(payload, module)) // 2
                    draw_qr(image, payload, at=(4 + slot * 128, top), module=module)
            yield image

    return _write(path, frames(), width, height)


def square_video(path: Path) -> Made:
    """160x120: a white square on black that moves 6 px on each frame of :data:`MOVES`."""
    width, height, side = 160, 120, 24

    def frames() -> Iterable[np.ndarray]:
        x = 4
        for index in range(FRAMES):
            x += 6 if index in MOVES else 0
            image = np.zeros((height, width, 3), dtype=np.uint8)
            image[48 : 48 + side, x : x + side] = 255
            yield image

    return _write(path, frames(), width, height)


def shots_video(path: Path) -> Made:
    """160x96: three still textured shots, cut at :data:`CUTS`.

    Each shot has its own texture (what ``shot_boundary`` compares) in its own range
    of brightness (what ``scene_change``'s luma histograms compare), darker at each
    cut: a cut to a brighter shot could be a flash starting, which ``shot_boundary``
    reports one frame late.
    """
    width, height = 160, 96
    generator = np.random.default_rng(15)
    blocks = np.ones((8, 8, 1))
    shots = [
        np.kron(generator.integers(low, low + 80, (height // 8, width // 8, 3)), blocks).astype(
            np.uint8
        )
        for low in (175, 90, 0)  # darker at each cut: no flash to wait out
    ]

    def frames() -> Iterable[np.ndarray]:
        for index in range(FRAMES):
            yield shots[sum(index >= cut for cut in CUTS)]

    return _write(path, frames(), width, height)


def motion_frames(processed: Sequence[int]) -> set[int]:
    """The processed frames with motion: the square moved since the previous processed one."""
    return {
        index
        for before, index in itertools.pairwise(processed)
        if MOVES & set(range(before + 1, index + 1))
    }


def intervals(
    seen: Iterable[int], processed: Sequence[int], times: Sequence[float], max_gap: int = 0
) -> list[dict[str, float | int]]:
    """The intervals of ``seen`` frames over the ``processed`` ones, joined across gaps."""
    shown = set(seen)
    positions = [position for position, index in enumerate(processed) if index in shown]
    runs: list[list[int]] = []
    for position in positions:
        if runs and position - runs[-1][-1] - 1 <= max_gap:
            runs[-1].append(position)
        else:
            runs.append([position])
    return [
        {
            "first_frame": processed[run[0]],
            "last_frame": processed[run[-1]],
            "start_time": times[processed[run[0]]],
            "end_time": times[processed[run[-1]]],
        }
        for run in runs
    ]


def scenes(processed: Sequence[int], times: Sequence[float]) -> list[dict[str, float | int]]:
    """The scene list over the processed frames: a scene starts at 0 and at each cut."""
    starts = [0, *CUTS]
    groups: list[list[int]] = [[] for _ in starts]
    for index in processed:
        groups[sum(index >= start for start in starts) - 1].append(index)
    return [
        {
            "first_frame": group[0],
            "last_frame": group[-1],
            "start_time": times[group[0]],
            "end_time": times[group[-1]],
        }
        for group in groups
        if group
    ]
