"""Public helpers for users' tests: the test-double runners and media with known truth.

``from videopipe.testing import MockDagPipelineService`` works as in the seed contract.
The pytest plugin (:mod:`videopipe.testing.plugin`) is registered through the
``pytest11`` entry point and provides fixtures.
"""

from videopipe.adapters.runners.failure import FailureInjectingRunner
from videopipe.adapters.runners.mock import (
    MockDagPipelineService,
    MockDagPipelineServiceWithLatency,
    MockDagPipelineServiceWithMutation,
    add_fields,
)
from videopipe.testing.media import (
    frame_pattern,
    make_video,
    panel_colours,
    read_frame_index,
    write_corrupted_mp4,
    write_header_only_mp4,
    write_random_bytes,
    write_truncated_copy,
    write_truncated_mp4,
)

__all__ = [
    "FailureInjectingRunner",
    "MockDagPipelineService",
    "MockDagPipelineServiceWithLatency",
    "MockDagPipelineServiceWithMutation",
    "add_fields",
    "frame_pattern",
    "make_video",
    "panel_colours",
    "read_frame_index",
    "write_corrupted_mp4",
    "write_header_only_mp4",
    "write_random_bytes",
    "write_truncated_copy",
    "write_truncated_mp4",
]
