"""Decoder adapters, one module per backend, found by name.

Each backend is imported only when it is asked for, so a missing optional extra
(``opencv``) costs nothing until that decoder is chosen, and then says which
``pip install`` fixes it.
"""

from __future__ import annotations

import pkgutil
from typing import Any

from videopipe.domain.errors import ConfigurationError, MissingDependencyError
from videopipe.ports.frames import FrameSource

DEFAULT_DECODER = "pyav"
"""The fastest exact decoder (measured: docs/benchmarks.md); in process, through PyAV."""

DECODERS: dict[str, str] = {
    "imageio_ffmpeg": "videopipe.adapters.decoders.imageio_ffmpeg:ImageioFfmpegFrameSource",
    "opencv": "videopipe.adapters.decoders.opencv:OpenCVFrameSource",
    "pyav": "videopipe.adapters.decoders.pyav:PyAVFrameSource",
}
"""Decoder name -> ``module:class`` of its frame source."""


def create_frame_source(name: str = DEFAULT_DECODER, **options: Any) -> FrameSource:
    """A new frame source for the decoder ``name``, built with ``options``."""
    try:
        target = DECODERS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown decoder {name!r}; valid decoders: {', '.join(sorted(DECODERS))}"
        ) from None
    frame_source: FrameSource = pkgutil.resolve_name(target)(**options)
    return frame_source


def available_decoders() -> list[str]:
    """The decoders whose dependencies are installed."""
    found = []
    for name in DECODERS:
        try:
            create_frame_source(name)
        except MissingDependencyError:
            continue
        found.append(name)
    return found


__all__ = ["DECODERS", "DEFAULT_DECODER", "available_decoders", "create_frame_source"]
