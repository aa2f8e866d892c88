"""A video path is a readable, regular local file, and ffmpeg reads that very file."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from videopipe.domain.errors import (
    NotARegularFileError,
    VideoFileNotFoundError,
    VideoReadError,
)

_PROC_FD = "/proc/self/fd"

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_local_video_file(path: str) -> str:
    """Return the absolute path of ``path`` after checking it is a readable regular file.

    Raises :class:`VideoFileNotFoundError` for a missing path (or a dangling link),
    :class:`NotARegularFileError` for a directory, FIFO, device or socket (checked
    with ``stat``, so a FIFO is never opened and nothing can block), and
    :class:`VideoReadError` for a file that cannot be opened or is empty.
    """
    if not isinstance(path, str):
        raise TypeError(f"video path must be a str or os.PathLike, got {type(path).__name__}")
    if not path:
        raise VideoFileNotFoundError(path)
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise VideoFileNotFoundError(path) from exc
    except OSError as exc:
        cause = "too many levels of symbolic links" if exc.errno == errno.ELOOP else None
        raise VideoReadError(path, cause or exc.strerror or str(exc)) from exc
    for is_kind, kind in _KINDS:
        if is_kind(info.st_mode):
            raise NotARegularFileError(path, f"it is {kind}, not a regular file")
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFileError(path, "it is not a regular file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(1)
    except OSError as exc:
        raise VideoReadError(path, exc.strerror or str(exc)) from exc
    if not head:
        raise VideoReadError(path, "the file is empty")
    return os.path.abspath(path)


def open_video_file(path: str, abspath: str) -> int:
    """An O_RDONLY descriptor of the regular file at ``abspath`` (the caller closes it).

    Opened non-blocking (a FIFO swapped in after the check cannot block) and checked
    again with ``fstat``, so what is read is the very file that was checked.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(abspath, flags)
    except FileNotFoundError as exc:
        raise VideoFileNotFoundError(path) from exc
    except OSError as exc:
        raise VideoReadError(path, exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise NotARegularFileError(path, "it is not a regular file")
    os.set_blocking(descriptor, True)
    return descriptor


def as_ffmpeg_input(abspath: str) -> str:
    """The ``-i`` argument (or libav URL) for a local file."""
    # "file:" makes ffmpeg treat the path as a local file, never as a protocol
    # ("concat:a|b", "http://...", "pipe:0", "-").
    return "file:" + abspath


@contextlib.contextmanager
def ffmpeg_input(path: str, abspath: str) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The input URL of the checked file and the descriptors a child process must inherit.

    Where ``/proc/self/fd`` exists (Linux), ffmpeg or libav reads a descriptor of the
    checked file (``file:/proc/self/fd/N``): the file name never reaches ffmpeg, so it
    cannot be echoed into a log that is parsed (a name holding a newline and a fake
    ``Stream`` or ``showinfo`` line could otherwise forge what is parsed), and the file
    read is the one that was checked (no check-to-open race). Elsewhere:
    ``file:<absolute path>``. The descriptor is closed when the block ends: a child
    process or libav holds its own by then.
    """
    if not os.path.isdir(_PROC_FD):
        yield as_ffmpeg_input(abspath), ()
        return
    descriptor = open_video_file(path, abspath)
    try:
        yield f"file:{_PROC_FD}/{descriptor}", (descriptor,)
    finally:
        os.close(descriptor)
