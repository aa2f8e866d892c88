"""A pipeline's ``frame:`` key and the frame size it resolves to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from videopipe.domain.errors import PipelineSpecError
from videopipe.domain.model import FrameSize


class FrameSpec(BaseModel):
    """The ``frame:`` key as written: the size and format the pipeline works on (FrameSize)."""

    model_config = ConfigDict(extra="forbid")
    max_side: int | None = Field(default=None, ge=2)
    width: int | None = Field(default=None, ge=2)
    height: int | None = Field(default=None, ge=2)
    scale: float | None = Field(default=None, gt=0, le=1)
    format: Literal["rgb24", "gray"] | None = None


def frame_size(
    source: str, written: FrameSpec | None, declared: Sequence[FrameSize | bool | None]
) -> FrameSize | None:
    """The size and format a pipeline's frames are decoded at (``None``: the video's own, RGB).

    The ``frame:`` key when the file has one; otherwise the size the nodes reading
    ``frame.image`` declare (:meth:`~videopipe.ports.plugins.Plugin.frame_size`), when
    they all declare the same one. A ``frame:`` key without ``format`` takes the format
    those nodes agree on (``gray`` only when every reader asks for it). ``declared``
    holds one item per node: its size, or ``False`` for a node that does not read the
    frame's image.
    """
    readers = {size for size in declared if size is not False}
    agreed = readers.pop() if len(readers) == 1 else None
    if written is None:
        return agreed if isinstance(agreed, FrameSize) else None
    fields = written.model_dump(exclude_none=True)
    if "format" not in fields and isinstance(agreed, FrameSize):
        fields["format"] = agreed.format
    if fields == {"format": "rgb24"}:
        return None  # the video's own size, in RGB: what no frame: key gives
    try:
        return FrameSize(**fields)
    except ValueError as exc:
        raise PipelineSpecError(source, f"frame: {exc}") from exc
