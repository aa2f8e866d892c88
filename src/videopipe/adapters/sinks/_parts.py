"""Committing a file that cannot be appended to in place: complete parts, then one rename.

A tabular sink writes its rows as numbered part files in ``<output>.parts/`` (each
written to a temporary name, synced, then renamed: a part is whole or absent), and
``commit`` merges them into ``<output>`` through a temporary file and an atomic
rename. A crash leaves the previous state: no ``<output>`` (or the last committed
one), and the complete parts, which ``--resume`` continues.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Sequence

from videopipe.domain.errors import ResultsWriteError

_TEMPORARY = ".tmp"


def parts_directory(path: str) -> str:
    """Where the parts of ``path`` are kept while it is written."""
    return path + ".parts"


def _fsync(path: str, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def kept_parts(path: str, suffix: str) -> list[str]:
    """The files a resumed output continues: its complete parts, else the committed file."""
    directory = parts_directory(path)
    if os.path.isdir(directory):
        names = sorted(name for name in os.listdir(directory) if name.endswith(suffix))
        return [os.path.join(directory, name) for name in names]
    return [path] if os.path.exists(path) else []


def _remove(directory: str) -> None:
    """Drop a parts directory: renamed away first, so it is never seen half deleted."""
    trash = directory + _TEMPORARY
    shutil.rmtree(trash, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.rename(directory, trash)
    shutil.rmtree(trash, ignore_errors=True)


class PartStore:
    """The numbered parts of one output file, and their commit."""

    def __init__(self, path: str, suffix: str, *, resume: bool) -> None:
        self.path = path
        self.suffix = suffix
        self.directory = parts_directory(path)
        self.committed = False
        try:
            self._open(resume)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write --output {path!r}: {exc.strerror or exc}"
            ) from exc
        self.number = len(kept_parts(path, suffix))

    def _open(self, resume: bool) -> None:
        if not resume:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            _remove(self.directory)
        if os.path.isdir(self.directory):
            for name in os.listdir(self.directory):
                if not name.endswith(self.suffix):
                    os.unlink(os.path.join(self.directory, name))
            return
        os.makedirs(self.directory)
        if os.path.exists(self.path):  # a committed file continued: it is the first part
            first = os.path.join(self.directory, self.name_of(0))
            try:
                os.link(self.path, first)
            except OSError:
                shutil.copyfile(self.path, first)

    def name_of(self, number: int) -> str:
        """The file name of part ``number``."""
        return f"part-{number:06d}{self.suffix}"

    def parts(self) -> list[str]:
        """The complete parts, in order."""
        return kept_parts(self.path, self.suffix) if not self.committed else []

    def add(self, write: Callable[[str], None]) -> None:
        """Write the next part with ``write(temporary_path)``, then make it part of the output."""
        final = os.path.join(self.directory, self.name_of(self.number))
        temporary = final + _TEMPORARY
        try:
            write(temporary)
            _fsync(temporary)
            os.replace(temporary, final)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write a part of {self.path!r} in {self.directory!r}: {exc.strerror or exc}"
            ) from exc
        self.number += 1

    def commit(self, merge: Callable[[Sequence[str], str], None]) -> None:
        """``merge(parts, temporary_path)``, then rename it to the output and drop the parts."""
        if self.committed:
            return
        temporary = os.path.join(self.directory, "merged" + self.suffix + _TEMPORARY)
        try:
            merge(self.parts(), temporary)
            _fsync(temporary)
            os.replace(temporary, self.path)
            _fsync(os.path.dirname(os.path.abspath(self.path)), directory=True)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write --output {self.path!r}: {exc.strerror or exc}"
            ) from exc
        self.committed = True
        _remove(self.directory)


__all__ = ["PartStore", "kept_parts", "parts_directory"]
