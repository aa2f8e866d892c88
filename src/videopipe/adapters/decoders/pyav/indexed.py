"""The indexed fast path: decode only what the selected frames need, seek past the rest.

Strides and ranges that do not start at 0 take this path when the file's packets can
be trusted to map one-to-one onto its frames (:mod:`.index`): frames nothing needs are
skipped inside the decoder (non-reference frames that are not selected) or not read
at all (a seek to the keyframe before the next selected frame when that is further
than ``seek_threshold`` packets ahead). Every decoded frame's timestamp is checked
against the index; any surprise raises :class:`UntrustedIndexError`, and the reader
decodes sequentially instead.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import av.error
import numpy as np

from videopipe.adapters.decoders.pyav.index import PacketIndex, build_index
from videopipe.adapters.decoders.pyav.run import RunState
from videopipe.adapters.ffmpeg.libav import describe_error
from videopipe.adapters.ffmpeg.timestamps import frame_seconds
from videopipe.domain.model import Frame

_SEEK_RETREATS = (0, 1, 3)
"""After a seek lands past its keyframe, aim this many keyframes earlier (in turn)."""
_SEEK_UNKNOWN_PACKETS = 64
"""Packets of unknown timestamp tolerated after a seek before trying an earlier aim."""


class UntrustedIndexError(Exception):
    """The fast path met something its index did not predict: decode sequentially."""


@dataclass
class _Walk:
    """The fast path's next selected frame (``None``: every selected frame was yielded)."""

    target: int | None


