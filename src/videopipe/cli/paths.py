"""The paths of ``videopipe run``: inputs that exist, outputs that clobber no other path."""

from __future__ import annotations

import os
from collections.abc import Sequence

from videopipe.adapters.manifest import MANIFEST_NAME
from videopipe.cli.app import InvalidUsageError
from videopipe.domain.errors import VideoFileNotFoundError


def check_paths(
    videos: Sequence[str],
    output: str | None,
    annotate: str | None,
    summary: str | None = None,
    *,
    batch_dir: str | None = None,
) -> None:
    """Inputs exist (a batch fails a broken link it found as that video); outputs clobber none.

    ``--output``, ``--annotate`` and ``--summary`` must not be an input video, one
    another, or (``batch_dir``) the batch's manifest.
    """
    for video in videos if batch_dir is None else ():
        if not os.path.lexists(video) or not os.path.exists(video):
            raise VideoFileNotFoundError(video)
    targets = [("--output", output), ("--annotate", annotate), ("--summary", summary)]
    for option, target in targets:
        if target is None or not os.path.exists(target):
            continue
        for video in videos:
            if os.path.exists(video) and os.path.samefile(target, video):
                raise InvalidUsageError(f"{option} {target!r} is one of the input videos")
    named = [(option, os.path.abspath(target)) for option, target in targets if target]
    if batch_dir is not None:
        manifest = os.path.abspath(os.path.join(batch_dir, MANIFEST_NAME))
        named.append(("--output-dir's manifest", manifest))
    for number, (option, target) in enumerate(named):
        for other, other_target in named[number + 1 :]:
            if target == other_target:
                raise InvalidUsageError(f"{option} and {other} name the same file")
