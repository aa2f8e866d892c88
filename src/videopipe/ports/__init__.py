"""The interfaces the domain needs; adapters implement them."""

from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.executor import Executor, VideoWork
from videopipe.ports.frames import FrameSource, VideoReader
from videopipe.ports.runner import PipelineRunner

__all__ = [
    "Executor",
    "FrameSource",
    "ImageEncoder",
    "PipelineRunner",
    "VideoReader",
    "VideoWork",
]
