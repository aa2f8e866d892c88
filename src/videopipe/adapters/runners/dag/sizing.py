"""A pipeline's ``frame:`` key and the frame size it resolves to."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from videopipe.domain.errors import PipelineSpecError
from videopipe.domain.model import FrameSize


class FrameSpec(BaseModel):
    """The ``frame:`` key as written: the size the pipeline works on (:class:`FrameSize`)."""

    model_config = ConfigDict(extra="forbid")
    max_side: int | None = Field(default=None, ge=2)
    width: int | None = Field(default=None, ge=2)
    height: int | None = Field(default=None, ge=2)
    scale: float | None = Field(default=None, gt=0, le=1)


def frame_size(
    source: str, written: FrameSpec | None, declared: Sequence[FrameSize | bool | None]
) -> FrameSize | None:
    """The size a pipeline's frames are decoded at (``None``: the video's own).

    The ``frame:`` key when the file has one; otherwise the size the nodes reading
    ``frame.image`` declare (:meth:`~videopipe.ports.plugins.Plugin.frame_size`), when
    they all declare the same one. ``declared`` holds one item per node: its size, or
    ``False`` for a node that does not read the frame's image.
    """
    if written is not None:
        try:
            return FrameSize(**written.model_dump(exclude_none=True))
        except ValueError as exc:
            raise PipelineSpecError(source, f"frame: {exc}") from exc
    readers = {size for size in declared if size is not False}
    if len(readers) == 1:
        size = readers.pop()
        return size if isinstance(size, FrameSize) else None
    return None
