"""What every decoder must give for a file, derived from the ffmpeg CLI's reference decode.

One definition of a frame's timestamp: FFmpeg's best-effort presentation time of the
frame (what ``ffmpeg -fps_mode passthrough`` with ``showinfo`` prints), in seconds from
the stream's first frame, strictly increasing. So:

- a healthy file: every frame the CLI decodes, in its order, at index 0, 1, 2, ...,
  each timestamp within :data:`TIMESTAMP_TOLERANCE` of the CLI's, the same pixels;
- a file whose best-effort timestamps go back or repeat (OpenCV's ``box.mp4``: B-frames
  without composition offsets): the frames before the first such frame, then a
  :class:`VideoDecodeError` saying which frame's timestamp is not after its predecessor's
  (never a silently wrong timestamp);
  OpenCV's capture, which gives no timestamps, cannot take them from such a file's
  packets either: the opencv decoder refuses it when it is opened, naming pyav;
- a truncated file (its index declares frames it does not store): the frames it stores,
  each at the index its timestamp gives (a frame lost at the cut shifts no other), then
  the sentence every decoder gives for a file that ends early.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.conformance.quirks import TRUNCATED_FRACTION
from tests.conformance.reference import Reference

TIMESTAMP_TOLERANCE = 1e-6
"""Seconds: decoders round timestamps to 1 us; the reference is exact."""

PIXEL_TOLERANCE = 0
"""Largest per-channel difference allowed from the CLI's RGB24 pixels, on every decoder.

Measured 0 on every file for all three decoders (OpenCV's FFmpeg backend converts
to BGR24 with the same swscale defaults as the CLI, and the adapter swaps channels
losslessly), so the suite demands bit-exact frames everywhere.
"""

TRUNCATED_RATE = 25
"""The truncated quirk file's frame rate: its frame ``i`` is shown at ``i / 25`` s."""

TRUNCATED_TAIL = 3
"""Frames a decoder may lose at the cut of the truncated file (bf=2 in its reorder
buffer, and the frame whose packet is partial) beyond those the CLI decodes."""

ENDS_EARLY = r"the video ends before the frames its index declares \(\d+ of \d+ frames were read\)"
NOT_INCREASING = r"frame \d+'s timestamp .* is not after frame \d+'s"
REFUSED = r"OpenCV's capture gives no frame timestamps .*; decode it with the pyav decoder"


@dataclass(frozen=True)
class Expected:
    """The frames a decoder must yield and how its read must end."""

    frames: tuple[tuple[int, float, str], ...]
    """``(index, timestamp, pixel digest)`` in order."""
    error: str | None
    """A regular expression the error must match; None: a clean end."""
    refused: bool = False
    """The error is a refusal when the file is opened (a VideoReadError), not a decode error."""
    may_lose_tail: int = 0
    """How many of the last expected frames a decoder may leave out before ``error``."""

    def every(self, step: int) -> Expected:
        """The frames a read of every ``step``-th frame gives."""
        frames = tuple(item for item in self.frames if item[0] % step == 0)
        return Expected(frames, self.error, self.refused, self.may_lose_tail)


def expected_for(name: str, reference: Reference, decoder: str) -> Expected:
    """What a decoder must give for the file ``name``; see the module docstring."""
    rows = tuple(zip(range(reference.count), reference.timestamps, reference.digests, strict=True))
    if name == "truncated_faststart":
        assert TRUNCATED_FRACTION < 1
        frames = tuple((round(t * TRUNCATED_RATE), t, d) for _, t, d in rows)
        return Expected(frames, ENDS_EARLY, may_lose_tail=TRUNCATED_TAIL)
    pts = reference.pts
    for position in range(1, len(pts)):
        if pts[position] <= pts[position - 1]:
            if decoder == "opencv":
                return Expected((), REFUSED, refused=True)
            return Expected(rows[:position], NOT_INCREASING)
    return Expected(rows, None)
