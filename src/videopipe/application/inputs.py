"""Which files a batch processes: files, directories searched recursively, and globs."""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from videopipe.domain.errors import ConfigurationError, VideoFileNotFoundError

VIDEO_EXTENSIONS: tuple[str, ...] = (
    ".3gp",
    ".avi",
    ".flv",
    ".m2ts",
    ".m4v",
    ".mkv",
    ".mov",
    ".mp4",
    ".mpeg",
    ".mpg",
    ".mts",
    ".mxf",
    ".ogv",
    ".ts",
    ".webm",
    ".wmv",
)
"""The extensions (any case) a directory search picks up; a file named by itself is
taken whatever its extension."""


NAME_BYTES = 200
"""The longest results-file name (bytes): file systems allow 255, and the companions
(``-metadata.json``, ``.parts``, temporary names) need the rest."""


class NoVideosError(ConfigurationError):
    """A directory or glob given as input holds no video file (a usage error)."""


def _is_video(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def _walk(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        found.extend(os.path.join(root, name) for name in sorted(files) if _is_video(name))
    return found


def _glob(pattern: str) -> list[str]:
    """The paths ``pattern`` matches, sorted; ``**`` never goes through a link to a directory.

    (``glob.glob`` follows such links: two links to ``.`` make it walk 2^40 paths.) As
    with ``glob.glob``, a wildcard matches no hidden name (``.partial``) unless the
    pattern itself names one.
    """
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base = Path(*parts[:first]) if first else Path()
    if not base.is_dir():
        return []
    hidden_too = any(part.startswith(".") for part in parts[first:])
    return sorted(
        str(match)
        for match in base.glob(os.path.join(*parts[first:]))
        if hidden_too or not any(p.startswith(".") for p in match.relative_to(base).parts)
    )


def find_videos(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The video files ``paths`` name, in order (a file named twice comes twice).

    A file is taken as it is; a directory gives the files under it whose extension is
    in :data:`VIDEO_EXTENSIONS` (sorted); a path that does not exist but has glob
    characters (``*``, ``?``, ``[``, ``**``) is expanded. A directory or glob without
    any video is :class:`NoVideosError`; a missing file is
    :class:`~videopipe.domain.errors.VideoFileNotFoundError`.
    """
    found: list[str] = []
    for item in paths:
        path = os.fspath(item)
        if os.path.isdir(path):
            videos = _walk(path)
            if not videos:
                raise NoVideosError(
                    f"no video files under directory {path!r} "
                    f"(searched for {', '.join(VIDEO_EXTENSIONS)})"
                )
            found.extend(videos)
        elif os.path.lexists(path):  # a file, or a link to none (it fails as a video)
            found.append(path)
        elif glob.has_magic(path):
            videos = []
            for match in _glob(path):
                if os.path.isdir(match):
                    videos.extend(_walk(match))
                elif os.path.isfile(match):
                    videos.append(match)
            if not videos:
                raise NoVideosError(f"no video files match {path!r}")
            found.extend(videos)
        else:
            raise VideoFileNotFoundError(path)
    return found


def distinct(videos: Iterable[str]) -> list[str]:
    """``videos`` without repeats (the same file, links resolved), first occurrence kept."""
    unique: dict[str, str] = {}
    for path in videos:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def output_name(path: str, suffix: str) -> str:
    """A results-file name for ``path`` that no other input path shares.

    The file's name (readable) and eight hex digits of its absolute path's SHA-256 (two
    inputs ``a/x.mp4`` and ``b/x.mp4`` never collide): ``x.mp4.1f3a09c2.jsonl``. At
    most :data:`NAME_BYTES` bytes: a longer file name is cut.
    """
    digest = hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogateescape"))
    tag = f".{digest.hexdigest()[:8]}{suffix}"
    name = os.path.basename(path)
    while len(f"{name}{tag}".encode("utf-8", "surrogateescape")) > NAME_BYTES:
        name = name[:-1]  # a long name is cut: the digest still tells the inputs apart
    return f"{name}{tag}"
