"""Encoding the media helpers' frames: ffmpeg-style output options, per-frame timestamps."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from videopipe.adapters.ffmpeg.writer import VideoWriter

Image_ = npt.NDArray[np.uint8]

MUXER_OPTIONS = frozenset(
    {"movflags", "brand", "use_editlist", "write_tmcd", "frag_duration", "fflags", "muxrate"}
)
"""``output_args`` options that go to the muxer; every other one goes to the encoder."""


def split_output_args(args: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Ffmpeg command-line output options as the writer's encoder and muxer options.

    ``["-crf", "30", "-movflags", "+faststart"]`` gives ``({"crf": "30"},
    {"movflags": "+faststart"})``; a stream specifier (``-b:v``) is dropped.
    """
    if len(args) % 2 or not all(name.startswith("-") for name in args[::2]):
        raise ValueError(f"output_args must be '-name value' pairs, got {list(args)!r}")
    encoder: dict[str, str] = {}
    muxer: dict[str, str] = {}
    for name, value in zip(args[::2], args[1::2], strict=True):
        key = name[1:].split(":")[0]
        (muxer if key in MUXER_OPTIONS else encoder)[key] = value
    return encoder, muxer


def frame_pts(vfr: bool) -> Callable[[int], int]:
    """Frame ``i``'s timestamp in ``1/fps`` units (see :func:`frame_timestamp`)."""
    return (lambda index: index + index // 6) if vfr else (lambda index: index)


def writer_for(
    target: Path,
    *,
    width: int,
    height: int,
    fps: int,
    codec: str,
    pix_fmt: str,
    gop: int | None,
    output_args: Sequence[str],
    rotation: int | None = None,
) -> VideoWriter:
    """A :class:`VideoWriter` for ``target``, ffmpeg command-line ``output_args`` split."""
    options, container_options = split_output_args(output_args)
    if gop is not None:
        options["g"] = str(gop)
    return VideoWriter(
        target,
        width=width,
        height=height,
        rate=fps,
        codec=codec,
        pix_fmt=pix_fmt or None,
        options=options,
        container_options=container_options,
        rotation=rotation,
    )


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
    rotation: int | None = None,
) -> Path:
    """Encode RGB ``images`` (each ``height x width x 3``, ``uint8``) as a video file.

    The images are encoded one by one (memory stays flat); the container follows the
    file extension. ``output_args`` are ffmpeg command-line output options as
    ``-name value`` pairs (encoder options, and ``-movflags`` and the like for the
    muxer). Raises ``RuntimeError`` with FFmpeg's message when it cannot encode,
    ``ValueError`` for an image of the wrong shape; no file is left behind then.
    """
    target = Path(path)
    writer = writer_for(
        target,
        width=width,
        height=height,
        fps=fps,
        codec=codec,
        pix_fmt=pix_fmt,
        gop=gop,
        output_args=output_args,
        rotation=rotation,
    )
    pts = frame_pts(vfr)
    try:
        for number, image in enumerate(images):
            writer.write(image, pts(number))
        writer.close()
    except BaseException:
        writer.discard()
        raise
    return target
