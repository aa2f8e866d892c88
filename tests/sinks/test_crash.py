"""SIGKILL while a CSV or Parquet output is written leaves a readable file or none.

A child process writes a known stream of frames; it is killed at several moments
(while parts are written, while the parts are merged into the file). Afterwards the
output is absent or whole, what ``--resume`` would keep is a prefix of the stream, and
a resumed sink finishes it into the file an uninterrupted run writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sinks.cases import qr_codes
from videopipe import results
from videopipe.adapters.sinks import encode_line, open_sink, resumable_frames
from videopipe.domain.model import FrameResult

WRITER = """
import sys
from tests.sinks.test_crash import stream
from videopipe.adapters.sinks import open_sink

path, frames, rows_per_part = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sink = open_sink(path, rows_per_part=rows_per_part)
for video, item in stream(frames):
    sink.write(video, item)
print("closing", flush=True)
sink.close()
print("closed", flush=True)
"""


def stream(frames: int) -> list[tuple[str, FrameResult]]:
    """The frames the writer writes: two rows each, over two videos."""
    half = frames // 2
    return [
        ("first.mp4" if i < half else "second.mp4", FrameResult(i % half, i / 25, qr_codes(i)))
        for i in range(frames)
    ]


def _lines(frames) -> list[bytes]:
    return [encode_line(video, item) for video, item in frames]


def _start(path: Path, frames: int, rows_per_part: int) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(frames), str(rows_per_part)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )


def _parts(path: Path) -> int:
    directory = Path(str(path) + ".parts")
    suffix = path.suffix
    try:
        return sum(1 for name in os.listdir(directory) if name.endswith(suffix))
    except FileNotFoundError:
        return 0


def _check_after_kill(path: Path, frames: int) -> None:
    expected = _lines(stream(frames))
    if path.exists():  # killed after the commit's rename: the whole file
        assert _lines(results.read_frames(str(path))) == expected
    kept = _lines(resumable_frames(str(path)))
    assert kept == expected[: len(kept)]
    # resume: continue after what is kept, and the file is the uninterrupted one
    sink = open_sink(str(path), resume=True, rows_per_part=64)
    for video, item in stream(frames)[len(kept) :]:
        sink.write(video, item)
    sink.close()
    assert _lines(results.read_frames(str(path))) == expected
    assert not Path(str(path) + ".parts").exists()


@pytest.mark.parametrize("extension", [".csv", ".parquet"])
@pytest.mark.parametrize("delay", [0.0, 0.013, 0.057])
def test_sigkill_while_parts_are_written(tmp_path: Path, extension: str, delay: float):
    path = tmp_path / f"out{extension}"
    frames = 6_000  # 188 parts: far from done when killed after the third
    with _start(path, frames, rows_per_part=64) as child:
        deadline = time.monotonic() + 120
        while _parts(path) < 3:
            assert child.poll() is None, "the writer ended early"
            assert time.monotonic() < deadline, "no parts written"
            time.sleep(0.005)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not path.exists()
    assert len(list(resumable_frames(str(path)))) >= 3 * 32
    _check_after_kill(path, frames)


@pytest.mark.parametrize("extension", [".csv", ".parquet"])
@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1])
def test_sigkill_while_the_parts_are_merged(tmp_path: Path, extension: str, delay: float):
    path = tmp_path / f"out{extension}"
    frames = 4_000
    with _start(path, frames, rows_per_part=500) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "closing\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
    _check_after_kill(path, frames)
