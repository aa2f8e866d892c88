"""``videopipe bench``: decoder and pipeline throughput on this machine."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import asdict, dataclass

import click
from rich.table import Table

from videopipe.adapters.decoders import DECODERS, available_decoders
from videopipe.adapters.ffmpeg.writer import VideoWriteError, VideoWriter
from videopipe.cli.app import (
    EXIT_OK,
    InvalidUsageError,
    add_text_row,
    app,
    at_least_one_frame,
    debug_option,
    env_option,
    executor_options,
    stdout_console,
)
from videopipe.cli.pipeline_choice import chosen_pipeline, pipeline_path_option
from videopipe.container import create_container
from videopipe.domain.errors import VideoPipeError
from videopipe.domain.model import Frame, FrameResult, FrameSelection

DEFAULT_PIPELINES = ("motion", "scenes")


@dataclass
class Measurement:
    """One row of the table."""

    what: str
    frames: int
    seconds: float
    status: str = "ok"

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def make_test_pattern(path: str, frames: int, width: int, height: int, fps: int = 25) -> str:
    """Encode ``frames`` frames of ffmpeg's moving ``testsrc2`` pattern as H.264."""
    try:
        with VideoWriter(path, width=width, height=height, rate=fps) as writer:
            writer.write_source(f"testsrc2=size={width}x{height}:rate={fps}", frames)
    except VideoWriteError as exc:
        raise VideoPipeError(f"could not make the test video: {exc.cause}") from exc
    return path


def _timed(what: str, items: Generator[object, None, None]) -> Measurement:
    started = time.perf_counter()
    count = 0
    try:
        for _ in items:
            count += 1
    finally:
        items.close()  # closing the generator closes what its ``yield from`` reads
    return Measurement(what, count, time.perf_counter() - started)


def _decode(env: str | None, decoder: str, video: str, frames: int) -> Measurement:
    what = f"decode ({decoder})"
    try:
        source = create_container(env, overrides={"decoder": decoder}).frame_source()
    except Exception as exc:  # a decoder that cannot be built here is a row, not a failure
        return Measurement(what, 0, 0.0, " ".join(f"{type(exc).__name__}: {exc}".split()))

    def decoded() -> Generator[Frame, None, None]:
        with source.open(video) as reader:  # timed from the open, as the pipeline rows are
            yield from reader.frames(FrameSelection.every(1, frames))

    return _timed(what, decoded())


def _check_pipelines(env: str | None, pipelines: Sequence[str], directories: Sequence[str]) -> None:
    """Fail (exit 4) before measuring when a pipeline asked for does not load here."""
    container = create_container(env, overrides={"runner": "dag"})
    for reference in pipelines:
        container.pipeline_library().load(chosen_pipeline(container, reference, directories))


def _pipeline(
    env: str | None,
    reference: str,
    video: str,
    frames: int,
    *,
    scheduling: Mapping[str, object],
    directories: Sequence[str] = (),
) -> Measurement:
    overrides = {"runner": "dag", "max_frames": frames, **scheduling}
    container = create_container(env, overrides=overrides)
    what = f"pipeline {reference} (dag runner)"
    try:
        pipeline = chosen_pipeline(container, reference, directories)
        what = f"pipeline {pipeline} (dag runner)"
        container.pipeline_library().load(pipeline)
    except VideoPipeError as exc:
        return Measurement(what, 0, 0.0, " ".join(str(exc).split()))
    service = container.video_service()

    def results() -> Generator[FrameResult, None, None]:
        yield from service.iter_frame_results(pipeline, video)

    return _timed(what, results())


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match[1]) < 16 or int(match[2]) < 16:
        raise InvalidUsageError(f"--size must be WIDTHxHEIGHT (each >= 16), got {text!r}")
    return int(match[1]), int(match[2])


@app.command("bench", short_help="Decoder and pipeline throughput on this machine.")
@click.argument("video", metavar="[VIDEO]", required=False)
@click.option(
    "--frames",
    type=int,
    callback=at_least_one_frame,
    default=200,
    show_default=True,
    metavar="N",
    help="Frames per measurement (the generated video's length).",
)
@click.option(
    "--size",
    default="320x240",
    show_default=True,
    metavar="WxH",
    help="Size of the generated video (when no VIDEO is given).",
)
@click.option(
    "--pipeline",
    "-p",
    "pipelines",
    multiple=True,
    metavar="ID|FILE",
    help=f"Pipeline to measure, by id or YAML file (repeatable; default: "
    f"{', '.join(DEFAULT_PIPELINES)}). One that does not load here fails the command (exit 4).",
)
@pipeline_path_option
@click.option(
    "--decoder",
    "decoders",
    multiple=True,
    type=click.Choice(sorted(DECODERS)),
    help="Decoder to measure (repeatable; default: every installed one).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@executor_options
@env_option
@debug_option
def bench_command(
    *,
    video: str | None,
    frames: int,
    size: str,
    pipelines: tuple[str, ...],
    pipeline_paths: tuple[str, ...],
    decoders: tuple[str, ...],
    as_json: bool,
    executor: str | None,
    workers: int | None,
    env: str | None,
) -> int:
    """Measure decoding and pipelines on VIDEO (default: a generated H.264 test pattern).

    Each decoder opens the video and decodes its first N frames; each pipeline runs
    over them with the DAG runner and the configuration's decoder and executor. Rows
    give frames/s (the open included) and the ratio to the first decoder's rate. One
    run each, so expect some noise.
    """
    width, height = _size(size)
    _check_pipelines(env, pipelines, pipeline_paths)
    chosen = list(decoders) or available_decoders()
    with tempfile.TemporaryDirectory(prefix="videopipe-bench-") as scratch:
        if video is None:
            video = make_test_pattern(os.path.join(scratch, "bench.mp4"), frames, width, height)
        rows = [_decode(env, decoder, video, frames) for decoder in chosen]
        scheduling = {
            key: value
            for key, value in (("executor", executor), ("workers", workers))
            if value is not None
        }
        rows += [
            _pipeline(
                env, pipeline, video, frames, scheduling=scheduling, directories=pipeline_paths
            )
            for pipeline in (pipelines or DEFAULT_PIPELINES)
        ]
    measured = [row for row in rows if row.status == "ok" and row.fps > 0]
    reference = measured[0].fps if measured else None
    against = measured[0].what if measured else "reference"
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        **asdict(row),
                        "fps": round(row.fps, 1),
                        "ratio": round(row.fps / reference, 3)
                        if reference and row.status == "ok"
                        else None,
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
        return EXIT_OK
    table = Table("measure", "frames", "seconds", "frames/s", f"vs {against}", "status")
    for row in rows:
        ratio = f"{row.fps / reference:.2f}" if reference and row.status == "ok" else "-"
        add_text_row(
            table,
            row.what,
            str(row.frames),
            f"{row.seconds:.3f}",
            f"{row.fps:.1f}" if row.status == "ok" else "-",
            ratio,
            row.status,
        )
    stdout_console().print(table)
    return EXIT_OK
