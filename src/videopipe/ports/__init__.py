"""The interfaces the domain needs; adapters implement them."""

from videopipe.ports.encoding import ImageEncoder
from videopipe.ports.frames import FrameSource, VideoReader
from videopipe.ports.runner import PipelineRunner

__all__ = ["FrameSource", "ImageEncoder", "PipelineRunner", "VideoReader"]
