"""Where ``videopipe run`` writes its JSON lines, and how ``--resume`` reads them back.

A line is written with one ``write`` of the whole encoded line, so a run stopped at
any moment (Ctrl-C, a crash, SIGKILL) leaves whole lines; a torn last line (only a
failing disk can leave one) is dropped when the file is resumed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from videopipe.adapters.signals import signals_deferred
from videopipe.cli.app import InvalidUsageError, OutputError
from videopipe.domain.model import FrameResult


def _json_default(value: Any) -> Any:
    """Make numpy scalars and arrays (and anything else) JSON-serialisable."""
    for attribute in ("tolist", "item"):
        convert = getattr(value, attribute, None)
        if callable(convert):
            return convert()
    return str(value)


def encode_line(video: str, item: FrameResult) -> bytes:
    """One result line: ``video``, ``frame_index``, ``timestamp``, ``result`` (+ ``error``)."""
    line: dict[str, Any] = {
        "video": video,
        "frame_index": item.frame_index,
        "timestamp": item.timestamp,
        "result": item.result,
    }
    if item.error is not None:
        line["error"] = item.error
    return (json.dumps(line, default=_json_default) + "\n").encode("utf-8")


class LineSink:
    """Writes whole lines to a file descriptor (stdout, or the ``--output`` file)."""

    def __init__(self, fd: int, name: str, *, owned: bool) -> None:
        self.fd = fd
        self.name = name
        self.owned = owned
        self.lines = 0

    @classmethod
    def to_stdout(cls) -> LineSink:
        """Lines to standard output."""
        return cls(1, "<stdout>", owned=False)

    @classmethod
    def to_file(cls, path: str, *, append: bool) -> LineSink:
        """Lines to ``path`` (replaced, or appended to when ``append``)."""
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        try:
            fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write --output {path!r}: {exc.strerror or exc}") from exc
        return cls(fd, path, owned=True)

    def write(self, data: bytes) -> None:
        """Write one whole line (Ctrl-C and SIGTERM wait until it is written)."""
        with signals_deferred():
            view = memoryview(data)
            try:
                while view:
                    written = os.write(self.fd, view)
                    view = view[written:]
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(f"cannot write to {self.name!r}: {exc.strerror or exc}") from exc
        self.lines += 1

    def close(self) -> None:
        """Close the file (never stdout)."""
        if self.owned:
            os.close(self.fd)
            self.owned = False


def _digest_part(index: int, line: bytes, errored: bool) -> bytes:
    """What a line adds to a video's digest: the line, or only its index for an error line.

    An error line (a frame skipped under ``--on-error skip``) may not come out the same
    when the frame is run again (a timeout, a flaky service), so only its place counts.
    """
    return b"%d error\n" % index if errored else line


@dataclass
class WrittenVideo:
    """What a results file already holds for one video."""

    video: str
    lines: int = 0
    last_index: int = -1
    digest: Any = field(default_factory=lambda: hashlib.blake2b(digest_size=16))
    errored: set[int] = field(default_factory=set)
    """Frames whose line is an error line."""
    last_line: bytes = b""

    def add(self, index: int, line: bytes, errored: bool) -> None:
        """Count one more line of this video."""
        self.lines += 1
        self.last_index = index
        self.last_line = line
        if errored:
            self.errored.add(index)
        self.digest.update(_digest_part(index, line, errored))

    def last_only(self) -> WrittenVideo:
        """The same video reduced to its last line (what a stateless resume re-checks)."""
        single = WrittenVideo(self.video)
        single.add(self.last_index, self.last_line, self.last_index in self.errored)
        return single


@dataclass
class ResumePlan:
    """How to continue a results file: videos to skip, and where the last one stopped."""

    keep_bytes: int
    """Length of the file's whole lines (a torn tail beyond it is dropped)."""
    done: set[str]
    """Videos whose every line is in the file (a later video started)."""
    partial: WrittenVideo | None
    """The last video in the file: re-run, its lines already written are not written again."""

    def lines_of(self, video: str) -> int:
        """Lines the file holds for ``video`` if it is :attr:`partial` (else 0)."""
        return self.partial.lines if self.partial is not None and self.partial.video == video else 0


