"""The sequential pass: every frame from the first, counted in output order."""

from __future__ import annotations

from collections.abc import Generator

import av.error

from videopipe.adapters.decoders.pyav.run import RunState
from videopipe.adapters.ffmpeg.libav import describe_error, frame_seconds
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
    first_pts: int | None = None
    decoded = 0
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, None)
            if packet is None:
                break
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
            if index == 0:
                first_pts = frame.pts
            if index > skip_through and selection.contains(index):
                timestamp = frame_seconds(index, frame.pts, first_pts, base, fps)
                yield Frame(index, timestamp, run.convert(frame))
            if selection.is_past(decoded):
                return  # every selected frame was read: stop without reading further
    run.close_container()
    run.check_end(decoded)
