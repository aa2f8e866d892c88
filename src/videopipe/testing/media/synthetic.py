"""Synthetic videos with known truth, encoded by the one video writer (PyAV).

:func:`make_synthetic_video` renders each frame of a content (see
:mod:`videopipe.testing.media`), encodes it and returns the truth of every frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from videopipe.testing.media.drawing import (
    draw_box,
    draw_qr,
    draw_text,
    qr_side,
    square_box,
)
from videopipe.testing.media.encoding import frame_pts, write_frames, writer_for
from videopipe.testing.media.patterns import frame_pattern
from videopipe.testing.media.truth import (
    RGB,
    FrameTruth,
    SyntheticVideo,
    container_tick,
    frame_timestamp,
)

Image_ = npt.NDArray[np.uint8]

CONTENTS: tuple[str, ...] = ("index", "solid", "moving_square", "qr", "text", "testsrc")
DEFAULT_LABELS = {"qr": "frame-{index}", "text": "FRAME {index}"}


@dataclass(frozen=True)
class _Style:
    width: int
    height: int
    fps: int
    vfr: bool
    tick: float | None
    label: str
    colour: RGB
    background: RGB
    size: int  # square side, QR module or font size, per content


Renderer = Callable[[int, _Style], tuple[Image_, FrameTruth]]


def _canvas(style: _Style, colour: RGB) -> Image_:
    image = np.empty((style.height, style.width, 3), dtype=np.uint8)
    image[...] = colour
    return image


def _render_index(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return frame_pattern(index, style.width, style.height), FrameTruth(index, stamp)


def _render_solid(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return _canvas(style, style.colour), FrameTruth(index, stamp, colour=style.colour)


def _render_square(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, style.background)
    box = draw_box(image, square_box(index, style.width, style.height, style.size), style.colour)
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, colour=style.colour, box=box)


def _render_qr(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, (255, 255, 255))
    payload = style.label.format(index=index)
    side = qr_side(payload, style.size)
    at = ((style.width - side) // 2, (style.height - side) // 2)
    box = draw_qr(image, payload, at=at, module=style.size)
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, box=box, text=payload)


def _render_text(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, (255, 255, 255))
    text = style.label.format(index=index)
    at = (style.width // 16, (style.height - style.size) // 2)
    box = draw_text(image, text, at=at, size=style.size, colour=(0, 0, 0))
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, box=box, text=text)


RENDERERS: dict[str, Renderer] = {
    "index": _render_index,
    "solid": _render_solid,
    "moving_square": _render_square,
    "qr": _render_qr,
    "text": _render_text,
}


def _default_size(content: str, width: int, height: int, label: str, frames: int) -> int:
    if content == "moving_square":
        return max(4, min(width, height) // 5)
    if content == "qr":
        longest = max((label.format(index=i) for i in (0, max(0, frames - 1))), key=len)
        return max(1, min(width, height) * 4 // 5 // (qr_side(longest, 1)))
    if content == "text":
        return max(16, height // 8)
    return 0


def make_synthetic_video(
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
    label: str | None = None,
    colour: RGB = (255, 255, 255),
    background: RGB = (0, 0, 0),
    size: int | None = None,
    output_args: Sequence[str] = (),
) -> SyntheticVideo:
    """Encode a video of ``frames`` frames with known content; return it with its truth.

    ``content`` is one of :data:`CONTENTS` (see the module docstring). ``label`` is
    the per-frame string of ``qr`` (default ``"frame-{index}"``) and ``text`` (default
    ``"FRAME {index}"``), formatted with the frame's ``index``. ``colour`` is the
    ``solid`` frame's or the square's colour, ``background`` the square's background;
    ``size`` is the square's side, the QR module's side or the font size in pixels
    (default: a fifth of the short side, the largest module that fits 80% of it, an
    eighth of the height). ``vfr=True`` gives frame ``i`` the timestamp
    ``(i + i // 6) / fps`` (irregular gaps, see :func:`frame_timestamp`);
    ``rotation`` stores a display rotation in the metadata (the truth's boxes stay in
    stored pixels). The container follows the file extension; ``codec``, ``pix_fmt``,
    ``gop`` and ``output_args`` (``-name value`` pairs) go to the encoder (options that
    drop, add or retime frames would make the truth wrong). An option FFmpeg refuses is
    a ``RuntimeError`` with its message, content that does not fit the frame a
    ``ValueError``; no file is left.
    Timestamps in the truth are rounded to the millisecond for Matroska, WebM and FLV
    files, as those containers store them.
    """
    if content not in CONTENTS:
        raise ValueError(f"content must be one of {', '.join(CONTENTS)}, got {content!r}")
    if frames < 0 or width < 1 or height < 1 or fps < 1:
        raise ValueError(
            f"frames must be >= 0 and width, height, fps >= 1, got "
            f"frames={frames}, width={width}, height={height}, fps={fps}"
        )
    target = Path(path)
    common: dict[str, Any] = {
        "codec": codec,
        "pix_fmt": pix_fmt,
        "gop": gop,
        "fps": fps,
        "output_args": output_args,
        "rotation": rotation,
    }
    if content == "testsrc":
        writer = writer_for(target, width=width, height=height, **common)
        try:
            writer.write_source(
                f"testsrc2=size={width}x{height}:rate={fps}", frames, frame_pts(vfr)
            )
            writer.close()
        except BaseException:
            writer.discard()
            raise
        tick = container_tick(target)
        truth = tuple(
            FrameTruth(i, frame_timestamp(i, fps, vfr=vfr, tick=tick)) for i in range(frames)
        )
    else:
        text = label if label is not None else DEFAULT_LABELS.get(content, "")
        chosen = size if size is not None else _default_size(content, width, height, text, frames)
        if content in ("moving_square", "qr", "text") and chosen < 1:
            raise ValueError(f"size must be >= 1, got {chosen}")
        if content == "moving_square" and chosen > min(width, height):
            raise ValueError(
                f"a square of {chosen} px does not fit a {width}x{height} frame (size=)"
            )
        tick = container_tick(target)
        style = _Style(width, height, fps, vfr, tick, text, colour, background, chosen)
        collected: list[FrameTruth] = []
        write_frames(
            target,
            _rendered(RENDERERS[content], style, frames, collected),
            width=width,
            height=height,
            vfr=vfr,
            **common,
        )
        truth = tuple(collected)
    return SyntheticVideo(target, content, width, height, fps, truth)


def _rendered(
    render: Renderer, style: _Style, frames: int, truth: list[FrameTruth]
) -> Iterator[Image_]:
    for index in range(frames):
        image, frame_truth = render(index, style)
        truth.append(frame_truth)
        yield image


def make_video(path: str | os.PathLike[str], **options: Any) -> Path:
    """Encode a video with known content and return its path.

    Takes :func:`make_synthetic_video`'s options (``frames=10, width=320, height=240,
    fps=25, codec="libx264", pix_fmt="yuv420p", gop=None, rotation=None, vfr=False,
    content="index", output_args=()`` and the content's own); use that function when
    the per-frame truth is wanted too.
    """
    return make_synthetic_video(path, **options).path
