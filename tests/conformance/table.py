"""Print the conformance table: every file, its frame count, and per decoder the largest
timestamp and pixel difference from the ffmpeg CLI's decode, and how the read ended.

``python -m tests.conformance.table [WORKDIR]`` (stride 1, read directly).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.conformance.conftest import FILES, _sample
from tests.conformance.expected import expected_for
from tests.conformance.quirks import QUIRKS
from tests.conformance.reference import decode_with_cli
from videopipe.adapters.decoders import create_frame_source
from videopipe.domain.errors import VideoReadError

DECODERS = ("pyav", "imageio_ffmpeg", "opencv")


def _measure(path: Path, decoder: str, frames: np.ndarray, timestamps: tuple[float, ...]) -> str:
    worst_time = 0.0
    worst_pixel = 0
    count = 0
    ending = "ok"
    by_time = {round(t, 6): i for i, t in enumerate(timestamps)}
    try:
        with create_frame_source(decoder).open(str(path)) as reader:
            for frame in reader.frames():
                count += 1
                position = frame.index
                if (
                    position >= len(timestamps)
                    or abs(timestamps[position] - frame.timestamp) > 1e-6
                ):
                    position = by_time.get(round(frame.timestamp, 6), position)
                if position < len(timestamps):
                    worst_time = max(worst_time, abs(frame.timestamp - timestamps[position]))
                    difference = np.abs(frame.image.astype(np.int16) - frames[position])
                    worst_pixel = max(worst_pixel, int(difference.max()))
    except VideoReadError as exc:
        ending = type(exc).__name__
    return f"{count} / {worst_time * 1e6:.2f} us / {worst_pixel} / {ending}"


def main(workdir: Path) -> None:
    """Print the table as Markdown."""
    print("| file | class | CLI frames | " + " | ".join(DECODERS) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in DECODERS) + " |")
    for name in FILES:
        if name in QUIRKS:
            file_name, maker = QUIRKS[name]
            path = maker(workdir / file_name)
            kind = "quirk (made)"
        else:
            path = _sample(name, workdir)
            kind = "opencv-doc sample"
        ref = decode_with_cli(path, workdir)
        frames = ref.frames()
        cells = [_measure(path, decoder, frames, ref.timestamps) for decoder in DECODERS]
        expected = expected_for(name, ref, "pyav")
        note = " (expects an error)" if expected.error else ""
        print(f"| {path.name} | {kind}{note} | {ref.count} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(folder))
