"""Fixtures and the end-of-session summary for the decode-throughput benchmarks.

Each benchmark video (1000 frames of ffmpeg's ``testsrc2`` pattern, H.264 in MP4) is
encoded once per test run into a session temporary directory, and only when a test
asks for it: ``-k 320x240`` never pays for the 720p encode.

Every benchmark records its mean time through the ``record_throughput`` fixture; at
the end of the session :func:`pytest_terminal_summary` prints one table (size, case,
frames/s, ratio to the raw-ffmpeg reference of the same size) and, when
``VIDEOPIPE_BENCH_REPORT`` names a file, writes the same table there as markdown.

Environment variables:

``VIDEOPIPE_BENCH_ROUNDS``
    Timed rounds per benchmark (default 2; fixture ``bench_rounds``). Times are never
    asserted on: only frame counts are.
``VIDEOPIPE_BENCH_REPORT``
    Path of a markdown file that receives the summary table.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from videopipe.testing.media import make_video

FRAMES = 1000
"""Frames in every benchmark video."""

SIZES: dict[str, tuple[int, int]] = {"320x240": (320, 240), "1280x720": (1280, 720)}
"""Benchmark video sizes, by id (``WIDTHxHEIGHT``), in table order."""


@dataclass(frozen=True)
class BenchVideo:
    """A benchmark video and what it holds."""

    path: Path
    size: str
    width: int
    height: int
    frames: int


@dataclass(frozen=True)
class Measurement:
    """One benchmark's outcome: mean seconds per run over ``rounds`` runs."""

    mean_seconds: float
    rounds: int
    frames_out: int
    reference: bool

    @property
    def fps(self) -> float:
        """Video frames covered per second (all ``FRAMES``, even when a stride skips some)."""
        return FRAMES / self.mean_seconds


RESULTS: dict[tuple[str, str], Measurement] = {}
"""``(size, case) -> Measurement``, filled by the benchmarks in run order."""


@pytest.fixture(scope="session")
def bench_rounds() -> int:
    """Timed rounds per benchmark, from ``VIDEOPIPE_BENCH_ROUNDS`` (default 2)."""
    raw = os.environ.get("VIDEOPIPE_BENCH_ROUNDS", "2")
    try:
        rounds = int(raw)
    except ValueError:
        raise pytest.UsageError(f"VIDEOPIPE_BENCH_ROUNDS must be an integer, got {raw!r}") from None
    if rounds < 1:
        raise pytest.UsageError(f"VIDEOPIPE_BENCH_ROUNDS must be >= 1, got {rounds}")
    return rounds


# -- videos --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bench_video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's directory for benchmark videos."""
    return tmp_path_factory.mktemp("bench-videos")


def _make(directory: Path, size: str) -> BenchVideo:
    width, height = SIZES[size]
    path = make_video(
        directory / f"testsrc_{size}_{FRAMES}.mp4",
        frames=FRAMES,
        width=width,
        height=height,
        content="testsrc",
    )
    return BenchVideo(path, size, width, height, FRAMES)


@pytest.fixture(scope="session")
def video_320x240(bench_video_dir: Path) -> BenchVideo:
    """A 1000-frame 320x240 H.264 video, made once per run."""
    return _make(bench_video_dir, "320x240")


@pytest.fixture(scope="session")
def video_1280x720(bench_video_dir: Path) -> BenchVideo:
    """A 1000-frame 1280x720 H.264 video, made once per run."""
    return _make(bench_video_dir, "1280x720")


@pytest.fixture(scope="session")
def video_1920x1080(bench_video_dir: Path) -> BenchVideo:
    """A 1000-frame 1920x1080 H.264 video, made once per run (only when a test asks)."""
    path = make_video(
        bench_video_dir / f"testsrc_1920x1080_{FRAMES}.mp4",
        frames=FRAMES,
        width=1920,
        height=1080,
        content="testsrc",
    )
    return BenchVideo(path, "1920x1080", 1920, 1080, FRAMES)


@pytest.fixture(params=list(SIZES))
def bench_size(request: pytest.FixtureRequest) -> str:
    """Every benchmark size; a test narrows it with ``parametrize("bench_size", [...])``."""
    size: str = request.param
    return size


