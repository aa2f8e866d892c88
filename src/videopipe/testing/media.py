"""Media with known truth, made with the bundled ffmpeg: for tests and benchmarks.

:func:`make_synthetic_video` writes a video and returns a :class:`SyntheticVideo`:
its path, size, frame rate, frame count and, per frame, a :class:`FrameTruth` (index,
timestamp and what was drawn where). Contents:

- ``index``: frame ``i`` carries ``i`` in a band of black/white blocks
  (:func:`read_frame_index` reads it back through lossy coding) over three solid colour
  panels (red, green, blue, left to right) that reveal a swapped channel order;
- ``solid``: one colour over the whole frame;
- ``moving_square``: a square bouncing over a background (:func:`square_box`);
- ``qr``: a QR code per frame whose payload is known (needs ``segno``: the
  ``testing`` extra);
- ``text``: a line of text per frame, drawn with Pillow's own scalable font;
- ``testsrc``: ffmpeg's moving ``testsrc2`` pattern (fast to make, for benchmarks).

:func:`make_video` is the same returning only the path. The corrupt-file writers
(:func:`write_corrupt_file` and the ``write_*`` functions) reproduce the seed
contract's inputs and truncate real videos.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from videopipe.adapters.ffmpeg.binary import bundled_ffmpeg
from videopipe.domain.errors import MissingDependencyError

Image_ = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]
"""``(x1, y1, x2, y2)`` in frame pixels, ``x2``/``y2`` exclusive."""

CONTENTS: tuple[str, ...] = ("index", "solid", "moving_square", "qr", "text", "testsrc")
CORRUPT_KINDS: tuple[str, ...] = (
    "corrupted",
    "header_only",
    "truncated_header",
    "truncated",
    "random",
)
DEFAULT_LABELS = {"qr": "frame-{index}", "text": "FRAME {index}"}

INDEX_BITS = 10
PANEL_COLOURS: tuple[tuple[int, int, int], ...] = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def frame_pattern(index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    """The RGB image of frame ``index``: index band on top, colour panels below."""
    image = np.zeros((height, width, 3), dtype=np.uint8)
    band = max(1, height // 3)
    for bit in range(INDEX_BITS):
        if (index >> bit) & 1:
            x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
            image[:band, x0:x1] = 255
    for panel, colour in enumerate(PANEL_COLOURS):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        image[band:, x0:x1] = colour
    return image


def read_frame_index(image: npt.NDArray[np.uint8]) -> int:
    """The index :func:`frame_pattern` drew into ``image`` (tolerates lossy coding)."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    index = 0
    for bit in range(INDEX_BITS):
        x0, x1 = bit * width // INDEX_BITS, (bit + 1) * width // INDEX_BITS
        margin_x, margin_y = max(0, (x1 - x0) // 4), max(0, band // 4)
        cell = image[margin_y : band - margin_y, x0 + margin_x : x1 - margin_x]
        if cell.size and float(cell.mean()) > 127:
            index |= 1 << bit
    return index


def panel_colours(image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int]]:
    """The mean colour of each of the three panels, rounded."""
    height, width = image.shape[:2]
    band = max(1, height // 3)
    colours = []
    for panel in range(3):
        x0, x1 = panel * width // 3, (panel + 1) * width // 3
        margin = max(1, (x1 - x0) // 4)
        cell = image[
            band + (height - band) // 4 : height - (height - band) // 4, x0 + margin : x1 - margin
        ]
        mean = cell.reshape(-1, 3).mean(axis=0)
        colours.append((round(mean[0]), round(mean[1]), round(mean[2])))
    return colours


# -- truth -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameTruth:
    """What frame ``index`` of a synthetic video shows.

    ``timestamp``: its presentation time in seconds (rounded to the microsecond, as the
    decoders give it). ``colour``: the solid colour (``solid``) or the square's
    (``moving_square``). ``box``: where the square, the QR symbol (without its quiet
    zone) or the text's ink is. ``text``: the QR payload or the rendered text.
    Boxes are in the stored frame's pixels (before any ``rotation`` metadata).
    """

    index: int
    timestamp: float
    colour: RGB | None = None
    box: Box | None = None
    text: str | None = None


@dataclass(frozen=True)
class SyntheticVideo:
    """A video written by :func:`make_synthetic_video`, with the truth of every frame.

    It is path-like (``os.fspath(video)`` and ``str(video)`` are ``str(video.path)``),
    so it can be passed wherever videopipe takes a path.
    """

    path: Path
    content: str
    width: int
    height: int
    fps: int
    frames: tuple[FrameTruth, ...]

    @property
    def frame_count(self) -> int:
        """How many frames the file holds."""
        return len(self.frames)

    @property
    def timestamps(self) -> list[float]:
        """Every frame's presentation time, in order."""
        return [frame.timestamp for frame in self.frames]

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


MILLISECOND_CONTAINERS = frozenset({".mkv", ".webm", ".flv"})
"""Containers that store timestamps in milliseconds."""


def frame_timestamp(index: int, fps: int, *, vfr: bool = False, tick: float | None = None) -> float:
    """The timestamp :func:`make_video` gives frame ``index``, in seconds.

    ``index / fps``; with ``vfr``, ``(index + index // 6) / fps``: from frame 6 on,
    every sixth frame comes one frame period late (what ffmpeg's
    ``setpts='(N+floor(N/3)/2)/(fps*TB)'`` gives in a ``1/fps`` time base).
    ``tick``: the container's time unit (``0.001`` for Matroska, WebM and FLV) the time
    is rounded to. Rounded to the microsecond, as the decoders give it.
    """
    ticks = index + index // 6 if vfr else index
    seconds = ticks / fps
    if tick:
        seconds = round(seconds / tick) * tick
    return round(seconds, 6)


def container_tick(path: Path) -> float | None:
    """The time unit of ``path``'s container when it is coarser than the frame rate's."""
    return 0.001 if path.suffix.lower() in MILLISECOND_CONTAINERS else None


# -- drawing ---------------------------------------------------------------------------


def _bounce(position: int, span: int) -> int:
    """``position`` folded into ``0 .. span`` (a triangle wave: there and back)."""
    if span <= 0:
        return 0
    position %= 2 * span
    return position if position <= span else 2 * span - position


def square_box(index: int, width: int, height: int, size: int) -> Box:
    """Where ``moving_square`` draws its ``size``-pixel square on frame ``index``.

    It moves 4 px right and 3 px down per frame and bounces off the frame's edges, so
    consecutive frames differ whenever the square is smaller than the frame.
    """
    x = _bounce(4 * index, width - size)
    y = _bounce(3 * index, height - size)
    return x, y, x + min(size, width), y + min(size, height)


def draw_box(image: Image_, box: Box, colour: RGB) -> Box:
    """Fill ``box`` of ``image`` (in place) with ``colour``; returns ``box``."""
    x1, y1, x2, y2 = box
    image[y1:y2, x1:x2] = colour
    return box


def _require_segno() -> Any:
    try:
        import segno  # noqa: PLC0415 - optional: the ``testing`` extra
    except ImportError as error:
        raise MissingDependencyError("Drawing QR codes (content='qr')", "testing") from error
    return segno


def qr_modules(payload: str, *, border: int = 4) -> npt.NDArray[np.bool_]:
    """The QR code of ``payload`` (error level M) as modules, ``True`` = dark.

    ``border`` modules of quiet zone surround the symbol. Needs ``segno`` (the
    ``testing`` extra), else :class:`MissingDependencyError`.
    """
    code = _require_segno().make_qr(payload, error="m")
    rows = code.matrix_iter(scale=1, border=border)
    return np.array([[bool(cell) for cell in row] for row in rows], dtype=bool)


def draw_qr(image: Image_, payload: str, *, at: tuple[int, int] = (0, 0), module: int = 4) -> Box:
    """Draw the QR code of ``payload`` (in place) with its top-left quiet zone at ``at``.

    Every module is ``module`` pixels square; the 4-module quiet zone is white. Returns
    the symbol's box (without the quiet zone). The code must fit inside the image.
    """
    modules = qr_modules(payload)
    pixels = np.where(np.kron(modules, np.ones((module, module), dtype=bool)), 0, 255)
    x, y = at
    side = pixels.shape[0]
    if x < 0 or y < 0 or x + side > image.shape[1] or y + side > image.shape[0]:
        raise ValueError(
            f"a QR code of {side}x{side} px at {at} does not fit a "
            f"{image.shape[1]}x{image.shape[0]} frame"
        )
    image[y : y + side, x : x + side] = pixels[..., None].astype(np.uint8)
    quiet = 4 * module
    return x + quiet, y + quiet, x + side - quiet, y + side - quiet


def qr_side(payload: str, module: int) -> int:
    """The side in pixels of :func:`draw_qr`'s code for ``payload`` (quiet zone included)."""
    return int(qr_modules(payload).shape[0]) * module


@lru_cache(maxsize=8)
def text_font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font at ``size`` px (ships with Pillow >= 10.1)."""
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("this Pillow was built without FreeType: no scalable font for text")
    return font


def draw_text(
    image: Image_,
    text: str,
    *,
    at: tuple[int, int] = (0, 0),
    size: int = 24,
    colour: RGB = (0, 0, 0),
) -> Box:
    """Draw ``text`` (in place) with its top-left at ``at``; returns the box of its ink."""
    font = text_font(size)
    alone = Image.new("L", (image.shape[1], image.shape[0]), 0)
    draw = ImageDraw.Draw(alone)
    left, top, right, bottom = draw.textbbox(at, text, font=font)
    if left < 0 or top < 0 or right > image.shape[1] or bottom > image.shape[0]:
        raise ValueError(
            f"text {text!r} at {at} in {size} px ({right - left}x{bottom - top} px) does not "
            f"fit a {image.shape[1]}x{image.shape[0]} frame"
        )
    draw.text(at, text, font=font, fill=255)
    coverage = np.asarray(alone, dtype=np.uint16)
    ink = coverage > 0
    if not ink.any():
        raise ValueError(f"text {text!r} draws no ink")
    colour_array = np.array(colour, dtype=np.uint16)
    blended = (image * (255 - coverage[..., None]) + colour_array * coverage[..., None]) // 255
    image[...] = blended.astype(np.uint8)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


# -- contents --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    width: int
    height: int
    fps: int
    vfr: bool
    tick: float | None
    label: str
    colour: RGB
    background: RGB
    size: int  # square side, QR module or font size, per content


Renderer = Callable[[int, _Style], tuple[Image_, FrameTruth]]


def _canvas(style: _Style, colour: RGB) -> Image_:
    image = np.empty((style.height, style.width, 3), dtype=np.uint8)
    image[...] = colour
    return image


def _render_index(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return frame_pattern(index, style.width, style.height), FrameTruth(index, stamp)


def _render_solid(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return _canvas(style, style.colour), FrameTruth(index, stamp, colour=style.colour)


def _render_square(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, style.background)
    box = draw_box(image, square_box(index, style.width, style.height, style.size), style.colour)
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, colour=style.colour, box=box)


def _render_qr(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, (255, 255, 255))
    payload = style.label.format(index=index)
    side = qr_side(payload, style.size)
    at = ((style.width - side) // 2, (style.height - side) // 2)
    box = draw_qr(image, payload, at=at, module=style.size)
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, box=box, text=payload)


def _render_text(index: int, style: _Style) -> tuple[Image_, FrameTruth]:
    image = _canvas(style, (255, 255, 255))
    text = style.label.format(index=index)
    at = (style.width // 16, (style.height - style.size) // 2)
    box = draw_text(image, text, at=at, size=style.size, colour=(0, 0, 0))
    stamp = frame_timestamp(index, style.fps, vfr=style.vfr, tick=style.tick)
    return image, FrameTruth(index, stamp, box=box, text=text)


RENDERERS: dict[str, Renderer] = {
    "index": _render_index,
    "solid": _render_solid,
    "moving_square": _render_square,
    "qr": _render_qr,
    "text": _render_text,
}


def _default_size(content: str, width: int, height: int, label: str, frames: int) -> int:
    if content == "moving_square":
        return max(4, min(width, height) // 5)
    if content == "qr":
        longest = max((label.format(index=i) for i in (0, max(0, frames - 1))), key=len)
        return max(1, min(width, height) * 4 // 5 // (qr_side(longest, 1)))
    if content == "text":
        return max(16, height // 8)
    return 0


# -- encoding --------------------------------------------------------------------------


def _encoder_command(
    target: Path,
    *,
    source: Sequence[str],
    codec: str,
    pix_fmt: str,
    gop: int | None,
    fps: int,
    vfr: bool,
    output_args: Sequence[str],
) -> list[str]:
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += list(source)
    if vfr:
        command += ["-vf", f"setpts='(N+floor(N/3)/2)/({fps}*TB)'", "-fps_mode", "passthrough"]
    command += ["-c:v", codec]
    if pix_fmt:
        command += ["-pix_fmt", pix_fmt]
    if gop is not None:
        command += ["-g", str(gop)]
    command += list(output_args)
    command.append(str(target))
    return command


def write_frames(
    path: str | os.PathLike[str],
    images: Iterable[Image_],
    *,
    width: int,
    height: int,
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    vfr: bool = False,
    output_args: Sequence[str] = (),
) -> Path:
    """Encode RGB ``images`` (each ``height x width x 3``, ``uint8``) as a video file.

    The images are streamed to the bundled ffmpeg one by one (memory stays flat); the
    container follows the file extension. Raises ``RuntimeError`` with ffmpeg's message
    when it cannot encode, ``ValueError`` for an image of the wrong shape.
    """
    target = Path(path)
    source = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    source += ["-r", str(fps), "-i", "pipe:0"]
    command = _encoder_command(
        target,
        source=source,
        codec=codec,
        pix_fmt=pix_fmt,
        gop=gop,
        fps=fps,
        vfr=vfr,
        output_args=output_args,
    )
    _run_encoder(command, target, images, (height, width, 3))
    return target


def _run_encoder(
    command: list[str], target: Path, images: Iterable[Image_] | None, shape: tuple[int, ...]
) -> None:
    """Run ffmpeg, streaming ``images`` to it; on any failure no file is left behind."""
    stdin = subprocess.DEVNULL if images is None else subprocess.PIPE
    try:
        with subprocess.Popen(command, stdin=stdin, stderr=subprocess.PIPE) as process:
            written, refused = _feed(process, images, shape)
            assert process.stderr is not None
            errors = process.stderr.read().decode("utf-8", "replace").strip()
        if process.returncode != 0:
            raise RuntimeError(f"ffmpeg could not make {target}: {errors}")
        if refused:
            raise RuntimeError(
                f"ffmpeg stopped reading frames after {written} while making {target}"
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _feed(
    process: subprocess.Popen[bytes], images: Iterable[Image_] | None, shape: tuple[int, ...]
) -> tuple[int, bool]:
    """Write ``images`` to ffmpeg's stdin: how many were written, and whether it hung up."""
    written, refused = 0, False
    try:
        if process.stdin is not None and images is not None:
            for image in images:
                if image.shape != shape or image.dtype != np.uint8:
                    raise ValueError(
                        f"frames must be uint8 arrays of shape {shape}, "
                        f"got {image.dtype} {image.shape}"
                    )
                try:
                    process.stdin.write(np.ascontiguousarray(image).tobytes())
                except BrokenPipeError:  # ffmpeg exited: its status and message say why
                    refused = True
                    break
                written += 1
    except BaseException:
        process.kill()
        raise
    finally:
        if process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
    return written, refused


def make_synthetic_video(
    path: str | os.PathLike[str],
    *,
    frames: int = 10,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    rotation: int | None = None,
    vfr: bool = False,
    content: str = "index",
    label: str | None = None,
    colour: RGB = (255, 255, 255),
    background: RGB = (0, 0, 0),
    size: int | None = None,
    output_args: Sequence[str] = (),
) -> SyntheticVideo:
    """Encode a video of ``frames`` frames with known content; return it with its truth.

    ``content`` is one of :data:`CONTENTS` (see the module docstring). ``label`` is
    the per-frame string of ``qr`` (default ``"frame-{index}"``) and ``text`` (default
    ``"FRAME {index}"``), formatted with the frame's ``index``. ``colour`` is the
    ``solid`` frame's or the square's colour, ``background`` the square's background;
    ``size`` is the square's side, the QR module's side or the font size in pixels
    (default: a fifth of the short side, the largest module that fits 80% of it, an
    eighth of the height). ``vfr=True`` gives frame ``i`` the timestamp
    ``(i + i // 6) / fps`` (irregular gaps, see :func:`frame_timestamp`);
    ``rotation`` stores a display rotation in the metadata (the truth's boxes stay in
    stored pixels). The container follows the file extension; ``codec``, ``pix_fmt``,
    ``gop`` and ``output_args`` go to ffmpeg (options that drop, add or retime frames
    would make the truth wrong). An option ffmpeg refuses is a ``RuntimeError`` with its
    message, content that does not fit the frame a ``ValueError``; no file is left.
    Timestamps in the truth are rounded to the millisecond for Matroska, WebM and FLV
    files, as those containers store them.
    """
    if content not in CONTENTS:
        raise ValueError(f"content must be one of {', '.join(CONTENTS)}, got {content!r}")
    if frames < 0 or width < 1 or height < 1 or fps < 1:
        raise ValueError(
            f"frames must be >= 0 and width, height, fps >= 1, got "
            f"frames={frames}, width={width}, height={height}, fps={fps}"
        )
    target = Path(path)
    common: dict[str, Any] = {
        "codec": codec,
        "pix_fmt": pix_fmt,
        "gop": gop,
        "fps": fps,
        "vfr": vfr,
        "output_args": output_args,
    }
    if content == "testsrc":
        source = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}"]
        source += ["-frames:v", str(frames)]
        command = _encoder_command(target, source=source, **common)
        _run_encoder(command, target, None, ())
        tick = container_tick(target)
        truth = tuple(
            FrameTruth(i, frame_timestamp(i, fps, vfr=vfr, tick=tick)) for i in range(frames)
        )
    else:
        text = label if label is not None else DEFAULT_LABELS.get(content, "")
        chosen = size if size is not None else _default_size(content, width, height, text, frames)
        if content in ("moving_square", "qr", "text") and chosen < 1:
            raise ValueError(f"size must be >= 1, got {chosen}")
        if content == "moving_square" and chosen > min(width, height):
            raise ValueError(
                f"a square of {chosen} px does not fit a {width}x{height} frame (size=)"
            )
        tick = container_tick(target)
        style = _Style(width, height, fps, vfr, tick, text, colour, background, chosen)
        collected: list[FrameTruth] = []
        write_frames(
            target,
            _rendered(RENDERERS[content], style, frames, collected),
            width=width,
            height=height,
            **common,
        )
        truth = tuple(collected)
    if rotation is not None:
        _set_display_rotation(target, rotation)
    return SyntheticVideo(target, content, width, height, fps, truth)


def _rendered(
    render: Renderer, style: _Style, frames: int, truth: list[FrameTruth]
) -> Iterator[Image_]:
    for index in range(frames):
        image, frame_truth = render(index, style)
        truth.append(frame_truth)
        yield image


def make_video(path: str | os.PathLike[str], **options: Any) -> Path:
    """Encode a video with known content and return its path.

    Takes :func:`make_synthetic_video`'s options (``frames=10, width=320, height=240,
    fps=25, codec="libx264", pix_fmt="yuv420p", gop=None, rotation=None, vfr=False,
    content="index", output_args=()`` and the content's own); use that function when
    the per-frame truth is wanted too.
    """
    return make_synthetic_video(path, **options).path


def _set_display_rotation(path: Path, rotation: int) -> None:
    """Rewrite ``path`` with a display-matrix rotation (stream copy, no re-encode)."""
    rotated = path.with_name(path.stem + ".rotating" + path.suffix)
    command = [bundled_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    command += ["-display_rotation", str(rotation), "-i", str(path), "-c", "copy", str(rotated)]
    subprocess.run(command, check=True, capture_output=True)
    rotated.replace(path)


def write_corrupted_mp4(path: str | os.PathLike[str]) -> Path:
    """The seed's corrupted MP4: an ``ftyp`` header followed by garbage."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42mp41BADBADBADBAD")
    return target


def write_header_only_mp4(path: str | os.PathLike[str]) -> Path:
    """An MP4 ``ftyp`` box and nothing else."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42mp41")
    return target


def write_truncated_mp4(path: str | os.PathLike[str]) -> Path:
    """The seed's truncated MP4 header."""
    target = Path(path)
    target.write_bytes(b"\x00\x00\x00\x18ftypmp42TRUNCATED")
    return target


def write_random_bytes(path: str | os.PathLike[str], size: int, *, seed: int = 0) -> Path:
    """``size`` seeded random bytes (deterministic for a seed)."""
    target = Path(path)
    target.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return target


def write_truncated_copy(
    source: str | os.PathLike[str], path: str | os.PathLike[str], fraction: float
) -> Path:
    """The first ``fraction`` of ``source``'s bytes, as a new file."""
    data = Path(source).read_bytes()
    target = Path(path)
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def write_truncated_video(
    path: str | os.PathLike[str],
    *,
    fraction: float = 0.5,
    frames: int = 48,
    faststart: bool = True,
    **options: Any,
) -> Path:
    """A ``frames``-frame video (``make_video`` ``options``) cut to its first ``fraction``.

    With ``faststart`` (the index before the frames, as a streaming upload has it) the
    decoders give the frames before the cut, then ``VideoDecodeError``; without it the
    index at the end is cut off and the file is a ``VideoReadError`` with no frame.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be within [0, 1), got {fraction}")
    target = Path(path)
    whole = target.with_name(f".{target.stem}.whole{target.suffix or '.mp4'}")
    extra = ["-movflags", "+faststart"] if faststart else []
    options.setdefault("content", "testsrc")
    options.setdefault("width", 160)
    options.setdefault("height", 120)
    output_args = [*extra, *options.pop("output_args", ())]
    try:
        make_video(whole, frames=frames, output_args=output_args, **options)
        return write_truncated_copy(whole, target, fraction)
    finally:
        whole.unlink(missing_ok=True)


def write_corrupt_file(kind: str, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the corrupt input ``kind`` (one of :data:`CORRUPT_KINDS`) to ``path``.

    - ``corrupted``: the seed's corrupted MP4 (:func:`write_corrupted_mp4`);
    - ``header_only``: an ``ftyp`` box and nothing else (:func:`write_header_only_mp4`);
    - ``truncated_header``: the seed's truncated header (:func:`write_truncated_mp4`);
    - ``truncated``: a real video cut at ``fraction`` (:func:`write_truncated_video`,
      whose options it takes);
    - ``random``: ``size`` random bytes from ``seed`` (:func:`write_random_bytes`,
      default 1024 bytes, seed 0).

    Every kind but ``truncated`` gives :class:`~videopipe.domain.errors.VideoReadError`
    before any frame; ``truncated`` gives frames, then ``VideoDecodeError`` (a
    ``VideoReadError``).
    """
    if kind == "truncated":
        return write_truncated_video(path, **options)
    if kind == "random":
        size, seed = options.pop("size", 1024), options.pop("seed", 0)
    if options:
        raise TypeError(f"kind {kind!r} does not take {', '.join(sorted(options))}")
    if kind == "random":
        return write_random_bytes(path, size, seed=seed)
    writers = {
        "corrupted": write_corrupted_mp4,
        "header_only": write_header_only_mp4,
        "truncated_header": write_truncated_mp4,
    }
    if kind not in writers:
        raise ValueError(f"kind must be one of {', '.join(CORRUPT_KINDS)}, got {kind!r}")
    return writers[kind](path)
