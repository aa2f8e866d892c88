"""The domain: value objects and errors. Imports nothing of videopipe but itself."""

from videopipe.domain.errors import (
    ConfigurationError,
    DecoderTimeoutError,
    FrameTooLargeError,
    MissingDependencyError,
    NotARegularFileError,
    RunnerTimeoutError,
    TimestampOrderError,
    UnsupportedByDecoderError,
    VideoDecodeError,
    VideoFileNotFoundError,
    VideoPipeError,
    VideoReadError,
)
from videopipe.domain.model import (
    Frame,
    FrameResult,
    FrameSelection,
    FrameSize,
    RGBImage,
    VideoInfo,
)

__all__ = [
    "ConfigurationError",
    "DecoderTimeoutError",
    "Frame",
    "FrameResult",
    "FrameSelection",
    "FrameSize",
    "FrameTooLargeError",
    "MissingDependencyError",
    "NotARegularFileError",
    "RGBImage",
    "RunnerTimeoutError",
    "TimestampOrderError",
    "UnsupportedByDecoderError",
    "VideoDecodeError",
    "VideoFileNotFoundError",
    "VideoInfo",
    "VideoPipeError",
    "VideoReadError",
]
