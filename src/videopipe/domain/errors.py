"""The error hierarchy.

Every error videopipe raises derives from :class:`VideoPipeError` *and* from the
builtin exception a caller would already catch, so ``except FileNotFoundError`` or
``except ValueError`` keeps working for code that has never heard of videopipe.
"""

from __future__ import annotations

from typing import Any

_OS_ERROR_FIELDS = ("errno", "strerror", "filename", "filename2")


def _rebuild_error(
    cls: type[BaseException],
    args: tuple[Any, ...],
    state: dict[str, Any],
    os_fields: dict[str, Any],
) -> BaseException:
    """Unpickle a :class:`VideoPipeError` without calling its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    if isinstance(error, OSError):
        for name, value in os_fields.items():
            setattr(error, name, value)
    error.__dict__.update(state)
    return error


class VideoPipeError(Exception):
    """Root of every error raised by videopipe itself.

    Every subclass survives pickling (an executor sends errors back from other
    processes): the copy has the same type, message, attributes and notes, whatever
    the subclass's ``__init__`` signature.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        os_fields: dict[str, Any] = {}
        if isinstance(self, OSError):  # these live in slots, not in __dict__
            os_fields = {name: getattr(self, name) for name in _OS_ERROR_FIELDS}
            os_fields = {name: value for name, value in os_fields.items() if value is not None}
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__), os_fields))


class VideoFileNotFoundError(VideoPipeError, FileNotFoundError):
    """The video path does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Video file not found: {path!r}")
        self.path = path
        self.filename = path

    def __str__(self) -> str:
        return str(self.args[0])


class VideoReadError(VideoPipeError, ValueError):
    """The path exists but holds no video videopipe can read.

    The message always starts with ``Unable to read video file`` and names the path
    and the cause.
    """

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"Unable to read video file {path!r}: {cause}")
        self.path = path
        self.cause = cause


class NotARegularFileError(VideoReadError):
    """The path is a directory, FIFO, device, socket or anything but a regular file."""


class VideoDecodeError(VideoReadError):
    """Decoding stopped before the end of the video.

    Raised *after* the frames decoded before the failure were handed to the caller,
    so a streaming consumer keeps them; ``frames_read`` says how many there were and
    ``frames_expected`` how many the file declares, when it declares a number.
    """

    def __init__(
        self,
        path: str,
        cause: str,
        *,
        frames_read: int,
        frames_expected: int | None = None,
    ) -> None:
        if frames_expected is None:
            detail = f"{cause} (after {frames_read} frames were read)"
        else:
            detail = f"{cause} ({frames_read} of {frames_expected} frames were read)"
        super().__init__(path, detail)
        self.frames_read = frames_read
        self.frames_expected = frames_expected


class TimestampOrderError(VideoDecodeError):
    """A frame's timestamp is not after the previous frame's: the file's timestamps are broken.

    Every decoder gives frames strictly increasing timestamps (FFmpeg's best-effort
    presentation times); a file where even FFmpeg's go back or repeat (B-frames stored
    without composition times, for one) is refused at that frame, after the frames
    before it were handed out, instead of given a timestamp that is not true.
    """

    def __init__(
        self,
        path: str,
        index: int,
        timestamp: float,
        previous: float,
        *,
        frames_expected: int | None = None,
    ) -> None:
        super().__init__(
            path,
            f"frame {index}'s timestamp {timestamp:.6f} s is not after frame {index - 1}'s "
            f"({previous:.6f} s): the file's timestamps or data are broken",
            frames_read=index,
            frames_expected=frames_expected,
        )
        self.index = index
        self.timestamp = timestamp


class UnsupportedByDecoderError(VideoReadError):
    """The chosen decoder cannot be exact on the file; the message names the decoder that can."""

    def __init__(self, path: str, cause: str, use: str) -> None:
        super().__init__(path, f"{cause}; decode it with the {use} decoder")
        self.use = use


class FrameTooLargeError(VideoReadError):
    """The video's frames have more pixels than the configured limit.

    Raised from the file's header, before any frame buffer is allocated.
    """

    def __init__(self, path: str, width: int, height: int, limit: int) -> None:
        super().__init__(
            path,
            f"its frames are {width}x{height} = {width * height} pixels, over the limit of "
            f"{limit} pixels per frame (setting max_frame_pixels)",
        )
        self.width = width
        self.height = height
        self.limit = limit


class DecoderTimeoutError(VideoPipeError, TimeoutError):
    """The decoder produced nothing for longer than its stall timeout."""

    def __init__(self, path: str, seconds: float, frames_read: int) -> None:
        super().__init__(
            f"Decoder stalled on {path!r}: no frame for {seconds:g} s "
            f"(after {frames_read} frames were read)"
        )
        self.path = path
        self.seconds = seconds
        self.frames_read = frames_read


class RunnerTimeoutError(VideoPipeError, TimeoutError):
    """A runner call took longer than the per-frame timeout (setting runner_timeout).

    The call is abandoned: Python cannot stop a running thread, so it finishes in the
    background, and the run goes on (or stops) as the error policy says.
    """

    def __init__(self, pipeline_id: str, frame_index: int, seconds: float) -> None:
        super().__init__(
            f"pipeline {pipeline_id!r} took longer than {seconds:g} s on frame {frame_index}"
        )
        self.pipeline_id = pipeline_id
        self.frame_index = frame_index
        self.seconds = seconds


class ConfigurationError(VideoPipeError, ValueError):
    """A configuration value or argument is not one videopipe accepts."""


class WorkerLostError(VideoPipeError, RuntimeError):
    """A worker process died while running a segment of a video, on every attempt.

    ``path`` is the video, ``start``/``stop`` the segment's frame range (``stop`` is
    exclusive; ``None``: to the end of the video) and ``attempts`` how many workers
    were lost on it.
    """

    def __init__(
        self, path: str, start: int, stop: int | None, attempts: int, detail: str = ""
    ) -> None:
        where = f"frames [{start}, {'end' if stop is None else stop})"
        plural = "s" if attempts != 1 else ""
        super().__init__(
            f"a worker process died running {where} of {path!r} ({attempts} attempt{plural})"
            + (f": {detail}" if detail else "")
        )
        self.path = path
        self.start = start
        self.stop = stop
        self.attempts = attempts


class TooManyErrorsError(VideoPipeError, RuntimeError):
    """A video of a batch skipped more frames than ``max_errors`` allows: it failed.

    ``skipped`` frames were skipped (``on_error="skip"``), more than ``limit``;
    ``first_frame`` is the first of them.
    """

    def __init__(self, path: str, skipped: int, limit: int, first_frame: int, first: str) -> None:
        super().__init__(
            f"{path!r}: {skipped} frames skipped, more than --max-errors {limit}; "
            f"the first, frame {first_frame}: {first}"
        )
        self.path = path
        self.skipped = skipped
        self.limit = limit
        self.first_frame = first_frame


class MissingDependencyError(VideoPipeError, ImportError):
    """An optional extra needed for the chosen adapter is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the optional dependency group {extra!r}: "
            f'pip install "videopipe[{extra}]"'
        )
        self.extra = extra


