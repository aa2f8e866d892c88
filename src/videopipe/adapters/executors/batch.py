"""Many videos through one service: their segments share the executor's workers.

``run_batch(service, pipeline_id, paths)`` yields ``(path, FrameResult)`` by input file,
then by frame. With an executor that has ``execute_many`` (``segments``, ``dask``) the
videos' segments are spread over the workers together, so a short file does not leave
workers idle; with any other executor the files run one after the other. A failure
stops the batch as it would stop a loop over the files: every result before it (in
that order) is yielded first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from videopipe.application.service import VideoFilePipelineService
from videopipe.domain.model import FrameResult
from videopipe.ports.closing import closed_after
from videopipe.ports.executor import ManyVideoExecutor
from videopipe.ports.work import VideoWork


def run_batch(
    service: VideoFilePipelineService,
    pipeline_id: str,
    paths: Iterable[str | os.PathLike[str]],
) -> Iterator[tuple[str, FrameResult]]:
    """Run ``pipeline_id`` on every file of ``paths`` with ``service``'s executor.

    Arguments are checked at once; closing the iterator early stops every worker.
    """
    files = [os.fspath(path) for path in paths]
    works = [service.work(pipeline_id, path) for path in files]
    return _generate(service, works)


def _generate(
    service: VideoFilePipelineService, works: list[VideoWork]
) -> Iterator[tuple[str, FrameResult]]:
    executor = service.executor
    try:
        if isinstance(executor, ManyVideoExecutor):
            with closed_after(executor.execute_many(works)) as pairs:
                for work, result in pairs:
                    yield work.path, result
            return
        for work in works:
            with closed_after(executor.execute(work)) as results:
                for result in results:
                    yield work.path, result
    finally:
        for work in works:
            work.close()