@pytest.fixture
def video(request: pytest.FixtureRequest, bench_size: str) -> BenchVideo:
    """The session video of the test's ``bench_size``."""
    made: BenchVideo = request.getfixturevalue(f"video_{bench_size}")
    return made


# -- recording -----------------------------------------------------------------------


@pytest.fixture
def record_throughput(benchmark) -> Callable[..., None]:
    """``record(size, case, frames_out, reference=False)``: keep this benchmark's mean.

    Call it after ``benchmark.pedantic`` returned; ``reference=True`` marks the case
    the others of the same size are compared with. Does nothing when pytest-benchmark
    collected no statistics (``--benchmark-disable``).
    """

    def record(size: str, case: str, frames_out: int, *, reference: bool = False) -> None:
        metadata = benchmark.stats
        if metadata is None:
            return
        stats = metadata.stats
        benchmark.extra_info.update(
            {"video_frames": FRAMES, "frames_out": frames_out, "fps": FRAMES / stats.mean}
        )
        RESULTS[(size, case)] = Measurement(stats.mean, stats.rounds, frames_out, reference)

    return record


@pytest.fixture
def record_best() -> Callable[..., None]:
    """``record(group, case, seconds, rounds, reference=False)``: a time measured by hand.

    For benchmarks that time their cases themselves (in turns, keeping each one's best
    round) rather than through pytest-benchmark.
    """

    def record(
        group: str, case: str, seconds: float, rounds: int, *, reference: bool = False
    ) -> None:
        RESULTS[(group, case)] = Measurement(seconds, rounds, FRAMES, reference)

    return record


# -- summary -------------------------------------------------------------------------

_HEADERS = ("size", "case", "frames out", "mean s", "frames/s", "ratio")


def _rows() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    # The video sizes first, then any other group a benchmark recorded (its own reference).
    groups = dict.fromkeys([*SIZES, *(key[0] for key in RESULTS)])
    sizes = [size for size in groups if any(key[0] == size for key in RESULTS)]
    for size in sizes:
        reference = next((m for (s, _), m in RESULTS.items() if s == size and m.reference), None)
        for (row_size, case), measured in RESULTS.items():
            if row_size != size:
                continue
            ratio = f"{measured.fps / reference.fps:.2f}" if reference else "n/a"
            rows.append(
                (
                    size,
                    case,
                    str(measured.frames_out),
                    f"{measured.mean_seconds:.3f}",
                    f"{measured.fps:,.0f}",
                    ratio,
                )
            )
    return rows


def _text_table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    right = {2, 3, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(_HEADERS), "  ".join("-" * width for width in widths)]
    previous = None
    for row in rows:
        if previous is not None and row[0] != previous:
            out.append("")
        out.append(line(row))
        previous = row[0]
    return out


def _markdown_table(rows: list[tuple[str, ...]]) -> str:
    lines = [
        "| " + " | ".join(_HEADERS) + " |",
        "|" + "|".join(["---", "---", "---:", "---:", "---:", "---:"]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _notes() -> list[str]:
    rounds = sorted({measured.rounds for measured in RESULTS.values()})
    return [
        f"{FRAMES}-frame H.264 testsrc2 videos; mean of {', '.join(map(str, rounds))} "
        f"round(s) per case; {os.cpu_count()} CPU(s), Python {platform.python_version()}.",
        f"frames/s = {FRAMES} video frames / mean seconds per run (a stride-10 run still "
        "covers the whole video); ratio = case frames/s / reference frames/s of the same "
        "group: the raw ffmpeg pipe for a size (> 1: faster than it), the raw PyAV loop "
        "in '<size> vs raw PyAV', stride 1 in '<size> GOP <n> strides'.",
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the throughput table; write it as markdown to ``VIDEOPIPE_BENCH_REPORT``."""
    if not RESULTS:
        return
    rows = _rows()
    terminalreporter.write_sep("=", "videopipe decode throughput")
    for text in _text_table(rows):
        terminalreporter.write_line(text)
    terminalreporter.write_line("")
    for note in _notes():
        terminalreporter.write_line(note)
    report = os.environ.get("VIDEOPIPE_BENCH_REPORT")
    if report:
        body = "# videopipe decode throughput\n\n" + _markdown_table(rows) + "\n\n"
        body += "\n".join(_notes()) + "\n"
        Path(report).write_text(body, encoding="utf-8")
        terminalreporter.write_line(f"markdown table written to {report}")
