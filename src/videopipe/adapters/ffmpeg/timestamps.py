"""One definition of a frame's timestamp, shared by every decoder.

A frame's timestamp is FFmpeg's best-effort presentation time of the frame (what
``ffmpeg -fps_mode passthrough`` with ``showinfo`` prints), in seconds from the stream's
first frame, strictly increasing. The ffmpeg command line gets it in two steps, both
reproduced here for decoders that drive FFmpeg's libraries themselves:

1. :class:`PacketClock`: the CLI shifts every packet by the file's start time and, in
   containers whose clock may jump (MPEG-TS, MPEG-PS: recordings joined byte for byte),
   turns a jump of the decode clock into continuity (``dts_delta_threshold``).
2. :class:`BestEffortClock`: libavcodec's best-effort timestamp of a decoded frame
   (``guess_correct_pts``): the frame's reordered pts unless those went wrong more often
   than the packets' decode times, then the decode time (packed B-frames in AVI).

A file whose best-effort timestamps still go back or repeat has broken timestamps: the
decoders raise :class:`~videopipe.domain.errors.TimestampOrderError` there rather than
hand out a timestamp that is not after the previous one (:class:`IncreasingTimestamps`).
"""

from __future__ import annotations

from fractions import Fraction

from videopipe.domain.errors import TimestampOrderError

MICROSECOND = Fraction(1, 1_000_000)
"""FFmpeg's ``AV_TIME_BASE_Q``: the CLI's own clock."""

JUMP_THRESHOLD = 10 * 1_000_000
"""Microseconds: a decode-clock jump the CLI always treats as a discontinuity."""

BACKWARD_SLACK = 1_000_000 // 10
"""Microseconds: a decode clock going back by more than this is a discontinuity."""

DECODE_TIMES_ONLY = frozenset({"avi"})
"""Containers that store decode times only (an AVI chunk's time is its position)."""


def rescale(value: int, source: Fraction, target: Fraction) -> int:
    """``av_rescale_q``: ``value`` ticks of ``source`` in ticks of ``target``, rounded half away."""
    numerator = value * source.numerator * target.denominator
    denominator = source.denominator * target.numerator
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


class PacketClock:
    """The ffmpeg CLI's timestamp fix-up of a stream's packets, in demux order.

    ``start`` is the container's start time in microseconds (``None``: 0);
    ``discontinuous``: the container's clock may jump (FFmpeg's ``AVFMT_TS_DISCONT``);
    ``decode_times_only``: the container stores no presentation times (AVI), so the
    ones libavformat guesses are dropped, as the ffmpeg CLI's demuxer gives none.
    """

    def __init__(
        self,
        time_base: Fraction,
        start: int | None,
        *,
        discontinuous: bool,
        decode_times_only: bool = False,
    ) -> None:
        self._decode_times_only = decode_times_only
        self._base = time_base
        self._start_shift = rescale(-(start or 0), MICROSECOND, time_base)
        self._shift = self._start_shift  # ticks added to every packet's times
        self._discontinuous = discontinuous
        self._jumps = 0  # microseconds added since the stream's clock jumped
        self._dts: int | None = None  # the previous packet's decode time (us)
        self._next_dts: int | None = None  # the decode time predicted for the next packet

    def fix(self, pts: int | None, dts: int | None, duration: int) -> tuple[int | None, int | None]:
        """The packet's ``(pts, dts)`` as the ffmpeg CLI hands them to its decoder."""
        shift = self._shift
        pts = None if pts is None or self._decode_times_only else pts + shift
        if dts is None:
            return pts, dts
        dts += shift
        if not self._discontinuous:
            return pts, dts
        base = self._base
        dts_us = rescale(dts, base, MICROSECOND)
        if self._next_dts is not None and self._dts is not None:
            delta = dts_us - self._next_dts
            if abs(delta) > JUMP_THRESHOLD or dts_us + BACKWARD_SLACK < self._dts:
                self._jumps -= delta
                self._shift = self._start_shift + rescale(self._jumps, MICROSECOND, base)
                correction = rescale(delta, MICROSECOND, base)
                dts -= correction
                pts = None if pts is None else pts - correction
                dts_us = rescale(dts, base, MICROSECOND)
        self._dts = self._next_dts = dts_us
        if duration:
            self._next_dts += rescale(duration, base, MICROSECOND)
        return pts, dts