class PipelineNotFoundError(VideoPipeError, FileNotFoundError):
    """No pipeline with that id is on the search path."""

    def __init__(
        self,
        pipeline_id: str,
        known: list[str],
        searched: list[str],
        *,
        message: str | None = None,
    ) -> None:
        listing = ", ".join(known) if known else "none"
        super().__init__(
            message
            or f"Pipeline not found: {pipeline_id!r}. Known pipelines: {listing} "
            f"(searched: {', '.join(searched)})"
        )
        self.pipeline_id = pipeline_id
        self.known = known

    def __str__(self) -> str:
        return str(self.args[0])


class PipelineSpecError(VideoPipeError, ValueError):
    """A pipeline file (or id) is not a valid pipeline; raised when it loads."""

    def __init__(self, source: str, problem: str, *, node: str | None = None) -> None:
        where = f"{source}, node {node!r}" if node else source
        super().__init__(f"Invalid pipeline {where}: {problem}")
        self.source = source
        self.node = node
        self.problem = problem


class PluginError(VideoPipeError, RuntimeError):
    """A plugin raised while processing a frame (the plugin's exception is the cause)."""

    def __init__(
        self, pipeline_id: str, node: str, plugin: str, frame_index: int, cause: BaseException
    ) -> None:
        super().__init__(
            f"Plugin {plugin!r} (node {node!r} of pipeline {pipeline_id!r}) failed on frame "
            f"{frame_index}: {type(cause).__name__}: {cause}"
        )
        self.pipeline_id = pipeline_id
        self.node = node
        self.plugin = plugin
        self.frame_index = frame_index


class ClusterError(VideoPipeError, RuntimeError):
    """The cluster an executor runs on cannot run the work (CLI exit code 7).

    ``scheduler_address`` names the cluster (``None``: one videopipe started itself).
    """

    def __init__(self, scheduler_address: str | None, message: str) -> None:
        where = scheduler_address or "the local cluster"
        super().__init__(f"Dask cluster at {where}: {message}")
        self.scheduler_address = scheduler_address


class ClusterUnavailableError(ClusterError):
    """The scheduler cannot be reached, or no worker came (or stayed) within the timeout.

    ``waited_for`` says what was waited for (the scheduler, a first worker, a worker
    to come back) and ``seconds`` for how long.
    """

    def __init__(
        self, scheduler_address: str | None, waited_for: str, seconds: float, detail: str = ""
    ) -> None:
        super().__init__(
            scheduler_address,
            f"waited {seconds:g} s for {waited_for} (setting executors.dask.connect_timeout)"
            + (f": {detail}" if detail else ""),
        )
        self.waited_for = waited_for
        self.seconds = seconds


class WorkerPreflightError(ClusterError):
    """Workers that cannot run the work, checked before any segment runs.

    ``problems`` maps each such worker's address to ``(problem, fix)`` pairs.
    """

    def __init__(
        self, scheduler_address: str | None, problems: dict[str, list[tuple[str, str]]]
    ) -> None:
        lines = [
            f"worker {worker}: {problem}; fix: {fix}"
            for worker, found in problems.items()
            for problem, fix in found
        ]
        count = len(problems)
        super().__init__(
            scheduler_address,
            f"{count} worker{'s' if count != 1 else ''} cannot run this job: " + "; ".join(lines),
        )
        self.problems = problems


class ResultsWriteError(VideoPipeError, OSError):
    """A results output (``--output``, a sink's file) cannot be opened or written."""


class ResultsFileError(VideoPipeError, ValueError):
    """A results file cannot be read back: not written by videopipe, or another schema."""
