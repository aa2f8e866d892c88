"""The pipeline-runner port: what runs a pipeline (a DAG of plugins) on one frame."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PipelineRunner(Protocol):
    """Runs the pipeline named ``pipeline_id`` on one frame's payload.

    The payload holds ``frame_index``, ``timestamp`` (seconds), ``image`` (RGB uint8,
    shape ``(height, width, 3)``), ``image_bytes``, ``width``, ``height`` and
    ``video_path`` (the file the frame comes from; stateful runners start over when it
    changes). The runner returns a dict; whatever it raises reaches the caller with its
    own type.
    """

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one pipeline on one frame and return its output."""
        ...
