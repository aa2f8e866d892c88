"""Behaviour video readers share: one decode run per read, all closed with the reader."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from typing import Protocol

from videopipe.adapters._closing import Closing
from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo

SCALE_INTERPOLATION = "bilinear"
"""swscale's scaler when a decoder built on FFmpeg scales frames down (PyAV's default,
named in the ffmpeg pipe's ``scale`` filter too, so both give the same pixels)."""


def scaled_size(info: VideoInfo, size: FrameSize | None) -> tuple[int, int] | None:
    """The ``(width, height)`` frames are decoded at, or ``None`` for the video's own."""
    if size is None:
        return None
    output = size.output_size(info.width, info.height)
    return None if output == (info.width, info.height) else output


class DecodeRun(Protocol):
    """One read of a file: a decoder process or an opened container of its own."""

    def frames(self) -> Iterator[Frame]:
        """The run's frames, in presentation order."""
        ...

    def close(self) -> None:
        """Release the run's process or container; idempotent."""
        ...


class RunReader(Closing):
    """A reader whose every :meth:`frames` call starts a :class:`DecodeRun` of its own.

    Subclasses say how a run starts (:meth:`_start`); closing the reader closes every
    run still going, also one a consumer abandoned half-way. With a ``size``, runs
    scale frames to ``_output_size`` and give them ``source_size`` (:attr:`source_size`),
    and hand them out in the size's ``format`` (``_format``).
    """

    def __init__(self, path: str, info: VideoInfo, size: FrameSize | None = None) -> None:
        self._path = path
        self._info = info
        self._output_size = scaled_size(info, size)
        """The ``(width, height)`` runs scale frames down to (``None``: the video's)."""
        self._format = "rgb24" if size is None else size.format
        """The pixel format runs hand frames out in (:attr:`FrameSize.format`)."""
        self._runs: set[DecodeRun] = set()
        self._closed = False

    @property
    def info(self) -> VideoInfo:
        """What the decoder learned about the file before its first frame."""
        return self._info

    @property
    def source_size(self) -> tuple[int, int] | None:
        """The ``source_size`` of every frame: the video's size when runs scale, else None."""
        if self._output_size is None:
            return None
        return (self._info.width, self._info.height)

    def frames(self, selection: FrameSelection | None = None) -> Iterator[Frame]:
        """Decode the selected frames; see :class:`videopipe.ports.VideoReader`."""
        if self._closed:
            raise ValueError(f"reader for {self._path!r} is closed")
        return self._generate(selection or FrameSelection())

    @abstractmethod
    def _start(self, selection: FrameSelection) -> DecodeRun:
        """A new run over ``selection``."""

    def _generate(self, selection: FrameSelection) -> Iterator[Frame]:
        if selection.count == 0:
            return
        run = self._start(selection)
        self._runs.add(run)
        try:
            yield from run.frames()
        finally:
            run.close()
            self._runs.discard(run)

    def close(self) -> None:
        """Close every run this reader started (a run waits for a decode step in flight)."""
        self._closed = True
        for run in list(self._runs):
            run.close()
        self._runs.clear()
