"""Interleaved ratios: reference loops, a decoder and the service, in turns.

On a shared machine, drift between benchmarks measured one after the other swamps small
differences; running the cases in turn, round after round, and keeping each one's best
round gives steadier ratios. Cases: the raw ffmpeg rgb24 pipe, PyAV's raw decode loop
(every frame converted to rgb24 by one reused reformatter, the PyAV decoder's own
library loop), the decoder's ``reader.frames()``, and the service with a no-op runner.
With ``--strides`` the cases are instead the service (no-op runner) at each stride, on
a video with keyframes every ``--gop`` frames; ratios are then to stride 1. Besides
wall time, each case's CPU time (this process and the ffmpeg it waited for) is kept:
on a loaded machine the CPU ratio shows the work each case does, which the wall ratio
blurs (a separate ffmpeg process gets a larger share of a contended CPU). Run::

    python benchmarks/interleaved.py --size 320x240 --rounds 7
    python benchmarks/interleaved.py --size 1280x720 --decoder pyav --rounds 5
    python benchmarks/interleaved.py --size 1280x720 --decoder pyav --strides 1,5,10,30 --gop 10
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from av.video.reformatter import VideoReformatter

from videopipe.adapters.decoders import DEFAULT_DECODER, create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.application import VideoFilePipelineService
from videopipe.testing.media import make_video

FRAMES = 1000


class NoopRunner:
    """Does nothing: what is left is the service's own cost."""

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An empty result."""
        return {}


def pipe_reference(path: Path, width: int, height: int) -> int:
    """The bundled ffmpeg decoding to rgb24 through a pipe into one reused buffer."""
    command = [bundled_ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(path)]
    command += ["-map", "0:V:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    buffer = memoryview(bytearray(width * height * 3))
    count = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        while process.stdout.readinto(buffer):
            count += 1
    return count


def raw_pyav(path: Path) -> int:
    """PyAV decoding (FFmpeg's thread choice) with one reused reformatter to rgb24."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        reformatter = VideoReformatter()
        count = 0
        for frame in container.decode(stream):
            reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
            count += 1
    return count


def main() -> None:
    """Measure and print best-round times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of the test video")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--decoder", default=DEFAULT_DECODER)
    parser.add_argument("--strides", help="comma-separated strides, e.g. 1,5,10,30")
    parser.add_argument("--gop", type=int, help="keyframe interval (default: x264's 250)")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    source = create_frame_source(args.decoder)
    with tempfile.TemporaryDirectory() as folder:
        path = make_video(
            Path(folder) / "clip.mp4",
            frames=FRAMES,
            width=width,
            height=height,
            content="testsrc",
            gop=args.gop,
        )

        def decoder() -> int:
            with source.open(str(path)) as reader:
                return sum(1 for _ in reader.frames())

        def service(stride: int = 1) -> Callable[[], int]:
            def run() -> int:
                runner = NoopRunner()
                service = VideoFilePipelineService(runner, frame_stride=stride, frame_source=source)
                return len(service.run_on_file("x", path))

            return run

        cases: dict[str, tuple[Callable[[], int], int]]
        if args.strides:
            strides = [int(part) for part in args.strides.split(",")]
            cases = {f"stride {s}": (service(s), -(-FRAMES // s)) for s in strides}
            base_name = f"stride {strides[0]}"
        else:
            cases = {
                "raw ffmpeg rgb24 pipe": (lambda: pipe_reference(path, width, height), FRAMES),
                "raw PyAV loop": (lambda: raw_pyav(path), FRAMES),
                f"decoder {args.decoder}": (decoder, FRAMES),
                "service + no-op runner": (service(), FRAMES),
            }
            base_name = "raw ffmpeg rgb24 pipe"
        best = dict.fromkeys(cases, float("inf"))
        cpu = dict.fromkeys(cases, float("inf"))
        for _ in range(args.rounds):
            for name, (case, expected) in cases.items():
                started, used = time.perf_counter(), _cpu_seconds()
                assert case() == expected, name
                best[name] = min(best[name], time.perf_counter() - started)
                cpu[name] = min(cpu[name], _cpu_seconds() - used)
    base, base_cpu = best[base_name], cpu[base_name]
    gop = f", GOP {args.gop}" if args.gop else ""
    print(f"{args.size}{gop}, {FRAMES} frames, decoder {args.decoder}, best of {args.rounds}")
    raw = "raw PyAV loop"
    for name, seconds in best.items():
        rate = FRAMES / seconds
        line = f"{name:24s} {seconds:6.3f} s  {rate:7.0f} frames/s  ratio {base / seconds:.2f}"
        line += f"  | cpu {cpu[name]:6.3f} s  ratio {base_cpu / cpu[name]:.2f}"
        if not args.strides and name != raw:
            line += (
                f"  | vs raw PyAV: wall {best[raw] / seconds:.2f}, cpu {cpu[raw] / cpu[name]:.2f}"
            )
        print(line)


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (user + system)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


if __name__ == "__main__":
    main()
