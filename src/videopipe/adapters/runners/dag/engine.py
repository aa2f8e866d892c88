"""The real runner: runs a pipeline's DAG of plugins on each frame."""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from videopipe.adapters.runners.dag.library import PipelineLibrary
from videopipe.adapters.runners.dag.spec import FRAME, Pipeline
from videopipe.domain.errors import PluginError
from videopipe.ports.plugins import FrameContext, HistoryEntry, Plugin


def to_jsonable(value: Any) -> Any:
    """Plain Python values: numpy scalars become numbers, vectors lists.

    An image or any array of two or more dimensions is not copied into a result:
    it becomes ``{"array": {"shape": [...], "dtype": "..."}}``, so a pipeline that lists
    an image-producing node among its outputs gets small results, not megabytes of
    nested lists.
    """
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.ndim >= 2:
            return {"array": {"shape": list(value.shape), "dtype": str(value.dtype)}}
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Run:
    """One pipeline's plugin instances (set up once) and stateful plugins' history."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.plugins: dict[str, Plugin] = {}
        self.failed_setups: dict[str, Exception] = {}
        self.history: dict[str, collections.deque[HistoryEntry]] = {
            node_id: collections.deque(maxlen=node.plugin.history)
            for node_id, node in pipeline.nodes.items()
            if node.plugin.history > 0
        }
        self.video: object = None
        self.last_index: int | None = None

    def plugin(self, node_id: str, frame_index: int) -> Plugin:
        instance = self.plugins.get(node_id)
        if instance is not None:
            return instance
        node = self.pipeline.nodes[node_id]
        failure = self.failed_setups.get(node_id)
        if failure is None:
            try:
                instance = node.plugin(**node.params)
                instance.setup()
            except Exception as exc:
                # Set up once: a failed setup (a missing model) is not retried every frame.
                self.failed_setups[node_id] = failure = exc
            else:
                self.plugins[node_id] = instance
                return instance
        raise PluginError(
            self.pipeline.id, node_id, node.plugin.name, frame_index, failure
        ) from failure

    def new_frame(self, video: object, frame_index: int) -> None:
        """Forget history when a new video starts (or the same one starts over)."""
        if video != self.video or (self.last_index is not None and frame_index <= self.last_index):
            for entries in self.history.values():
                entries.clear()
        self.video = video
        self.last_index = frame_index

    def close(self) -> None:
        for instance in self.plugins.values():
            instance.close()
        self.plugins.clear()


class DagPipelineRunner:
    """A :class:`~videopipe.ports.PipelineRunner` over pipelines from a library.

    ``run_pipeline(pipeline_id, payload)`` loads the pipeline once (cached), sets each
    node's plugin up once per runner (models load once, not per frame), runs the nodes
    in topological order and returns ``{output_node: its outputs}`` as plain,
    JSON-serialisable values. A plugin that raises becomes :class:`PluginError` (the
    plugin's exception is its cause), handled by the pipeline's ``on_error``:
    ``raise``, ``skip`` (the result is ``{"error": {...}}``) or ``retry`` (``retries``
    more attempts, then raise).
    """

    def __init__(self, library: PipelineLibrary | None = None) -> None:
        self.library = library or PipelineLibrary()
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    def run_pipeline(self, pipeline_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run the pipeline's DAG on one frame's payload."""
        run = self._run(pipeline_id)
        frame_index = int(payload["frame_index"])
        context_base = (pipeline_id, frame_index, float(payload.get("timestamp", 0.0)))
        run.new_frame(payload.get("video_path"), frame_index)
        values: dict[str, Mapping[str, Any]] = {FRAME: payload}
        pipeline = run.pipeline
        for node_id in pipeline.order:
            node = pipeline.nodes[node_id]
            inputs = {
                name: (None if binding.key is None else values[binding.node][binding.key])
                for name, binding in node.bindings.items()
            }
            context = FrameContext(context_base[0], node_id, frame_index, context_base[2])
            try:
                outputs = self._call(run, node_id, inputs, context)
            except PluginError as error:
                if pipeline.on_error == "skip":
                    return {"error": self._describe(error)}
                raise
            values[node_id] = outputs
            if node_id in run.history:
                run.history[node_id].append(
                    HistoryEntry(frame_index, context.timestamp, inputs, outputs)
                )
        return {node_id: to_jsonable(dict(values[node_id])) for node_id in pipeline.outputs}

    def _call(
        self, run: _Run, node_id: str, inputs: dict[str, Any], context: FrameContext
    ) -> Mapping[str, Any]:
        pipeline = run.pipeline
        node = pipeline.nodes[node_id]
        plugin = run.plugin(node_id, context.frame_index)
        history = tuple(run.history.get(node_id, ()))
        attempts = 1 + (pipeline.retries if pipeline.on_error == "retry" else 0)
        for attempt in range(1, attempts + 1):
            try:
                outputs = plugin.process(inputs, context, history)
                missing = [name for name in node.plugin.outputs if name not in outputs]
                if missing:
                    raise ValueError(f"the plugin returned no {', '.join(map(repr, missing))}")
            except Exception as exc:
                if attempt < attempts:
                    continue
                error = PluginError(
                    pipeline.id, node_id, node.plugin.name, context.frame_index, exc
                )
                error.attempts = attempt  # type: ignore[attr-defined]
                raise error from exc
            return outputs
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _describe(error: PluginError) -> dict[str, Any]:
        cause = error.__cause__
        return {
            "node": error.node,
            "plugin": error.plugin,
            "type": type(cause).__name__ if cause else type(error).__name__,
            "message": str(cause) if cause else str(error),
            "attempts": getattr(error, "attempts", 1),
        }

    def _run(self, pipeline_id: str) -> _Run:
        with self._lock:
            pipeline = self.library.load(pipeline_id)
            run = self._runs.get(pipeline_id)
            if run is None or run.pipeline is not pipeline:
                if run is not None:
                    run.close()
                run = _Run(pipeline)
                self._runs[pipeline_id] = run
            return run

    def close(self) -> None:
        """Close every plugin instance (release models)."""
        with self._lock:
            for run in self._runs.values():
                run.close()
            self._runs.clear()
