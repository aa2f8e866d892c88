"""The tabular results schema (``videopipe.results`` version 1): frames to rows and back.

One frame becomes: an ``error`` row when it was skipped; then, when its result maps
node names to output dicts, per node a ``frame`` row (the node's outputs as JSON, each
non-empty list of objects replaced by ``[]``) followed by one ``item`` row per object
of those lists (the object as JSON); any other result is one ``frame`` row with no node.
The ``value`` column is the truth (rows back to frames is exact); ``label``, ``text``,
``id``, ``score`` and ``x1``..``y2`` copy well-known fields for queries. docs/results.md.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from videopipe.domain.errors import ResultsFileError
from videopipe.domain.model import FrameResult

SCHEMA_NAME = "videopipe.results"
SCHEMA_VERSION = 1

COLUMNS: tuple[tuple[str, str], ...] = (
    ("video", "string"),
    ("frame_index", "integer"),
    ("timestamp", "double"),
    ("kind", "string"),
    ("node", "string"),
    ("output", "string"),
    ("item", "integer"),
    ("label", "string"),
    ("text", "string"),
    ("id", "integer"),
    ("score", "double"),
    ("x1", "double"),
    ("y1", "double"),
    ("x2", "double"),
    ("y2", "double"),
    ("value", "string"),
)
"""Every column, in file order, with its type (``string``, ``integer``, ``double``)."""

NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

Row = tuple[Any, ...]
"""One row: a value per column of :data:`COLUMNS`, ``None`` for null."""


def json_default(value: Any) -> Any:
    """Make numpy scalars and arrays (and anything else) JSON-serialisable."""
    for attribute in ("tolist", "item"):
        convert = getattr(value, attribute, None)
        if callable(convert):
            return convert()
    return str(value)


def dumps(value: Any) -> str:
    """``value`` as the JSON the JSON-lines sink writes (numpy made plain)."""
    return json.dumps(value, default=json_default)


def _views(fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """``label, text, id, score, x1, y1, x2, y2`` copied from an item or a node's outputs."""
    label = fields.get("label")
    if not isinstance(label, str):
        label = fields.get("kind")
    text = fields.get("text")
    ident = fields.get("id")
    score: Any = fields.get("score")
    box: Any = fields.get("box")
    if hasattr(box, "tolist"):
        box = box.tolist()
    corners: list[Any] = [None] * 4
    if isinstance(box, list | tuple) and len(box) == 4 and all(_real(v) for v in box):
        corners = [float(v) for v in box]
    return (
        label if isinstance(label, str) and label else None,
        text if isinstance(text, str) and text else None,
        int(ident) if isinstance(ident, numbers.Integral) and not isinstance(ident, bool) else None,
        float(score) if _real(score) else None,
        *corners,
    )


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _items(value: Any) -> list[Any] | None:
    """The objects of a non-empty list of objects (else ``None``: a plain value)."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        return list(value)
    return None


def rows_of(video: str, item: FrameResult) -> list[Row]:
    """The rows of one frame's result, in file order."""
    head = (video, item.frame_index, item.timestamp)
    nothing = (None,) * 8
    rows: list[Row] = []
    if item.error is not None:
        rows.append((*head, "error", None, None, None, *nothing, dumps(item.error)))
    result = item.result
    if result is None:
        if item.error is None:
            rows.append((*head, "frame", None, None, None, *nothing, "null"))
        return rows
    if not result or not all(isinstance(v, Mapping) for v in result.values()):
        rows.append((*head, "frame", None, None, None, *nothing, dumps(result)))
        return rows
    for node, outputs in result.items():
        skeleton: dict[str, Any] = {}
        lists: list[tuple[str, list[Any]]] = []
        for name, value in outputs.items():
            objects = _items(value)
            skeleton[name] = value if objects is None else []
            if objects is not None:
                lists.append((name, objects))
        rows.append((*head, "frame", node, None, None, *_views(skeleton), dumps(skeleton)))
        for name, objects in lists:
            for number, element in enumerate(objects):
                rows.append((*head, "item", node, name, number, *_views(element), dumps(element)))
    return rows


_VIDEO, _INDEX, _TIME, _KIND, _NODE, _OUTPUT, _ITEM = range(7)
_VALUE = len(COLUMNS) - 1


class _Frame:
    """The frame being put back together from its rows."""

    def __init__(self, row: Row) -> None:
        self.video: str = row[_VIDEO]
        self.index: int = row[_INDEX]
        self.timestamp: float = row[_TIME]
        self.error: dict[str, Any] | None = None
        self.result: Any = None
        self.nodes: dict[str, dict[str, Any]] = {}
        self.has_result = False
        self.flat = False

    def takes(self, row: Row) -> bool:
        """Whether ``row`` continues this frame (else it starts the next one)."""
        if (row[_VIDEO], row[_INDEX]) != (self.video, self.index) or row[_KIND] == "error":
            return False
        if row[_KIND] == "frame" and row[_NODE] is None:
            return not self.has_result  # the result of a frame that has only its error yet
        if row[_KIND] == "frame":
            return not self.flat and row[_NODE] not in self.nodes
        return True

    def add(self, row: Row, where: str) -> None:
        """Put ``row`` into the frame."""
        kind, node, value = row[_KIND], row[_NODE], _loads(row[_VALUE], where)
        if kind == "error":
            self.error = value
        elif kind == "frame" and node is None:
            self.result, self.has_result, self.flat = value, True, True
        elif kind == "frame":
            self.nodes[node] = value
            self.has_result = True
        elif kind == "item" and node in self.nodes:
            outputs = self.nodes[node]
            slot = outputs.get(row[_OUTPUT])
            if not isinstance(slot, list) or len(slot) != row[_ITEM]:
                raise ResultsFileError(
                    f"{where}: item {row[_ITEM]} of {node}.{row[_OUTPUT]} is out of place"
                )
            slot.append(value)
        else:
            raise ResultsFileError(f"{where}: a row of kind {kind!r} outside a frame")

    def done(self) -> tuple[str, FrameResult]:
        """The frame as written."""
        result = self.nodes if self.nodes else self.result
        if not self.has_result:
            result = None
        return self.video, FrameResult(self.index, self.timestamp, result, self.error)


def _loads(text: Any, where: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise ResultsFileError(f"{where}: its value is not JSON") from None


def frames_of(rows: Iterable[Row], where: str) -> Iterator[tuple[str, FrameResult]]:
    """``(video, FrameResult)`` back from rows in file order (``where`` names the file)."""
    current: _Frame | None = None
    for row in rows:
        if current is not None and not current.takes(row):
            yield current.done()
            current = None
        if current is None:
            current = _Frame(row)
        current.add(row, where)
    if current is not None:
        yield current.done()


def as_dict(row: Row) -> dict[str, Any]:
    """One row as ``{column: value}``."""
    return dict(zip(NAMES, row, strict=True))


__all__ = [
    "COLUMNS",
    "NAMES",
    "SCHEMA_NAME",
    "SCHEMA_VERSION",
    "Row",
    "as_dict",
    "dumps",
    "frames_of",
    "json_default",
    "rows_of",
]
