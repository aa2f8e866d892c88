"""The four problems of issue 12, each on a file the test makes and on an opencv-doc sample.

1. Packed B-frames in AVI (``Megamind.avi``): pyav's timestamps went back (raw packet
   pts), OpenCV's were a frame late with the last at 0.0 s (its position property).
2. An AVI whose index has gaps (``tree.avi``): every decoder raised "68 of 444 frames
   were read" (the header counts clock ticks) on a valid file.
3. Log lines that are no damage: the imageio_ffmpeg decoder raised from an error-level
   line although every frame was read (an MP4 declaring 65535x65535; ``box.mp4``'s
   "A non-intra slice in an IDR NAL unit").
4. A truncated moov-first MP4 (a cut ``cup.mp4``): imageio_ffmpeg's indices after a
   frame lost at the cut were one too low, and its error was a raw ffmpeg log line.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conformance.expected import ENDS_EARLY, TIMESTAMP_TOLERANCE
from tests.conformance.reference import Reference, decode_with_cli
from videopipe.adapters.decoders import create_frame_source
from videopipe.domain.errors import TimestampOrderError, VideoDecodeError
from videopipe.domain.model import Frame

DECODERS = ("pyav", "imageio_ffmpeg", "opencv")


def read_all(path: Path, decoder: str) -> tuple[list[Frame], Exception | None, int | None]:
    """Every frame, the error that ended the read (or None) and the declared count."""
    frames: list[Frame] = []
    with create_frame_source(decoder).open(str(path)) as reader:
        declared = reader.info.frame_count
        try:
            frames.extend(reader.frames())
        except VideoDecodeError as exc:
            return frames, exc, declared
    return frames, None, declared


def assert_timestamps_are_the_clis(frames: list[Frame], reference: Reference) -> None:
    got = [frame.timestamp for frame in frames]
    assert all(b > a for a, b in itertools.pairwise(got)), "not strictly increasing"
    want = reference.timestamps[: len(got)]
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= TIMESTAMP_TOLERANCE


# -- 1: packed B-frames ------------------------------------------------------------------


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("name", ["Megamind", "packed_b_avi"])
def test_packed_b_frame_avi_timestamps_are_ffmpegs_best_effort_ones(
    reference: Callable[[str], Reference], name: str, decoder: str
) -> None:
    ref = reference(name)
    frames, error, _ = read_all(ref.path, decoder)
    assert error is None
    assert len(frames) == ref.count
    assert_timestamps_are_the_clis(frames, ref)
    assert frames[-1].timestamp == pytest.approx(ref.timestamps[-1], abs=1e-6)


# -- 2: AVI index gaps -------------------------------------------------------------------


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("name", ["tree", "avi_index_gaps"])
def test_avi_with_index_gaps_declares_its_stored_frames_and_reads_without_error(
    reference: Callable[[str], Reference], name: str, decoder: str
) -> None:
    ref = reference(name)
    frames, error, declared = read_all(ref.path, decoder)
    assert error is None
    assert declared == len(frames) == ref.count  # tree.avi: 68, never its 444 ticks
    assert_timestamps_are_the_clis(frames, ref)


# -- 3: log lines that are no damage ------------------------------------------------------


def test_a_header_size_the_sps_overrides_is_no_error(
    reference: Callable[[str], Reference],
) -> None:
    ref = reference("oversized_header")
    assert any("65535x65535" in line for line in ref.errors)  # ffmpeg does log it
    frames, error, _ = read_all(ref.path, "imageio_ffmpeg")
    assert error is None
    assert len(frames) == ref.count == 30
    assert frames[0].image.shape == (240, 320, 3)


def test_decoder_log_lines_of_box_mp4_are_no_error_its_broken_timestamps_are(
    reference: Callable[[str], Reference],
) -> None:
    ref = reference("box")
    assert any("non-intra slice" in line for line in ref.errors)
    frames, error, _ = read_all(ref.path, "imageio_ffmpeg")
    assert isinstance(error, TimestampOrderError), error
    assert "non-intra" not in str(error)
    assert len(frames) == error.index == 454


# -- 4: truncated moov-first MP4 -------------------------------------------------------


@pytest.fixture(scope="session")
def cut_cup(conformance_file: Callable[[str], Path], conformance_dir: Path) -> Path:
    """OpenCV's moov-first ``cup.mp4`` cut at 45 %."""
    data = conformance_file("cup").read_bytes()
    target = conformance_dir / "cup-cut45.mp4"
    target.write_bytes(data[: int(len(data) * 0.45)])
    return target


def _check_truncated(path: Path, rate: float, decoder: str) -> list[Frame]:
    frames, error, declared = read_all(path, decoder)
    assert isinstance(error, VideoDecodeError)
    assert re.fullmatch(rf"Unable to read video file '.*': {ENDS_EARLY}", str(error)), error
    assert error.frames_expected == declared
    for frame in frames:  # a frame's index is its position in the stream
        assert frame.index == round(frame.timestamp * rate), (frame.index, frame.timestamp)
    return frames


@pytest.mark.parametrize("decoder", DECODERS)
def test_truncated_faststart_mp4_indices_follow_timestamps_and_the_error_is_one_sentence(
    reference: Callable[[str], Reference], decoder: str
) -> None:
    ref = reference("truncated_faststart")
    gaps = [i for i, t in enumerate(ref.timestamps) if round(t * 25) != i]
    assert gaps, "the CLI loses a frame at the cut (the case the test is about)"
    frames = _check_truncated(ref.path, 25, decoder)
    if decoder == "imageio_ffmpeg":  # the pipe hands out every frame ffmpeg decodes
        assert [frame.index for frame in frames][-1] == round(ref.timestamps[-1] * 25)


@pytest.mark.parametrize("decoder", DECODERS)
def test_a_cut_opencv_sample_gives_the_same_sentence_on_every_decoder(
    cut_cup: Path, conformance_dir: Path, decoder: str
) -> None:
    ref = decode_with_cli(cut_cup, conformance_dir)
    rate = 1 / (ref.timestamps[1] - ref.timestamps[0])
    frames = _check_truncated(cut_cup, rate, decoder)
    assert len(frames) >= ref.count - 3


# -- probe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "declared", "stored", "monotonic"),
    [("tree", 68, 68, True), ("box", 456, 455, False), ("truncated_faststart", 100, 49, True)],
)
def test_probe_shows_declared_and_stored_counts_and_whether_timestamps_are_monotonic(
    conformance_file: Callable[[str], Path],
    name: str,
    declared: int,
    stored: int,
    monotonic: bool,
) -> None:
    command = [sys.executable, "-m", "videopipe", "probe", "--json", str(conformance_file(name))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["declared_frames"] == declared
    assert facts["stored_frames"] == stored
    assert facts["timestamps_monotonic"] is monotonic
