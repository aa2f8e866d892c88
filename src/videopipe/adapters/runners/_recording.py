"""What the test-double runners share: recording calls and the seed's mock output."""

from __future__ import annotations

from typing import Any

_PIXEL_KEYS = ("image", "image_bytes")


def summarize_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without its pixels: every other key, plus the pixels' size and shape.

    Recording this instead of the payload keeps a 1000-frame 1080p run from holding
    6 GB of frames alive in ``runner.calls``.
    """
    summary = {key: value for key, value in payload.items() if key not in _PIXEL_KEYS}
    if "image_bytes" in payload:
        summary["image_bytes_length"] = len(payload["image_bytes"])
    image = payload.get("image")
    if image is not None and hasattr(image, "shape"):
        summary["image_shape"] = tuple(image.shape)
    return summary


def mock_output(pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The seed contract's deterministic success output."""
    return {
        "mock": True,
        "pipeline_id": pipeline_id,
        "frame_index": payload["frame_index"],
        "bytes_length": len(payload["image_bytes"]),
    }


class CallRecorder:
    """Keeps ``calls``: one ``{"pipeline_id", "payload"}`` dict per call, in call order.

    By default ``payload`` is :func:`summarize_payload`'s pixel-free summary; pass
    ``keep_images=True`` to keep the payloads themselves (pixels included).
    """

    def __init__(self, *, keep_images: bool = False) -> None:
        self.keep_images = keep_images
        self.calls: list[dict[str, Any]] = []

    def record(self, pipeline_id: str, payload: dict[str, Any]) -> None:
        """Append one call."""
        kept = payload if self.keep_images else summarize_payload(payload)
        self.calls.append({"pipeline_id": pipeline_id, "payload": kept})