_UNSET = -(1 << 63)


class BestEffortClock:
    """libavcodec's best-effort timestamp of each decoded frame, in output order.

    Fed each frame's reordered pts and its packet's decode time (PyAV's ``frame.pts``
    and ``frame.dts``) from the first frame of a decoder that was never flushed. A
    frame with neither (the last frame out of a drained decoder) is given the previous
    frame's timestamp plus an estimate of its duration, as the ffmpeg CLI does.
    """

    def __init__(self) -> None:
        self._faulty_pts = 0
        self._faulty_dts = 0
        self._last_pts = _UNSET
        self._last_dts = _UNSET
        self._last: int | None = None
        self._last_duration = 1

    def __call__(self, pts: int | None, dts: int | None, duration: int = 0) -> int | None:
        """The frame's best-effort timestamp (None only before any frame had one)."""
        guess = self._guess(pts, dts)
        if guess is None:
            guess = None if self._last is None else self._last + self._last_duration
        elif self._last is not None and not duration:
            duration = guess - self._last
        if duration > 0:
            self._last_duration = duration
        self._last = guess
        return guess

    def _guess(self, pts: int | None, dts: int | None) -> int | None:
        if dts is not None:
            self._faulty_dts += dts <= self._last_dts
            self._last_dts = dts
        elif pts is not None:
            self._last_dts = pts
        if pts is not None:
            self._faulty_pts += pts <= self._last_pts
            self._last_pts = pts
        elif dts is not None:
            self._last_pts = dts
        if pts is not None and (self._faulty_pts <= self._faulty_dts or dts is None):
            return pts
        return dts


def seconds(ticks: int, time_base: Fraction) -> float:
    """``ticks`` of ``time_base`` in seconds, rounded to 1 us."""
    # int / int is correctly rounded: the same float as Fraction arithmetic, faster.
    return round(ticks * int(time_base.numerator) / int(time_base.denominator), 6)


def frame_seconds(
    index: int, pts: int | None, first_pts: int | None, base: Fraction | None, fps: float | None
) -> float:
    """Seconds from the first frame: ``(pts - first_pts) * base`` rounded to 1 us.

    Without a timestamp or a time base: ``index / fps`` (NaN without a rate).
    """
    if pts is None or first_pts is None or base is None:
        return round(index / fps, 6) if fps else float("nan")
    return seconds(pts - first_pts, base)


class IncreasingTimestamps:
    """Finds the first frame whose timestamp is not after its predecessor's (output order).

    :meth:`check` raises at once; a decoder that learns of frames before it hands them
    out notes them (:meth:`note`) and raises when it reaches the frame
    (:meth:`raise_if_broken`).
    """

    def __init__(self, path: str, declared: int | None = None) -> None:
        self._path = path
        self._declared = declared
        self._previous: int | None = None
        self.broken: tuple[int, int, int] | None = None
        """The first offending frame: ``(index, ticks, the previous frame's ticks)``."""

    def note(self, index: int, ticks: int) -> None:
        """Remember frame ``index``'s timestamp (``ticks``) and whether it broke the order."""
        previous, self._previous = self._previous, ticks
        if previous is not None and ticks <= previous and self.broken is None:
            self.broken = (index, ticks, previous)

    def check(self, index: int, ticks: int, time_base: Fraction, first: int) -> None:
        """:meth:`note` frame ``index``, then raise if it broke the order."""
        self.note(index, ticks)
        self.raise_if_broken(index + 1, time_base, first)

    def raise_if_broken(self, before: int, time_base: Fraction, first: int) -> None:
        """Raise :class:`TimestampOrderError` if a frame before ``before`` broke the order."""
        if self.broken is None or self.broken[0] >= before:
            return
        index, ticks, previous = self.broken
        raise TimestampOrderError(
            self._path,
            index,
            seconds(ticks - first, time_base),
            seconds(previous - first, time_base),
            frames_expected=self._declared,
        )
