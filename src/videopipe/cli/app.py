"""The ``videopipe`` command group, its exit codes and the options commands share."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from videopipe.adapters.annotate import AnnotatedVideoWriteError
from videopipe.adapters.decoders import DECODERS
from videopipe.adapters.executors import EXECUTORS
from videopipe.container import ENVIRONMENTS
from videopipe.domain.errors import (
    ClusterError,
    ConfigurationError,
    MissingDependencyError,
    PipelineNotFoundError,
    PipelineSpecError,
    PluginError,
    ResultsWriteError,
    RunnerTimeoutError,
    VideoPipeError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_PIPELINE = 4
EXIT_RUNNER = 5
EXIT_OUTPUT = 6
EXIT_CLUSTER = 7
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

F = TypeVar("F", bound=Callable[..., Any])


def count_option(
    *names: str, minimum: int, text: str, default: int | None = None, show_default: bool = False
) -> Callable[[F], F]:
    """A whole-number option (metavar ``N``) of at least ``minimum``, with help ``text``."""
    option: Callable[[F], F] = click.option(
        *names,
        type=click.IntRange(min=minimum),
        default=default,
        show_default=show_default,
        metavar="N",
        help=text,
    )
    return option


class InvalidUsageError(ConfigurationError):
    """Arguments that do not go together (exit code 2)."""


class OutputError(ResultsWriteError):
    """The results file cannot be opened or written (exit code 6)."""


def exit_code_for(error: BaseException) -> int:  # noqa: PLR0911 - a code per kind
    """The exit code of each kind of failure.

    2 usage or configuration, 3 input file, 4 pipeline (not found, invalid, missing
    extra), 5 a plugin or the runner failed, 6 an output file could not be written,
    7 the Dask cluster (unreachable, no worker, a worker that cannot run the job).
    """
    if isinstance(error, click.ClickException):
        return error.exit_code
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    if isinstance(error, PipelineNotFoundError | PipelineSpecError | MissingDependencyError):
        return EXIT_PIPELINE
    if isinstance(error, ResultsWriteError | AnnotatedVideoWriteError):
        return EXIT_OUTPUT
    if isinstance(error, PluginError | RunnerTimeoutError):
        return EXIT_RUNNER
    if isinstance(error, ClusterError):
        return EXIT_CLUSTER
    if isinstance(error, VideoPipeError):
        return EXIT_INPUT
    return EXIT_RUNNER  # a plugin's or the runner's own failure


def error_line(error: BaseException) -> str:
    """The one line printed for ``error`` (its type is named unless it is videopipe's own)."""
    if isinstance(error, click.UsageError):
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        return f"videopipe: error: {error.format_message()}{hint}"
    if isinstance(error, click.ClickException):
        return f"videopipe: error: {error.format_message()}"
    name = "" if isinstance(error, VideoPipeError) else f"{type(error).__name__}: "
    message = " ".join(str(error).split()) or type(error).__name__
    where = _where_it_failed(error)
    return f"videopipe: error: {name}{message}" + (f" ({where})" if where else "")


FRAME_NOTE = "videopipe: raised by "
"""How the note the library adds to a runner failure begins (application/frames.py)."""


def _where_it_failed(error: BaseException) -> str:
    """The library's note on a runner failure: the runner, pipeline, frame, time and file."""
    for note in getattr(error, "__notes__", None) or ():
        if isinstance(note, str) and note.startswith(FRAME_NOTE):
            return " ".join(note.removeprefix("videopipe: ").split())
    return ""


def stderr_console() -> Console:
    """A rich console on stderr (progress, summaries)."""
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    """A rich console on stdout (tables); 160 columns wide when stdout is not a terminal."""
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = Console(highlight=False, soft_wrap=False, width=160)
    return console


def add_text_row(table: Table, *cells: str) -> None:
    """Add a row of plain text (``[extra]`` and the like are not read as markup)."""
    table.add_row(*(Text(cell) for cell in cells))


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (the progress bar and summary are shown only then)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def at_least_one_frame(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """A frame count option's check: 0 would be a run that silently does nothing."""
    if value is not None and value < 1:
        raise click.BadParameter(
            f"must be a whole number >= 1, not {value} (a run of no frames would do "
            "nothing and succeed)",
            ctx=ctx,
            param=param,
        )
    return value


class Settings:
    """Process-wide switches set by options (``--debug``)."""

    debug = False


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        Settings.debug = True
    return value


def debug_option(function: F) -> F:
    """``--debug``: show the traceback of an error."""
    decorator = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_debug,
        help="Show the full traceback when something fails.",
    )
    decorated: F = decorator(function)
    return decorated


def env_option(function: F) -> F:
    """``--env``: the configuration environment."""
    decorator = click.option(
        "--env",
        type=click.Choice(ENVIRONMENTS),
        default=None,
        help="Configuration environment (default: VIDEOPIPE_ENV, else dev).",
    )
    decorated: F = decorator(function)
    return decorated


def decoder_option(function: F) -> F:
    """``--decoder``: which decoder reads the video."""
    decorator = click.option(
        "--decoder",
        type=click.Choice(sorted(DECODERS)),
        default=None,
        help="Decoder (default: the configuration's, VIDEOPIPE_DECODER, else pyav).",
    )
    decorated: F = decorator(function)
    return decorated


def executor_options(function: F) -> F:
    """``--executor`` and ``--workers``: how frames are scheduled (configuration overrides)."""
    executor = click.option(
        "--executor",
        type=click.Choice(list(EXECUTORS)),
        default=None,
        help="How frames are scheduled; every executor gives the same results "
        "(default: the configuration's, VIDEOPIPE_EXECUTOR, else auto). See docs/executors.md.",
    )
    workers = count_option(
        "--workers",
        minimum=1,
        text="Threads or worker processes for the executor (default: the configuration's, "
        "VIDEOPIPE_WORKERS, else one per CPU).",
    )
    decorated: F = executor(workers(function))
    return decorated


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="videopipe", prog_name="videopipe")
@debug_option
def app() -> None:
    """Run a pipeline (a DAG of vision plugins) over every frame of a video file.

    Exit codes: 0 success, 2 usage or configuration, 3 input video (several videos:
    some failed, the others completed), 4 pipeline (not found, invalid, missing
    extra), 5 a plugin or the runner failed, 6 an output file could not be written,
    7 the Dask cluster, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
