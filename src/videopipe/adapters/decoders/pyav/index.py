"""The packet index of the fast path: every packet's timestamp, from one demux pass.

A frame's index is the position of its timestamp in presentation order, when the file's
packets can be trusted to map one-to-one onto its frames; :func:`build_index` says why
they cannot otherwise (the reader then decodes sequentially).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

INDEXED_CODECS = frozenset(
    {
        "h264",
        "hevc",
        "vp9",
        "av1",
        "mpeg1video",
        "mpeg2video",
        "mjpeg",
        "ffv1",
        "prores",
        "dnxhd",
        "rawvideo",
        "png",
    }
)
"""Codecs whose every packet is exactly one displayed frame (progressive streams only).

Others (VP8's hidden alt-ref packets, MPEG-4 part 2's packed B-frames, field-coded
pictures) can hold packets that are no frame or frames that span two packets: they are
always decoded sequentially.
"""

MAX_REORDER = 16
"""Packets may leave decode order by at most this many places (H.264's largest DPB)."""


@dataclass(frozen=True)
class PacketIndex:
    """Every packet of the video stream, from one demux pass (nothing decoded).

    ``pts`` in decode order; ``sorted_pts`` is presentation order, so a frame's index is
    the position of its timestamp there; ``index_of_packet[p]`` is the frame index of
    the ``p``-th packet; ``keyframes`` the decode positions of keyframe packets.
    """

    pts: npt.NDArray[np.int64]
    sorted_pts: npt.NDArray[np.int64]
    index_of_packet: npt.NDArray[np.int64]
    packet_of_index: npt.NDArray[np.int64]
    keyframes: npt.NDArray[np.int64]

    @property
    def count(self) -> int:
        """Frames (= packets) in the stream."""
        return len(self.pts)

    def frame_index(self, pts: int | None) -> int | None:
        """The index of the frame with this timestamp, or None if no packet has it."""
        if pts is None:
            return None
        position = int(np.searchsorted(self.sorted_pts, pts))
        if position < self.count and int(self.sorted_pts[position]) == pts:
            return position
        return None

    def is_keyframe(self, position: int) -> bool:
        """Whether the packet at decode ``position`` is a keyframe."""
        slot = int(np.searchsorted(self.keyframes, position))
        return slot < len(self.keyframes) and int(self.keyframes[slot]) == position

    def seek_point(self, index: int) -> int:
        """Decode position of the last keyframe from which frame ``index`` decodes.

        A keyframe before the frame in decode order and not after it in presentation
        order (a frame shown before its keyframe may need the previous group).
        """
        packet = int(self.packet_of_index[index])
        target_pts = int(self.sorted_pts[index])
        last = int(np.searchsorted(self.keyframes, packet, side="right")) - 1
        while last >= 0:
            position = int(self.keyframes[last])
            if int(self.pts[position]) <= target_pts:
                return position
            last -= 1
        return 0


def build_index(  # noqa: PLR0911, PLR0912 - one reason to refuse per check
    container: Any, stream: Any, declared: int | None
) -> PacketIndex | str:
    """Index the stream's packets, or say why they cannot be trusted to be its frames."""
    codec = stream.codec_context
    if codec.name not in INDEXED_CODECS:
        return f"codec {codec.name} is not indexed"
    if int(codec.field_order or 0) >= 2:
        return "interlaced video"
    pts_list = array("q")
    keys = array("q")
    reordered = False
    last_dts: int | None = None
    for packet in container.demux(stream):
        if not packet.size:
            continue
        if packet.pts is None:
            return "a packet without a timestamp"
        if packet.dts is not None:
            if last_dts is not None and packet.dts < last_dts:
                return "a decode clock that goes back"  # joined recordings: the CLI's fix-up
            last_dts = packet.dts
        reordered = reordered or packet.pts != packet.dts
        if packet.is_discard or packet.is_corrupt:
            return "a discarded or damaged packet"
        if packet.is_keyframe:
            keys.append(len(pts_list))
        pts_list.append(packet.pts)
    count = len(pts_list)
    if count == 0:
        return "no packets"
    if count > 1 and not reordered and bool(codec.has_b_frames):
        return "B-frames stored without composition times"  # packet pts are not frame pts
    if declared is not None and declared != count:
        return f"{count} packets where the container declares {declared} frames"
    pts = np.frombuffer(pts_list, dtype=np.int64).copy()
    keyframes = np.frombuffer(keys, dtype=np.int64).copy() if keys else np.zeros(0, np.int64)
    if not len(keyframes) or keyframes[0] != 0:
        return "the first packet is not a keyframe"
    packet_of_index = np.argsort(pts, kind="stable")
    sorted_pts = pts[packet_of_index]
    if count > 1 and bool(np.any(sorted_pts[1:] == sorted_pts[:-1])):
        return "duplicate timestamps"
    if int(sorted_pts[0]) != int(pts[0]):
        return "frames shown before the first keyframe"  # open GOP: may be dropped
    index_of_packet = np.empty(count, dtype=np.int64)
    index_of_packet[packet_of_index] = np.arange(count, dtype=np.int64)
    if int(np.abs(index_of_packet - np.arange(count)).max()) > MAX_REORDER:
        return "timestamps far out of decode order"  # wrapped or jumping timestamps
    return PacketIndex(pts, sorted_pts, index_of_packet, packet_of_index, keyframes)
