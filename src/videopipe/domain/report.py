"""What a run answers about a whole video: intervals and the per-video report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from videopipe.domain.model import VideoInfo


@dataclass(frozen=True, slots=True)
class Interval:
    """A run of processed frames on which something held (a payload seen, motion, a label).

    ``first_frame`` / ``last_frame`` are inclusive source frame indices, ``start_time`` /
    ``end_time`` the timestamps (seconds) of those two frames. ``about`` says what it is
    about (``{"text": ...}``, ``{"id": ...}``, ``{"label": ...}``; empty for motion).
    """

    first_frame: int
    last_frame: int
    start_time: float
    end_time: float
    about: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.last_frame < self.first_frame:
            raise ValueError(
                f"an interval ends before it starts: frames {self.first_frame}..{self.last_frame}"
            )

    def to_dict(self) -> dict[str, Any]:
        """``{first_frame, last_frame, start_time, end_time, **about}``."""
        return {
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "start_time": self.start_time,
            "end_time": self.end_time,
            **self.about,
        }


@dataclass(frozen=True, slots=True)
class SkippedFrame:
    """A frame skipped under the ``skip`` error policy, with its error."""

    frame_index: int
    timestamp: float
    error: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """``{frame_index, timestamp, error}``."""
        return {
            "frame_index": self.frame_index,
            "timestamp": self.timestamp,
            "error": dict(self.error),
        }


@dataclass(frozen=True, slots=True)
class VideoReport:
    """What a pipeline found in one video, after its last frame.

    ``summaries`` maps each output node to its summary (a JSON-serialisable dict, the
    node's reducer's answer); nodes whose plugin declares no reducer are absent.
    ``error`` is set (``{"type", "message"}``) when the video failed; the other fields
    then hold what was produced before the failure.
    """

    video: str
    pipeline_id: str
    info: VideoInfo | None
    frames_processed: int
    skipped: tuple[SkippedFrame, ...] = ()
    summaries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    error: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the video ran to its end."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``--summary`` writes for this video."""
        info = self.info
        item: dict[str, Any] = {
            "video": self.video,
            "pipeline": self.pipeline_id,
            "info": None
            if info is None
            else {
                "width": info.width,
                "height": info.height,
                "codec": info.codec,
                "fps": info.fps,
                "duration": info.duration,
                "frame_count": info.frame_count,
                "container": info.container,
            },
            "frames_processed": self.frames_processed,
            "skipped": [frame.to_dict() for frame in self.skipped],
            "summary": {node: dict(value) for node, value in self.summaries.items()},
        }
        if self.error is not None:
            item["error"] = dict(self.error)
        return item
