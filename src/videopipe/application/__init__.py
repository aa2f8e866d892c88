"""The application: the service, the per-frame call and the unit of work executors run.

It drives the ports (decoder, runner, executor) and imports no adapter; the domain
below it holds values and errors only.
"""

from videopipe.application.sequential import SequentialExecutor
from videopipe.application.service import VideoFilePipelineService
from videopipe.application.settings import ErrorPolicy, ImageBytesMode, RunSettings
from videopipe.application.work import ServiceWork, WorkOrder

__all__ = [
    "ErrorPolicy",
    "ImageBytesMode",
    "RunSettings",
    "SequentialExecutor",
    "ServiceWork",
    "VideoFilePipelineService",
    "WorkOrder",
]
