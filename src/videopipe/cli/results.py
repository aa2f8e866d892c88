"""How ``videopipe run --resume`` reads back what an output holds, in any results format.

The output is read through its format's reader (what a resumed sink keeps: whole JSON
lines; a CSV's or Parquet file's complete parts), and each frame compared as its JSON
line, so every format resumes the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from videopipe.adapters.sinks import encode_line, resumable_frames
from videopipe.cli.app import InvalidUsageError, OutputError
from videopipe.domain.errors import ResultsFileError
from videopipe.domain.model import FrameResult


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

    done: set[str]
    """Videos whose every frame is in the file (a later video started)."""
    partial: WrittenVideo | None
    """The last video in the file: re-run, its frames already written are not written again."""

    def lines_of(self, video: str) -> int:
        """Frames the file holds for ``video`` if it is :attr:`partial` (else 0)."""
        return self.partial.lines if self.partial is not None and self.partial.video == video else 0


def plan_resume(path: str, videos: Sequence[str], results_format: str | None = None) -> ResumePlan:
    """Read ``path`` (streamed, flat memory) and check it was written for ``videos``.

    Raises :class:`InvalidUsageError` when the file holds something this run would not have
    written: a line that is not a result, a video not given, videos out of order.
    """
    order: list[WrittenVideo] = []
    number = 0
    try:
        for number, (video, item) in enumerate(resumable_frames(path, results_format), start=1):
            current = order[-1] if order else None
            if current is None or current.video != video:
                if any(seen.video == video for seen in order):
                    raise InvalidUsageError(
                        f"cannot resume {path!r}: frame {number} goes back to video {video!r}"
                    )
                current = WrittenVideo(video)
                order.append(current)
            if item.frame_index <= current.last_index:
                raise InvalidUsageError(
                    f"cannot resume {path!r}: frame {number} repeats or goes back to "
                    f"frame {item.frame_index}"
                )
            current.add(item.frame_index, encode_line(video, item), item.error is not None)
    except FileNotFoundError:
        if number:
            raise
        return ResumePlan(set(), None)
    except ResultsFileError as exc:
        raise InvalidUsageError(f"cannot resume {path!r}: {exc}") from None
    except OSError as exc:
        raise OutputError(f"cannot read --output {path!r}: {exc.strerror or exc}") from exc
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
        return ResumePlan(set(), None)
    return ResumePlan(set(given[: positions[-1]]), order[-1])


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
