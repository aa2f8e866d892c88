"""Measure QR decoders on frames with known codes, after H.264 coding (not a test).

Run: ``python tests/dag/measure_qr.py [--frames-per-scenario 100] [--crf 23]``.

Renders frames with QR codes encoded here with segno (payloads and corners known),
in three scenarios: ``small`` (one 60-90 px code), ``rotated`` (one 90-130 px code
turned 15/30/45 degrees) and ``pair`` (a 130-180 px and a 60-90 px code on one
frame); encodes them to H.264 with the bundled ffmpeg, decodes them back with
videopipe's decoder and runs every candidate on the decoded frames. Reports per
scenario: recall (codes read / codes drawn), frames with every code read, wrong reads
(text not drawn on the frame), the worst box error in pixels, and milliseconds per
frame. The rendering helpers are shared with ``test_plugins_codes.py``.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from videopipe.adapters.decoders import create_frame_source
from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg

Point = tuple[float, float]


@dataclass(frozen=True)
class Drawn:
    """A code drawn on a frame: its payload, symbol corners and bounding box."""

    text: str
    corners: tuple[Point, Point, Point, Point]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """``[x1, y1, x2, y2]`` around the symbol (pixel edges, x2/y2 exclusive)."""
        xs = [x for x, _ in self.corners]
        ys = [y for _, y in self.corners]
        return min(xs), min(ys), max(xs), max(ys)


def qr_modules(payload: str, quiet: int = 4) -> np.ndarray[Any, Any]:
    """The code's modules as uint8 (0 black, 255 white) with a ``quiet``-module margin."""
    import segno  # noqa: PLC0415 - an optional test dependency

    code = segno.make_qr(payload, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=1, border=quiet)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("L"), dtype=np.uint8)


def symbol_image(
    modules: np.ndarray[Any, Any], quiet: int, size: int, angle: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], tuple[Point, Point, Point, Point]]:
    """Scale ``modules`` so the symbol (without quiet zone) is ``size`` px, then rotate.

    Returns the gray image, its paste mask and the symbol's four corners (top-left,
    top-right, bottom-right, bottom-left of the code) in the returned image's pixels.
    """
    count = modules.shape[0]
    symbol = count - 2 * quiet
    total = round(size * count / symbol)
    scale = total / count
    image = Image.fromarray(modules).resize((total, total), Image.Resampling.NEAREST)
    lo, hi = quiet * scale, (count - quiet) * scale
    corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
    mask = Image.new("L", image.size, 255)
    if angle:
        image = image.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=255)
        mask = mask.rotate(angle, Image.Resampling.BICUBIC, expand=True, fillcolor=0)
        theta = math.radians(angle)
        cx, cy = total / 2, total / 2
        nx, ny = image.size[0] / 2, image.size[1] / 2
        corners = [
            (
                nx + (x - cx) * math.cos(theta) + (y - cy) * math.sin(theta),
                ny - (x - cx) * math.sin(theta) + (y - cy) * math.cos(theta),
            )
            for x, y in corners
        ]
    a, b, c, d = corners
    return np.asarray(image), np.asarray(mask), (a, b, c, d)


