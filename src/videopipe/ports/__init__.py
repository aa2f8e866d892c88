"""The interfaces the application needs; adapters implement them (one module per port).

Optional capabilities are ``runtime_checkable`` Protocols checked with ``isinstance``:
:class:`HistoryDeclaringRunner`, :class:`FrameSizeDeclaringRunner`,
:class:`PipelineDescribingRunner`, :class:`ThreadSafeRunner`, :class:`ManyVideoExecutor`,
:class:`Closeable`.
"""

from videopipe.ports.closing import Closeable, close_if_closeable
from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor, ManyVideoExecutor
from videopipe.ports.frames import FrameSource, VideoReader
from videopipe.ports.runner import (
    FrameSizeDeclaringRunner,
    HistoryDeclaringRunner,
    PipelineDescribingRunner,
    PipelineRunner,
    ThreadSafeRunner,
)
from videopipe.ports.work import UNBOUNDED_HISTORY, VideoWork

__all__ = [
    "UNBOUNDED_HISTORY",
    "Closeable",
    "Executor",
    "FrameSizeDeclaringRunner",
    "FrameSource",
    "HistoryDeclaringRunner",
    "ImageEncoder",
    "ManyVideoExecutor",
    "PipelineDescribingRunner",
    "PipelineRunner",
    "ThreadSafeRunner",
    "VideoReader",
    "VideoWork",
    "close_if_closeable",
]
