"""The domain: value objects, errors and the video service. Imports no adapter."""

from videopipe.domain.errors import (
    ConfigurationError,
    DecoderTimeoutError,
    MissingDependencyError,
    NotARegularFileError,
    VideoDecodeError,
    VideoFileNotFoundError,
    VideoPipeError,
    VideoReadError,
)
from videopipe.domain.model import Frame, FrameResult, FrameSelection, RGBImage, VideoInfo

__all__ = [
    "ConfigurationError",
    "DecoderTimeoutError",
    "Frame",
    "FrameResult",
    "FrameSelection",
    "MissingDependencyError",
    "NotARegularFileError",
    "RGBImage",
    "VideoDecodeError",
    "VideoFileNotFoundError",
    "VideoInfo",
    "VideoPipeError",
    "VideoReadError",
]
