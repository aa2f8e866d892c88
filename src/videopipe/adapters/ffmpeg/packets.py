"""What a file's packets say, read with PyAV in one demux pass (no frame is decoded).

Three counts a user can compare (``videopipe probe`` shows them):

- *declared*: the frame count the container's header gives. MP4/MOV count the samples
  of their index (a file cut short still declares them all); AVI's header counts
  ticks of its clock, dropped-frame placeholders (empty chunks) and index gaps
  included, so for AVI the declared count is the chunks that hold data;
- *stored*: the packets that are frames: not empty, not hidden by an edit list, not
  before the first keyframe nor shown before it (the leading pictures of an open GOP
  recorded from the middle of a stream); packets the demuxer flags as damaged are
  counted too (an MPEG-TS continuity gap often leaves the frame whole), and reported
  as *damaged*;
- whether the timestamps are *monotonic*: the stored frames' presentation times, as
  the ffmpeg CLI sees them (:class:`~.timestamps.PacketClock`), are all known,
  distinct and trustworthy (not B-frames stored without composition times) and
  their decode clock never goes back. Then they are the frames' best-effort
  timestamps, which is how the OpenCV decoder, whose capture hands out no timestamps,
  gets them.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.error

from videopipe.adapters.ffmpeg.libav import TIMEOUT, first_video_stream
from videopipe.adapters.ffmpeg.riff import avi_layout
from videopipe.adapters.ffmpeg.timestamps import PacketClock

COUNTS_TICKS = frozenset({"avi"})
"""Containers whose header frame count counts clock ticks rather than stored frames."""


@dataclass(frozen=True)
class PacketSurvey:
    """One demux pass over a file's first video stream; see the module docstring."""

    declared: int | None
    stored: int
    damaged: int
    discarded: int
    placeholders: int
    time_base: Fraction
    presentation: tuple[int, ...] | None
    """The stored frames' presentation times (ticks of ``time_base``) as the ffmpeg CLI
    sees them, ascending; None when the packets cannot tell (``unknown_because``)."""
    unknown_because: str | None = None

    @property
    def monotonic(self) -> bool:
        """Whether the packets give every stored frame a distinct, increasing timestamp."""
        return self.presentation is not None

    @property
    def frames_lost(self) -> bool:
        """Whether the file lost frames: packets damaged, or fewer stored than declared."""
        return self.damaged > 0 or (self.declared or 0) > self.stored

    def position(self, pts: int) -> int | None:
        """The index of the stored frame shown at ``pts`` (the CLI's ticks), if known."""
        presentation = self.presentation
        if presentation is None:
            return None
        slot = bisect.bisect_left(presentation, pts)
        return slot if slot < len(presentation) and presentation[slot] == pts else None


def declared_frames(container: Any, stream: Any, abspath: str, timeout: float) -> int | None:
    """The declared count of an opened file (a demux pass of its own only for AVI)."""
    if container.format.name not in COUNTS_TICKS:
        return _header_count(container, stream, 0)
    survey = survey_packets(abspath, timeout)
    return survey.declared if survey is not None else None


def _header_count(container: Any, stream: Any, chunks: int) -> int | None:
    if container.format.name in COUNTS_TICKS:
        return chunks or None
    return int(stream.frames) if stream.frames > 0 else None


def survey_packets(abspath: str, timeout: float = TIMEOUT) -> PacketSurvey | None:
    """Survey the file's video packets (None when PyAV cannot open it or no video)."""
    with contextlib.suppress(Exception), av.open("file:" + abspath, timeout=timeout) as container:
        stream = first_video_stream(container)
        if stream is None:
            return None
        return _survey(container, stream)
    return None


def _packets(container: Any, stream: Any) -> Iterator[Any | None]:
    """The stream's packets; None, then the end, where the demuxer fails."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, _END)
        except (av.error.FFmpegError, OSError, ValueError):
            yield None
            return
        if packet is _END:
            return
        yield packet


_END = object()


def _survey(container: Any, stream: Any) -> PacketSurvey:  # noqa: PLR0912 - one branch per kind
    base = Fraction(stream.time_base or Fraction(1, 1))
    clock = PacketClock(
        base,
        container.start_time,
        discontinuous=bool(container.format.flags & av.format.Flags.ts_discont.value),
    )
    placeholders = discarded = damaged = chunks = stored = 0
    first_key: int | None = None
    presentation: list[int] = []
    missing = False
    dts_back = False
    reordered = False
    last_dts: int | None = None
    for packet in _packets(container, stream):
        if packet is None:
            damaged += 1  # the demuxer stopped at data it could not read
            break
        if packet.pts is None and packet.dts is None and not packet.size:
            continue  # the demuxer's flush packet
        if not packet.size:
            placeholders += 1
            continue
        chunks += 1
        pts, dts = clock.fix(packet.pts, packet.dts, int(packet.duration or 0))
        if dts is not None:
            dts_back = dts_back or (last_dts is not None and dts < last_dts)
            last_dts = dts
        if first_key is None:
            if not packet.is_keyframe:
                continue  # before the first keyframe: nothing to decode it from
            first_key = pts if pts is not None else 0
        if packet.is_discard:
            discarded += 1  # decoded for reference, never shown (an edit list's cut)
            continue
        damaged += packet.is_corrupt  # flagged, yet often whole (an MPEG-TS counter gap)
        if pts is not None and pts < first_key:
            continue  # an open GOP's leading picture, referring to a picture not stored
        stored += 1
        if pts is None:
            missing = True
            continue
        reordered = reordered or pts != dts
        presentation.append(pts)
    ordered = sorted(presentation)
    why = None
    if missing:
        why = "packets without presentation times"
    elif any(b <= a for a, b in itertools.pairwise(ordered)):
        why = "packets sharing presentation times"
    elif dts_back:
        why = "a decode clock that goes back"
    elif len(ordered) > 1 and not reordered and bool(stream.codec_context.has_b_frames):
        why = "B-frames stored without composition times"
    return PacketSurvey(
        declared=_header_count(container, stream, chunks),
        stored=stored,
        damaged=damaged,
        discarded=discarded,
        placeholders=placeholders,
        time_base=base,
        presentation=None if why else tuple(ordered),
        unknown_because=why,
    )


def packet_facts(abspath: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """What ``videopipe probe`` shows of the packets: declared and stored counts, monotonic.

    An AVI cut short (:mod:`.riff`) adds ``cut_short`` (the bytes its chunks claim and
    the bytes it holds) and ``header_frames`` (the count its headers declare).
    """
    layout = avi_layout(abspath)
    cut: dict[str, Any] = {}
    if layout is not None and layout.cut_short:
        claims = f"its chunks claim {layout.claimed_bytes} bytes, it holds {layout.file_bytes}"
        cut = {"cut_short": claims, "header_frames": layout.header_frames}
    survey = survey_packets(abspath, timeout)
    if survey is None:
        return {
            "declared_frames": None,
            "stored_frames": None,
            "timestamps_monotonic": None,
            **cut,
        }
    facts: dict[str, Any] = {
        "declared_frames": survey.declared,
        "stored_frames": survey.stored,
        "timestamps_monotonic": survey.monotonic,
    }
    if survey.damaged:
        facts["damaged_packets"] = survey.damaged
    if survey.unknown_because:
        facts["timestamps_problem"] = survey.unknown_because
    return {**facts, **cut}
