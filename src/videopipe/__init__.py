"""videopipe: run a DAG of vision plugins over every frame of a video file.

``VideoFilePipelineService(runner)`` is the entry point for library users (its
``report(pipeline_id, path)`` answers per video; ``summarize`` re-runs the summaries
over stored results);
``videopipe.container.create_container(env)`` wires one from configuration.
"""

from importlib.metadata import PackageNotFoundError, version

from videopipe.api import VideoFilePipelineService, summarize
from videopipe.domain.errors import (
    ClusterError,
    ClusterUnavailableError,
    ConfigurationError,
    DecoderTimeoutError,
    FrameTooLargeError,
    MissingDependencyError,
    NotARegularFileError,
    PipelineNotFoundError,
    PipelineSpecError,
    PluginError,
    ResultsFileError,
    ResultsWriteError,
    RunnerTimeoutError,
    TimestampOrderError,
    TooManyErrorsError,
    UnsupportedByDecoderError,
    VideoDecodeError,
    VideoFileNotFoundError,
    VideoPipeError,
    VideoReadError,
    WorkerLostError,
    WorkerPreflightError,
)
from videopipe.domain.model import Frame, FrameResult, FrameSelection, VideoInfo
from videopipe.domain.report import Interval, SkippedFrame, VideoReport
from videopipe.ports import FrameSource, ImageEncoder, PipelineRunner, VideoReader

try:
    __version__ = version("videopipe")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "ClusterError",
    "ClusterUnavailableError",
    "ConfigurationError",
    "DecoderTimeoutError",
    "Frame",
    "FrameResult",
    "FrameSelection",
    "FrameSource",
    "FrameTooLargeError",
    "ImageEncoder",
    "Interval",
    "MissingDependencyError",
    "NotARegularFileError",
    "PipelineNotFoundError",
    "PipelineRunner",
    "PipelineSpecError",
    "PluginError",
    "ResultsFileError",
    "ResultsWriteError",
    "RunnerTimeoutError",
    "SkippedFrame",
    "TimestampOrderError",
    "TooManyErrorsError",
    "UnsupportedByDecoderError",
    "VideoDecodeError",
    "VideoFileNotFoundError",
    "VideoFilePipelineService",
    "VideoInfo",
    "VideoPipeError",
    "VideoReadError",
    "VideoReader",
    "VideoReport",
    "WorkerLostError",
    "WorkerPreflightError",
    "__version__",
    "summarize",
]
