"""Mapping plugins' pixel coordinates from a scaled-down frame back to the video's pixels.

Plugins work in the pixels of the image they are given; when the decoder scaled the
frame down (a pipeline's ``frame:`` size), the engine maps the outputs each plugin
declares in ``pixel_outputs`` by the payload's ``scale`` before returning them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videopipe.adapters.runners.dag.spec import Pipeline

COORDINATE_KEYS = frozenset({"box", "points", "corners", "polygon"})
"""Keys of a result dict whose values are coordinates (as ``annotate`` draws them)."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _times(value: int | float, factor: float) -> int | float:
    """``value * factor``, an int again when ``value`` was one."""
    scaled = value * factor
    return round(scaled) if isinstance(value, int) else scaled


def scale_coordinates(value: Any, sx: float, sy: float) -> Any:
    """A box, point or nested list of them with x scaled by ``sx`` and y by ``sy``.

    A flat list of numbers alternates x and y (``[x1, y1, x2, y2]``, ``[x, y]``).
    """
    if isinstance(value, list | tuple):
        if value and all(_number(item) for item in value):
            return [
                _times(item, sx if position % 2 == 0 else sy) for position, item in enumerate(value)
            ]
        return [scale_coordinates(item, sx, sy) for item in value]
    return value


def scale_output(value: Any, sx: float, sy: float) -> Any:
    """A declared pixel output mapped to source pixels (see :data:`COORDINATE_KEYS`).

    A dict has its coordinate keys mapped; a list is mapped item by item; a flat list
    of numbers is itself a box or a point. Anything else is returned as it is.
    """
    if isinstance(value, dict):
        return {
            key: scale_coordinates(item, sx, sy) if key in COORDINATE_KEYS else item
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        if value and all(_number(item) for item in value):
            return scale_coordinates(value, sx, sy)
        return [scale_output(item, sx, sy) for item in value]
    return value


def to_source_pixels(
    results: dict[str, Any], pipeline: Pipeline, scale: tuple[float, float]
) -> dict[str, Any]:
    """``results`` (node id -> outputs) with every declared pixel output in source pixels."""
    sx, sy = scale
    if (sx, sy) == (1.0, 1.0):
        return results
    for node_id, outputs in results.items():
        for name in pipeline.nodes[node_id].plugin.pixel_outputs:
            if name in outputs:
                outputs[name] = scale_output(outputs[name], sx, sy)
    return results
