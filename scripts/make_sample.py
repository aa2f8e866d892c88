"""Write examples/sample.mp4, the sample video the README's first command runs on.

Run ``python scripts/make_sample.py [--output PATH]`` (needs ``segno``: the
``testing`` extra). 100 frames of 320x240 at 25 fps, H.264: an orange square bouncing
over a dark blue field on the left (it moves on every frame), and on the right a QR
code whose payload changes every 30 frames (``videopipe-sample-0`` on frames 0-29,
``-1`` on 30-59, ``-2`` on 60-89) and is gone on frames 90-99. :func:`truth` gives
each frame's square box and QR payload; ``tests/test_sample.py`` checks the shipped
file against it through the ``motion`` and ``qr_codes`` pipelines.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from videopipe.testing.media import Box, draw_box, draw_qr, square_box, write_frames

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample.mp4"
WIDTH, HEIGHT, FPS, FRAMES = 320, 240, 25, 100
BACKGROUND = (20, 40, 90)
SQUARE_COLOUR = (255, 140, 0)
SQUARE_SIDE = 48
SQUARE_AREA = (0, 0, 196, HEIGHT)  # the square bounces inside this part of the frame
QR_EVERY = 30  # frames per payload
QR_FRAMES = 90  # frames 0 .. QR_FRAMES - 1 carry a code
QR_MODULE = 3  # pixels per module
QR_AT = (204, 60)  # top-left of the code's quiet zone
ENCODER_ARGS = ("-preset", "slow", "-crf", "12", "-movflags", "+faststart")


@dataclass(frozen=True)
class SampleFrame:
    """What frame ``index`` of the sample shows: the square's box and the QR payload."""

    index: int
    square: Box
    qr: str | None


def qr_payload(index: int) -> str | None:
    """The QR payload drawn on frame ``index`` (``None`` on frames without a code)."""
    return f"videopipe-sample-{index // QR_EVERY}" if index < QR_FRAMES else None


def truth() -> list[SampleFrame]:
    """Every frame's content, in order."""
    x0, y0, x1, y1 = SQUARE_AREA
    frames = []
    for index in range(FRAMES):
        bx1, by1, bx2, by2 = square_box(index, x1 - x0, y1 - y0, SQUARE_SIDE)
        frames.append(
            SampleFrame(index, (bx1 + x0, by1 + y0, bx2 + x0, by2 + y0), qr_payload(index))
        )
    return frames


def images() -> Iterator[npt.NDArray[np.uint8]]:
    """The frames' RGB images."""
    for frame in truth():
        image = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
        image[...] = BACKGROUND
        draw_box(image, frame.square, SQUARE_COLOUR)
        if frame.qr is not None:
            draw_qr(image, frame.qr, at=QR_AT, module=QR_MODULE)
        yield image


def make_sample(path: Path = SAMPLE) -> Path:
    """Write the sample video to ``path``."""
    return write_frames(
        path, images(), width=WIDTH, height=HEIGHT, fps=FPS, output_args=ENCODER_ARGS
    )


def main() -> None:
    """Command line: ``--output PATH`` (default examples/sample.mp4)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SAMPLE)
    written = make_sample(parser.parse_args().output)
    print(f"{written}: {written.stat().st_size} bytes")


if __name__ == "__main__":
    main()
