"""Decoder adapter: OpenCV's ``VideoCapture`` (its FFmpeg backend), in process.

Needs the ``opencv`` extra. The file is checked and probed with the bundled ffmpeg binary
first (the imageio_ffmpeg decoder's clear errors). OpenCV's frame count is an estimate: a read
short of the count the file's index declares (PyAV), or of an AVI cut short, is an error.

OpenCV's capture gives no frame timestamps (its position is an estimate, a frame late on
packed B-frames): the ``k``-th frame's is the ``k``-th presentation time of the stored
frames, from one demux pass over the packets (:mod:`videopipe.adapters.ffmpeg.packets`).
A file whose packets cannot tell (B-frames stored without composition times, a decode
clock that goes back) is refused with a typed error naming the pyav decoder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any

from videopipe.adapters.decoders._base import RunReader
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg, demux_problems, probe
from videopipe.adapters.ffmpeg.checks import DEFAULT_MAX_FRAME_PIXELS, check_frame_pixels
from videopipe.adapters.ffmpeg.files import as_ffmpeg_input, check_local_video_file
from videopipe.adapters.ffmpeg.libav import expected_frames, first_frame_rgb
from videopipe.adapters.ffmpeg.packets import survey_packets
from videopipe.adapters.ffmpeg.riff import check_avi_complete
from videopipe.adapters.ffmpeg.timestamps import seconds
from videopipe.domain.errors import (
    MissingDependencyError,
    UnsupportedByDecoderError,
    VideoDecodeError,
    VideoReadError,
)
from videopipe.domain.model import Frame, FrameSelection, FrameSize, VideoInfo

_INTERLACED_TOLERANCE = 8.0
"""Mean absolute difference (0..255) above which OpenCV's first frame is not PyAV's."""

_INTERLACED_REFUSAL = (
    "OpenCV's FFmpeg cannot convert this interlaced video to RGB (it returns black or "
    "stale frames); decode it with the imageio_ffmpeg decoder"
)
_SWSCALE = re.compile(r"swscale:\s+YES \((\d+)\.")


def _swscale_converts_interlaced(cv2: ModuleType) -> bool:
    """False for OpenCV builds on FFmpeg 8's swscale (9.x), which refuse interlaced input."""
    match = _SWSCALE.search(cv2.getBuildInformation())
    return match is None or int(match.group(1)) < 9


def _import_cv2() -> ModuleType:
    # OpenCV's FFmpeg backend logs decoder errors straight to stderr; errors are
    # reported through exceptions here instead.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        import cv2  # noqa: PLC0415 - optional extra, imported only when chosen
    except ImportError as exc:
        raise MissingDependencyError("The OpenCV decoder", "opencv") from exc
    return cv2


