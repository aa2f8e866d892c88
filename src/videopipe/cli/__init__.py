"""The ``videopipe`` command line (click, with rich for tables and progress).

Commands: ``run``, ``probe``, ``pipelines list|show|validate``, ``plugins list``,
``jobs show`` and ``bench``. Every failure is one line on stderr (the traceback too
with ``--debug``) and an exit code per kind (see :func:`exit_code_for`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType

import click

from videopipe.adapters.quiet import libraries_quieted
from videopipe.cli import bench, catalog, jobs, run  # noqa: F401 - registers the commands
from videopipe.cli.app import (
    EXIT_CLUSTER,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_PIPELINE,
    EXIT_RUNNER,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Settings,
    app,
    error_line,
    exit_code_for,
)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (decoders and writers stop in ``finally``)."""


def _on_sigterm(number: int, frame: FrameType | None) -> None:
    raise Terminated


def _silence_stdout() -> None:
    """The reader of stdout went away (``| head``): later flushes must not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - a code per kind
    """Entry point of the ``videopipe`` console script and of ``python -m videopipe``."""
    Settings.debug = False
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = arguments[: arguments.index("--")] if "--" in arguments else arguments
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        # Other libraries' log lines and warnings reach stderr only with --debug.
        with (
            libraries_quieted("--debug" not in options),
            app.make_context("videopipe", arguments) as context,
        ):
            code = app.invoke(context)
        return code if isinstance(code, int) else EXIT_OK
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.exceptions.NoArgsIsHelpError as bare:  # ``videopipe`` alone: the help
        click.echo(bare.ctx.get_help() if bare.ctx else bare.format_message(), err=True)
        return EXIT_USAGE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        _report("videopipe: interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _report("videopipe: terminated")
        return EXIT_TERMINATED
    except click.exceptions.Abort:
        _report("videopipe: aborted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        _report(error_line(exc))
        return exit_code_for(exc)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(line: str) -> None:
    if Settings.debug:
        traceback.print_exc(file=sys.stderr)
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


__all__ = [
    "EXIT_CLUSTER",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT",
    "EXIT_PIPELINE",
    "EXIT_RUNNER",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "app",
    "exit_code_for",
    "main",
]
