"""What a synthetic video holds: each frame's index, timestamp and drawing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
"""``(x1, y1, x2, y2)`` in frame pixels, ``x2``/``y2`` exclusive."""


@dataclass(frozen=True)
class FrameTruth:
    """What frame ``index`` of a synthetic video shows.

    ``timestamp``: its presentation time in seconds (rounded to the microsecond, as the
    decoders give it). ``colour``: the solid colour (``solid``) or the square's
    (``moving_square``). ``box``: where the square, the QR symbol (without its quiet
    zone) or the text's ink is. ``text``: the QR payload or the rendered text.
    Boxes are in the stored frame's pixels (before any ``rotation`` metadata).
    """

    index: int
    timestamp: float
    colour: RGB | None = None
    box: Box | None = None
    text: str | None = None


@dataclass(frozen=True)
class SyntheticVideo:
    """A video written by :func:`make_synthetic_video`, with the truth of every frame.

    It is path-like (``os.fspath(video)`` and ``str(video)`` are ``str(video.path)``),
    so it can be passed wherever videopipe takes a path.
    """

    path: Path
    content: str
    width: int
    height: int
    fps: int
    frames: tuple[FrameTruth, ...]

    @property
    def frame_count(self) -> int:
        """How many frames the file holds."""
        return len(self.frames)

    @property
    def timestamps(self) -> list[float]:
        """Every frame's presentation time, in order."""
        return [frame.timestamp for frame in self.frames]

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


MILLISECOND_CONTAINERS = frozenset({".mkv", ".webm", ".flv"})
"""Containers that store timestamps in milliseconds."""


def frame_timestamp(index: int, fps: int, *, vfr: bool = False, tick: float | None = None) -> float:
    """The timestamp :func:`make_video` gives frame ``index``, in seconds.

    ``index / fps``; with ``vfr``, ``(index + index // 6) / fps``: from frame 6 on,
    every sixth frame comes one frame period late (the ``pts`` written in a ``1/fps``
    time base).
    ``tick``: the container's time unit (``0.001`` for Matroska, WebM and FLV) the time
    is rounded to. Rounded to the microsecond, as the decoders give it.
    """
    ticks = index + index // 6 if vfr else index
    seconds = ticks / fps
    if tick:
        seconds = round(seconds / tick) * tick
    return round(seconds, 6)


def container_tick(path: Path) -> float | None:
    """The time unit of ``path``'s container when it is coarser than the frame rate's."""
    return 0.001 if path.suffix.lower() in MILLISECOND_CONTAINERS else None
