"""Decode throughput: videopipe's decoders and service against a raw ffmpeg pipe.

For each video size (320x240 and 1280x720, 1000 H.264 frames), in one run:

1. reference: the bundled ffmpeg decoding to ``rgb24`` through a pipe, every frame
   read into one reused buffer (no numpy, no Python per-pixel work);
2. each decoder adapter iterating ``reader.frames()`` over all frames;
3. ``VideoFilePipelineService.run_on_file`` on each decoder, with the mock runner and
   with a no-op runner (the service's own overhead);
4. the same service with ``frame_stride=10`` (100 results) on each decoder;
5. the cost of ``payload["image_bytes"]``: ``"copy"`` against the default zero-copy
   ``"raw"`` (case 3's mock-runner row), and a PNG encoder on 320x240 only;
6. the PyAV decoder against its own raw library loop (PyAV decoding with the same
   threads, every frame converted to rgb24 by one reused ``VideoReformatter``), in a
   group of its own (``<size> vs raw PyAV``: ratio = adapter / raw loop);
7. strides 1, 5, 10 and 30 through the service (no-op runner) on the PyAV decoder at
   1280x720, on the long-GOP video (x264's default GOP 250) and on a GOP-10 copy, each in
   a group whose reference is stride 1 (ratio = how much faster than decoding everything).

Only correctness (frame and result counts) is asserted, never a time. Timings go to
pytest-benchmark's tables (one group per size) and to the summary table printed by
``benchmarks/conftest.py``. Run with::

    python -m pytest benchmarks -p no:cacheprovider -q
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
from av.video.reformatter import VideoReformatter

from videopipe.adapters.decoders import DEFAULT_DECODER, create_frame_source
from videopipe.adapters.encoders import ImageioEncoder
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.adapters.runners.mock import MockDagPipelineService
from videopipe.application import VideoFilePipelineService
from videopipe.ports.frames import FrameSource
from videopipe.ports.runner import PipelineRunner
from videopipe.testing.media import make_video

DECODERS = ("imageio_ffmpeg", "opencv", "pyav")
PIPELINE_ID = "bench"
STRIDE = 10
STRIDES = (1, 5, 10, 30)

Record = Callable[..., None]


class NoopRunner:
    """A runner that does nothing: what remains is the service's own cost."""

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Return an empty result."""
        return {}


RUNNERS: dict[str, Callable[[], PipelineRunner]] = {
    "mock": MockDagPipelineService,
    "noop": NoopRunner,
}


class Bench:
    """Runs one timed case on one video and records it for the summary table."""

    def __init__(self, benchmark: Any, record: Record, rounds: int, video: Any) -> None:
        self.benchmark = benchmark
        self.record = record
        self.rounds = rounds
        self.video = video

    def measure(
        self,
        case: str,
        run: Callable[[], int],
        expected: int,
        *,
        reference: bool = False,
        group: str | None = None,
        also: tuple[str, bool] | None = None,
    ) -> None:
        """Time ``run`` (it returns how many frames it produced); check every round's count.

        The row goes to the table group ``group`` (default: the video's size) and, with
        ``also=(group, reference)``, to a second group too (one measurement, two ratios).
        """
        self.benchmark.group = f"decode {self.video.size}"
        counts: list[int] = []

        def timed() -> None:
            counts.append(run())

        self.benchmark.pedantic(timed, rounds=self.rounds, iterations=1, warmup_rounds=1)
        assert counts, "the benchmark never ran"
        assert counts == [expected] * len(counts), f"{case}: frame counts {counts} != {expected}"
        self.record(group or self.video.size, case, expected, reference=reference)
        if also is not None:
            self.record(also[0], case, expected, reference=also[1])


@pytest.fixture
def bench(benchmark: Any, record_throughput: Record, bench_rounds: int, video: Any) -> Bench:
    """The timing helper for this test's video."""
    return Bench(benchmark, record_throughput, bench_rounds, video)


def decoder(name: str) -> FrameSource:
    """A new frame source for ``name``; skips the test when its extra is missing."""
    if name == "opencv":
        pytest.importorskip("cv2")
    return create_frame_source(name)


def service_run(
    video: Any, source: FrameSource, make_runner: Callable[[], PipelineRunner], **options: Any
) -> Callable[[], int]:
    """A run of ``run_on_file`` with a fresh service and runner (the mock logs calls)."""

    def run() -> int:
        service = VideoFilePipelineService(make_runner(), frame_source=source, **options)
        return len(service.run_on_file(PIPELINE_ID, video.path))

    return run


decoders = pytest.mark.parametrize("decoder_name", DECODERS)


# -- 1. reference ----------------------------------------------------------------------


def ffmpeg_pipe_frames(path: Any, width: int, height: int) -> int:
    """Decode ``path`` to rgb24 through a pipe into one reused buffer; count the frames."""
    command = [bundled_ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(path)]
    command += ["-map", "0:V:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    frame_bytes = width * height * 3
    view = memoryview(bytearray(frame_bytes))
    frames = 0
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        stdout = process.stdout
        while True:
            got = stdout.readinto(view)
            while got and got < frame_bytes:  # a short read: fill the rest of the frame
                more = stdout.readinto(view[got:])
                if not more:
                    break
                got += more
            if not got:
                break
            assert got == frame_bytes, f"torn frame after {frames} frames ({got} bytes)"
            frames += 1
        errors = process.stderr.read().decode("utf-8", "replace")
    assert process.returncode == 0, f"ffmpeg exited with {process.returncode}: {errors}"
    return frames


def test_reference_ffmpeg_pipe(bench: Bench, video: Any):
    bench.measure(
        "reference: ffmpeg rawvideo rgb24 pipe",
        lambda: ffmpeg_pipe_frames(video.path, video.width, video.height),
        video.frames,
        reference=True,
    )


# -- 2. decoder adapters ---------------------------------------------------------------


@decoders
def test_decoder_frames(bench: Bench, video: Any, decoder_name: str):
    source = decoder(decoder_name)

    def run() -> int:
        with source.open(str(video.path)) as reader:
            return sum(1 for _ in reader.frames())

    also = (f"{video.size} vs raw PyAV", False) if decoder_name == "pyav" else None
    bench.measure(f"decoder {decoder_name}: reader.frames()", run, video.frames, also=also)


# -- 3. service, mock and no-op runner -------------------------------------------------


@pytest.mark.parametrize("runner", list(RUNNERS))
@decoders
def test_service_run_on_file(bench: Bench, video: Any, decoder_name: str, runner: str):
    run = service_run(video, decoder(decoder_name), RUNNERS[runner])
    bench.measure(f"service {decoder_name} + {runner} runner", run, video.frames)


# -- 4. stride -------------------------------------------------------------------------


@decoders
def test_service_stride(bench: Bench, video: Any, decoder_name: str):
    run = service_run(video, decoder(decoder_name), MockDagPipelineService, frame_stride=STRIDE)
    case = f"service {decoder_name} + mock runner, stride {STRIDE}"
    bench.measure(case, run, video.frames // STRIDE)


# -- 5. image_bytes --------------------------------------------------------------------


def test_service_image_bytes_copy(bench: Bench, video: Any):
    run = service_run(video, decoder(DEFAULT_DECODER), MockDagPipelineService, image_bytes="copy")
    case = f"service {DEFAULT_DECODER} + mock runner, image_bytes=copy"
    bench.measure(case, run, video.frames)


@pytest.mark.parametrize("bench_size", ["320x240"])
def test_service_image_bytes_png(bench: Bench, video: Any):
    encoder = ImageioEncoder("png")
    run = service_run(
        video, decoder(DEFAULT_DECODER), MockDagPipelineService, image_encoder=encoder
    )
    case = f"service {DEFAULT_DECODER} + mock runner, image_bytes=png"
    bench.measure(case, run, video.frames)


# -- 6. the PyAV decoder against its own raw library loop ------------------------------


def raw_pyav_frames(path: Any) -> int:
    """PyAV's decode loop with the adapter's settings, every frame to an rgb24 array."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = 0
        reformatter = VideoReformatter()
        frames = 0
        for frame in container.decode(stream):
            reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
            frames += 1
    return frames


def test_raw_pyav_loop(bench: Bench, video: Any):
    bench.measure(
        "raw PyAV loop: decode + reused reformatter to rgb24",
        lambda: raw_pyav_frames(video.path),
        video.frames,
        also=(f"{video.size} vs raw PyAV", True),
    )


# -- 7. strides on the PyAV decoder: skipped and unread frames -------------------------


@pytest.fixture(scope="session")
def video_1280x720_gop10(bench_video_dir: Path) -> Path:
    """The 1280x720 benchmark video with a keyframe every 10 frames."""
    return make_video(
        bench_video_dir / "testsrc_1280x720_1000_gop10.mp4",
        frames=1000,
        width=1280,
        height=720,
        content="testsrc",
        gop=10,
    )


@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("gop", ["250", "10"])
@pytest.mark.parametrize("bench_size", ["1280x720"])
def test_pyav_stride(
    bench: Bench, video: Any, request: pytest.FixtureRequest, gop: str, stride: int
):
    path = video.path if gop == "250" else request.getfixturevalue("video_1280x720_gop10")
    source = decoder("pyav")

    def run() -> int:
        service = VideoFilePipelineService(NoopRunner(), frame_source=source, frame_stride=stride)
        return len(service.run_on_file(PIPELINE_ID, path))

    bench.measure(
        f"service pyav + noop runner, stride {stride}",
        run,
        -(-video.frames // stride),
        reference=stride == 1,
        group=f"{video.size} GOP {gop} strides",
    )
