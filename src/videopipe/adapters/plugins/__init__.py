"""Plugins: the built-in ones, and third-party ones from the ``videopipe.plugins`` entry points.

Built-ins are imported only when a pipeline uses them. A third-party plugin that fails
to load is recorded in :attr:`PluginRegistry.errors` under its name and does not stop
the others from loading.
"""

from __future__ import annotations

import importlib.metadata
import logging
import pkgutil
from collections.abc import Iterable
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

from videopipe.ports.plugins import Plugin

ENTRY_POINT_GROUP = "videopipe.plugins"
logger = logging.getLogger(__name__)

BUILTIN_PLUGINS: dict[str, str] = {
    "resize": "videopipe.adapters.plugins.image:Resize",
    "crop": "videopipe.adapters.plugins.image:Crop",
    "grayscale": "videopipe.adapters.plugins.image:Grayscale",
    "frame_stats": "videopipe.adapters.plugins.image:FrameStats",
    "motion": "videopipe.adapters.plugins.temporal:Motion",
    "scene_change": "videopipe.adapters.plugins.temporal:SceneChange",
    "shot_signature": "videopipe.adapters.plugins.shots:ShotSignature",
    "shot_evidence": "videopipe.adapters.plugins.shots:ShotEvidence",
    "shot_boundary": "videopipe.adapters.plugins.shots:ShotBoundary",
    "qr_decode": "videopipe.adapters.plugins.codes:QRDecode",
    "aruco_markers": "videopipe.adapters.plugins.codes:ArucoMarkers",
    "face_detect": "videopipe.adapters.plugins.detectors:FaceDetect",
    "person_detect": "videopipe.adapters.plugins.detectors:PersonDetect",
    "onnx_detect": "videopipe.adapters.plugins.onnx_detector:OnnxDetect",
    "crop_boxes": "videopipe.adapters.plugins.boxes:CropBoxes",
    "annotate": "videopipe.adapters.plugins.boxes:Annotate",
    "ocr": "videopipe.adapters.plugins.ocr:Ocr",
}
"""Plugin name -> ``module:class`` of the built-in plugins."""


class PluginRegistry:
    """Every plugin a pipeline may name: built-ins first, then entry points."""

    def __init__(self, *, entry_points: bool = True) -> None:
        self._targets: dict[str, str] = dict(BUILTIN_PLUGINS)
        self._loaded: dict[str, type[Plugin]] = {}
        self.errors: dict[str, str] = {}
        """Third-party plugins that failed to load: name -> what went wrong."""
        if entry_points:
            self._add_entry_points(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))

    def __getstate__(self) -> dict[str, object]:
        """Pickle names and ``module:class`` targets; the copy imports classes on use."""
        return {"_targets": dict(self._targets), "_loaded": {}, "errors": dict(self.errors)}

    def _add_entry_points(self, found: Iterable[importlib.metadata.EntryPoint]) -> None:
        for entry_point in found:
            if entry_point.name in self._targets:
                self.errors[entry_point.name] = (
                    f"entry point {entry_point.value!r} ignored: the name {entry_point.name!r} "
                    "is already taken by a built-in plugin"
                )
                continue
            try:
                plugin = entry_point.load()
                self._loaded[entry_point.name] = self._check(entry_point.name, plugin)
            except Exception as exc:  # a broken third-party plugin must not stop the rest
                self.errors[entry_point.name] = (
                    f"entry point {entry_point.value!r} failed to load: {type(exc).__name__}: {exc}"
                )
                logger.warning("videopipe plugin %r failed to load: %s", entry_point.name, exc)
                continue
            self._targets[entry_point.name] = entry_point.value

    @staticmethod
    def _check(name: str, plugin: object) -> type[Plugin]:
        if not (isinstance(plugin, type) and issubclass(plugin, Plugin)):
            raise TypeError(f"{plugin!r} is not a videopipe.ports.plugins.Plugin subclass")
        if getattr(plugin, "name", None) != name:
            raise TypeError(
                f"{plugin.__name__}.name is {getattr(plugin, 'name', None)!r}, "
                f"not the entry point's name {name!r}"
            )
        return plugin

    def names(self) -> list[str]:
        """The names of every plugin that loaded (or will load, for built-ins)."""
        return sorted(self._targets)

    def get(self, name: str) -> type[Plugin] | None:
        """The plugin class called ``name``, or None when there is none."""
        if name in self._loaded:
            return self._loaded[name]
        target = self._targets.get(name)
        if target is None:
            return None
        plugin = self._check(name, pkgutil.resolve_name(target))
        self._loaded[name] = plugin
        return plugin


__all__ = ["BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "PluginRegistry", "type_name"]


_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def type_name(annotation: object) -> str:
    """A readable type: ``int (>= 0)`` for ``Annotated[int, Field(ge=0)]``."""
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        bounds = [
            f"{symbol} {getattr(item, attribute)}"
            for extra in extras
            for item in getattr(extra, "metadata", [extra])
            for attribute, symbol in _BOUNDS
            if getattr(item, attribute, None) is not None
        ]
        return type_name(base) + (f" ({', '.join(bounds)})" if bounds else "")
    if get_origin(annotation) in (Union, UnionType):
        return " | ".join(type_name(arg) for arg in get_args(annotation))
    if annotation is type(None):
        return "None"
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(value) for value in get_args(annotation))
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