class IndexedPass:
    """The fast path over one run: its :meth:`frames` raise on any doubt."""

    def __init__(self, run: RunState) -> None:
        self._run = run

    def _index(self) -> PacketIndex:
        """The packet index, or :class:`UntrustedIndexError` saying why there is none."""
        container, stream = self._run.open()
        try:
            index = build_index(container, stream, self._run.info.frame_count)
        except (av.error.FFmpegError, OSError) as exc:
            raise UntrustedIndexError(f"demuxing failed: {describe_error(exc)}") from exc
        finally:
            self._run.close_container()
        if isinstance(index, str):
            raise UntrustedIndexError(index)
        return index

    def frames(self) -> Generator[Frame, None, None]:
        """The selected frames, decoding only what they need; raises on any doubt.

        :class:`UntrustedIndexError` means: decode sequentially instead.
        """
        index = self._index()
        selection = self._run.selection
        stop = index.count if selection.stop is None else min(selection.stop, index.count)
        wanted = iter(range(selection.start, stop, selection.step))
        walk = _Walk(next(wanted, None))
        if walk.target is None:
            return  # nothing selected inside the stream: zero frames
        container, stream = self._run.open()
        codec = stream.codec_context
        first_pts = int(index.sorted_pts[0])
        base = stream.time_base
        fps = self._run.info.fps
        try:
            for packet in self._feed(container, stream, index, walk):
                before = walk.target
                for frame in codec.decode(packet):  # None: drain the decoder
                    found = self._check_frame(index, frame, walk.target)
                    if found == walk.target:
                        timestamp = frame_seconds(found, frame.pts, first_pts, base, fps)
                        yield self._run.make_frame(found, timestamp, frame)
                        walk.target = next(wanted, None)
                        if walk.target is None:
                            break
                if packet is None and walk.target == before:
                    raise UntrustedIndexError(f"frame {before} missing after a drain")
                if packet is not None and not packet.size and walk.target is not None:
                    raise UntrustedIndexError(f"frame {walk.target} missing at the end")
        except av.error.FFmpegError as exc:
            raise UntrustedIndexError(f"decoding failed: {describe_error(exc)}") from exc
        if selection.stop is None or selection.stop > index.count:
            # The selection reached the end of the stream: check it as a full read would.
            self._run.close_container()
            if self._run.info.frame_count is None and self._run.demux_problems(index.count):
                raise UntrustedIndexError("damaged packets")  # the sequential path says where

    def _check_frame(self, index: PacketIndex, frame: Any, target: int | None) -> int:
        """The index of a decoded frame, checked: never damaged, known, not past the target."""
        self._run.stats.decoded += 1
        if frame.is_corrupt:
            raise UntrustedIndexError("a damaged frame")  # the sequential path reports it
        found = index.frame_index(frame.pts)
        if found is None:
            raise UntrustedIndexError(f"a frame with an unknown timestamp {frame.pts}")
        if target is not None and found > target:
            raise UntrustedIndexError(f"frame {target} was not decoded (got {found})")
        return found

    def _drain_now(self, index: PacketIndex, target: int, position: int, aimed: int) -> bool:
        """Whether ``target``'s packet was sent and the target after it needs a seek."""
        if position < int(index.packet_of_index[target]):
            return False
        selection = self._run.selection
        following = target + selection.step
        if following >= index.count or selection.is_past(following):
            return True  # the last target: nothing after it is needed
        keyframe = index.seek_point(following)
        return keyframe > aimed and keyframe - (position + 1) > self._run.source.seek_threshold

    def _feed(
        self, container: Any, stream: Any, index: PacketIndex, walk: _Walk
    ) -> Iterator[Any | None]:
        """The packets to decode for ``walk.target`` and the targets after it.

        Seeks when the target's keyframe is more than ``seek_threshold`` packets ahead;
        unselected frames are sent with ``skip_frame=NONREF`` (a non-reference frame
        nobody asked for is not decoded). Each packet is checked against the index.
        """
        codec = stream.codec_context
        threshold = self._run.source.seek_threshold
        position = -1  # decode position of the last packet sent to the decoder
        aimed = -1  # the keyframe the latest seek aimed at
        skipping = False
        packets = container.demux(stream)
        drained = False
        while walk.target is not None:
            if not drained and self._drain_now(index, walk.target, position, aimed):
                # The target's packet is in the decoder and the next target needs a
                # seek: drain now rather than decode packets nobody needs while the
                # decoder's threads hand the target's frame out.
                drained = True
                yield None
                continue
            keyframe = index.seek_point(walk.target)
            if drained or (keyframe > aimed and keyframe - (position + 1) > threshold):
                drained = False
                # A seek may land on an earlier keyframe: never aim at one twice.
                packets, position, packet = self._seek(container, stream, index, keyframe)
                aimed = keyframe
                self._run.stats.seeks += 1
            else:
                packet = next(packets, None)
                if packet is None:
                    raise UntrustedIndexError("the demuxer ended before the index did")
                if packet.size:
                    position = self._next_position(index, packet, position)
            if packet.size:
                selected = self._run.selection.contains(int(index.index_of_packet[position]))
                if selected == skipping:
                    skipping = not selected
                    codec.skip_frame = "NONREF" if skipping else "DEFAULT"
                self._run.stats.packets += 1
            yield packet

    @staticmethod
    def _next_position(index: PacketIndex, packet: Any, position: int) -> int:
        """The decode position of the packet after ``position``, checked against the index."""
        following = position + 1
        if following >= index.count or int(index.pts[following]) != packet.pts:
            raise UntrustedIndexError(f"packet {following} is not the one indexed")
        return following

    @staticmethod
    def _seek(
        container: Any, stream: Any, index: PacketIndex, keyframe: int
    ) -> tuple[Any, int, Any]:
        """Seek so that decoding starts at ``keyframe`` or a keyframe before it.

        Demuxers land near, not on, the timestamp asked for (MPEG-TS lands a few packets
        late): packets are read (not decoded) until a keyframe of the index at or before
        ``keyframe``; landing past it aims at an earlier keyframe. Returns the packet
        iterator, the keyframe's decode position and its packet.
        """
        codec = stream.codec_context
        slot = int(np.searchsorted(index.keyframes, keyframe))
        for back in _SEEK_RETREATS:
            aim = int(index.keyframes[max(0, slot - back)])
            container.seek(int(index.pts[aim]), stream=stream, backward=True, any_frame=False)
            codec.flush_buffers()
            packets = container.demux(stream)
            unknown = 0
            for packet in packets:
                if not packet.size:
                    break  # the end of the file
                found = index.frame_index(packet.pts)
                if found is None:
                    unknown += 1
                    if unknown > _SEEK_UNKNOWN_PACKETS:
                        break
                    continue  # a partial packet where the demuxer resynchronised
                position = int(index.packet_of_index[found])
                if position > keyframe:
                    break  # landed past the keyframe: aim earlier
                if packet.is_keyframe and index.is_keyframe(position):
                    return packets, position, packet
        raise UntrustedIndexError("no seek landed on a keyframe at or before the one aimed at")
