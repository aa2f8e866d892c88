"""What a video's header may not hold, with the messages every decoder gives."""

from __future__ import annotations

from collections.abc import Iterable

from videopipe.domain.errors import FrameTooLargeError, VideoReadError

DEFAULT_MAX_FRAME_PIXELS = 1 << 26
"""67,108,864 pixels (8192 x 8192): larger frames are refused unless configured."""

TEXT_DEMUXERS = frozenset({"tty", "bin", "xbin", "adf", "idf"})
"""ffmpeg demuxers that turn text or text-mode art into frames: never a video here."""


def check_frame_pixels(path: str, width: int, height: int, limit: int | None) -> None:
    """Refuse frames of more than ``limit`` pixels before anything is allocated for them."""
    if limit is not None and width * height > limit:
        raise FrameTooLargeError(path, width, height, limit)


def check_not_text(path: str, format_name: str | None) -> None:
    """Refuse a file ffmpeg would render as text-mode art (``*.txt``, ``*.nfo``, ``*.ans``)."""
    if format_name in TEXT_DEMUXERS:
        raise VideoReadError(
            path, f"it is a text file, not a video (ffmpeg format {format_name!r})"
        )


def no_video_stream(path: str, kinds: Iterable[str]) -> VideoReadError:
    """The error for a file without a video stream; ``kinds``: the streams it holds."""
    found = list(kinds)
    holds = f" (it holds only {', '.join(found)} streams)" if found else ""
    return VideoReadError(path, f"no video stream{holds}")
