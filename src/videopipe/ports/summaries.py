"""The summary port: how one node's per-frame outputs fold into a per-video answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Reducer(Protocol):
    """Folds one node's outputs, frame after frame in frame order, into a summary.

    A reducer streams: it keeps what its answer needs (open intervals, counts), never
    every frame, so memory stays flat however long the video. It is fed the processed
    frames in order (a frame skipped under the ``skip`` policy is not fed); with a
    frame stride, consecutive processed frames count as adjacent.
    """

    def add(self, frame_index: int, timestamp: float, output: Mapping[str, Any]) -> None:
        """Take the node's output for one processed frame."""
        ...

    def summary(self) -> dict[str, Any]:
        """The answer so far (JSON-serialisable); called after the last frame."""
        ...


@runtime_checkable
class SummarizingRunner(Protocol):
    """A runner that says how a pipeline's output nodes summarise (a capability)."""

    def reducers(self, pipeline_id: str, *, max_gap: int = 0) -> Mapping[str, Reducer]:
        """Fresh reducers, one per output node whose plugin declares one.

        ``max_gap``: intervals join across up to this many processed frames on which
        the thing was not seen (0: exact).
        """
        ...
