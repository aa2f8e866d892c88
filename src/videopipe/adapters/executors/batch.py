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

from videopipe.domain.model import FrameResult
from videopipe.domain.service import VideoFilePipelineService
from videopipe.ports.executor import VideoWork


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
        many = getattr(executor, "execute_many", None)
        if many is not None:
            pairs: Iterator[tuple[VideoWork, FrameResult]] = many(works)
            try:
                for work, result in pairs:
                    yield work.path, result
            finally:
                _close(pairs)
            return
        for work in works:
            results = executor.execute(work)
            try:
                for result in results:
                    yield work.path, result
            finally:
                _close(results)
    finally:
        for work in works:
            work.close()


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
