"""Image-encoder adapter: PNG or JPEG bytes for ``payload["image_bytes"]``, via imageio."""

from __future__ import annotations

from typing import Any

from videopipe.domain.errors import ConfigurationError
from videopipe.domain.model import RGBImage

_EXTENSIONS = {"png": ".png", "jpeg": ".jpg"}
IMAGE_FORMATS: tuple[str, ...] = tuple(_EXTENSIONS)
"""The image formats an :class:`ImageioEncoder` writes."""


class ImageioEncoder:
    """Encodes frames with imageio (Pillow underneath) as ``png`` or ``jpeg``."""

    def __init__(self, format: str = "png", *, quality: int = 90) -> None:
        if format not in _EXTENSIONS:
            raise ConfigurationError(
                f"unknown image encoding {format!r}; valid encodings: {', '.join(_EXTENSIONS)}"
            )
        self.format = format
        self.quality = quality

    def encode(self, image: RGBImage) -> bytes:
        """The image as the bytes of a PNG or JPEG file."""
        import imageio.v3 as iio  # noqa: PLC0415 - only encoding payloads need it

        options: dict[str, Any] = {"quality": self.quality} if self.format == "jpeg" else {}
        encoded: bytes = iio.imwrite(
            "<bytes>", image, extension=_EXTENSIONS[self.format], **options
        )
        return encoded
