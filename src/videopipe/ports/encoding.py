"""The image-encoder port: turns a frame into the bytes of an image file format."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from videopipe.domain.model import RGBImage


@runtime_checkable
class ImageEncoder(Protocol):
    """Encodes an RGB image (for a payload's ``image_bytes``)."""

    format: str

    def encode(self, image: RGBImage) -> bytes:
        """The encoded image, e.g. PNG or JPEG file bytes."""
        ...