class OpenCVFrameSource:
    """Opens videos with ``cv2.VideoCapture(path, cv2.CAP_FFMPEG)``.

    ``timeout`` (seconds) bounds opening the file and each read.
    """

    name = "opencv"

    def __init__(
        self,
        *,
        ffmpeg_exe: str | None = None,
        timeout: float = 30.0,
        threads: int = 0,
        max_frame_pixels: int | None = DEFAULT_MAX_FRAME_PIXELS,
    ) -> None:
        self._cv2 = _import_cv2()
        self.converts_interlaced = _swscale_converts_interlaced(self._cv2)
        self.ffmpeg_exe = ffmpeg_exe or bundled_ffmpeg()
        self.timeout = timeout
        self.threads = threads
        self.max_frame_pixels = max_frame_pixels

    def __getstate__(self) -> dict[str, Any]:
        """The settings without the module (executors send decoders to other processes)."""
        return {key: value for key, value in self.__dict__.items() if key != "_cv2"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cv2 = _import_cv2()

    def open(self, path: str, *, size: FrameSize | None = None) -> OpenCVVideoReader:
        """Check and probe ``path``, then open it with OpenCV.

        With ``size``, each frame is shrunk with ``cv2.resize`` (``INTER_AREA``) after
        its BGR to RGB (or, for the ``gray`` format, to luma) conversion.
        """
        abspath = check_local_video_file(path)
        facts = probe(self.ffmpeg_exe, path, abspath, self.timeout)
        check_frame_pixels(path, facts.width, facts.height, self.max_frame_pixels)
        if facts.interlaced and not self.converts_interlaced:
            raise VideoReadError(path, _INTERLACED_REFUSAL)
        survey = survey_packets(abspath, self.timeout)
        if survey is None or survey.presentation is None:
            why = survey.unknown_because if survey is not None else "PyAV cannot demux it"
            raise UnsupportedByDecoderError(
                path,
                "OpenCV's capture gives no frame timestamps and this file's packets cannot "
                f"give them ({why})",
                use="pyav",
            )
        first = survey.presentation[0] if survey.presentation else 0
        timestamps = tuple(seconds(pts - first, survey.time_base) for pts in survey.presentation)
        facts = replace(facts, frame_count=survey.declared)
        return OpenCVVideoReader(self, path, abspath, facts, timestamps=timestamps, size=size)

    def capture(self, path: str, abspath: str) -> Any:
        """A new, opened ``cv2.VideoCapture`` on ``abspath``."""
        cv2 = self._cv2
        millis = int(self.timeout * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, millis, cv2.CAP_PROP_READ_TIMEOUT_MSEC, millis]
        if self.threads:
            params += [cv2.CAP_PROP_N_THREADS, self.threads]
        capture = cv2.VideoCapture(as_ffmpeg_input(abspath), cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise VideoReadError(path, "OpenCV's FFmpeg backend could not open it")
        return capture


class OpenCVVideoReader(RunReader):
    """One opened file; each call to :meth:`frames` reads it from the start.

    The capture opened to read the header serves the first call; later calls open
    their own.
    """

    def __init__(
        self,
        source: OpenCVFrameSource,
        path: str,
        abspath: str,
        facts: VideoInfo,
        *,
        timestamps: tuple[float, ...] = (),
        size: FrameSize | None = None,
    ) -> None:
        cv2 = source._cv2
        capture = source.capture(path, abspath)
        info = VideoInfo(
            path=path,
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            codec=facts.codec,
            fps=capture.get(cv2.CAP_PROP_FPS) or facts.fps,
            duration=facts.duration,
            frame_count=facts.frame_count,
            rotation=facts.rotation,
            container=facts.container,
            interlaced=facts.interlaced,
        )
        super().__init__(path, info, size)
        self._source = source
        self._cv2 = cv2
        self._abspath = abspath
        self._fresh: Any | None = capture
        self._timestamps = timestamps

    def _start(self, selection: FrameSelection) -> _CaptureRun:
        capture, self._fresh = self._fresh, None
        if capture is None:
            capture = self._source.capture(self._path, self._abspath)
        return _CaptureRun(self, capture, selection)

    def close(self) -> None:
        """Release every capture; idempotent."""
        capture, self._fresh = self._fresh, None
        if capture is not None:
            capture.release()
        super().close()

    def generate(self, capture: Any, selection: FrameSelection) -> Iterator[Frame]:
        """The selected frames read from ``capture``, checked at the end of the file."""
        index = 0
        while not selection.is_past(index):
            if not capture.grab():
                break
            if selection.contains(index) or (index == 0 and self._info.interlaced):
                ok, bgr = capture.retrieve()
                if index == 0 and self._info.interlaced:
                    self._check_interlaced_conversion(bgr)
                    if not selection.contains(index):
                        index += 1
                        continue
                if not ok or bgr is None:
                    raise VideoDecodeError(
                        self._path,
                        f"OpenCV could not convert frame {index}",
                        frames_read=index,
                        frames_expected=self._info.frame_count,
                    )
                yield Frame(index, self._timestamp(index), *self._rgb(bgr))
            index += 1
        else:
            return  # stopped at the end of the selection, not at the end of the file
        self._check_end(index)

    def _timestamp(self, index: int) -> float:
        """Frame ``index``'s timestamp from the packets; more frames than packets is an error."""
        if index >= len(self._timestamps):
            raise VideoDecodeError(
                self._path,
                "OpenCV decoded more frames than the file's packets hold",
                frames_read=index,
                frames_expected=len(self._timestamps),
            )
        return self._timestamps[index]

    def _rgb(self, bgr: Any) -> tuple[Any, tuple[int, int] | None, str]:
        """The RGB (or gray) image, scaled when the reader scales, its source size, format."""
        cv2 = self._cv2
        code = cv2.COLOR_BGR2GRAY if self._format == "gray" else cv2.COLOR_BGR2RGB
        image = cv2.cvtColor(bgr, code)
        if self._output_size is None:
            return image, None, self._format
        scaled = cv2.resize(image, self._output_size, interpolation=cv2.INTER_AREA)
        return scaled, self.source_size, self._format

    def _check_interlaced_conversion(self, bgr: Any) -> None:
        """Refuse to hand out broken frames for an interlaced video.

        OpenCV builds on FFmpeg 8's swscale cannot convert interlaced frames to BGR
        ("Cannot convert interlaced to progressive frames") and return black or stale
        images, saying nothing: such builds refuse interlaced video when it is opened.
        On other builds the first frame of an interlaced video is compared with PyAV's;
        when they differ, OpenCV's frames are not to be trusted.
        """
        cv2 = self._cv2
        reference = first_frame_rgb(self._abspath, self._source.timeout)
        if bgr is None or reference is None or reference.shape != bgr.shape:
            return
        difference = cv2.absdiff(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), reference)
        if float(difference.mean()) > _INTERLACED_TOLERANCE:
            raise VideoDecodeError(
                self._path,
                _INTERLACED_REFUSAL,
                frames_read=0,
                frames_expected=self._info.frame_count,
            )

    def _check_end(self, decoded: int) -> None:
        """After the last frame: a short read is an error, never a shorter video.

        An AVI cut short (:mod:`~videopipe.adapters.ffmpeg.riff`) is one. Else the count the
        file's index declares (less what an edit list hides) is the reference. A container
        that declares none (Matroska, MPEG-TS) has its packets read once more by the bundled
        ffmpeg (no decoding), whose errors reveal a file cut short or a damaged element:
        OpenCV just stops. Damage inside a frame's data is invisible here (pyav sees it).
        """
        check_avi_complete(self._path, self._abspath, decoded)
        source = self._source
        expected = expected_frames(self._abspath, self._info.frame_count, decoded, source.timeout)
        if expected is not None:
            if decoded < expected:
                raise VideoDecodeError(
                    self._path,
                    "the video ends before the frames its index declares",
                    frames_read=decoded,
                    frames_expected=expected,
                )
            return
        problems = demux_problems(
            source.ffmpeg_exe, self._path, self._abspath, source.timeout, decoded
        )
        if problems:
            raise VideoDecodeError(self._path, problems, frames_read=decoded)
        if decoded == 0:
            raise VideoReadError(self._path, "it holds no decodable video frames")


class _CaptureRun:
    """One read: a capture of its own, released when the run closes."""

    def __init__(self, reader: OpenCVVideoReader, capture: Any, selection: FrameSelection) -> None:
        self._reader = reader
        self._capture = capture
        self._selection = selection

    def frames(self) -> Iterator[Frame]:
        """The run's frames, in presentation order."""
        return self._reader.generate(self._capture, self._selection)

    def close(self) -> None:
        """Release the capture; idempotent (OpenCV's ``release`` is)."""
        self._capture.release()
