"""The sequential pass: every frame from the first, counted in output order.

Each frame's timestamp is the one the ffmpeg command line gives it
(:mod:`videopipe.adapters.ffmpeg.timestamps`): packets get the CLI's fix-up, frames
libavcodec's best-effort timestamp, checked to increase.
"""

from __future__ import annotations

from collections.abc import Generator

import av
import av.error

from videopipe.adapters.decoders.pyav.run import RunState
from videopipe.adapters.ffmpeg.libav import describe_error
from videopipe.adapters.ffmpeg.timestamps import (
    DECODE_TIMES_ONLY,
    BestEffortClock,
    IncreasingTimestamps,
    PacketClock,
    frame_seconds,
)
from videopipe.domain.model import Frame


def sequential_frames(run: RunState) -> Generator[Frame, None, None]:
    """The selected frames of a pass from the first frame; only selected ones converted.

    Frames up to ``run.last_yielded`` (yielded by a fast path that gave up) are skipped,
    so no frame is yielded twice.
    """
    container, stream = run.open()
    codec = stream.codec_context
    selection = run.selection
    skip_through = run.last_yielded
    stats = run.stats
    base = stream.time_base
    fps = run.info.fps
    clock = PacketClock(
        base,
        container.start_time,
        discontinuous=bool(container.format.flags & av.format.Flags.ts_discont.value),
        decode_times_only=container.format.name in DECODE_TIMES_ONLY,
    )
    best_effort = BestEffortClock()
    order = IncreasingTimestamps(run.path, run.info.frame_count)
    first_pts: int | None = None
    decoded = 0
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, None)
            if packet is None:
                break
            if packet.size:
                packet.pts, packet.dts = clock.fix(packet.pts, packet.dts, packet.duration or 0)
            stats.packets += 1
            decoded_frames = codec.decode(packet)
        except av.error.FFmpegError as exc:
            run.fail(describe_error(exc), decoded, exc)
        for frame in decoded_frames:
            index = decoded
            if frame.is_corrupt:
                run.fail(f"frame {index} is damaged (the decoder concealed errors)", index)
            decoded += 1
            stats.decoded += 1
            pts = best_effort(frame.pts, frame.dts, frame.duration or 0)
            if index == 0:
                first_pts = pts
            if pts is not None and first_pts is not None:
                order.check(index, pts, base, first_pts)
            if index > skip_through and selection.contains(index):
                timestamp = frame_seconds(index, pts, first_pts, base, fps)
                yield run.make_frame(index, timestamp, frame)
            if selection.is_past(decoded):
                return  # every selected frame was read: stop without reading further
    run.close_container()
    run.check_end(decoded)
