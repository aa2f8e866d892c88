"""Public helpers for users' tests: the test-double runners and media with known truth.

``from videopipe.testing import MockDagPipelineService`` works as in the seed contract.
:mod:`videopipe.testing.media` makes videos whose every frame's truth is known and
corrupt inputs. The pytest plugin (:mod:`videopipe.testing.plugin`) is registered
through the ``pytest11`` entry point and provides fixtures over both.
"""

from videopipe.adapters.runners.failure import FailureInjectingRunner
from videopipe.adapters.runners.mock import (
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    MockDagPipelineServiceWithMutation,
    add_fields,
)
from videopipe.testing.media import (
    CONTENTS,
    CORRUPT_KINDS,
    FrameTruth,
    SyntheticVideo,
    draw_box,
    draw_qr,
    draw_text,
    frame_pattern,
    frame_timestamp,
    make_synthetic_video,
    make_video,
    panel_colours,
    qr_modules,
    read_frame_index,
    square_box,
    write_corrupt_file,
    write_corrupted_mp4,
    write_frames,
    write_header_only_mp4,
    write_random_bytes,
    write_truncated_copy,
    write_truncated_mp4,
    write_truncated_video,
)

__all__ = [
    "CONTENTS",
    "CORRUPT_KINDS",
    "FailureInjectingRunner",
    "FrameTruth",
    "MockDagPipelineService",
    "MockDagPipelineServiceWithLatency",
    "MockDagPipelineServiceWithMutation",
    "SyntheticVideo",
    "add_fields",
    "draw_box",
    "draw_qr",
    "draw_text",
    "frame_pattern",
    "frame_timestamp",
    "make_synthetic_video",
    "make_video",
    "panel_colours",
    "qr_modules",
    "read_frame_index",
    "square_box",
    "write_corrupt_file",
    "write_corrupted_mp4",
    "write_frames",
    "write_header_only_mp4",
    "write_random_bytes",
    "write_truncated_copy",
    "write_truncated_mp4",
    "write_truncated_video",
]
