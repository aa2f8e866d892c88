"""Every decoder on real footage and quirk files agrees with the ffmpeg CLI's own decode.

For each file: the frame count, every frame's timestamp (within 1 us) and every frame's
pixels (bit-exact) against :mod:`tests.conformance.reference`, on all three decoders,
strides 1 and 7, read directly and through every executor (segments cut these files
too). How a read must end is :mod:`tests.conformance.expected`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.conftest import FILES, SAMPLES
from tests.conformance.expected import (
    TIMESTAMP_TOLERANCE,
    Expected,
    expected_for,
)
from tests.conformance.quirks import QUIRKS
from tests.conformance.reference import Reference, digest
from videopipe import VideoFilePipelineService
from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.executors import create_executor
from videopipe.adapters.ffmpeg.packets import packet_facts
from videopipe.domain.errors import UnsupportedByDecoderError, VideoDecodeError, VideoReadError
from videopipe.domain.model import FrameSelection

DECODERS = ("pyav", "imageio_ffmpeg", "opencv")
"""All three decoders, always: a missing one fails the suite (CI installs every extra)."""

STRIDES = (1, 7)

EXECUTORS: dict[str, dict[str, Any]] = {
    "sequential": {},
    "prefetch": {},
    "threads": {"workers": 2},
    "auto": {"workers": 2},
    "segments": {"workers": 2, "min_segment_frames": 8},
}
"""Executors and their options (segments cut even the short quirk files in pieces)."""

Row = tuple[int, float, str]


class DigestRunner:
    """A pipeline runner that reports the pixels that reached it (their digest)."""

    thread_safe = True

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The frame's index, timestamp and pixel digest."""
        return {"digest": digest(payload["image"])}


def assert_matches(
    got: list[Row], error: BaseException | None, expected: Expected, where: str
) -> None:
    """``got`` (and how the read ended) is what ``expected`` says, to the tolerances."""
    want = list(expected.frames)
    if expected.may_lose_tail:
        assert len(want) - expected.may_lose_tail <= len(got) <= len(want), where
        want = want[: len(got)]
    assert [row[0] for row in got] == [row[0] for row in want], f"{where}: indices"
    worst = max((abs(a[1] - b[1]) for a, b in zip(got, want, strict=True)), default=0.0)
    assert worst <= TIMESTAMP_TOLERANCE * 1.001, f"{where}: a timestamp is {worst:.6f} s off"
    differing = [a[0] for a, b in zip(got, want, strict=True) if a[2] != b[2]]
    assert not differing, f"{where}: pixels differ on frames {differing[:10]}"
    if expected.error is None:
        assert error is None, f"{where}: {error!r}"
    else:
        kind = UnsupportedByDecoderError if expected.refused else VideoDecodeError
        assert isinstance(error, kind), f"{where}: {error!r}"
        assert re.search(expected.error, str(error)), f"{where}: {error}"


def read_directly(path: Path, decoder: str, step: int) -> tuple[list[Row], BaseException | None]:
    """Every ``step``-th frame read by the decoder, and the error that ended the read."""
    rows: list[Row] = []
    try:
        with create_frame_source(decoder).open(str(path)) as reader:
            for frame in reader.frames(FrameSelection(step=step)):
                rows.append((frame.index, frame.timestamp, digest(frame.image)))
    except VideoReadError as exc:
        return rows, exc
    return rows, None


def run_through(
    path: Path, decoder: str, step: int, executor: str
) -> tuple[list[Row], BaseException | None]:
    """The service's results for every ``step``-th frame through ``executor``."""
    service = VideoFilePipelineService(
        DigestRunner(),
        frame_stride=step,
        frame_source=create_frame_source(decoder),
        executor=create_executor(executor, **EXECUTORS[executor]),
    )
    rows: list[Row] = []
    try:
        for item in service.iter_frame_results("digest", path):
            assert item.result is not None
            rows.append((item.frame_index, item.timestamp, item.result["digest"]))
    except VideoReadError as exc:
        return rows, exc
    return rows, None


def _cases(names: Iterable[str]) -> list[Any]:
    return [
        pytest.param(name, decoder, step, id=f"{name}-{decoder}-stride{step}")
        for name in names
        for decoder in DECODERS
        for step in STRIDES
    ]


@pytest.mark.parametrize(("name", "decoder", "step"), _cases(FILES))
def test_decoder_agrees_with_the_ffmpeg_cli(
    reference: Callable[[str], Reference], name: str, decoder: str, step: int
) -> None:
    ref = reference(name)
    got, error = read_directly(ref.path, decoder, step)
    assert_matches(got, error, expected_for(name, ref, decoder).every(step), f"{name} on {decoder}")


EXECUTOR_FILES = (*QUIRKS, "Megamind", "tree")
"""Through the executors: every quirk file and the two samples of problems 1 and 2."""


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
@pytest.mark.parametrize(("name", "decoder", "step"), _cases(EXECUTOR_FILES))
def test_every_executor_agrees_with_the_ffmpeg_cli(
    reference: Callable[[str], Reference], name: str, decoder: str, step: int, executor: str
) -> None:
    ref = reference(name)
    got, error = run_through(ref.path, decoder, step, executor)
    where = f"{name} on {decoder} through {executor}"
    assert_matches(got, error, expected_for(name, ref, decoder).every(step), where)


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Any]:
    """A Dask LocalCluster of two single-threaded workers, shared by the module."""
    with create_executor("dask", workers=2, segments_per_worker=3, min_segment_frames=4) as dask:
        yield dask


@pytest.mark.parametrize("decoder", DECODERS)
def test_dask_agrees_with_the_ffmpeg_cli_on_every_quirk_file(
    reference: Callable[[str], Reference], dask_executor: Any, decoder: str
) -> None:
    for name in (*QUIRKS, "tree"):  # Megamind's 270 frames of 720x528: segments covers it
        ref = reference(name)
        for step in STRIDES:
            service = VideoFilePipelineService(
                DigestRunner(),
                frame_stride=step,
                frame_source=create_frame_source(decoder),
                executor=dask_executor,
            )
            rows: list[Row] = []
            error: BaseException | None = None
            try:
                for item in service.iter_frame_results("digest", ref.path):
                    assert item.result is not None
                    rows.append((item.frame_index, item.timestamp, item.result["digest"]))
            except VideoReadError as exc:
                error = exc
            where = f"{name} on {decoder} through dask, stride {step}"
            assert_matches(rows, error, expected_for(name, ref, decoder).every(step), where)


@pytest.mark.parametrize("name", FILES)
def test_the_stored_count_is_what_ffmpeg_decodes_and_monotonic_what_it_gives(
    reference: Callable[[str], Reference], name: str
) -> None:
    ref = reference(name)
    facts = packet_facts(str(ref.path))
    if name == "truncated_faststart":  # 48 whole frames decoded, and the cut one
        assert facts["stored_frames"] == ref.count + 1
        assert facts["declared_frames"] == 100
    else:
        assert facts["stored_frames"] == ref.count
    assert facts["timestamps_monotonic"] is ref.strictly_increasing


def test_the_suite_covers_every_sample_and_quirk_class() -> None:
    assert set(SAMPLES) == {"Megamind", "Megamind_bugy", "tree", "vtest", "cup", "box"}
    assert len(QUIRKS) == 11
