"""The pipeline-runner port: what runs a pipeline (a DAG of plugins) on one frame."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from videopipe.domain.model import FrameSize


@runtime_checkable
class PipelineRunner(Protocol):
    """Runs the pipeline named ``pipeline_id`` on one frame's payload.

    The payload holds ``frame_index``, ``timestamp`` (seconds), ``image`` (RGB uint8,
    shape ``(height, width, 3)``; luma, ``(height, width)``, when ``format`` is
    ``"gray"``), ``format`` (``"rgb24"`` unless the runner declared ``gray``, see
    :class:`FrameSizeDeclaringRunner`), ``luma_range`` (in a gray image, the values
    of black and white: ``(16, 235)`` or ``(0, 255)``), ``image_bytes``, ``width``,
    ``height`` and
    ``video_path`` (the file the frame comes from; stateful runners start over when it
    changes), ``source_width`` / ``source_height`` (the video's frame size) and
    ``scale``: ``(sx, sy)``, the factors from image pixels back to source pixels,
    ``(1.0, 1.0)`` unless the decoder scaled the frame down (see
    :class:`FrameSizeDeclaringRunner`). The runner returns a dict; whatever it raises
    reaches the caller with its own type.
    """

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one pipeline on one frame and return its output."""
        ...


@runtime_checkable
class HistoryDeclaringRunner(PipelineRunner, Protocol):
    """A runner that declares how far back a frame's result may depend (a capability).

    A runner without it may keep any state: executors run its work in one piece and
    ``--resume`` re-runs a video from its start.
    """

    def history_frames(self, pipeline_id: str) -> int:
        """How many earlier selected frames a result may depend on.

        ``UNBOUNDED_HISTORY``: all of them; see
        :meth:`videopipe.ports.work.VideoWork.history_frames`.
        """
        ...


@runtime_checkable
class ThreadSafeRunner(PipelineRunner, Protocol):
    """A runner that says whether it may be called from several threads at once.

    Only ``thread_safe is True`` counts; a stateful one keeps its state per thread.
    """

    thread_safe: bool


@runtime_checkable
class FrameSizeDeclaringRunner(PipelineRunner, Protocol):
    """A runner that says at which size and format a pipeline wants its frames (a capability).

    The service asks it once per video and has the decoder scale frames down in its
    own colour conversion (or hand out luma only, ``FrameSize.format == "gray"``); a
    runner without it gets every frame in RGB at the video's size.
    """

    def frame_size(self, pipeline_id: str) -> FrameSize | None:
        """The size and format ``pipeline_id`` works on; ``None``: the video's own, RGB."""
        ...


@runtime_checkable
class PipelineDescribingRunner(PipelineRunner, Protocol):
    """A runner that can say what a pipeline is, as a digest (a capability).

    A batch's manifest records it with its options, so that a pipeline edited since
    (a parameter, a node, a plugin) is a change of options, not a reason to skip the
    videos already done. A runner without it: only the pipeline's id counts.
    """

    def pipeline_digest(self, pipeline_id: str) -> str:
        """A digest of what runs for ``pipeline_id``: equal exactly when the definition is.

        Two pipelines with the same nodes, plugins, parameters, bindings, outputs and
        error policy give the same digest, however their file is laid out or touched.
        """
        ...
