"""Decoder adapter: PyAV, FFmpeg's own libraries in this process (no pipe, no copy).

- :mod:`.source`: the frame source (header, first frame) and the reader (a run per read);
- :mod:`.run`: what one pass over a file holds (container, RGB conversion, end checks);
- :mod:`.sequential`: the pass from the first frame;
- :mod:`.index`: the packet index (one demux pass, nothing decoded);
- :mod:`.indexed`: the fast path for strides and ranges, checked against the index.

Why the first PyAV source tunes glibc's allocator, and what that was measured to save:
``docs/decoders.md``.
"""

from videopipe.adapters.decoders.pyav.index import (
    INDEXED_CODECS,
    MAX_REORDER,
    PacketIndex,
    build_index,
)
from videopipe.adapters.decoders.pyav.run import DecodeStats
from videopipe.adapters.decoders.pyav.source import THREAD_TYPES, PyAVFrameSource, PyAVVideoReader

__all__ = [
    "INDEXED_CODECS",
    "MAX_REORDER",
    "THREAD_TYPES",
    "DecodeStats",
    "PacketIndex",
    "PyAVFrameSource",
    "PyAVVideoReader",
    "build_index",
]
