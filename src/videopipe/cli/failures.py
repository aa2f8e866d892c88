"""Several videos into one output: a video that cannot be read fails alone, the run goes on.

``videopipe run a.mp4 b.mp4 c.mp4 -o all.jsonl`` (or a directory, a glob) writes the
videos one after another. When one of them cannot be read (missing, not a video,
corrupt or truncated, a stalled decoder, a lost worker: the errors of exit 3), its
lines written so far stay, a line ``videopipe: failed: PATH: TYPE: message`` goes to
stderr, its report (``--summary``) carries the error, and the next video starts; the
run then exits 3. Any other failure (the pipeline, the runner under ``--on-error
raise``, the output, the cluster) stops the run as with one video.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from videopipe.application.batch import error_of
from videopipe.cli.app import EXIT_INPUT, exit_code_for, stderr_console
from videopipe.cli.summary import RunSummaries


def failed_video(error: BaseException, videos: Sequence[str]) -> str | None:
    """The video ``error`` fails, when the run goes on without it; ``None``: the run stops."""
    if len(videos) < 2 or exit_code_for(error) != EXIT_INPUT:
        return None
    path = getattr(error, "path", None)
    return path if isinstance(path, str) and path in videos else None


def say_failed(video: str, error: BaseException, summaries: RunSummaries | None) -> None:
    """Tell stderr (and the video's report) that ``video`` failed with ``error``."""
    what = error_of(error)
    stderr_console().print(
        f"videopipe: failed: {video}: {what['type']}: {what['message']}",
        markup=False,
        soft_wrap=True,
    )
    if summaries is not None:
        summaries.fail(video, error)


def run_each(
    videos: Sequence[str],
    run: Callable[[Sequence[str]], None],
    summaries: RunSummaries | None,
) -> list[str]:
    """Run ``run(rest)`` until every video ran or failed; the videos that failed.

    ``run(rest)`` runs the videos ``rest`` in order and raises at the first that fails;
    the run goes on with the videos after it.
    """
    failed: list[str] = []
    rest = list(videos)
    while rest:
        try:
            run(rest)
        except Exception as error:
            video = failed_video(error, rest)
            if video is None:
                raise
            failed.append(video)
            say_failed(video, error, summaries)
            rest = rest[rest.index(video) + 1 :]
        else:
            return failed
    return failed
