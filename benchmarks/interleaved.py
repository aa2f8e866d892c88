"""Interleaved ratios: the raw ffmpeg pipe, the default decoder and the service, in turns.

On a shared machine, drift between benchmarks measured one after the other swamps small
differences; running the three cases in turn, round after round, and keeping each one's
best round gives steadier ratios. Run::

    python benchmarks/interleaved.py --size 320x240 --rounds 7
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.decoders.imageio_ffmpeg import bundled_ffmpeg
from videopipe.domain.service import VideoFilePipelineService
from videopipe.testing.media import make_video

FRAMES = 1000


class NoopRunner:
    """Does nothing: what is left is the service's own cost."""

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An empty result."""
        return {}


def main() -> None:
    """Measure and print best-round times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="320x240", help="WIDTHxHEIGHT of the test video")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder:
        path = make_video(
            Path(folder) / "clip.mp4", frames=FRAMES, width=width, height=height, content="testsrc"
        )
        source = create_frame_source()

        def reference() -> int:
            command = [bundled_ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(path)]
            command += ["-map", "0:V:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
            buffer = memoryview(bytearray(width * height * 3))
            count = 0
            with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
                assert process.stdout is not None
                while process.stdout.readinto(buffer):
                    count += 1
            return count

        def decoder() -> int:
            with source.open(str(path)) as reader:
                return sum(1 for _ in reader.frames())

        def service() -> int:
            runner = NoopRunner()
            return len(VideoFilePipelineService(runner, frame_source=source).run_on_file("x", path))

        cases: dict[str, Callable[[], int]] = {
            "raw ffmpeg rgb24 pipe": reference,
            "decoder imageio_ffmpeg": decoder,
            "service + no-op runner": service,
        }
        best = dict.fromkeys(cases, float("inf"))
        for _ in range(args.rounds):
            for name, case in cases.items():
                started = time.perf_counter()
                assert case() == FRAMES, name
                best[name] = min(best[name], time.perf_counter() - started)
    base = best["raw ffmpeg rgb24 pipe"]
    print(f"{args.size}, {FRAMES} frames, best of {args.rounds} interleaved rounds")
    for name, seconds in best.items():
        rate = FRAMES / seconds
        print(f"{name:24s} {seconds:6.3f} s  {rate:7.0f} frames/s  ratio {base / seconds:.2f}")


if __name__ == "__main__":
    main()
