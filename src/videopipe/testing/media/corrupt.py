"""Corrupt inputs: the seed contract's broken MP4s, random bytes and truncated real videos."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from videopipe.testing.media.synthetic import make_video

CORRUPT_KINDS: tuple[str, ...] = (
    "corrupted",
    "header_only",
    "truncated_header",
    "truncated",
    "random",
)


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