def plan_resume(path: str, videos: Sequence[str]) -> ResumePlan:
    """Read ``path`` (streamed, flat memory) and check it was written for ``videos``.

    Raises :class:`InvalidUsageError` when the file holds something this run would not have
    written: a line that is not a result, a video not given, videos out of order.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below; a missing file is a fresh start
    except FileNotFoundError:
        return ResumePlan(0, set(), None)
    except OSError as exc:
        raise OutputError(f"cannot read --output {path!r}: {exc.strerror or exc}") from exc
    order: list[WrittenVideo] = []
    keep = 0
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                break  # a torn last line: dropped
            video, index, errored = _parse(path, number, raw)
            current = order[-1] if order else None
            if current is None or current.video != video:
                if any(seen.video == video for seen in order):
                    raise InvalidUsageError(
                        f"cannot resume {path!r}: line {number} goes back to video {video!r}"
                    )
                current = WrittenVideo(video)
                order.append(current)
            if index <= current.last_index:
                raise InvalidUsageError(
                    f"cannot resume {path!r}: line {number} repeats or goes back to frame {index}"
                )
            current.add(index, raw, errored)
            keep += len(raw)
    given = list(videos)
    positions = []
    for written in order:
        if written.video not in given:
            raise InvalidUsageError(
                f"cannot resume {path!r}: it holds results of {written.video!r}, "
                "which is not among the videos given"
            )
        positions.append(given.index(written.video))
    if positions != sorted(positions):
        raise InvalidUsageError(
            f"cannot resume {path!r}: its videos are not in the order given on the command line"
        )
    if not order:
        return ResumePlan(keep, set(), None)
    last = positions[-1]
    return ResumePlan(keep, set(given[:last]), order[-1])


def _parse(path: str, number: int, raw: bytes) -> tuple[str, int, bool]:
    try:
        line = json.loads(raw)
        video, index = line["video"], line["frame_index"]
        if not isinstance(video, str) or isinstance(index, bool) or not isinstance(index, int):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InvalidUsageError(
            f"cannot resume {path!r}: line {number} is not a videopipe result line"
        ) from None
    return video, index, "error" in line


def drop_torn_tail(path: str, keep_bytes: int) -> None:
    """Cut ``path`` to ``keep_bytes`` (its whole lines) when it is longer."""
    with contextlib.suppress(FileNotFoundError):
        if os.path.getsize(path) > keep_bytes:
            os.truncate(path, keep_bytes)


class ResumeCheck:
    """Checks that a re-run gives exactly the lines a file already holds for its video.

    Error lines are checked for their place only (see :func:`_digest_part`); the file
    keeps the line it has.
    """

    def __init__(self, path: str, written: WrittenVideo) -> None:
        self.path = path
        self.written = written
        self.seen = 0
        self.digest = hashlib.blake2b(digest_size=16)
        self.finished = written.lines == 0

    def already_written(self, item: FrameResult, line: bytes) -> bool:
        """Whether ``line`` is one the file holds (then it is not written again)."""
        if self.finished:
            return False
        if item.frame_index <= self.written.last_index:
            self.seen += 1
            index = item.frame_index
            self.digest.update(_digest_part(index, line, index in self.written.errored))
            if item.frame_index == self.written.last_index:
                self.finish()
            return True
        self.finish()
        return False

    def finish(self) -> None:
        """Compare what the re-run gave with the file; a difference is a usage problem."""
        if self.finished:
            return
        self.finished = True
        if self.seen != self.written.lines or self.digest.digest() != self.written.digest.digest():
            raise InvalidUsageError(
                f"cannot resume {self.path!r}: its {self.written.lines} lines for "
                f"{self.written.video!r} differ from what this run gives for those frames "
                "(was it written with other options, pipeline or configuration?)"
            )
