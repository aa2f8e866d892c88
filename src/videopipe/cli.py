"""The ``videopipe`` command line (a first, small one: ``videopipe run``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from videopipe.container import ENVIRONMENTS, create_container
from videopipe.domain.errors import (
    ConfigurationError,
    MissingDependencyError,
    PipelineNotFoundError,
    PipelineSpecError,
    PluginError,
    VideoPipeError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_PIPELINE = 4
EXIT_RUNNER = 5


def _json_default(value: Any) -> Any:
    """Make numpy scalars and arrays (and anything else) JSON-serialisable."""
    for attribute in ("tolist", "item"):
        convert = getattr(value, attribute, None)
        if callable(convert):
            return convert()
    return str(value)


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videopipe", description="Run a pipeline over every frame of a video file."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run a pipeline over a video and print one JSON line per processed frame",
        description="Run a pipeline over VIDEO and print one JSON line per processed frame.",
    )
    run.add_argument("video", metavar="VIDEO", help="path of a local video file")
    run.add_argument("--pipeline", "-p", required=True, metavar="ID", help="pipeline id")
    run.add_argument(
        "--env",
        choices=ENVIRONMENTS,
        help="configuration environment (default: VIDEOPIPE_ENV, else dev)",
    )
    run.add_argument("--stride", type=_at_least(1), metavar="N", help="process every N-th frame")
    run.add_argument(
        "--max-frames", type=_at_least(0), metavar="N", help="process at most N frames"
    )
    run.add_argument("--decoder", metavar="NAME", help="decoder: imageio_ffmpeg or opencv")
    return parser


def run(args: argparse.Namespace, out: TextIO) -> int:
    """``videopipe run``: stream JSON lines to ``out``."""
    overrides = {
        key: value
        for key, value in (
            ("decoder", args.decoder),
            ("frame_stride", args.stride),
            ("max_frames", args.max_frames),
        )
        if value is not None
    }
    container = create_container(args.env, overrides=overrides)
    service = container.video_service()
    for item in service.iter_frame_results(args.pipeline, args.video):
        line = {
            "video": args.video,
            "frame_index": item.frame_index,
            "timestamp": item.timestamp,
            "result": item.result,
        }
        out.write(json.dumps(line, default=_json_default) + "\n")
        out.flush()
    return EXIT_OK


def exit_code_for(error: Exception) -> int:
    """The exit code of each kind of failure."""
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    if isinstance(error, PipelineNotFoundError | PipelineSpecError | MissingDependencyError):
        return EXIT_PIPELINE
    if isinstance(error, VideoPipeError) and not isinstance(error, PluginError):
        return EXIT_INPUT
    return EXIT_RUNNER  # a plugin's or the runner's own failure


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``videopipe`` console script."""
    args = _parser().parse_args(argv)
    try:
        return run(args, sys.stdout)
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("videopipe: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        name = "" if isinstance(exc, VideoPipeError) else f"{type(exc).__name__}: "
        print(f"videopipe: error: {name}{exc}", file=sys.stderr)
        return exit_code_for(exc)
