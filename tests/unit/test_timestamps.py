"""The one definition of a frame's timestamp, piece by piece (adapters/ffmpeg/timestamps)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from videopipe.adapters.ffmpeg.timestamps import (
    BestEffortClock,
    IncreasingTimestamps,
    PacketClock,
    rescale,
)
from videopipe.domain.errors import TimestampOrderError, VideoDecodeError

TS = Fraction(1, 90_000)


def test_rescale_rounds_half_away_from_zero_like_av_rescale_q() -> None:
    assert rescale(1, Fraction(1, 2), Fraction(1, 1)) == 1
    assert rescale(-1, Fraction(1, 2), Fraction(1, 1)) == -1
    assert rescale(3600, TS, Fraction(1, 1_000_000)) == 40_000


def test_best_effort_takes_decode_times_once_the_reordered_pts_go_wrong() -> None:
    clock = BestEffortClock()
    # packed B-frames: the reordered pts of frames 3 and 4 are swapped, decode times are right
    got = [clock(pts, dts) for pts, dts in [(1, 1), (2, 2), (3, 3), (5, 4), (4, 5), (6, 6)]]
    assert got == [1, 2, 3, 5, 5, 6]  # libavcodec's own answer, before the CLI drops AVI pts
    clock = BestEffortClock()
    assert [clock(None, dts) for dts in (1, 2, 3, 4)] == [1, 2, 3, 4]


def test_best_effort_extrapolates_a_frame_with_no_time_from_the_previous_duration() -> None:
    clock = BestEffortClock()
    assert [clock(None, 10, 1), clock(None, 11, 1), clock(None, None)] == [10, 11, 12]


def test_packet_clock_makes_a_joined_recordings_clock_continuous() -> None:
    clock = PacketClock(TS, 10_000_000, discontinuous=True)
    first = [clock.fix(900_000 + 3600 * i, 900_000 + 3600 * i, 3600) for i in range(3)]
    assert [dts for _, dts in first] == [0, 3600, 7200]
    # the second recording starts its clock again at 2 s: it continues at 10800 instead
    assert clock.fix(180_000 + 7200, 180_000, 3600) == (18000, 10800)
    assert clock.fix(180_000 + 3600, 180_000 + 3600, 3600) == (14400, 14400)


def test_packet_clock_leaves_a_jump_alone_where_the_container_allows_none() -> None:
    clock = PacketClock(TS, None, discontinuous=False)
    clock.fix(900_000, 900_000, 3600)
    assert clock.fix(180_000, 180_000, 3600) == (180_000, 180_000)


def test_packet_clock_drops_the_guessed_presentation_times_of_avi() -> None:
    clock = PacketClock(Fraction(1, 25), None, discontinuous=False, decode_times_only=True)
    assert clock.fix(4, 2, 1) == (None, 2)


def test_a_timestamp_that_is_not_after_the_previous_is_a_typed_error_after_that_frame() -> None:
    order = IncreasingTimestamps("box.mp4", 456)
    base = Fraction(1, 1000)
    for index, ticks in enumerate([0, 33, 67]):
        order.check(index, ticks, base, 0)
    with pytest.raises(TimestampOrderError) as caught:
        order.check(3, 67, base, 0)
    assert isinstance(caught.value, VideoDecodeError)
    assert caught.value.frames_read == 3
    assert caught.value.frames_expected == 456
    assert "frame 3's timestamp 0.067000 s is not after frame 2's (0.067000 s)" in str(caught.value)


def test_a_noted_break_is_raised_only_when_the_reader_reaches_that_frame() -> None:
    order = IncreasingTimestamps("x.mp4")
    for index, ticks in enumerate([0, 2, 1, 3]):
        order.note(index, ticks)
    order.raise_if_broken(2, Fraction(1, 10), 0)  # frames 0 and 1 may still be handed out
    with pytest.raises(TimestampOrderError):
        order.raise_if_broken(3, Fraction(1, 10), 0)