def background(width: int, height: int, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """A light, textured RGB background (a gradient plus noise)."""
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    tint = rng.uniform(150, 235, size=3).astype(np.float32)
    image = tint * (0.85 + 0.15 * xs) * (0.9 + 0.1 * ys)
    image = image + rng.normal(0, 6, size=(height, width, 3)).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def paste(
    frame: np.ndarray[Any, Any],
    gray: np.ndarray[Any, Any],
    mask: np.ndarray[Any, Any],
    x: int,
    y: int,
) -> None:
    """Blend ``gray`` into ``frame`` at ``x, y`` through ``mask`` (in place)."""
    h, w = gray.shape
    alpha = (mask.astype(np.float32) / 255)[..., None]
    region = frame[y : y + h, x : x + w].astype(np.float32)
    frame[y : y + h, x : x + w] = np.clip(
        region * (1 - alpha) + gray[..., None].astype(np.float32) * alpha, 0, 255
    ).astype(np.uint8)


def draw_symbol(
    frame: np.ndarray[Any, Any],
    modules: np.ndarray[Any, Any],
    size: int,
    *,
    at: tuple[int, int],
    angle: float = 0.0,
    quiet: int = 4,
    label: str = "",
) -> Drawn:
    """Draw ``modules`` (with a ``quiet``-module margin) so the symbol is ``size`` px.

    The symbol is turned ``angle`` degrees counter-clockwise; ``at`` is where the
    top-left of the (rotated) image with its quiet zone goes. ``label`` is kept as
    the truth's text.
    """
    x, y = at
    gray, mask, corners = symbol_image(modules, quiet, size, angle)
    paste(frame, gray, mask, x, y)
    a, b, c, d = ((cx + x, cy + y) for cx, cy in corners)
    return Drawn(label, (a, b, c, d))


def draw_code(
    frame: np.ndarray[Any, Any],
    payload: str,
    size: int,
    *,
    at: tuple[int, int],
    angle: float = 0.0,
) -> Drawn:
    """Draw a QR code of ``payload`` (symbol ``size`` px, turned ``angle`` degrees)."""
    return draw_symbol(frame, qr_modules(payload), size, at=at, angle=angle, label=payload)


def footprint(payload: str, size: int, angle: float) -> int:
    """The side in pixels of the (rotated) image :func:`draw_code` pastes."""
    return int(symbol_image(qr_modules(payload), 4, size, angle)[0].shape[0])


def encode_video(
    path: Path, frames: Iterable[np.ndarray[Any, Any]], width: int, height: int, crf: int
) -> Path:
    """Encode RGB frames to H.264 (libx264, yuv420p) with the bundled ffmpeg."""
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", "25"]
    command += ["-i", "pipe:0", "-c:v", "libx264", "-crf", str(crf), "-pix_fmt", "yuv420p"]
    command.append(str(path))
    with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None
        try:
            for frame in frames:
                process.stdin.write(np.ascontiguousarray(frame).tobytes())
        finally:
            process.stdin.close()
        assert process.stderr is not None
        errors = process.stderr.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {path}: {errors.strip()}")
    return path


def decode_video(path: Path) -> list[np.ndarray[Any, Any]]:
    """Every frame of ``path`` as RGB, decoded by videopipe's default decoder."""
    with create_frame_source("imageio_ffmpeg").open(str(path)) as reader:
        return [frame.image.copy() for frame in reader.frames()]


# -- the scenarios ----------------------------------------------------------------------


def _place(
    rng: np.random.Generator, side: int, width: int, height: int, taken: Sequence[tuple[int, ...]]
) -> tuple[int, int]:
    for _ in range(500):
        x = int(rng.integers(4, width - side - 4))
        y = int(rng.integers(4, height - side - 4))
        if all(x + side <= a or a + s <= x or y + side <= b or b + s <= y for a, b, s in taken):
            return x, y
    raise RuntimeError("no room for the code")


def scenario_frames(
    scenario: str, count: int, width: int, height: int, seed: int
) -> list[tuple[np.ndarray[Any, Any], list[Drawn]]]:
    """``count`` frames of ``scenario`` (small, rotated, pair) and the codes on each."""
    rng = np.random.default_rng(seed)
    made = []
    for index in range(count):
        frame = background(width, height, rng)
        tail = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 6))
        if scenario == "small":
            codes = [(f"s{index:03d}-{tail}", int(rng.integers(60, 91)), 0.0)]
        elif scenario == "rotated":
            angle = (15.0, 30.0, 45.0)[index % 3] * (1 if index % 2 else -1)
            codes = [(f"r{index:03d}-{tail}", int(rng.integers(90, 131)), angle)]
        elif scenario == "pair":
            codes = [
                (f"big-{index:03d}-{tail}", int(rng.integers(130, 181)), 0.0),
                (f"sm{index:03d}", int(rng.integers(60, 91)), 0.0),
            ]
        else:
            raise ValueError(scenario)
        taken: list[tuple[int, ...]] = []
        drawn = []
        for payload, size, angle in codes:
            side = footprint(payload, size, angle)
            x, y = _place(rng, side, width, height, taken)
            taken.append((x, y, side))
            drawn.append(draw_code(frame, payload, size, at=(x, y), angle=angle))
        made.append((frame, drawn))
    return made


# -- the candidates ---------------------------------------------------------------------

Found = list[tuple[str, list[Point]]]


def _plugin(backend: str) -> Callable[[np.ndarray[Any, Any]], Found]:
    from videopipe.adapters.plugins.codes import QRDecode  # noqa: PLC0415
    from videopipe.ports.plugins import FrameContext  # noqa: PLC0415

    plugin = QRDecode(backend=backend, formats=["QRCode"])
    plugin.setup()
    context = FrameContext("measure", "codes", 0, 0.0)

    def read(image: np.ndarray[Any, Any]) -> Found:
        codes = plugin.process({"image": image}, context)["codes"]
        return [(code["text"], [(x, y) for x, y in code["points"]]) for code in codes]

    return read


