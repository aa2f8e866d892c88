"""Media with known truth, for tests and benchmarks, written by the one video writer.

:func:`make_synthetic_video` writes a video and returns a :class:`SyntheticVideo`:
its path, size, frame rate, frame count and, per frame, a :class:`FrameTruth` (index,
timestamp and what was drawn where). Contents:

- ``index``: frame ``i`` carries ``i`` in a band of black/white blocks
  (:func:`read_frame_index` reads it back through lossy coding) over three solid colour
  panels (red, green, blue, left to right) that reveal a swapped channel order;
- ``solid``: one colour over the whole frame;
- ``moving_square``: a square bouncing over a background (:func:`square_box`);
- ``qr``: a QR code per frame whose payload is known (needs ``segno``: the
  ``testing`` extra);
- ``text``: a line of text per frame, drawn with Pillow's own scalable font;
- ``testsrc``: ffmpeg's moving ``testsrc2`` pattern (fast to make, for benchmarks).

:func:`make_video` is the same returning only the path. The corrupt-file writers
(:func:`write_corrupt_file` and the ``write_*`` functions) reproduce the seed
contract's inputs and truncate real videos.

Modules: :mod:`.patterns` (the ``index`` frames), :mod:`.truth`, :mod:`.drawing`,
:mod:`.encoding`, :mod:`.synthetic`, :mod:`.corrupt`.
"""

from videopipe.testing.media.corrupt import (
    CORRUPT_KINDS,
    write_corrupt_file,
    write_corrupted_mp4,
    write_header_only_mp4,
    write_random_bytes,
    write_truncated_copy,
    write_truncated_mp4,
    write_truncated_video,
)
from videopipe.testing.media.drawing import (
    draw_box,
    draw_qr,
    draw_text,
    qr_modules,
    qr_side,
    square_box,
    text_font,
)
from videopipe.testing.media.encoding import write_frames
from videopipe.testing.media.patterns import (
    INDEX_BITS,
    PANEL_COLOURS,
    frame_pattern,
    panel_colours,
    read_frame_index,
)
from videopipe.testing.media.synthetic import (
    CONTENTS,
    DEFAULT_LABELS,
    RENDERERS,
    make_synthetic_video,
    make_video,
)
from videopipe.testing.media.truth import (
    MILLISECOND_CONTAINERS,
    RGB,
    Box,
    FrameTruth,
    SyntheticVideo,
    container_tick,
    frame_timestamp,
)

__all__ = [
    "CONTENTS",
    "CORRUPT_KINDS",
    "DEFAULT_LABELS",
    "INDEX_BITS",
    "MILLISECOND_CONTAINERS",
    "PANEL_COLOURS",
    "RENDERERS",
    "RGB",
    "Box",
    "FrameTruth",
    "SyntheticVideo",
    "container_tick",
    "draw_box",
    "draw_qr",
    "draw_text",
    "frame_pattern",
    "frame_timestamp",
    "make_synthetic_video",
    "make_video",
    "panel_colours",
    "qr_modules",
    "qr_side",
    "read_frame_index",
    "square_box",
    "text_font",
    "write_corrupt_file",
    "write_corrupted_mp4",
    "write_frames",
    "write_header_only_mp4",
    "write_random_bytes",
    "write_truncated_copy",
    "write_truncated_mp4",
    "write_truncated_video",
]
