"""The frame-source port: how the domain gets decoded frames out of a video file."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, runtime_checkable

from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo


@runtime_checkable
class VideoReader(Protocol):
    """An open video file. Owns every resource (process, handle, thread) it holds.

    Use it as a context manager; ``close`` is idempotent and must leave no process,
    thread or file descriptor behind, also when ``frames`` was abandoned half-way.
    """

    @property
    def info(self) -> VideoInfo:
        """What is known of the video before its first frame."""
        ...

    def frames(self, selection: FrameSelection | None = None) -> Iterator[Frame]:
        """Decode the selected frames in presentation order.

        Frames are yielded as they are decoded (nothing is collected). When decoding
        fails part-way, the frames before the failure are yielded first, then a
        :class:`~videopipe.domain.errors.VideoReadError` subclass is raised.
        """
        ...

    def close(self) -> None:
        """Release everything; safe to call more than once."""
        ...

    def __enter__(self) -> VideoReader: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class FrameSource(Protocol):
    """A decoder backend: opens local video files for reading.

    ``open`` checks the path before anything else: a missing path raises
    :class:`~videopipe.domain.errors.VideoFileNotFoundError`, anything that is not a
    regular file :class:`~videopipe.domain.errors.NotARegularFileError`, and a file
    that holds no readable video :class:`~videopipe.domain.errors.VideoReadError`.
    """

    name: str

    def open(self, path: str, *, size: FrameSize | None = None) -> VideoReader:
        """Open ``path`` (always a local file, never a URL or protocol).

        With ``size``, every frame the reader yields is scaled down to
        ``size.output_size(info.width, info.height)`` in the decoder's own colour
        conversion, and carries ``source_size`` (the video's ``(width, height)``);
        ``info`` still describes the video. A size that asks for no change gives the
        frames ``open(path)`` gives. Indices and timestamps never depend on ``size``.
        ``size.format == "gray"``: frames are luma, ``(height, width)`` uint8, with
        ``Frame.format`` ``"gray"`` and ``Frame.luma_range`` (black and white levels).
        """
        ...