def _zxing_family() -> Callable[[np.ndarray[Any, Any]], Found]:
    """zxing-cpp asked for its ``QRCode`` family (Micro QR and rMQR included)."""
    import cv2  # noqa: PLC0415
    import zxingcpp  # noqa: PLC0415

    def read(image: np.ndarray[Any, Any]) -> Found:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        found = []
        for code in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode):
            p = code.position
            corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
            found.append((code.text, [(float(c.x), float(c.y)) for c in corners]))
        return found

    return read


def candidates() -> dict[str, Callable[[np.ndarray[Any, Any]], Found]]:
    """Name -> a reader of an RGB frame (the qr_decode plugin with each backend)."""
    return {
        "opencv (QRCodeDetector)": _plugin("opencv"),
        "opencv_aruco (QRCodeDetectorAruco)": _plugin("opencv_aruco"),
        "zxing (zxing-cpp, QR models 1+2)": _plugin("zxing"),
        "zxing-cpp, QRCode family": _zxing_family(),
    }


def box_error(drawn: Drawn, corners: list[Point]) -> float:
    """Largest distance between a drawn box edge and the found one (found box rounded)."""
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    found = (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))
    return max(abs(a - b) for a, b in zip(found, drawn.box, strict=True))


def measure(crf: int, per_scenario: int, width: int = 640, height: int = 480) -> None:
    """Print the table of every candidate on every scenario."""
    readers = candidates()
    print(f"{per_scenario} frames per scenario, {width}x{height}, libx264 crf {crf}")
    print(
        f"{'scenario':9} {'decoder':36} {'recall':>13} {'frames ok':>11} {'wrong':>5} "
        f"{'box err':>7} {'ms/frame':>8} {'p95 ms':>7}"
    )
    totals: dict[str, list[float]] = {name: [0, 0, 0, 0, 0.0] for name in readers}
    with tempfile.TemporaryDirectory() as directory:
        for seed, scenario in enumerate(("small", "rotated", "pair")):
            made = scenario_frames(scenario, per_scenario, width, height, seed)
            path = encode_video(
                Path(directory) / f"{scenario}.mp4", (f for f, _ in made), width, height, crf
            )
            decoded = decode_video(path)
            assert len(decoded) == len(made)
            for name, read in readers.items():
                read(decoded[0])  # warm up
                hits = drawn_count = full = wrong = 0
                worst = 0.0
                times = []
                for image, (_, drawn) in zip(decoded, made, strict=True):
                    start = time.perf_counter()
                    found = read(image)
                    times.append((time.perf_counter() - start) * 1000)
                    by_text = {d.text: d for d in drawn}
                    read_texts = set()
                    for text, corners in found:
                        if text in by_text and text not in read_texts:
                            read_texts.add(text)
                            worst = max(worst, box_error(by_text[text], corners))
                        else:
                            wrong += 1
                    hits += len(read_texts)
                    drawn_count += len(drawn)
                    full += len(read_texts) == len(drawn)
                mean = statistics.fmean(times)
                p95 = sorted(times)[int(0.95 * (len(times) - 1))]
                total = totals[name]
                total[0] += hits
                total[1] += drawn_count
                total[2] += full
                total[3] += wrong
                total[4] += sum(times)
                print(
                    f"{scenario:9} {name:36} {hits:>4}/{drawn_count:<4} {hits / drawn_count:4.0%} "
                    f"{full:>5}/{len(made):<5} {wrong:>5} {worst:>7.1f} {mean:>8.1f} {p95:>7.1f}"
                )
    frames = 3 * per_scenario
    for name, (hits, drawn_count, full, wrong, ms) in totals.items():
        print(
            f"{'all':9} {name:36} {int(hits):>4}/{int(drawn_count):<4} {hits / drawn_count:4.0%} "
            f"{int(full):>5}/{frames:<5} {int(wrong):>5} {'':>7} {ms / frames:>8.1f}"
        )


def main() -> None:
    """Parse the options and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames-per-scenario", type=int, default=100)
    parser.add_argument("--crf", type=int, default=23)
    arguments = parser.parse_args()
    measure(arguments.crf, arguments.frames_per_scenario)


if __name__ == "__main__":
    main()
